// Planted violation: direct file access.
#include <fstream>
void Save() { std::ofstream out("/tmp/x"); out << 1; }
