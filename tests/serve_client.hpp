// For the server tests: a running `lmgen serve` on a loopback port the server picked (--port 0), and a raw
// HTTP/1.1 client (one request per connection, chunked bodies decoded) with a wall-clock limit.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "lmgen_child.hpp"

namespace lmgen::test {

struct HttpReply {
  int status = 0;  // 0: no answer (connection refused, timeout)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

inline int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline std::string request_text(const std::string& method, const std::string& path, const std::string& body,
                                const std::vector<std::string>& headers) {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& h : headers) r += h + "\r\n";
  if (method == "POST") r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

// Reads from fd until the peer closes or `timeout_s` passes (appending to `out`); false on timeout.
inline bool read_until_closed(int fd, std::string& out, double timeout_s) {
  const auto t0 = std::chrono::steady_clock::now();
  char buf[8192];
  for (;;) {
    const double left = timeout_s - std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left * 1000) + 1) <= 0) return false;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
    out.append(buf, static_cast<size_t>(n));
  }
}

inline std::string dechunk(const std::string& s) {
  std::string out;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t eol = s.find("\r\n", pos);
    if (eol == std::string::npos) break;
    const size_t len = std::stoul(s.substr(pos, eol - pos), nullptr, 16);
    if (len == 0) break;
    out += s.substr(eol + 2, len);
    pos = eol + 2 + len + 2;
  }
  return out;
}

inline HttpReply parse_reply(const std::string& raw) {
  HttpReply r;
  const size_t head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos) return r;
  r.status = std::stoi(raw.substr(9, 3));
  std::istringstream head(raw.substr(0, head_end));
  std::string line;
  std::getline(head, line);
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
  }
  r.body = raw.substr(head_end + 4);
  if (r.headers["transfer-encoding"] == "chunked") r.body = dechunk(r.body);
  return r;
}

inline HttpReply http(int port, const std::string& method, const std::string& path, const std::string& body = "",
                      const std::vector<std::string>& headers = {}, double timeout_s = 60) {
  const int fd = connect_loopback(port);
  if (fd < 0) return {};
  const std::string req = request_text(method, path, body, headers);
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return {};
  }
  std::string raw;
  const bool complete = read_until_closed(fd, raw, timeout_s);
  ::close(fd);
  if (!complete) return {};
  return parse_reply(raw);
}

inline HttpReply post(int port, const std::string& path, const nlohmann::json& body,
                      const std::vector<std::string>& headers = {}) {
  return http(port, "POST", path, body.dump(), headers);
}

// The JSON objects of a server-sent event stream, and whether it ended with "data: [DONE]".
struct SseStream {
  std::vector<nlohmann::json> events;
  bool done = false;
};
inline SseStream parse_sse(const std::string& body) {
  SseStream s;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) end = body.size();
    const std::string ev = body.substr(pos, end - pos);
    pos = end + 2;
    if (ev.rfind("data: ", 0) != 0) continue;
    const std::string data = ev.substr(6);
    if (data == "[DONE]") s.done = true;
    else s.events.push_back(nlohmann::json::parse(data, nullptr, false));
  }
  return s;
}

// `lmgen serve ARGS --port 0` until destroyed (then SIGTERM, and SIGKILL if it has not exited in 10 s).
class ServeProcess {
 public:
  explicit ServeProcess(std::vector<std::string> args) {
    args.insert(args.begin(), "serve");
    args.insert(args.end(), {"--host", "127.0.0.1", "--port", "0"});
    child_ = std::make_unique<Child>(args);
    const std::regex ready("at http://127\\.0\\.0\\.1:([0-9]+)");
    const auto t0 = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30)) {
      std::smatch m;
      const std::string err = child_->err();
      if (std::regex_search(err, m, ready)) {
        port_ = std::stoi(m[1]);
        return;
      }
      if (child_->wait(0) >= 0) break;  // it exited
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "lmgen serve did not start; stderr: " << child_->err();
  }
  ~ServeProcess() {
    if (exit_status_ == -2) {
      child_->signal(SIGTERM);
      child_->wait(10);
    }
  }
  int port() const { return port_; }
  Child& child() { return *child_; }
  // Sends SIGTERM and waits up to timeout_s; the exit status (-1 on timeout).
  int terminate(double timeout_s) {
    child_->signal(SIGTERM);
    exit_status_ = child_->wait(timeout_s);
    return exit_status_;
  }

 private:
  std::unique_ptr<Child> child_;
  int port_ = 0;
  int exit_status_ = -2;
};

// Runs a shell command, returning its exit status and stdout (stderr goes to the test's stderr).
inline int shell(const std::string& cmd, std::string& out) {
  out.clear();
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = ::pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// The directory where tools/npm_openai.sh installed the `openai` npm package (once per build directory), with
// the test's node script `script` (from tests/) copied beside node_modules so that `import 'openai'` resolves.
// "" when it cannot be installed (node, npm and the npm registry are needed): the caller fails the test.
inline std::string openai_npm_dir(const std::string& script) {
  namespace fs = std::filesystem;
  const std::string dir = (fs::path(LMGEN_BINARY).parent_path() / "npm-openai").string();
  std::string out;
  if (shell("bash " LMGEN_SOURCE_DIR "/tools/npm_openai.sh '" + dir + "'", out) != 0) return "";
  fs::copy_file(std::string(LMGEN_SOURCE_DIR "/tests/") + script, dir + "/" + script, fs::copy_options::overwrite_existing);
  return dir;
}

}  // namespace lmgen::test
