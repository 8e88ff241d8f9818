// SPDX-License-Identifier: MIT
// headline.cpp - a program locks itself down: writes to stdout still work, opening a file fails.
// With --report, a forbidden call is reported by name and ends the process (SIGSYS).
#include <sysfence/sysfence.hpp>
#include <sysfence/report.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include <fcntl.h>
#include <unistd.h>

using namespace sysfence;

namespace {

void say(const char* text) { (void)::write(STDOUT_FILENO, text, std::strlen(text)); }

template <class Policy>
int lock_down_and_try(const Policy& policy) {
  // The program is a constant: computed by the compiler, stored in .rodata.
  constexpr std::size_t size = compile<Policy>().size();
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

}  // namespace

int main(int argc, char** argv) {
  // extrasafe's vocabulary: basic capabilities (always on) plus writing to stdout and stderr.
  constexpr auto policy =
      safety_context{}.enable(builtins::system_io::nothing().allow_stdout().allow_stderr());

  if (argc > 1 && std::string_view(argv[1]) == "--report") {
    // Trap instead of EPERM, and name the culprit on stderr before SIGSYS ends the process.
    report_violations();
    return lock_down_and_try(policy.with_default<action::trap()>());
  }
  return lock_down_and_try(policy);
}
