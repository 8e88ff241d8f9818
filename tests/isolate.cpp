// SPDX-License-Identifier: MIT
// isolate.cpp - isolate.hpp's pure parts: destination checks, mount texts, error messages, the
// output's status, the builder's refusals. tests/isolate_kernel.cpp runs isolates for real.
#include "sysfence/isolate.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <string>

using sysfence::isolate;
using sysfence::isolate_error;
using sysfence::isolate_output;
using sysfence::isolate_status;
using sysfence::isolate_step;
namespace detail = sysfence::detail;

namespace {

constexpr bool destinations_checked() {
  return detail::bind_target_problem("/data") == nullptr &&
         detail::bind_target_problem("data/x") == nullptr && detail::bind_target_problem("/") == nullptr &&
         detail::bind_target_problem("//a//b/") == nullptr && detail::bind_target_problem("") != nullptr &&
         detail::bind_target_problem("/a/b/../../..") != nullptr &&
         detail::bind_target_problem("./a/") != nullptr && detail::bind_target_problem("a/.") != nullptr &&
         detail::bind_target_problem("..") != nullptr && detail::bind_target_problem("a/..b/.c") == nullptr;
}
static_assert(destinations_checked());

// Wait statuses as waitpid gives them: exit code in bits 8..15, a signal in bits 0..6.
constexpr bool statuses_read() {
  constexpr isolate_status ok{0}, three{3 << 8}, killed{SIGKILL};
  return ok.success() && ok.code() == 0 && ok.signal() == 0 && !three.success() && three.code() == 3 &&
         three.signal() == 0 && !killed.success() && killed.code() == -1 && killed.signal() == SIGKILL;
}
static_assert(statuses_read());

constexpr bool hints_given() {
  return !sysfence::isolate_hint(isolate_step::user_namespace, EPERM).empty() &&
         !sysfence::isolate_hint(isolate_step::user_namespace, ENOSPC).empty() &&
         !sysfence::isolate_hint(isolate_step::uid_map, EACCES).empty() &&
         !sysfence::isolate_hint(isolate_step::mount_tmpfs, EPERM).empty() &&
         sysfence::isolate_hint(isolate_step::user_namespace, EINVAL).empty() &&
         sysfence::isolate_hint(isolate_step::exec, EPERM).empty();
}
static_assert(hints_given());

}  // namespace

TEST_CASE("isolate: bind destinations with . or .. components are refused, / and plain paths taken") {
  CHECK(destinations_checked());
  CHECK(detail::bind_target_path("/tmp/r.1", "/data") == "/tmp/r.1/data");
  CHECK(detail::bind_target_path("/tmp/r.1", "data//x/") == "/tmp/r.1/data/x");
  CHECK(detail::bind_target_path("/tmp/r.1", "/") == "/tmp/r.1");
}

TEST_CASE("isolate: the output's status reads as exit code or signal") { CHECK(statuses_read()); }

TEST_CASE("isolate: mount and map texts") {
  CHECK(detail::tmpfs_options(10) == "size=10m");
  CHECK(detail::tmpfs_options(4096) == "size=4096m");
  CHECK(detail::id_map(1000) == "0 1000 1\n");
  CHECK(detail::tempdir_template("user guide isolate") == "/tmp/user_guide_isolate.XXXXXX");
  CHECK(detail::tempdir_template("../x/y") == "/tmp/.._x_y.XXXXXX");
  CHECK(detail::tempdir_template(std::string(100, 'a')) == "/tmp/" + std::string(64, 'a') + ".XXXXXX");
  const auto env = detail::environment({{"B", "2"}, {"A", "x=y"}});
  REQUIRE(env.size() == 2);
  CHECK(env[0] == "A=x=y");
  CHECK(env[1] == "B=2");
  CHECK(detail::environment({}).empty());
}

TEST_CASE("isolate: the builder refuses a bad destination and a zero-size root at once") {
  auto fn = [] {};
  try {
    (void)isolate("bad", fn).add_bind_mount("/", "/a/b/../../..");
    FAIL("a .. destination was taken");
  } catch (const isolate_error& e) {
    CHECK(e.step() == isolate_step::bad_bind_target);
    CHECK(std::string(e.what()).find("a \"..\" component") != std::string::npos);
    CHECK(std::string(e.what()).find("/a/b/../../..") != std::string::npos);
  }
  CHECK_THROWS_AS((void)isolate("bad", fn).add_bind_mount("/", "./a/"), isolate_error);
  CHECK_THROWS_AS((void)isolate("bad", fn).set_rootfs_size(0), isolate_error);
  const isolate good =
      isolate("good", fn).add_bind_mount("/srv", "/data").set_rootfs_size(2).new_network(false);
  CHECK(good.name() == "good");
  REQUIRE(good.bind_mounts().size() == 1);
  CHECK(good.bind_mounts()[0].first == "/srv");
  CHECK(good.bind_mounts()[0].second == "/data");
  CHECK(good.rootfs_size() == 2);
  CHECK_FALSE(good.has_new_network());
  CHECK(isolate("d", fn).rootfs_size() == 10);
  CHECK(isolate("d", fn).has_new_network());
}

TEST_CASE("isolate: errors name the isolate, the step, the errno and a hint where the kernel refuses") {
  const isolate_error e("web", isolate_step::user_namespace, EPERM);
  const std::string m = e.what();
  CHECK(m.find("isolate \"web\"") != std::string::npos);
  CHECK(m.find("unshare CLONE_NEWUSER") != std::string::npos);
  CHECK(m.find("kernel.unprivileged_userns_clone") != std::string::npos);
  CHECK(m.find("kernel.apparmor_restrict_unprivileged_userns") != std::string::npos);
  CHECK(m.find("Operation not permitted") != std::string::npos);
  CHECK(e.code().value() == EPERM);
  const isolate_error b("web", isolate_step::bind_source, ENOENT, "/nope");
  CHECK(std::string(b.what()).find("(/nope)") != std::string::npos);
  CHECK(std::string(b.what()).find("hint") == std::string::npos);
}

TEST_CASE("isolate: run refuses to start a program as an isolate it is itself and did not hook") {
  // This test program runs as "test_isolate" (its argv[0] path ends so); run(its own argv[0])
  // would start it again and again.
  CHECK_THROWS_AS((void)isolate::run(program_invocation_name), isolate_error);
}
