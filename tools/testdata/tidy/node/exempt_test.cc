// Tests are exempt.
#include <thread>
void TestOnly() { std::thread t([] {}); t.join(); }
