// cremactl: operate a Crema cluster over a node's HTTP API.
//
//   cremactl [--server=127.0.0.1:8080] <command> [args]
//     status                       the node's view: map version, readiness, counts
//     members                      one line per node: id, address, state, gossip, phi
//     shards                       one line per shard: leader, voters, learners, lag
//     nodes admit|drain|remove ID  (admin) change a data node's membership
//     transfer-leader SHARD NODE   (admin) move a shard's leadership
//     get KEY [--consistency=linearizable]   print a value (exit 1 if absent)
//     put KEY VALUE [--ttl=30s]    store a value
//     del KEY                      delete a key (exit 1 if absent)
//   Admin calls send $CREMA_ADMIN_TOKEN (or the contents of --token_file) as a bearer token.
//
// Exit codes: 0 success; 1 the server answered with an error or the key is absent; 2 usage;
// 3 the server could not be reached.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

constexpr int kOk = 0, kServerError = 1, kUsage = 2, kUnreachable = 3;

struct Options {
  std::string server = "127.0.0.1:8080";
  std::string token_file;
  std::string ttl;
  std::string consistency;
  int timeout_seconds = 10;
  std::vector<std::string> args;
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "cremactl: %s\nusage: cremactl [--server=host:port] [--token_file=F] "
               "status|members|shards|nodes admit|drain|remove ID|transfer-leader SHARD NODE|"
               "get KEY|put KEY VALUE [--ttl=D]|del KEY\n",
               why.c_str());
  std::exit(kUsage);
}

std::string PercentEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

struct Reply {
  int status = 0;
  std::string body;
};

Reply Request(const Options& o, http::verb verb, const std::string& target,
              const std::string& body = "", bool admin = false) {
  const size_t colon = o.server.rfind(':');
  if (colon == std::string::npos) Usage("--server must be host:port");
  try {
    boost::asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(o.timeout_seconds));
    stream.connect(resolver.resolve(o.server.substr(0, colon), o.server.substr(colon + 1)));
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, o.server);
    req.set(http::field::user_agent, "cremactl");
    if (admin) {
      std::string token;
      if (!o.token_file.empty()) {
        std::ifstream in(o.token_file);
        if (!in) Usage("cannot read --token_file " + o.token_file);
        std::getline(in, token);
      } else if (const char* env = std::getenv("CREMA_ADMIN_TOKEN")) {
        token = env;
      }
      if (token.empty()) Usage("admin commands need $CREMA_ADMIN_TOKEN or --token_file");
      req.set(http::field::authorization, "Bearer " + token);
    }
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(stream, buffer, parser);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return {static_cast<int>(parser.get().result_int()), parser.get().body()};
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cremactl: cannot reach %s: %s\n", o.server.c_str(), e.what());
    std::exit(kUnreachable);
  }
}

int Fail(const Reply& r) {
  std::string message = r.body;
  try {
    message = nlohmann::json::parse(r.body).value("error", r.body);
  } catch (...) {
  }
  std::fprintf(stderr, "cremactl: HTTP %d: %s\n", r.status, message.c_str());
  return kServerError;
}

nlohmann::json Cluster(const Options& o) {
  Reply r = Request(o, http::verb::get, "/cluster");
  if (r.status != 200) std::exit(Fail(r));
  return nlohmann::json::parse(r.body);
}

