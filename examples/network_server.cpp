// SPDX-License-Identifier: MIT
// network_server.cpp - a TCP echo server that binds and listens, then locks itself down to serving
// the connections it accepts: no new sockets, no files, no programs.
//
// Protocol, one line at a time: any line comes back in upper case; `OPEN` makes the server try to
// open /etc/passwd and answer with the outcome (`open: Operation not permitted`); `QUIT` answers
// `bye` and stops the server. It prints `listening on 127.0.0.1:PORT` once it is locked down, so a
// test can connect (network_server_test.cpp), and it always ends: after `QUIT`, after
// max_connections connections, or when alarm() fires.
//
// Port of extrasafe's examples/network_server.rs: make the server first, then enable the policy.
// A listening socket is made with socket(), bind() and listen(); every connection is a new
// descriptor from accept4(), which the policy cannot know in advance. So instead of pinning reads
// and writes to descriptors, the policy takes away the calls that make new ones to talk through:
// socket() and bind() for the network, openat() for files.
#include <sysfence/sysfence.hpp>

#include "say.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace sysfence;
namespace builtins = sysfence::builtins;

namespace {

constexpr int max_connections = 16;        // then the server stops accepting and exits
constexpr std::size_t pool_size = 4;       // worker threads, each serving one connection at a time
constexpr int idle_timeout_ms = 5000;      // a connection that sends nothing for this long is closed
constexpr unsigned run_time_limit_s = 30;  // alarm(): a stuck run ends instead of hanging a test

// The lockdown, a constant. The listening socket exists already, so the server needs only the
// calls of a *running* TCP server.
constexpr auto server_policy =
    safety_context{}  // always basic_capabilities: memory, signals, futex (the queue's mutex), exit
        // accept4, poll, read, write, recvfrom, sendto, getsockopt, ... on any descriptor; not
        // socket(), bind() or connect(). write(2) also serves stdout and the eventfd.
        .enable(builtins::networking::nothing().allow_running_tcp_servers())
        // The networking rule sets have no close(2): a server that closes its connections needs it.
        .enable(builtins::system_io::nothing().allow_close())
        // The worker pool is started after the lockdown (see main), so creating threads must be
        // allowed: clone3(2) on glibc 2.36, clone(2) on older ones. As in extrasafe, clone's flags
        // are not checked (clone3 hides them behind a pointer), so this would also let the process
        // fork; it still could not exec anything.
        .enable(builtins::threads::nothing().allow_create());

bool send_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// `connection_queue` hands accepted connections from the acceptor (main) to the workers.
class connection_queue {
 public:
  void push(int fd) {
    {
      std::lock_guard lock(m_);
      fds_.push_back(fd);
    }
    cv_.notify_one();
  }
  void close() {
    {
      std::lock_guard lock(m_);
      closed_ = true;
    }
    cv_.notify_all();
  }
  // `pop` waits for a connection; -1 once the queue is closed and drained.
  int pop() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return closed_ || !fds_.empty(); });
    if (fds_.empty()) return -1;
    const int fd = fds_.front();
    fds_.pop_front();
    return fd;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<int> fds_;
  bool closed_ = false;
};

// `reply` answers one request line.
std::string reply(std::string_view line) {
  if (line == "OPEN") {
    // The attack the policy is there for: code running in the server wants a file. glibc's open()
    // is openat(AT_FDCWD, "/etc/passwd", O_RDONLY), which no enabled rule set allows.
    const int fd = ::open("/etc/passwd", O_RDONLY | O_CLOEXEC);
    const int err = errno;
    if (fd >= 0) {
      ::close(fd);
      return "open: succeeded - the policy is missing!\n";
    }
    return std::string("open: ") + std::strerror(err) + "\n";  // "C" locale: strerror needs no file
  }
  std::string upper(line);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return upper + "\n";
}

