#pragma once
// TcpProxy: a loopback TCP proxy for fault injection in the Git integration
// tests. Modes: Pass (forward everything), Stall (accept, then never send a
// byte: a hung server), CutAfter (forward, then close both sides once N bytes
// came from the server: a server that dies mid-fetch). Transparent to TLS and
// ssh. dropAll() cuts the open connections (a server restart or a network
// cut, as the client sees it); setUpstream() sends new connections to another
// server. One thread; stops when destroyed.

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace gitfed::git::itest {

class TcpProxy {
 public:
  enum class Mode { Pass, Stall, CutAfter };

  explicit TcpProxy(int upstreamPort) : upstream_(upstreamPort) {
    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_, 64) != 0)
      throw std::runtime_error("proxy: cannot listen");
    socklen_t len = sizeof a;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    if (::pipe(wake_) != 0) throw std::runtime_error("proxy: pipe");
    thread_ = std::thread([this] { loop(); });
  }
  ~TcpProxy() {
    stop_ = true;
    (void)!::write(wake_[1], "x", 1);
    thread_.join();
    for (auto& c : conns_) closeConn(c);
    ::close(listen_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  void set(Mode mode, std::uint64_t cutAfter = 0) {
    cutAfter_ = cutAfter;
    mode_ = mode;
  }
  int accepted() const { return accepted_.load(); }
  void setUpstream(int port) { upstream_ = port; }
  // Closes every open connection (both sides) and returns once it is done.
  void dropAll() {
    int before = dropped_.load();
    drop_ = true;
    (void)!::write(wake_[1], "d", 1);
    for (int i = 0; i < 500 && dropped_.load() == before; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (dropped_.load() == before) throw std::runtime_error("proxy: dropAll timed out");
  }

 private:
  struct Conn {
    int client = -1, server = -1;
    std::uint64_t fromServer = 0;
    bool stalled = false;
  };
  static void closeConn(Conn& c) {
    if (c.client >= 0) ::close(c.client);
    if (c.server >= 0) ::close(c.server);
    c.client = c.server = -1;
  }
  int connectUpstream() const {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(upstream_.load()));
    if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(s);
      return -1;
    }
    return s;
  }
  void loop() {
    while (!stop_) {
      std::vector<pollfd> fds{{listen_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      const std::size_t polled = conns_.size();  // a connection accepted below waits for the next poll
      for (auto& c : conns_) {
        if (c.client < 0) continue;
        fds.push_back({c.client, static_cast<short>(c.stalled ? 0 : POLLIN), 0});
        fds.push_back({c.server, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 200) <= 0) continue;
      if (fds[1].revents & POLLIN) {
        char drain[64];
        (void)!::read(wake_[0], drain, sizeof drain);
      }
      if (drop_.exchange(false)) {
        for (auto& c : conns_) closeConn(c);
        conns_.clear();
        ++dropped_;
        continue;
      }
      if (fds[0].revents & POLLIN) {
        int client = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client >= 0) {
          ++accepted_;
          Conn c;
          c.client = client;
          if (mode_ == Mode::Stall) {
            c.stalled = true;  // keep the client waiting forever
          } else {
            c.server = connectUpstream();
            if (c.server < 0) {
              ::close(client);
              continue;
            }
          }
          conns_.push_back(c);
        }
      }
      std::size_t i = 2;
      for (std::size_t k = 0; k < polled; ++k) {
        Conn& c = conns_[k];
        if (c.client < 0) continue;
        short cr = fds[i].revents, sr = fds[i + 1].revents;
        i += 2;
        if (c.stalled) {
          if (cr & (POLLHUP | POLLERR)) closeConn(c);
          continue;
        }
        char buf[16384];
        if (cr & (POLLIN | POLLHUP | POLLERR)) {
          ssize_t n = ::recv(c.client, buf, sizeof buf, 0);
          if (n <= 0 || ::send(c.server, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) {
            closeConn(c);
            continue;
          }
        }
        if (c.server >= 0 && (sr & (POLLIN | POLLHUP | POLLERR))) {
          ssize_t n = ::recv(c.server, buf, sizeof buf, 0);
          if (n <= 0) {
            closeConn(c);
            continue;
          }
          if (mode_ == Mode::CutAfter && c.fromServer + static_cast<std::uint64_t>(n) > cutAfter_) {
            closeConn(c);  // the server "dies" mid-transfer
            continue;
          }
          c.fromServer += static_cast<std::uint64_t>(n);
          if (::send(c.client, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) closeConn(c);
        }
      }
      std::erase_if(conns_, [](const Conn& c) { return c.client < 0; });
    }
  }

  std::atomic<int> upstream_;
  int listen_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::atomic<Mode> mode_{Mode::Pass};
  std::atomic<std::uint64_t> cutAfter_{0};
  std::atomic<int> accepted_{0};
  std::atomic<bool> drop_{false};
  std::atomic<int> dropped_{0};
  std::vector<Conn> conns_;
  std::thread thread_;
};

}  // namespace gitfed::git::itest
