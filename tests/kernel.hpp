// SPDX-License-Identifier: MIT
// kernel.hpp - helpers for kernel tests: run code in a forked child, share results with it.
#pragma once

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <new>
#include <utility>

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace kernel_test {

// `ending` is how a child ended: its exit code, or the signal that killed it.
struct ending {
  bool exited = false;
  int code = -1;
  int signal = 0;
};

// `in_child` runs `f` in a forked child (where filters may be installed freely) and waits for
// it. `f` returns the exit code; a filter that denies exit_group shows up as a signal.
template <class F>
ending in_child(F&& f) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    // A sanitizer's handlers would try to report a fatal signal with syscalls the filter under
    // test denies, and spin: the parent wants to see the signal itself.
    for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP}) ::signal(sig, SIG_DFL);
    int code = 0;
    try {
      code = std::forward<F>(f)();
    } catch (...) {
      code = 99;
    }
    ::_exit(code);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ending e;
  if (WIFEXITED(status)) {
    e.exited = true;
    e.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    e.signal = WTERMSIG(status);
  }
  return e;
}

// `shared<T>` is a T in memory shared with forked children: they write results without a
// syscall, which the filter under test might deny.
template <class T>
class shared {
 public:
  shared() {
    void* p = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    value_ = new (p) T{};
  }
  ~shared() {
    value_->~T();
    ::munmap(value_, sizeof(T));
  }
  shared(const shared&) = delete;
  shared& operator=(const shared&) = delete;
  T* operator->() const noexcept { return value_; }
  T& operator*() const noexcept { return *value_; }

 private:
  T* value_;
};

// `outcome` records a syscall's return value and errno.
struct outcome {
  long ret = -2;
  int err = -1;
};
template <class Call>
outcome record(Call&& call) {
  errno = 0;
  outcome o;
  o.ret = std::forward<Call>(call)();
  o.err = o.ret < 0 ? errno : 0;
  return o;
}

}  // namespace kernel_test