// `serve` answers the lines of one connection until the client closes it, goes quiet, or quits.
// Returns true when the client asked the server to quit.
bool serve(int fd) {
  std::string pending;
  char buf[512];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, idle_timeout_ms) <= 0) return false;  // quiet for too long, or an error
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return false;  // closed by the client
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t end;
    while ((end = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, end);
      pending.erase(0, end + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line == "QUIT") {
        send_all(fd, "bye\n");
        return true;
      }
      if (!send_all(fd, reply(line))) return false;
    }
    if (pending.size() > 4096) return false;  // no line that long in this protocol
  }
}

}  // namespace

int main() {
  ::alarm(run_time_limit_s);  // SIGALRM's default action ends the process; set before the lockdown

  // 1. Everything that needs more than the policy allows: the listening socket on an ephemeral
  //    port of 127.0.0.1, and an eventfd that lets the QUIT handler wake the acceptor.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // the kernel picks a free port; getsockname() says which
  socklen_t addr_len = sizeof addr;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, max_connections) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) {
    say("network_server: setting up the listener failed: %s\n", std::strerror(errno));
    return 2;
  }
  const int wake = ::eventfd(0, EFD_CLOEXEC);
  if (wake < 0) {
    say("network_server: eventfd failed: %s\n", std::strerror(errno));
    return 2;
  }

  // 2. The lockdown. apply_to_all_threads (seccomp's TSYNC flag) puts every thread of the process
  //    under the filter, also ones a library may have started that we do not know of; with
  //    apply_to_current_thread they would keep running unfiltered. The workers started below
  //    inherit the filter when they are created.
  if (const apply_status s = server_policy.try_apply_to_all_threads(); !s) {
    say("network_server: %s\n", std::string(s.what()).c_str());
    return 2;
  }

  // What extrasafe's example shows: the server can no longer make a new server.
  const int another = ::socket(AF_INET, SOCK_STREAM, 0);
  say("socket() after lockdown: %s\n",
      another < 0 ? std::strerror(errno) : "succeeded - the policy is missing!");
  if (another >= 0) return 2;

  // 3. The worker pool, started after the lockdown: the threads are created under the filter,
  //    which is why threads::allow_create() is part of it. Starting them before the lockdown would
  //    make allow_create() unnecessary (a smaller policy); starting them after is what a server
  //    whose pool grows on demand has to do.
  connection_queue queue;
  std::mutex quit_mutex;
  bool quit = false;
  std::vector<std::thread> workers;
  for (std::size_t i = 0; i < pool_size; ++i) {
    workers.emplace_back([&] {
      for (int fd; (fd = queue.pop()) >= 0;) {
        const bool asked_to_quit = serve(fd);
        ::close(fd);
        if (asked_to_quit) {
          {
            std::lock_guard lock(quit_mutex);
            quit = true;
          }
          const std::uint64_t one = 1;
          (void)::write(wake, &one, sizeof one);  // wakes the acceptor's poll()
        }
      }
    });
  }

  say("listening on 127.0.0.1:%u\n", static_cast<unsigned>(ntohs(addr.sin_port)));

  // 4. Accept until QUIT or max_connections; each connection goes to the pool.
  int accepted = 0;
  for (;;) {
    {
      std::lock_guard lock(quit_mutex);
      if (quit) break;
    }
    if (accepted == max_connections) {
      say("served %d connections, stopping\n", accepted);
      break;
    }
    pollfd p[2] = {{listener, POLLIN, 0}, {wake, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      say("network_server: poll failed: %s\n", std::strerror(errno));
      break;
    }
    if (p[1].revents != 0) continue;  // QUIT: the loop's first check ends it
    if ((p[0].revents & POLLIN) == 0) continue;
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++accepted;
    queue.push(fd);
  }

  // 5. Let the workers finish the connections they have, then end.
  queue.close();
  for (auto& w : workers) w.join();
  ::close(listener);
  ::close(wake);
  say("network_server: done after %d connections\n", accepted);
  return 0;
}
