#include "gitfed/daemon/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace gitfed::daemon {
namespace {

constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
constexpr std::size_t kMaxBodyBytes = 64 * 1024;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// Writes all of `data` before the deadline.
bool writeAll(int fd, const std::string& data, std::chrono::steady_clock::time_point deadline) {
  std::size_t done = 0;
  while (done < data.size()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLOUT, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string formatResponse(const HttpResponse& r, bool head) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reasonPhrase(r.status) + "\r\n";
  out += "Content-Type: " + r.contentType + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += "Cache-Control: no-store\r\nConnection: close\r\n\r\n";
  if (!head) out += r.body;
  return out;
}

}  // namespace

std::string reasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

ParseOutcome parseHttpRequest(const std::string& data) {
  ParseOutcome out;
  auto end = data.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (data.size() > kMaxHeaderBytes) out.status = 431;
    return out;
  }
  if (end > kMaxHeaderBytes) {
    out.status = 431;
    return out;
  }
  std::string head = data.substr(0, end);
  std::size_t lineEnd = head.find("\r\n");
  std::string requestLine = head.substr(0, lineEnd);
  auto sp1 = requestLine.find(' ');
  auto sp2 = requestLine.rfind(' ');
  if (sp1 == std::string::npos || sp2 == sp1 || !requestLine.substr(sp2 + 1).starts_with("HTTP/1.")) {
    out.status = 400;
    return out;
  }
  HttpRequest& r = out.request;
  r.method = requestLine.substr(0, sp1);
  std::string target = requestLine.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.empty() || target.front() != '/') {
    out.status = 400;
    return out;
  }
  auto q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  std::size_t pos = lineEnd == std::string::npos ? head.size() : lineEnd + 2;
  while (pos < head.size()) {
    auto next = head.find("\r\n", pos);
    std::string line = head.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    pos = next == std::string::npos ? head.size() : next + 2;
    auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0) {
      out.status = 400;
      return out;
    }
    r.headers[lower(line.substr(0, colon))] = trim(line.substr(colon + 1));
  }
  std::size_t length = 0;
  if (auto te = r.headers.find("transfer-encoding"); te != r.headers.end()) {
    out.status = 400;  // chunked bodies are not needed by any client of ours
    return out;
  }
  if (auto cl = r.headers.find("content-length"); cl != r.headers.end()) {
    const std::string& v = cl->second;
    if (v.empty() || v.size() > 12 || !std::all_of(v.begin(), v.end(), ::isdigit)) {
      out.status = 400;
      return out;
    }
    length = std::stoull(v);
    if (length > kMaxBodyBytes) {
      out.status = 413;
      return out;
    }
  }
  if (data.size() < end + 4 + length) return out;  // more to come
  r.body = data.substr(end + 4, length);
  out.used = end + 4 + length;
  return out;
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(std::string method, std::string path, Handler handler) {
  routes_[{std::move(method), std::move(path)}] = std::move(handler);
}

Result<void> HttpServer::start(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) return fail("http: \"" + address + "\" is not [HOST]:PORT");
  std::string host = address.substr(0, colon), port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = host.empty() ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  int gai = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
  if (gai != 0) return fail("http: cannot resolve \"" + address + "\": " + gai_strerror(gai));
  std::string lastError = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      lastError = std::strerror(errno);
      continue;
    }
    int one = 1, zero = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // ":PORT" serves IPv4 and IPv6 on one socket.
    if (ai->ai_family == AF_INET6 && host.empty()) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 64) == 0) {
      listenFd_ = fd;
      break;
    }
    lastError = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (listenFd_ < 0 && host.empty()) {
    // No IPv6 on this host: every IPv4 address.
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(std::stoi(port)));
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    int one = 1;
    if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && ::listen(fd, 64) == 0)
      listenFd_ = fd;
    else if (fd >= 0)
      lastError = std::strerror(errno), ::close(fd);
  }
  if (listenFd_ < 0) return fail("http: cannot listen on " + address + ": " + lastError);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  if (::pipe2(wakeFd_, O_CLOEXEC) != 0) {
    ::close(listenFd_);
    listenFd_ = -1;
    return fail(std::string("http: pipe: ") + std::strerror(errno));
  }
  stopping_ = false;
  acceptor_ = std::thread([this] { acceptLoop(); });
  return {};
}

