// SPDX-License-Identifier: MIT
// libseccomp_export.hpp - a libseccomp filter context owned by a unique_ptr, and the BPF program
// libseccomp generates for it, for the tests that compare with libseccomp.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include <doctest/doctest.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sysfence/bpf.hpp"

namespace libseccomp_test {

// `filter` owns a libseccomp filter context.
struct release_filter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using filter = std::unique_ptr<void, release_filter>;

// `exported` is the BPF program libseccomp generates for `ctx`, read back from a memfd
// (libseccomp 2.5.4 has no seccomp_export_bpf_mem).
inline std::vector<sysfence::bpf::insn> exported(scmp_filter_ctx ctx) {
  const int fd = memfd_create("sysfence-test", MFD_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(seccomp_export_bpf(ctx, fd) == 0);
  const off_t size = lseek(fd, 0, SEEK_END);
  REQUIRE(size > 0);
  REQUIRE(static_cast<std::size_t>(size) % sizeof(sysfence::bpf::insn) == 0);
  std::vector<sysfence::bpf::insn> program(static_cast<std::size_t>(size) / sizeof(sysfence::bpf::insn));
  REQUIRE(pread(fd, program.data(), static_cast<std::size_t>(size), 0) == size);
  close(fd);
  return program;
}
inline std::vector<sysfence::bpf::insn> exported(const filter& ctx) { return exported(ctx.get()); }

}  // namespace libseccomp_test
