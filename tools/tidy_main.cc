// `bazel run //tools:tidy` — lists direct machine access in node-logic folders; exit 1 if any.
#include <cstdlib>
#include <iostream>

#include "tools/tidy.h"

int main(int argc, char** argv) {
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  const std::string root = argc > 1 ? argv[1] : (workspace != nullptr ? workspace : ".");
  const auto violations = crema::tidy::CheckTree(root);
  for (const auto& v : violations) {
    std::cout << v.path << ":" << v.line << ": " << v.rule << ": " << v.text << "\n";
  }
  std::cout << violations.size() << " violation(s)\n";
  return violations.empty() ? 0 : 1;
}
