#pragma once
// HttpServer: the agent's tiny HTTP/1.1 server for probes, Prometheus and
// /trigger. One listening socket; each connection is served by a thread of
// its own (at most kMaxConnections at once; more are answered 503 and
// closed), one request per connection (Connection: close). Requests are
// bounded (16 KiB of headers, 64 KiB of body) and so is time: a client that
// does not send its request within kIoTimeout is dropped, so a slow or
// hostile client cannot hold a probe up. Handlers must be thread-safe and
// quick. Not TLS: it listens on the pod network for the kubelet and a scraper.
//
// start() binds and spawns the accept thread; stop() (or the destructor)
// closes the socket and waits for every connection thread. Thread-safe.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "gitfed/daemon/error.h"

namespace gitfed::daemon {

struct HttpRequest {
  std::string method;  // "GET"
  std::string path;    // without the query
  std::string query;   // after '?', undecoded
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  static constexpr std::size_t kMaxConnections = 16;
  static constexpr std::chrono::milliseconds kIoTimeout{5000};

  HttpServer() = default;
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes a method and an exact path; register before start().
  void route(std::string method, std::string path, Handler handler);

  // Binds "[HOST]:PORT" (":8080" is every address; port 0 picks a free one).
  Result<void> start(const std::string& address);
  // The bound port (after start()).
  int port() const { return port_.load(); }
  void stop();

 private:
  void acceptLoop();
  void serve(int fd);
  HttpResponse dispatch(const HttpRequest& request) const;

  std::map<std::pair<std::string, std::string>, Handler> routes_;
  int listenFd_ = -1;
  int wakeFd_[2] = {-1, -1};  // a pipe: stop() wakes the accept loop
  std::atomic<int> port_{0};
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable idle_;
  std::size_t active_ = 0;  // connection threads running (under mu_)
};

// Parses one request (request line, headers, body per Content-Length) from
// `data`. Returns the number of bytes used, 0 when more data is needed, or an
// error (a bad request; `status` 400, 413 or 431).
struct ParseOutcome {
  std::size_t used = 0;
  int status = 0;  // non-zero: the request is refused with this status
  HttpRequest request;
};
ParseOutcome parseHttpRequest(const std::string& data);

std::string reasonPhrase(int status);

}  // namespace gitfed::daemon
