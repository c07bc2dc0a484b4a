// sim/ implements the environment: it may use the machine.
#include <thread>
void Allowed() { std::thread t([] {}); t.join(); }
