// SPDX-License-Identifier: MIT
// landlock.cpp - system_io's path methods in the kernel: seccomp allows the syscalls, Landlock
// limits the files (EACCES outside the granted paths).
#include "sysfence/apply.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "kernel.hpp"
#include "sysfence/sysfence.hpp"

using namespace sysfence;
using namespace kernel_test;
namespace builtins = sysfence::builtins;

namespace {

// A scratch tree: granted/ (with a file and a subdirectory), other/ (with a file).
struct tree {
  std::string root;
  tree() {
    char tmpl[] = "/tmp/sysfence-landlock-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    root = tmpl;
    for (const char* d : {"/granted", "/granted/sub", "/other"}) REQUIRE(::mkdir((root + d).c_str(), 0700) == 0);
    for (const char* f : {"/granted/file", "/other/file"}) {
      const int fd = ::open((root + f).c_str(), O_CREAT | O_WRONLY, 0600);
      REQUIRE(fd >= 0);
      REQUIRE(::write(fd, "data", 4) == 4);
      ::close(fd);
    }
  }
  ~tree() { (void)std::system(("rm -rf " + root).c_str()); }
  [[nodiscard]] std::string operator/(const char* p) const { return root + "/" + p; }
};

outcome open_read(const std::string& path) {
  return record([&] {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return -1L;
    char c;
    const long n = ::read(fd, &c, 1);
    ::close(fd);
    return n;
  });
}

outcome open_write(const std::string& path) {
  return record([&] {
    const int fd = ::open(path.c_str(), O_WRONLY);
    if (fd < 0) return -1L;
    const long n = ::write(fd, "x", 1);
    ::close(fd);
    return n;
  });
}

template <class Policy, class Body>
void in_sandbox(const Policy& policy, Body body) {
  shared<apply_status> status;
  const ending e = in_child([&] {
    *status = policy.try_apply_to_current_thread();
    if (!*status) return 10;
    body();
    return 0;
  });
  INFO(status->what() << " errno " << status->error);
  REQUIRE(e.exited);
  REQUIRE(e.code == 0);
}

}  // namespace

TEST_CASE("allow_read_path: read beneath the path, EACCES elsewhere") {
  tree t;
  const std::string granted = t / "granted";
  shared<std::array<outcome, 3>> r;
  in_sandbox(safety_context{}.enable(builtins::system_io::nothing().allow_read_path(granted.c_str())), [&] {
    (*r)[0] = open_read(t / "granted/file");
    (*r)[1] = open_read(t / "other/file");
    (*r)[2] = open_write(t / "granted/file");  // seccomp denies write: EPERM
  });
  CHECK((*r)[0].ret == 1);
  CHECK((*r)[1].err == EACCES);
  CHECK((*r)[2].err != 0);
}

TEST_CASE("allow_write_file: that file only") {
  tree t;
  const std::string file = t / "granted/file";
  shared<std::array<outcome, 2>> r;
  in_sandbox(safety_context{}.enable(builtins::system_io::nothing().allow_write_file(file.c_str())), [&] {
    (*r)[0] = open_write(t / "granted/file");
    (*r)[1] = open_write(t / "other/file");
  });
  CHECK((*r)[0].ret == 1);
  CHECK((*r)[1].err == EACCES);
}

TEST_CASE("allow_create_in_dir: create there, not elsewhere") {
  tree t;
  const std::string dir = t / "granted";
  shared<std::array<outcome, 3>> r;
  in_sandbox(safety_context{}.enable(builtins::system_io::nothing().allow_create_in_dir(dir.c_str()).allow_close()), [&] {
    (*r)[0] = record([&] { return static_cast<long>(::open((t / "granted/new").c_str(), O_CREAT | O_WRONLY, 0600)); });
    (*r)[1] = record([&] { return static_cast<long>(::open((t / "other/new").c_str(), O_CREAT | O_WRONLY, 0600)); });
    (*r)[2] = record([&] { return static_cast<long>(::creat((t / "granted/made_by_creat").c_str(), 0600)); });
  });
  CHECK((*r)[0].ret >= 0);
  CHECK((*r)[1].err == EACCES);
  CHECK((*r)[2].ret >= 0);
}

