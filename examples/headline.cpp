// SPDX-License-Identifier: MIT
// headline.cpp - a program locks itself down: writes to stdout still work, opening a file fails.
#include <sysfence/sysfence.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

using namespace sysfence;

// Only what this program still needs once it has done its setup.
struct hello_policy : rule_set_base {
  static constexpr std::string_view name = "hello_policy";
  static constexpr auto simple_rules = syscalls(sys::exit_group);
  static constexpr std::array conditional_rules{
      rule{sys::write, arg<0> == STDOUT_FILENO},
      rule{sys::write, arg<0> == STDERR_FILENO},
  };
};

namespace {
void say(const char* text) { (void)::write(STDOUT_FILENO, text, std::strlen(text)); }
}  // namespace

int main() {
  constexpr auto policy = safety_context{}.enable(hello_policy{});
  // The program is a constant: computed by the compiler, stored in .rodata.
  constexpr std::size_t size = compile(policy).size();

  char line[160];
  std::snprintf(line, sizeof line, "sysfence: installing a %zu-instruction BPF program built at compile time\n", size);
  say(line);

  policy.apply_to_current_thread();  // prctl(NO_NEW_PRIVS) + one seccomp() call

  say("write(1) after lockdown: allowed\n");
  const int fd = ::open("/etc/hostname", O_RDONLY);  // glibc calls openat
  const int err = errno;
  std::snprintf(line, sizeof line, "openat(\"/etc/hostname\") after lockdown: %s (%s)\n",
                fd < 0 ? std::strerror(err) : "succeeded?!", err == EPERM ? "EPERM" : "unexpected");
  say(line);
  return fd < 0 && err == EPERM ? 0 : 1;
}
