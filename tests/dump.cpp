// SPDX-License-Identifier: MIT
// dump.cpp - the disassembler and explain(): golden texts, and a round trip through the text.
#include "sysfence/dump.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "policies.hpp"
#include "sysfence/compile.hpp"
#include "sysfence/simulate.hpp"

using namespace sysfence;
using namespace test_policies;

namespace {

constexpr auto headline = safety_context{}.enable(builtins::system_io::nothing().allow_stdout().allow_stderr());

// The disassembly is available in constant expressions too, and equals dump().
constexpr auto headline_text = dump_to<16384>(compile(headline));
static_assert(headline_text.size < 16384);
static_assert(headline_text.view().substr(0, 5) == " line");

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Compares `text` with tests/golden/<name>; SYSFENCE_UPDATE_GOLDEN=1 rewrites the file.
void check_golden(const std::string& name, const std::string& text) {
  const std::string path = std::string(SYSFENCE_GOLDEN_DIR) + "/" + name;
  if (std::getenv("SYSFENCE_UPDATE_GOLDEN") != nullptr) std::ofstream(path) << text;
  const std::string golden = read_file(path);
  INFO("golden file " << path << " (SYSFENCE_UPDATE_GOLDEN=1 regenerates it)\n" << text);
  CHECK(golden == text);
}

// A test-only assembler for the mnemonic column of dump(): the round trip reads what a person
// reads, not the hex fields.
std::vector<bpf::insn> assemble(const std::string& text) {
  std::vector<bpf::insn> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() < 40 || line[5] != ':') continue;
    const std::size_t pc = std::stoul(line.substr(1, 4));
    std::istringstream m(line.substr(35));  // after " 0000: 0xCC 0xTT 0xFF 0xKKKKKKKK   "
    std::string op;
    m >> op;
    auto target = [&](const std::string& word) {
      const auto colon = word.find(':');
      return static_cast<std::uint8_t>(std::stoul(word.substr(colon + 1)) - pc - 1);
    };
    if (op == "ld") {
      std::string arg;
      m >> arg;  // $data[N]
      out.push_back(bpf::load(static_cast<std::uint32_t>(std::stoul(arg.substr(6)))));
    } else if (op == "jeq" || op == "jgt" || op == "jge" || op == "jset") {
      std::string k, t, f;
      m >> k >> t >> f;
      const std::uint16_t code = op == "jeq" ? BPF_JEQ : op == "jgt" ? BPF_JGT : op == "jge" ? BPF_JGE : BPF_JSET;
      out.push_back(bpf::jump(BPF_JMP | code | BPF_K, static_cast<std::uint32_t>(std::stoul(k)), target(t), target(f)));
    } else if (op == "jmp") {
      std::string to;
      m >> to;
      out.push_back(bpf::ja(static_cast<std::uint32_t>(std::stoul(to) - pc - 1)));
    } else if (op == "and") {
      std::string k;
      m >> k;
      out.push_back(bpf::and_k(static_cast<std::uint32_t>(std::stoul(k, nullptr, 16))));
    } else if (op == "ret") {
      std::string a;
      m >> a;
      const auto paren = a.find('(');
      const std::string name = a.substr(0, paren);
      const std::uint32_t data = paren == std::string::npos ? 0 : static_cast<std::uint32_t>(std::stoul(a.substr(paren + 1)));
      std::uint32_t k = 0;
      for (const action act : {action::allow, action::kill_process, action::kill_thread, action::log, action::user_notif,
                               action::error(0), action::trap(0), action::trace(0)})
        if (action_name(act) == name) k = act.value | data;
      out.push_back(bpf::ret(k));
    } else {
      FAIL("unknown mnemonic in dump: " << line);
    }
  }
  return out;
}

