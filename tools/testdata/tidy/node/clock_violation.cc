// Planted violations for tidy_test: node logic reading the machine's clock and sleeping.
#include <chrono>
#include <ctime>
long long NowNanos() {
  return std::chrono::steady_clock::now().time_since_epoch().count();  // banned: system clock
}
void Nap() { usleep(10); }  // banned: sleep
