// Planted violation: a thread in protocol code.
#include <thread>
void Spin() { std::thread t([] {}); t.join(); }
