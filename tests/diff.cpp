// SPDX-License-Identifier: MIT
// diff.cpp - tests of diff.hpp: programs whose differences are known, by syscall, by argument only,
// by ABI, and a program against itself.
#include "sysfence/diff.hpp"

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sysfence/runtime_policy.hpp"
#include "sysfence/sysfence.hpp"

using namespace sysfence;

namespace {

using targets = std::vector<arch::target>;

runtime_policy make(std::vector<detail::entry> rules, action fallback = action::error(1),
                    targets t = {arch::x86_64::value}) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < rules.size(); ++i) names.push_back("set " + std::to_string(i));
  return runtime_policy(std::move(rules), std::move(names), fallback, std::move(t));
}

std::vector<syscall_difference> diff(const runtime_policy& a, const runtime_policy& b) {
  return diff_programs(a.program(), a.targets(), b.program(), b.targets());
}

std::string words(const std::vector<syscall_difference>& ds) {
  std::string s;
  for (const syscall_difference& d : ds) s += difference_words(d);
  return s;
}

}  // namespace

TEST_CASE("a program has no difference with itself, nor with the same rules in another order") {
  const runtime_policy a = make({{rule{sys::read}, 0}, {rule{sys::write, arg<0> == 1}, 1}});
  const runtime_policy b = make({{rule{sys::write, arg<0> == 1}, 0}, {rule{sys::read}, 1}});
  CHECK(diff(a, a).empty());
  CHECK(diff(a, b).empty());
}

TEST_CASE("a syscall one program allows and the other denies is one line, whatever its arguments") {
  const runtime_policy a = make({{rule{sys::read}, 0}, {rule{sys::write}, 1}});
  const runtime_policy b = make({{rule{sys::read}, 0}});
  const auto d = diff(a, b);
  REQUIRE(d.size() == 1);
  CHECK(d[0].name == "write");
  CHECK(d[0].nr == 1);
  CHECK(d[0].every_call);
  CHECK(d[0].a == action::allow);
  CHECK(d[0].b == action::error(1));
  CHECK(words(d) == "x86_64 write (1): A ALLOW, B ERRNO(1)\n");
}

TEST_CASE("an argument-only difference is found and shown as the argument case") {
  // ioctl(fd, TCGETS) allowed in both; FIONREAD (0x541b) only in a.
  const runtime_policy a = make({{rule{sys::ioctl, arg<1> == 0x5401}, 0}, {rule{sys::ioctl, arg<1> == 0x541b}, 1}});
  const runtime_policy b = make({{rule{sys::ioctl, arg<1> == 0x5401}, 0}});
  const auto d = diff(a, b);
  REQUIRE(d.size() == 1);
  CHECK(d[0].name == "ioctl");
  CHECK_FALSE(d[0].every_call);
  REQUIRE(d[0].cases.size() == 1);
  CHECK(d[0].cases[0].args[1] == 0x541b);
  CHECK(d[0].cases_left_off == 0);
  CHECK(words(d) == "x86_64 ioctl (16) arg1=0x541b: A ALLOW, B ERRNO(1)\n");
}

TEST_CASE("two conditions that must both hold: the difference needs both argument values") {
  const runtime_policy a = make({{rule{sys::kill, arg<0> == 7, arg<1> == 15}, 0}});
  const runtime_policy b = make({{rule{sys::getpid}, 0}});
  const auto d = diff(a, b);
  REQUIRE(d.size() == 2);
  CHECK(d[0].name == "getpid");
  CHECK(d[0].every_call);
  CHECK(d[1].name == "kill");
  CHECK_FALSE(d[1].every_call);
  REQUIRE(d[1].cases.size() == 1);
  CHECK(d[1].cases[0].args[0] == 7);
  CHECK(d[1].cases[0].args[1] == 15);
  CHECK(d[1].cases[0].a == action::allow);
  CHECK(d[1].cases[0].b == action::error(1));
}

TEST_CASE("a masked condition and a wider range: the probes cross the boundaries") {
  const runtime_policy a = make({{rule{sys::mmap, (arg<2> & 4) == 0}, 0}});  // no PROT_EXEC
  const runtime_policy b = make({{rule{sys::mmap}, 0}});
  const auto d = diff(a, b);
  REQUIRE(d.size() == 1);
  REQUIRE_FALSE(d[0].cases.empty());
  for (const argument_case& c : d[0].cases) {
    CHECK((c.args[2] & 4) != 0);  // only calls with PROT_EXEC differ
    CHECK(c.a == action::error(1));
    CHECK(c.b == action::allow);
  }
  const runtime_policy c = make({{rule{sys::read, arg<2> < 4096}, 0}});
  const runtime_policy e = make({{rule{sys::read, arg<2> <= 4096}, 0}});
  const auto r = diff(c, e);
  REQUIRE(r.size() == 1);
  REQUIRE(r[0].cases.size() == 1);
  CHECK(r[0].cases[0].args[2] == 4096);
}

TEST_CASE("the default action alone differs: every number of the table but the one allowed") {
  const runtime_policy a = make({{rule{sys::read}, 0}}, action::error(1));
  const runtime_policy b = make({{rule{sys::read}, 0}}, action::error(38));
  const auto d = diff(a, b);
  const std::uint32_t table = arch::x86_64::value.table_size;
  // Every number of the table (unused ones too) but read (0). Past the table both answer ENOSYS
  // (sysfence's programs give syscalls newer than the table ENOSYS under an errno default), so
  // the numbers past it are tried and agree.
  CHECK(d.size() == table - 1);
  CHECK(d.back().nr == table - 1);
  CHECK(difference_words(d.front()) == "x86_64 write (1): A ERRNO(1), B ERRNO(38)\n");
  const runtime_policy k = make({{rule{sys::read}, 0}}, action::log);
  const auto dk = diff(a, k);
  REQUIRE(dk.size() == table + 16 - 1);
  CHECK(dk.back().name.empty());
  CHECK(difference_words(dk.back()) == "x86_64 syscall (" + std::to_string(table + 15) + "): A ERRNO(38), B LOG\n");
}

TEST_CASE("an ABI only one program serves is swept for both") {
  const runtime_policy a = make({{rule{sys::read}, 0}}, action::error(1), {arch::x86_64::value});
  const runtime_policy b = make({{rule{sys::read}, 0}}, action::error(1), {arch::x86_64::value, arch::x86::value});
  const auto d = diff(a, b);
  REQUIRE_FALSE(d.empty());
  for (const syscall_difference& x : d) CHECK(x.abi.name == "x86");
  // i386's read is 3: a kills it (a wrong ABI), b allows it.
  bool found = false;
  for (const syscall_difference& x : d)
    if (x.name == "read") {
      found = true;
      CHECK(x.a == action::kill_process);
      CHECK(x.b == action::allow);
    }
  CHECK(found);
}

TEST_CASE("difference_words names left-off cases") {
  const runtime_policy a = make({{rule{sys::personality, arg<0> != 8}, 0}});
  const runtime_policy b = make({{rule{sys::personality, arg<0> == 8}, 0}});
  diff_options o;
  o.max_cases = 2;
  const auto d = diff_programs(a.program(), a.targets(), b.program(), b.targets(), o);
  REQUIRE(d.size() == 1);
  CHECK(d[0].cases.size() == 2);
  CHECK(d[0].cases_left_off > 0);
  CHECK(difference_words(d[0]).find("more argument cases") != std::string::npos);
}