void HttpServer::stop() {
  if (listenFd_ < 0) return;
  stopping_ = true;
  char c = 1;
  [[maybe_unused]] auto n = ::write(wakeFd_[1], &c, 1);
  if (acceptor_.joinable()) acceptor_.join();
  {
    // Connection threads are bounded by kIoTimeout each.
    std::unique_lock lock(mu_);
    idle_.wait(lock, [&] { return active_ == 0; });
  }
  ::close(listenFd_);
  ::close(wakeFd_[0]);
  ::close(wakeFd_[1]);
  listenFd_ = wakeFd_[0] = wakeFd_[1] = -1;
}

void HttpServer::acceptLoop() {
  while (!stopping_) {
    pollfd fds[2] = {{listenFd_, POLLIN, 0}, {wakeFd_[0], POLLIN, 0}};
    int r = ::poll(fds, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || (fds[1].revents & POLLIN)) break;
    if (!(fds[0].revents & POLLIN)) continue;
    int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) continue;
    {
      std::lock_guard lock(mu_);
      if (active_ >= kMaxConnections) {
        std::string busy = formatResponse(HttpResponse{503, "text/plain; charset=utf-8", "busy\n"}, false);
        writeAll(fd, busy, std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
        ::close(fd);
        continue;
      }
      ++active_;
    }
    try {
      std::thread([this, fd] {
        serve(fd);
        std::lock_guard lock(mu_);
        --active_;
        idle_.notify_all();
      }).detach();
    } catch (...) {  // no thread could be made: drop the connection
      ::close(fd);
      std::lock_guard lock(mu_);
      --active_;
      idle_.notify_all();
    }
  }
}

void HttpServer::serve(int fd) {
  const auto deadline = std::chrono::steady_clock::now() + kIoTimeout;
  std::string data;
  ParseOutcome parsed;
  char buf[4096];
  bool timedOut = false;
  for (;;) {
    parsed = parseHttpRequest(data);
    if (parsed.used > 0 || parsed.status != 0) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timedOut = true;
      break;
    }
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      timedOut = true;
      break;
    }
    if (r < 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      ::close(fd);
      return;
    }
    data.append(buf, static_cast<std::size_t>(n));
  }
  HttpResponse response;
  bool head = false;
  if (timedOut) {
    response = HttpResponse{408, "text/plain; charset=utf-8", "request timeout\n"};
  } else if (parsed.status != 0) {
    response = HttpResponse{parsed.status, "text/plain; charset=utf-8", reasonPhrase(parsed.status) + "\n"};
  } else if (parsed.used == 0) {
    ::close(fd);
    return;
  } else {
    head = parsed.request.method == "HEAD";
    try {
      response = dispatch(parsed.request);
    } catch (const std::exception& e) {
      // No exception leaves this thread.
      spdlog::error("http: {} {}: {}", parsed.request.method, parsed.request.path, e.what());
      response = HttpResponse{500, "text/plain; charset=utf-8", "internal error\n"};
    }
  }
  writeAll(fd, formatResponse(response, head), deadline + std::chrono::seconds(1));
  ::shutdown(fd, SHUT_WR);
  ::close(fd);
}

HttpResponse HttpServer::dispatch(const HttpRequest& request) const {
  std::string method = request.method == "HEAD" ? "GET" : request.method;
  if (auto it = routes_.find({method, request.path}); it != routes_.end()) return it->second(request);
  for (const auto& [key, handler] : routes_)
    if (key.second == request.path) return HttpResponse{405, "text/plain; charset=utf-8", "method not allowed\n"};
  return HttpResponse{404, "text/plain; charset=utf-8", "not found\n"};
}

}  // namespace gitfed::daemon
