// SPDX-License-Identifier: MIT
// headline.cpp - a program locks itself down: writes to stdout still work, opening a file fails.
#include <sysfence/sysfence.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

using namespace sysfence;

namespace {
void say(const char* text) { (void)::write(STDOUT_FILENO, text, std::strlen(text)); }
}  // namespace

int main() {
  // extrasafe's vocabulary: basic capabilities (always on) plus writing to stdout and stderr.
  constexpr auto policy =
      safety_context{}.enable(builtins::system_io::nothing().allow_stdout().allow_stderr());
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
