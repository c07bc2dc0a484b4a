// Planted violations: unseeded randomness and a socket.
#include <random>
#include <sys/socket.h>
int Pick() { std::random_device d; return d() + rand(); }
int Open() { return socket(2, 1, 0); }