TEST_CASE("allow_list_dir: list that directory, EACCES for another") {
  tree t;
  const std::string dir = t / "granted";
  shared<std::array<outcome, 2>> r;
  in_sandbox(safety_context{}.enable(builtins::system_io::nothing().allow_list_dir(dir.c_str())), [&] {
    auto list = [&](const std::string& path) {
      return record([&] {
        const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY);
        if (fd < 0) return -1L;
        char buf[1024];
        const long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
        ::close(fd);
        return n;
      });
    };
    (*r)[0] = list(t / "granted");
    (*r)[1] = list(t / "other");
  });
  CHECK((*r)[0].ret > 0);
  CHECK((*r)[1].err == EACCES);
}

TEST_CASE("allow_create_dir, allow_remove_file, allow_remove_dir") {
  tree t;
  const std::string dir = t / "granted";
  shared<std::array<outcome, 6>> r;
  const auto io = builtins::system_io::nothing()
                      .allow_create_dir(dir.c_str())
                      .allow_remove_file(dir.c_str())
                      .allow_remove_dir(dir.c_str());
  in_sandbox(safety_context{}.enable(io), [&] {
    (*r)[0] = record([&] { return static_cast<long>(::mkdir((t / "granted/d").c_str(), 0700)); });
    (*r)[1] = record([&] { return static_cast<long>(::mkdir((t / "other/d").c_str(), 0700)); });
    (*r)[2] = record([&] { return static_cast<long>(::unlink((t / "granted/file").c_str())); });
    (*r)[3] = record([&] { return static_cast<long>(::unlink((t / "other/file").c_str())); });
    (*r)[4] = record([&] { return static_cast<long>(::rmdir((t / "granted/sub").c_str())); });
    (*r)[5] = record([&] { return static_cast<long>(::rmdir((t / "other").c_str())); });
  });
  CHECK((*r)[0].ret == 0);
  CHECK((*r)[1].err == EACCES);
  CHECK((*r)[2].ret == 0);
  CHECK((*r)[3].err == EACCES);
  CHECK((*r)[4].ret == 0);
  CHECK((*r)[5].err == EACCES);
}

TEST_CASE("allow_dns_files and allow_ssl_files: those files, not others; missing ones skipped") {
  shared<std::array<outcome, 3>> r;
  const auto io = builtins::system_io::nothing().allow_dns_files().allow_ssl_files();
  in_sandbox(safety_context{}.enable(io), [&] {
    (*r)[0] = open_read("/etc/hosts");
    (*r)[1] = open_read("/etc/passwd");
    (*r)[2] = record([] {
      const int fd = ::open("/etc/ssl/certs", O_RDONLY | O_DIRECTORY);
      if (fd >= 0) ::close(fd);
      return fd < 0 ? -1L : 0L;
    });
  });
  CHECK((*r)[0].ret == 1);
  CHECK((*r)[1].err == EACCES);
  if (::access("/etc/ssl/certs", F_OK) == 0) CHECK((*r)[2].ret == 0);
}

TEST_CASE("a missing path given by the user fails apply, installing nothing") {
  shared<apply_status> status;
  shared<std::array<outcome, 1>> r;
  const ending e = in_child([&] {
    const auto p = safety_context{}.enable(builtins::system_io::nothing().allow_read_path("/nonexistent/sysfence"));
    *status = p.try_apply_to_current_thread();
    (*r)[0] = record([] { return ::syscall(SYS_getuid); });  // still unfiltered
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(status->failed == apply_step::landlock_path);
  CHECK(status->error == ENOENT);
  CHECK(status->thread == 0);  // the index of the path
  CHECK((*r)[0].ret >= 0);
}

TEST_CASE("policies without paths install no Landlock ruleset") {
  shared<std::array<outcome, 1>> r;
  in_sandbox(safety_context{}.enable(builtins::system_io::nothing().allow_open_readonly().allow_read().allow_close()),
             [&] { (*r)[0] = open_read("/etc/passwd"); });
  CHECK((*r)[0].ret == 1);
}
