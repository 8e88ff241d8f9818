// SPDX-License-Identifier: MIT
// network_server_test.cpp - drives network_server (argv[1]): three clients at once, an OPEN that the
// server's policy must deny, a QUIT, and a clean exit. Exits 0 only if everything held.
//
// This program is not locked down: it is the test harness, the server is the program under test.
#include <algorithm>
#include <barrier>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr int line_timeout_ms = 10000;  // per reply; the whole test is bounded by alarm()
constexpr unsigned test_time_limit_s = 50;

std::mutex failures_mutex;
std::vector<std::string> failures;

void fail(std::string what) {
  std::lock_guard lock(failures_mutex);
  std::fprintf(stderr, "FAILED: %s\n", what.c_str());
  failures.push_back(std::move(what));
}

// `line_reader` reads '\n'-terminated lines from a descriptor, waiting at most line_timeout_ms.
class line_reader {
 public:
  explicit line_reader(int fd) : fd_(fd) {}
  // `next` is the next line without its '\n', or false on timeout, error or end of stream.
  bool next(std::string& line) {
    for (;;) {
      if (const auto end = buf_.find('\n'); end != std::string::npos) {
        line = buf_.substr(0, end);
        buf_.erase(0, end + 1);
        return true;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, line_timeout_ms) <= 0) return false;
      char chunk[512];
      const ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n <= 0) return false;
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  // `rest` is whatever is left until end of stream (or until it goes quiet).
  std::string rest() {
    std::string line, all;
    while (next(line)) all += line + "\n";
    return all + buf_;
  }

 private:
  int fd_;
  std::string buf_;
};

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// `exchange` sends one request line and checks the reply line.
bool exchange(int fd, line_reader& in, const std::string& who, const std::string& request,
              const std::string& expected) {
  const std::string out = request + "\n";
  if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) {
    fail(who + ": sending '" + request + "' failed: " + std::strerror(errno));
    return false;
  }
  std::string got;
  if (!in.next(got)) {
    fail(who + ": no reply to '" + request + "'");
    return false;
  }
  if (got != expected) {
    fail(who + ": '" + request + "' got '" + got + "', expected '" + expected + "'");
    return false;
  }
  std::printf("ok      %s: '%s' -> '%s'\n", who.c_str(), request.c_str(), got.c_str());
  return true;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PATH-TO-network_server\n", argv[0]);
    return 2;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  ::alarm(test_time_limit_s);  // a hung server cannot hang the test run (CTest's TIMEOUT is 60 s)

  // Start the server with its stdout on a pipe: its first lines tell the port.
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    std::perror("pipe2");
    return 2;
  }
  const pid_t server = ::fork();
  if (server < 0) {
    std::perror("fork");
    return 2;
  }
  if (server == 0) {
    ::dup2(out[1], STDOUT_FILENO);  // dup2 clears O_CLOEXEC on the copy
    ::execl(argv[1], argv[1], static_cast<char*>(nullptr));
    std::perror("execl");
    ::_exit(127);
  }
  ::close(out[1]);
  line_reader server_out(out[0]);
  std::string server_log;

  std::uint16_t port = 0;
  for (std::string line; port == 0 && server_out.next(line);) {
    server_log += line + "\n";
    unsigned p = 0;
    if (std::sscanf(line.c_str(), "listening on 127.0.0.1:%u", &p) == 1 && p > 0 && p < 65536)
      port = static_cast<std::uint16_t>(p);
  }
  if (port == 0) {
    fail("the server never printed 'listening on 127.0.0.1:PORT'");
  } else {
    std::printf("ok      server is listening on 127.0.0.1:%u\n", static_cast<unsigned>(port));

    // Three clients, connected at the same time: the barriers keep all three connections open
    // while each one is answered, so the server must serve them concurrently (its pool has 4).
    constexpr int clients = 3;
    std::barrier sync(clients);
    std::vector<std::thread> threads;
    for (int i = 0; i < clients; ++i) {
      threads.emplace_back([&, i] {
        const std::string who = "client " + std::to_string(i + 1);
        const int fd = connect_to(port);
        if (fd < 0) fail(who + ": connect failed: " + std::strerror(errno));
        sync.arrive_and_wait();  // all three connected
        line_reader in(fd);
        for (const std::string& request : {"hello from " + who, "second line, " + who}) {
          if (fd >= 0) exchange(fd, in, who, request, upper(request));
          sync.arrive_and_wait();  // all three answered before anyone goes on
        }
        if (fd >= 0) ::close(fd);
      });
    }
    for (auto& t : threads) t.join();

    // A fourth client asks the server to open a file, which its policy forbids, then to quit.
    const int fd = connect_to(port);
    if (fd < 0) {
      fail(std::string("client 4: connect failed: ") + std::strerror(errno));
    } else {
      line_reader in(fd);
      exchange(fd, in, "client 4", "OPEN", "open: Operation not permitted");
      exchange(fd, in, "client 4", "QUIT", "bye");
      ::close(fd);
    }
  }

  // The server must now end by itself, with status 0.
  int status = 0;
  pid_t done = 0;
  for (int waited_ms = 0; waited_ms < 10000 && (done = ::waitpid(server, &status, WNOHANG)) == 0;
       waited_ms += 20)
    ::usleep(20 * 1000);
  if (done == 0) {
    fail("the server did not exit within 10 s of QUIT; killing it");
    ::kill(server, SIGKILL);
    ::waitpid(server, &status, 0);
  } else if (done != server) {
    fail(std::string("waitpid failed: ") + std::strerror(errno));
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fail(WIFSIGNALED(status) ? "the server was killed by signal " + std::to_string(WTERMSIG(status))
                             : "the server exited with status " + std::to_string(WEXITSTATUS(status)));
  } else {
    std::printf("ok      server exited with status 0\n");
  }

  server_log += server_out.rest();
  if (server_log.find("socket() after lockdown: Operation not permitted") == std::string::npos)
    fail("the server did not report that socket() is denied after its lockdown");
  std::printf("--- server output ---\n%s---\n", server_log.c_str());

  if (!failures.empty()) {
    std::printf("%zu check(s) FAILED\n", failures.size());
    return 1;
  }
  std::printf("all checks held\n");
  return 0;
}
