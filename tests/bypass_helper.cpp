// SPDX-License-Identifier: MIT
// bypass_helper.cpp - what tests/bypass.cpp runs through execve: it reports, on one line of
// stdout, what getppid() returned under the inherited filter and who it runs as.
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

// `seccomp_mode` is the "Seccomp:" line of /proc/self/status (0 none, 1 strict, 2 filter), or -1.
int seccomp_mode() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  int mode = -1;
  char line[256];
  while (std::fgets(line, sizeof line, f) != nullptr)
    if (std::strncmp(line, "Seccomp:", 8) == 0) std::sscanf(line + 8, "%d", &mode);
  std::fclose(f);
  return mode;
}

}  // namespace

int main() {
  errno = 0;
  const long ppid = ::syscall(SYS_getppid);  // the call the test's filter answers with EACCES
  const int err = ppid < 0 ? errno : 0;
  const int nnp = ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  std::printf("getppid=%ld errno=%d euid=%d ruid=%d nnp=%d seccomp=%d\n", ppid, err,
              static_cast<int>(::geteuid()), static_cast<int>(::getuid()), nnp, seccomp_mode());
  return 0;
}
