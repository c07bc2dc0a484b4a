// Mentions of std::thread, absl::Now() and rand() in comments are fine, and so are strings:
const char* kText = "std::random_device and fopen( inside a string";
int Rand(int x) { return x * 1'000; }  // a digit separator is not a char literal: rand(
struct Env { int Open(int x) { return x; } };
int UseEnv(Env& env) { return env.Open(1); }