// Every syscall named in the comments of `text`.
std::set<std::string> named_syscalls(const std::string& text) {
  std::set<std::string> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto hash = line.find(" # ");
    if (hash == std::string::npos) continue;
    std::string name = line.substr(hash + 3);
    if (name.rfind(">= ", 0) == 0) name = name.substr(3);
    if (name.rfind("> ", 0) == 0) name = name.substr(2);
    if (name.find(' ') == std::string::npos && name != "nr" && name != "arch" && name != "x86_64") out.insert(name);
  }
  return out;
}

sys::id id_of(const std::string& name) {
  for (std::size_t i = 0; i < detail::syscall_count; ++i)
    if (detail::syscall_names[i] == name) return static_cast<sys::id>(i);
  FAIL("not a syscall: " << name);
  return {};
}

// On x86_64: the test policies name syscalls other targets lack (long_block's open and stat).
template <class Policy>
void round_trip(const char* name) {
  const auto& program = compile<Policy, arch::x86_64>();
  const std::string text = dump<arch::x86_64>(program);
  const std::vector<bpf::insn> again = assemble(text);
  INFO(name << "\n" << text);
  REQUIRE(again.size() == program.size());
  for (std::size_t i = 0; i < again.size(); ++i) {
    INFO("instruction " << i);
    CHECK(bpf::same(again[i], program[i]));
  }
  const auto names = named_syscalls(text);
  CHECK(!names.empty());
  for (const std::string& s : names)
    for (std::uint64_t arg : {0ULL, 1ULL, 2ULL, 100ULL, 1000ULL, 1ULL << 32}) {
      const seccomp_data d = call<arch::x86_64>(id_of(s), arg, arg);
      INFO(s << "(" << arg << ")");
      CHECK(evaluate(again, d).result == evaluate(program, d).result);
    }
}

}  // namespace

TEST_CASE("dump_to in a constant expression equals dump at run time") {
  CHECK(headline_text.view() == dump(compile(headline)));
}

TEST_CASE("golden disassemblies") {
  check_golden("headline.x86_64.txt", dump<arch::x86_64>(compile<arch::x86_64>(headline)));
  check_golden("stdio.x86_64.txt", dump<arch::x86_64>(compile<arch::x86_64>(stdio)));
  check_golden("comparisons.x86_64.txt", dump<arch::x86_64>(compile<arch::x86_64>(comparisons)));
  check_golden("stdio.i386.txt", dump<arch::x86>(compile<decltype(stdio), arch::x86>()));
  // Other targets: their own numbers, and the architecture check names them.
  check_golden("headline.aarch64.txt", dump<arch::aarch64>(compile<decltype(headline), arch::aarch64>()));
  check_golden("headline.riscv64.txt", dump<arch::riscv64>(compile<decltype(headline), arch::riscv64>()));
  // One program serving x86_64 and i386: each part's syscalls named for its ABI.
  check_golden("headline.x86_64+i386.txt",
               dump<arch::x86_64, arch::x86>(compile<decltype(headline), arch::x86_64, arch::x86>()));
}

// A rule set that is not portable, naming a syscall aarch64 lacks.
struct x86_64_only : rule_set_base {
  static constexpr std::string_view name = "x86_64_only";
  static constexpr auto simple_rules = syscalls(sys::open, sys::read);
};

TEST_CASE("golden explanations") {
  check_golden("headline.explain.txt", explain<arch::x86_64>(headline));
  check_golden("comparisons.explain.txt", explain<arch::x86_64>(comparisons));
  // What a portable rule set leaves out on each target, and what would not compile there.
  check_golden("headline.explain.aarch64+i386.txt", explain<arch::aarch64, arch::x86>(headline));
  const std::string text = explain<policy<x86_64_only>, arch::aarch64>();
  CHECK(text.find("x86_64_only:\n  allow open, read\n  not on aarch64 (a compile error there): open\n") != std::string::npos);
}

TEST_CASE("the disassembly round-trips: same program, same answers for every syscall it names") {
  round_trip<decltype(headline)>("headline");
  round_trip<decltype(stdio)>("stdio");
  round_trip<decltype(comparisons)>("comparisons");
  round_trip<decltype(trampolines)>("trampolines");
  round_trip<decltype(large)>("large");
}