std::string Join(const nlohmann::json& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ",") + std::to_string(id.get<int64_t>());
  return out.empty() ? "-" : out;
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const std::string& flag) -> std::optional<std::string> {
      if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
      return std::nullopt;
    };
    if (auto v = value("--server")) o.server = *v;
    else if (auto v = value("--token_file")) o.token_file = *v;
    else if (auto v = value("--ttl")) o.ttl = *v;
    else if (auto v = value("--consistency")) o.consistency = *v;
    else if (auto v = value("--timeout")) o.timeout_seconds = std::atoi(v->c_str());
    else if (a == "--help" || a == "-h") {
      Usage("help");
    } else if (a.rfind("--", 0) == 0) {
      Usage("unknown flag " + a);
    } else {
      o.args.push_back(a);
    }
  }
  if (o.args.empty()) Usage("no command");
  if (o.timeout_seconds <= 0) Usage("--timeout must be positive seconds");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  const std::string& cmd = o.args[0];
  const size_t n = o.args.size();
  auto need = [&](size_t count) {
    if (n != count) Usage("wrong number of arguments for " + cmd);
  };
  if (cmd == "status") {
    need(1);
    nlohmann::json c = Cluster(o);
    std::printf("self=%lld ready=%s map_version=%lld shards=%lld replication=%lld meta_leader=%lld "
                "nodes=%zu\n",
                c["self"].get<long long>(), c["ready"].get<bool>() ? "true" : "false",
                c["map_version"].get<long long>(), c["num_shards"].get<long long>(),
                c["replication_factor"].get<long long>(), c["meta_leader"].get<long long>(),
                c["nodes"].size());
    return c["ready"].get<bool>() ? kOk : kServerError;
  }
  if (cmd == "members") {
    need(1);
    const nlohmann::json cluster = Cluster(o);  // (a temporary's member would dangle in the loop)
    for (const auto& m : cluster["nodes"]) {
      std::printf("node=%lld address=%s state=%s gossip=%s phi=%.2f replicas=%lld leaders=%lld\n",
                  m["id"].get<long long>(), m["address"].get<std::string>().c_str(),
                  m["state"].get<std::string>().c_str(), m["gossip"].get<std::string>().c_str(),
                  m["phi"].get<double>(), m["replicas"].get<long long>(),
                  m["leaders"].get<long long>());
    }
    return kOk;
  }
  if (cmd == "shards") {
    need(1);
    const nlohmann::json cluster = Cluster(o);
    for (const auto& s : cluster["shards"]) {
      std::printf("shard=%lld leader=%lld voters=%s learners=%s commit=%lld lag=%lld entries=%lld\n",
                  s["shard"].get<long long>(), s["leader"].get<long long>(),
                  Join(s["voters"]).c_str(), Join(s["learners"]).c_str(),
                  s["commit_index"].get<long long>(), s["max_apply_lag"].get<long long>(),
                  s["entries"].get<long long>());
    }
    return kOk;
  }
  if (cmd == "nodes") {
    need(3);
    const std::string& action = o.args[1];
    if (action != "admit" && action != "drain" && action != "remove") {
      Usage("nodes takes admit, drain or remove");
    }
    Reply r = Request(o, http::verb::post, "/admin/nodes/" + o.args[2] + "/" + action, "", true);
    if (r.status != 200) return Fail(r);
    std::printf("ok: %s node %s\n", action.c_str(), o.args[2].c_str());
    return kOk;
  }
  if (cmd == "transfer-leader") {
    need(3);
    Reply r = Request(o, http::verb::post,
                      "/admin/shards/" + o.args[1] + "/transfer-leader?to=" + o.args[2], "", true);
    if (r.status != 200) return Fail(r);
    std::printf("ok: shard %s leadership to node %s\n", o.args[1].c_str(), o.args[2].c_str());
    return kOk;
  }
  if (cmd == "get") {
    need(2);
    std::string target = "/kv/" + PercentEncode(o.args[1]);
    if (!o.consistency.empty()) target += "?consistency=" + PercentEncode(o.consistency);
    Reply r = Request(o, http::verb::get, target);
    if (r.status == 404) return kServerError;
    if (r.status != 200) return Fail(r);
    std::fwrite(r.body.data(), 1, r.body.size(), stdout);
    std::printf("\n");
    return kOk;
  }
  if (cmd == "put") {
    need(3);
    std::string target = "/kv/" + PercentEncode(o.args[1]);
    if (!o.ttl.empty()) target += "?ttl=" + PercentEncode(o.ttl);
    Reply r = Request(o, http::verb::put, target, o.args[2]);
    if (r.status != 204 && r.status != 200) return Fail(r);
    return kOk;
  }
  if (cmd == "del") {
    need(2);
    Reply r = Request(o, http::verb::delete_, "/kv/" + PercentEncode(o.args[1]));
    if (r.status == 404) return kServerError;
    if (r.status != 204) return Fail(r);
    return kOk;
  }
  Usage("unknown command " + cmd);
}
