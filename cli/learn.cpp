// SPDX-License-Identifier: MIT
// learn.cpp - `sysfence learn [-o rules.hpp] [--json policy.json] [--args] [--timeout SECONDS] --
// CMD ARGS...`: runs the command under learn() and writes what it called as a sysfence header
// and/or a seccompiler JSON policy; the command's status passes through.
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "sysfence/formats/seccompiler.hpp"
#include "sysfence/learn.hpp"

namespace sysfence::cli {

namespace {

// `learn_command` is the command line of `sysfence learn`.
struct learn_command {
  std::string header;
  std::string json;
  bool args = false;
  double timeout = 0;
  std::vector<std::string> command;
};

// The command's pid while it runs: the signals that would end sysfence are passed on to it, so it
// ends as it would have (and its status says so) while the supervisor keeps answering its calls.
std::atomic<pid_t> running{0};
extern "C" void forward_signal(int sig) {
  const pid_t pid = running.load();
  if (pid > 0) ::kill(pid, sig);
}

// `forwarding` passes SIGINT, SIGTERM, SIGHUP and SIGQUIT on to the command while it lives.
class forwarding {
 public:
  forwarding() {
    struct sigaction sa {};
    sa.sa_handler = forward_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (std::size_t i = 0; i < signals.size(); ++i) ::sigaction(signals[i], &sa, &saved_[i]);
  }
  forwarding(const forwarding&) = delete;
  forwarding& operator=(const forwarding&) = delete;
  ~forwarding() {
    running.store(0);
    for (std::size_t i = 0; i < signals.size(); ++i) ::sigaction(signals[i], &saved_[i], nullptr);
  }

 private:
  static constexpr std::array<int, 4> signals{SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  std::array<struct sigaction, 4> saved_{};
};

void write_file(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  bool ok = f != nullptr && std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const int err = errno;
  if (f != nullptr && std::fclose(f) != 0) ok = false;
  if (!ok) {
    std::fprintf(stderr, "sysfence learn: cannot write %s: %s\n", path.c_str(), std::strerror(err));
    throw exit_code{1};
  }
}

void run_learn(const learn_command& c) {
  learn_options options;
  options.args = c.args;
  options.timeout = std::chrono::milliseconds(static_cast<long long>(std::ceil(c.timeout * 1000)));
  options.started = [](pid_t pid) { running.store(pid); };
  learned l;
  {
    const forwarding passed_on;
    l = learn(c.command, options);
  }
  if (!l.ran()) {
    std::fprintf(stderr, "sysfence learn: %s: %s: %s\n", c.command.front().c_str(),
                 std::string(spawn_words(l.start.failed)).c_str(), std::strerror(l.start.error));
    throw exit_code{l.status()};
  }
  std::string wrote;
  // With neither output asked for, the JSON goes to learned.json, ready for `sysfence run --policy`.
  const std::string json = c.json.empty() && c.header.empty() ? std::string("learned.json") : c.json;
  if (!json.empty()) {
    const std::string text = learned_seccompiler_json(l);
    const std::string filter = seccompiler_filter_names(text).front();
    // Read back as `sysfence run --policy` will: it compiles, and its size is worth knowing.
    const runtime_policy policy = load_seccompiler_json(text, filter, {json});
    write_file(json, text);
    wrote += "; wrote " + json + " (filter \"";
    wrote += filter;
    wrote += "\", ";
    wrote += std::to_string(policy.program().size());
    wrote += " BPF instructions)";
  }
  if (!c.header.empty()) {
    write_file(c.header, learned_header(l));
    wrote += "; wrote ";
    wrote += c.header;
  }
  std::fprintf(stderr, "sysfence learn: %s%s\n", learned_summary(l).c_str(), wrote.c_str());
  if (!l.supervised)
    std::fprintf(stderr, "sysfence learn: warning: %s (%s); the record may be incomplete\n",
                 std::string(l.supervised.what()).c_str(), std::strerror(l.supervised.error));
  if (l.timed_out) {
    std::fprintf(stderr, "sysfence learn: stopped after the %g s timeout\n", c.timeout);
    throw exit_code{124};  // as timeout(1)
  }
  throw exit_code{l.status()};
}

}  // namespace

void add_learn(CLI::App& app) {
  auto c = std::make_shared<learn_command>();
  CLI::App* sub = app.add_subcommand(
      "learn",
      "Run a command, letting every syscall through while recording which ones it made (from every "
      "thread and child process), and write a policy that allows exactly those. The command's exit "
      "status passes through (124 when --timeout stopped it).");
  sub->add_option("-o,--output", c->header,
                  "write the learned policy as a C++ header (sysfence rule set and policy)");
  sub->add_option("--json", c->json,
                  "write the learned policy as seccompiler JSON (one filter named after the command); "
                  "without --json and -o: learned.json");
  sub->add_flag("--args", c->args,
                "record argument values; propose conditions where they were few (fds 0-2, fcntl "
                "commands, socket families and types)");
  sub->add_option("--timeout", c->timeout, "stop the command and what it started after SECONDS")
      ->check(CLI::PositiveNumber);
  sub->add_option("command", c->command, "the command and its arguments, after --")->required();
  sub->callback([c] { run_learn(*c); });
}

}  // namespace sysfence::cli
