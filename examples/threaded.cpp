// SPDX-License-Identifier: MIT
// threaded.cpp - a small multithreaded program for `sysfence learn`: four threads, each making a
// syscall the others do not (getpriority, times, sysinfo, getrusage), and the main thread
// printing what they found. Every run makes the same syscalls (what `learn` needs to be tested):
// join() calls futex only when the thread has not ended yet, so the main thread calls it once
// itself.
#include <cstdio>
#include <thread>

#include <linux/futex.h>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <unistd.h>

int main() {
  long results[4] = {-1, -1, -1, -1};
  std::thread priority([&] { results[0] = ::syscall(SYS_getpriority, PRIO_PROCESS, 0); });
  std::thread clock([&] {
    tms t{};
    results[1] = ::syscall(SYS_times, &t) == -1 ? -1 : 0;
  });
  std::thread memory([&] {
    struct sysinfo info {};
    results[2] = ::syscall(SYS_sysinfo, &info);
  });
  std::thread usage([&] {
    rusage u{};
    results[3] = ::syscall(SYS_getrusage, RUSAGE_THREAD, &u);
  });
  priority.join();
  clock.join();
  memory.join();
  usage.join();
  int word = 0;
  ::syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);  // nobody waits: returns 0
  std::printf("getpriority %ld, times %ld, sysinfo %ld, getrusage %ld\n", results[0], results[1], results[2],
              results[3]);
  return results[1] == 0 && results[2] == 0 && results[3] == 0 ? 0 : 1;
}
