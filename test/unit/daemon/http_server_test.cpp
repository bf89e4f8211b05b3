// gitfed::daemon::HttpServer: request parsing, routing, limits, over a real
// loopback socket.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "gitfed/daemon/http_server.h"

using namespace gitfed::daemon;

namespace {

// Sends `raw` to 127.0.0.1:port and returns everything the server answers.
std::string exchange(int port, const std::string& raw, bool closeWrite = true) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  std::size_t sent = 0;
  while (sent < raw.size()) {
    ssize_t n = ::send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  if (closeWrite) ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

}  // namespace

TEST_CASE("http: parses a request line, headers and a body", "[daemon]") {
  auto p = parseHttpRequest("POST /trigger?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-Thing:  v \r\n\r\nhello");
  REQUIRE(p.status == 0);
  REQUIRE(p.used > 0);
  CHECK(p.request.method == "POST");
  CHECK(p.request.path == "/trigger");
  CHECK(p.request.query == "x=1");
  CHECK(p.request.headers.at("host") == "a");
  CHECK(p.request.headers.at("x-thing") == "v");
  CHECK(p.request.body == "hello");
  // Incomplete: more data needed.
  CHECK(parseHttpRequest("GET / HTTP/1.1\r\nHost: a\r\n").used == 0);
  CHECK(parseHttpRequest("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel").used == 0);
  // Refused.
  CHECK(parseHttpRequest("GARBAGE\r\n\r\n").status == 400);
  CHECK(parseHttpRequest("GET nopath HTTP/1.1\r\n\r\n").status == 400);
  CHECK(parseHttpRequest("POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n").status == 413);
  CHECK(parseHttpRequest("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").status == 400);
  CHECK(parseHttpRequest("GET / HTTP/1.1\r\nX: " + std::string(20000, 'a')).status == 431);
}

TEST_CASE("http: routes, 404, 405, HEAD", "[daemon]") {
  HttpServer server;
  server.route("GET", "/healthz", [](const HttpRequest&) { return HttpResponse{200, "text/plain", "ok\n"}; });
  server.route("POST", "/trigger", [](const HttpRequest& r) { return HttpResponse{202, "application/json", r.body}; });
  server.route("GET", "/boom", [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("bug"); });
  REQUIRE(server.start("127.0.0.1:0"));
  const int port = server.port();
  REQUIRE(port > 0);

  auto r = exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(r.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(r.find("Content-Length: 3\r\n") != std::string::npos);
  CHECK(r.ends_with("\r\n\r\nok\n"));

  r = exchange(port, "POST /trigger HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}");
  CHECK(r.starts_with("HTTP/1.1 202 Accepted\r\n"));
  CHECK(r.ends_with("{}"));

  CHECK(exchange(port, "GET /nothing HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
  CHECK(exchange(port, "GET /trigger HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405 "));
  CHECK(exchange(port, "GET /boom HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 500 "));
  r = exchange(port, "HEAD /healthz HTTP/1.1\r\n\r\n");
  CHECK(r.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(r.ends_with("\r\n\r\n"));
  CHECK(exchange(port, "BAD\r\n\r\n").starts_with("HTTP/1.1 400 "));
  // A client that closes before sending a request gets nothing.
  CHECK(exchange(port, "GET /healthz HT").empty());
  server.stop();
}

TEST_CASE("http: stop() returns while connections are open, bounded by the I/O timeout", "[daemon][slow]") {
  HttpServer server;
  server.route("GET", "/", [](const HttpRequest&) { return HttpResponse{}; });
  REQUIRE(server.start("127.0.0.1:0"));
  // A client that sends half a request and waits.
  auto started = std::chrono::steady_clock::now();
  auto r = exchange(server.port(), "GET / HTTP/1.1\r\n", /*closeWrite=*/false);
  auto took = std::chrono::steady_clock::now() - started;
  CHECK(r.starts_with("HTTP/1.1 408 "));
  CHECK(took >= HttpServer::kIoTimeout - std::chrono::milliseconds(100));
  CHECK(took < HttpServer::kIoTimeout + std::chrono::seconds(2));
  server.stop();
}

TEST_CASE("http: a taken port is an error", "[daemon]") {
  HttpServer a, b;
  REQUIRE(a.start("127.0.0.1:0"));
  auto r = b.start("127.0.0.1:" + std::to_string(a.port()));
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("http: cannot listen on 127.0.0.1:") == 0);
  CHECK_FALSE(HttpServer().start("nonsense"));
}
