#include "tools/tidy.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace crema::tidy {
namespace {

struct Rule {
  const char* name;
  std::regex pattern;
};

const std::vector<Rule>& Rules() {
  static const std::vector<Rule> rules = [] {
    std::vector<Rule> r;
    auto add = [&](const char* name, const char* pattern) {
      r.push_back({name, std::regex(pattern, std::regex::ECMAScript)});
    };
    add("system clock",
        R"(std::chrono::(system_clock|steady_clock|high_resolution_clock)|absl::Now\s*\(|)"
        R"(absl::GetCurrentTimeNanos|\bclock_gettime\b|\bgettimeofday\b|\btime\s*\(\s*(nullptr|NULL|0)\s*\))");
    add("sleep", R"(std::this_thread|absl::SleepFor|\busleep\s*\(|\bnanosleep\s*\(|(^|[^.>:\w])sleep\s*\()");
    add("thread",
        R"(std::thread\b|std::jthread\b|std::async\b|\bpthread_\w+|#\s*include\s*<(thread|pthread\.h)>)");
    add("socket",
        R"(#\s*include\s*<(sys/socket\.h|netinet/\S+|arpa/inet\.h|netdb\.h|sys/epoll\.h|boost/asio\S*)>|)"
        R"(boost::asio|(^|[^.>:\w])(socket|connect|accept|bind|listen)\s*\()");
    add("file",
        R"(#\s*include\s*<(fstream|fcntl\.h|unistd\.h|filesystem)>|)"
        R"(std::(i|o)?fstream|std::filesystem|(^|[^.>:\w])(fopen|popen|open|pread|pwrite|fsync|fdatasync)\s*\()");
    add("unseeded random",
        R"(std::random_device|absl::(Insecure)?BitGen|(^|[^.>:\w])(rand|srand|rand_r|drand48|random|)"
        R"(arc4random|getrandom)\s*\()");
    return r;
  }();
  return rules;
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

}  // namespace

std::string StripCommentsAndStrings(std::string_view src) {
  std::string out(src);
  enum class State { kCode, kLineComment, kBlockComment, kString, kChar } state = State::kCode;
  for (size_t i = 0; i < src.size(); ++i) {
    const char c = src[i];
    const char next = i + 1 < src.size() ? src[i + 1] : '\0';
    switch (state) {
      case State::kCode:
        if (c == '/' && next == '/') {
          state = State::kLineComment;
          out[i] = ' ';
        } else if (c == '/' && next == '*') {
          state = State::kBlockComment;
          out[i] = ' ';
        } else if (c == '"') {
          state = State::kString;
        } else if (c == '\'' && !(i > 0 && std::isxdigit(static_cast<unsigned char>(src[i - 1])))) {
          state = State::kChar;  // (a digit before ' is a digit separator: 100'000)
        }
        break;
      case State::kLineComment:
        if (c == '\n') state = State::kCode; else out[i] = ' ';
        break;
      case State::kBlockComment:
        if (c == '*' && next == '/') {
          out[i] = out[i + 1] = ' ';
          ++i;
          state = State::kCode;
        } else if (c != '\n') {
          out[i] = ' ';
        }
        break;
      case State::kString:
      case State::kChar: {
        const char quote = state == State::kString ? '"' : '\'';
        if (c == '\\') {
          out[i] = ' ';
          if (i + 1 < src.size() && src[i + 1] != '\n') out[++i] = ' ';
        } else if (c == quote) {
          state = State::kCode;
        } else if (c == '\n') {
          state = State::kCode;  // unterminated: resynchronise at the line end
        } else {
          out[i] = ' ';
        }
        break;
      }
    }
  }
  return out;
}

std::vector<Violation> CheckSource(std::string_view path, std::string_view source) {
  std::vector<Violation> found;
  const std::string code = StripCommentsAndStrings(source);
  std::istringstream code_lines(code);
  std::istringstream raw_lines{std::string(source)};
  std::string code_line, raw_line;
  int number = 0;
  while (std::getline(code_lines, code_line)) {
    std::getline(raw_lines, raw_line);
    ++number;
    for (const Rule& rule : Rules()) {
      if (std::regex_search(code_line, rule.pattern)) {
        found.push_back({std::string(path), number, rule.name, Trim(raw_line)});
      }
    }
  }
  return found;
}

bool IsExempt(std::string_view p) {
  auto ends_with = [&](std::string_view suffix) {
    return p.size() >= suffix.size() && p.substr(p.size() - suffix.size()) == suffix;
  };
  return ends_with("_test.cc") || ends_with("_benchmark.cc") ||
         p.find("/testing/") != std::string_view::npos ||
         p.find("/testdata/") != std::string_view::npos;
}

std::vector<Violation> CheckTree(const std::string& root) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const std::string& folder : CheckedFolders()) {
    const fs::path dir = fs::path(root) / folder;
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      const std::string ext = entry.path().extension().string();
      if (ext != ".h" && ext != ".cc") continue;
      std::string rel = fs::relative(entry.path(), root).string();
      if (!IsExempt(rel)) files.push_back(rel);
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<Violation> all;
  for (const std::string& rel : files) {
    std::ifstream in(fs::path(root) / rel);
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::vector<Violation> v = CheckSource(rel, buffer.str());
    all.insert(all.end(), v.begin(), v.end());
  }
  return all;
}

}  // namespace crema::tidy
