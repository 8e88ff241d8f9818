// SPDX-License-Identifier: MIT
// learn_fixture.hpp - a fixed learned set for the writers' tests (tests/learn.cpp) and the header
// compiled at build time (tests/learn_write_header.cpp, tests/learn_header.cpp): three processes
// of a shell script, every syscall of system_io's allow_metadata, allow_open and pipes, and
// argument values.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/socket.h>

#include "sysfence/learn.hpp"

namespace learn_fixture {

// `syscall` is a learned syscall of the native ABI, called `count` times by `processes`, with
// argument 0 and 1 values.
inline sysfence::learned_syscall syscall(sysfence::sys::id id, std::uint64_t count,
                                         std::vector<std::size_t> processes,
                                         std::vector<std::uint64_t> arg0 = {},
                                         std::vector<std::uint64_t> arg1 = {}, bool arg0_more = false) {
  sysfence::learned_syscall s;
  s.id = id;
  s.abi = sysfence::arch::native::name;
  s.arch = sysfence::arch::native::audit;
  s.nr = sysfence::arch::native::numbers[static_cast<std::size_t>(id)];
  s.count = count;
  s.processes = std::move(processes);
  s.args[0].values = std::move(arg0);
  s.args[0].more = arg0_more;
  s.args[1].values = std::move(arg1);
  return s;
}

// `script` is what `sh -c 'ls | wc'` might teach (with argument values recorded).
inline sysfence::learned script() {
  using sysfence::sys::id;
  sysfence::learned l;
  l.command = {"/bin/sh", "-c", "ls | wc"};
  l.args = true;
  l.processes = {{100, "sh", "/usr/bin/dash", 40, 1},
                 {101, "ls", "/usr/bin/ls", 70, 1},
                 {102, "wc", "/usr/bin/wc", 30, 1}};
  // Every syscall of allow_metadata the native ABI has, and of pipes.
  for (const sysfence::builtin_method& m : sysfence::builtin_methods())
    if (m.expression == "builtins::system_io::nothing().allow_metadata()" ||
        m.expression == "builtins::pipes{}")
      for (const id s : m.syscalls)
        if (sysfence::arch::native::numbers[static_cast<std::size_t>(s)] >= 0)
          l.syscalls.push_back(syscall(s, 2, {0}));
  // open, openat and openat2: allow_open, a method that needs .yes_really().
  for (const id s : {id::open, id::openat, id::openat2})
    if (sysfence::arch::native::numbers[static_cast<std::size_t>(s)] >= 0)
      l.syscalls.push_back(syscall(s, 1, {1}));
  l.syscalls.push_back(syscall(id::execve, 3, {0, 1, 2}));
  l.syscalls.push_back(syscall(id::write, 7, {1, 2}, {1, 2}));  // stdout and stderr: proposed
  l.syscalls.push_back(syscall(id::read, 5, {0, 2}, {0, 3}));   // fd 3 too: no proposal
  l.syscalls.push_back(syscall(id::fcntl, 4, {0}, {1, 10}, {F_DUPFD, F_GETFD}));  // cmd: proposed
  l.syscalls.push_back(
      syscall(id::socket, 2, {1}, {AF_UNIX}, {SOCK_STREAM | SOCK_CLOEXEC, SOCK_DGRAM, SOCK_STREAM}));
  l.syscalls.push_back(syscall(id::ioctl, 9, {1}, {1}, {}, true));  // requests not recorded: no proposal
  l.syscalls.push_back(syscall(id::wait4, 2, {0, 1, 2}));
  l.syscalls.push_back(syscall(id::exit_group, 3, {0, 1, 2}));
  l.calls = 0;
  for (const sysfence::learned_syscall& s : l.syscalls) l.calls += s.count;
  return l;
}

}  // namespace learn_fixture
