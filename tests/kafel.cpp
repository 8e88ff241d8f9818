// SPDX-License-Identifier: MIT
// kafel.cpp - tests of kafel.hpp: the lexer and parser (every error with its line, column and
// token), first-match-wins, argument widths, expressions lowered to rules, compile-time and
// run-time programs identical, and nsjail's sample policies (tests/kafel/*.policy).
#include "sysfence/kafel.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "sysfence/simulate.hpp"

namespace {
using namespace sysfence;
namespace k = sysfence::detail::kafel;

// The policies are compiled for x86_64 (kafel's names are x86_64's) and simulated on any host.
using x86_64 = arch::x86_64;

// The action a program gives an x86_64 call (the simulator runs the BPF program).
template <class... Args>
constexpr action run(std::span<const bpf::insn> program, sys::id s, Args... args) {
  return evaluate(program, call<x86_64>(s, static_cast<std::uint64_t>(args)...)).result;
}

// --- the lexer --------------------------------------------------------------------------------

constexpr std::uint64_t number_of(std::string_view text) {
  k::lexer l{text};
  const k::token t = l.next();
  return t.kind == k::tok::number ? t.value : 0xdeadbeef;
}
static_assert(number_of("0") == 0);
static_assert(number_of("42") == 42);
static_assert(number_of("-1") == ~std::uint64_t{0});
static_assert(number_of("0x1F") == 31);
static_assert(number_of("017") == 15);
static_assert(number_of("0b101") == 5);
static_assert(number_of("18446744073709551615") == ~std::uint64_t{0});
static_assert(number_of("18446744073709551616") == 0xdeadbeef);  // out of range
static_assert(number_of("09") == 0xdeadbeef);                    // not octal

TEST_CASE("numbers as kafel's lexer reads them") {
  CHECK(number_of("0x1F") == 31);
  CHECK(number_of("-2") == ~std::uint64_t{0} - 1);
  CHECK(number_of("0b2") == 0xdeadbeef);
}

// --- errors: line, column, problem, token -------------------------------------------------------

struct bad_case {
  std::string_view text;
  k::problem what;
  std::uint32_t line, column;
  std::string_view token;
};
constexpr bad_case bad_cases[] = {
    {"ALLOW { read", k::problem::unexpected_token, 1, 13, ""},
    {"ALLOW { read,\n  write { fd = 1 } }", k::problem::unexpected_character, 2, 14, "="},
    {"ALLOW { read } DEFAULT ALLOW DEFAULT KILL", k::problem::default_redefined, 1, 30, "DEFAULT"},
    {"ALLOW { wrte }", k::problem::undefined_identifier, 1, 9, "wrte"},
    {"ALLOW { write { fdd == 1 } }", k::problem::undefined_identifier, 1, 17, "fdd"},
    {"USE nothing", k::problem::undefined_policy, 1, 5, "nothing"},
    {"POLICY a { ALLOW { read } } POLICY a { }", k::problem::policy_redefined, 1, 36, "a"},
    {"#define A 1\n#define A 2", k::problem::constant_redefined, 2, 1, "#"},
    {"#include \"x.policy\"", k::problem::include_not_supported, 1, 1, "#"},
    {"ERRNO(0) { ptrace }", k::problem::errno_out_of_range, 1, 7, "0"},
    {"ERRNO(4096) { ptrace }", k::problem::errno_out_of_range, 1, 7, "4096"},
    {"TRAP(65536) { ptrace }", k::problem::value_out_of_range, 1, 6, "65536"},
    {"ALLOW { read ON vax }", k::problem::unknown_architecture, 1, 17, "vax"},
    {"ALLOW { write(a, a) }", k::problem::argument_redefined, 1, 18, "a"},
    {"ALLOW { SYSCALL[9999] }", k::problem::no_syscall_with_number, 1, 9, ""},
    {"ALLOW { write { fd == count } }", k::problem::compares_two_arguments, 1, 20, "=="},
    {"ALLOW { write { (fd | 1) == 1 } }", k::problem::unsupported_operation, 1, 21, "|"},
    {"ALLOW { write { (fd & 3) < 2 } }", k::problem::unsupported_operation, 1, 26, "<"},
    {"ALLOW { write { fd == 0x100000000 } }", k::problem::value_above_32_bits, 1, 20, "=="},
    {"ALLOW { write /* never closed", k::problem::unterminated_comment, 1, 15, "/*"},
    {"ALLOW { mmap { addr == 1 && len == 2 && prot == 3 && flags == 4 && fd == 5 && pgoff == 6 && "
     "addr != 7 && len != 8 && prot != 9 } }",
     k::problem::too_many_conditions, 1, 115, "&&"},
};

constexpr bool bad_case_reported(const bad_case& c) {
  const k::lowered l = k::read(c.text, arch::x86_64::value);
  return l.err.what == c.what && l.err.line == c.line && l.err.column == c.column &&
         l.err.token_text() == c.token;
}
static_assert([] {
  for (const bad_case& c : bad_cases)
    if (!bad_case_reported(c)) return false;
  return true;
}());

TEST_CASE("every syntax and name error names its line, column and token") {
  for (const bad_case& c : bad_cases) {
    CAPTURE(c.text);
    CHECK(bad_case_reported(c));
    // At run time the same error is a policy_error "file:line:column: problem `token`".
    std::string expected =
        "sysfence: p.policy:" + std::to_string(c.line) + ":" + std::to_string(c.column) + ": ";
    expected += k::problem_text(c.what);
    try {
      (void)kafel_policy(c.text, "p.policy", {arch::x86_64::value});
      FAIL("no error");
    } catch (const policy_error& e) {
      CHECK(std::string_view(e.what()).substr(0, expected.size()) == expected);
    }
  }
}

TEST_CASE("a syscall the target lacks is an error, unless guarded by ON for another architecture") {
  CHECK_THROWS_WITH_AS((void)kafel_policy("ALLOW { open }", "p", {arch::aarch64::value}),
                       "sysfence: p:1:9: the syscall does not exist on the target architecture `open`",
                       policy_error);
  const runtime_policy p =
      kafel_policy("ALLOW { open ON x86_64, openat } DEFAULT KILL", "p", {arch::aarch64::value});
  CHECK(p.rules().size() == 1);
}

TEST_CASE("several ABIs: names are resolved for the first, each ABI must have every syscall") {
  const runtime_policy p = kafel_policy("ALLOW { read, write { fd == 1 } } DEFAULT ERRNO(1)", "p",
                                        {x86_64::value, arch::x86::value, arch::x32::value});
  CHECK(p.targets().size() == 3);
  CHECK(run(p.program(), sys::id::write, 1) == action::allow);
  CHECK(evaluate(p.program(), call<arch::x86>(sys::id::write, 1)).result == action::allow);
  CHECK(evaluate(p.program(), call<arch::x86>(sys::id::write, 2)).result == action::error(1));
  // newfstatat is x86_64's; i386 has fstatat64: the core names the filter and the ABI.
  CHECK_THROWS_WITH_AS((void)kafel_policy("ALLOW { newfstatat }", "p", {x86_64::value, arch::x86::value}),
                       "sysfence: p: p:1:9: newfstatat does not exist on x86", policy_error);
}

// --- meaning: first match wins, widths, expressions ---------------------------------------------

using first_match = kafel<R"(
  // The first rule matching a call decides it: write(1) and write(2) run, other writes fail.
  ALLOW { write { fd == 1 || fd == 2 } }
  ERRNO(1) { write, read }
  ALLOW { read }  /* never reached: ERRNO(1) above matches every read */
  DEFAULT ERRNO(38)
)",
                          x86_64>;
constexpr bool first_match_wins() {
  constexpr first_match p;
  return run(p.program(), sys::id::write, 1) == action::allow &&
         run(p.program(), sys::id::write, 2) == action::allow &&
         run(p.program(), sys::id::write, 3) == action::error(1) &&
         run(p.program(), sys::id::read, 0) == action::error(1) &&
         run(p.program(), sys::id::close, 0) == action::error(38);
}
static_assert(first_match_wins());
TEST_CASE("first match wins, as in kafel") { CHECK(first_match_wins()); }

using widths = kafel<R"(
  ALLOW { write { fd == 1 }, mmap { addr == 1 }, close(a) { a == -1 } }
  DEFAULT KILL_PROCESS
)",
                     x86_64>;
constexpr bool four_byte_arguments_compare_32_bits() {
  constexpr widths p;
  return run(p.program(), sys::id::write, 0x100000001ULL) ==
             action::allow &&  // the kernel reads fd's 32 bits
         run(p.program(), sys::id::mmap, 0x100000001ULL) == action::kill_process &&  // addr is 64 bits
         run(p.program(), sys::id::mmap, 1) == action::allow &&
         // the filter's own name for close's fd still compares the 32 bits the kernel reads
         run(p.program(), sys::id::close, 0xffffffffULL) == action::allow &&
         run(p.program(), sys::id::close, 0xfffffffeULL) == action::kill_process;
}
static_assert(four_byte_arguments_compare_32_bits());
TEST_CASE("4-byte arguments compare the 32 bits the kernel reads") {
  CHECK(four_byte_arguments_compare_32_bits());
}

using expressions = kafel<R"(
  #define O_ACCMODE 3
  #define O_WRONLY 1
  ALLOW {
    openat { (flags & O_ACCMODE) != O_WRONLY },
    dup3 { !(flags < 5 && flags > 2) },
    lseek { whence == 0, whence == 2 },
    kill { 5 > sig }
  }
  DEFAULT ERRNO(1)
)",
                          x86_64>;
constexpr bool expressions_mean_what_they_say() {
  constexpr expressions p;
  for (std::uint64_t v = 0; v < 16; ++v) {
    const bool openat = (v & 3) != 1, dup3 = !(v < 5 && v > 2), lseek = v == 0 || v == 2, kill = 5 > v;
    if ((run(p.program(), sys::id::openat, 0, 0, v) == action::allow) != openat) return false;
    if ((run(p.program(), sys::id::dup3, 0, 0, v) == action::allow) != dup3) return false;
    if ((run(p.program(), sys::id::lseek, 0, 0, v) == action::allow) != lseek) return false;
    if ((run(p.program(), sys::id::kill, 0, v) == action::allow) != kill) return false;
  }
  return true;
}
static_assert(expressions_mean_what_they_say());
TEST_CASE("masks, negations, ',' as OR and mirrored comparisons, swept") {
  CHECK(expressions_mean_what_they_say());
}

using numbers_and_aliases = kafel<R"(
  #define MYWRITE 1
  ALLOW { SYSCALL[0], MYWRITE, newstat, newfstat, newuname, umount }
  DEFAULT KILL
)",
                                  x86_64>;
constexpr bool numbers_and_aliases_resolve() {
  constexpr numbers_and_aliases p;
  return run(p.program(), sys::id::read) == action::allow &&
         run(p.program(), sys::id::write) == action::allow &&
         run(p.program(), sys::id::stat) == action::allow &&
         run(p.program(), sys::id::fstat) == action::allow &&
         run(p.program(), sys::id::uname) == action::allow &&
         run(p.program(), sys::id::umount2) == action::allow &&
         run(p.program(), sys::id::close) == action::kill_thread;  // absent DEFAULT KILL: the thread
}
static_assert(numbers_and_aliases_resolve());
TEST_CASE("SYSCALL[n], #define'd numbers and kafel's kernel names") { CHECK(numbers_and_aliases_resolve()); }

// DEFAULT ALLOW still refuses x32's numbers (kafel checks no x32 bit).
using deny_list = kafel<"KILL_PROCESS { ptrace } DEFAULT ALLOW", x86_64>;
constexpr bool x32_is_refused() {
  constexpr deny_list p;
  seccomp_data x32 = call<x86_64>(sys::id::read);
  x32.nr = 0x40000000 | 0;
  return evaluate(p.program(), x32).result == action::kill_process &&
         run(p.program(), sys::id::read) == action::allow &&
         run(p.program(), sys::id::ptrace) == action::kill_process;
}
static_assert(x32_is_refused());
TEST_CASE("a deny list still refuses x32 calls") { CHECK(x32_is_refused()); }

// --- the core's ordered mode --------------------------------------------------------------------

TEST_CASE("the core: overlapping rules conflict unless the rules are in priority order") {
  const std::vector<detail::entry> rules{{rule(sys::id::write, arg<0> == 1)},
                                         {rule(sys::id::write).then(action::error(1))}};
  CHECK_THROWS_AS(runtime_policy(rules, {"a", "b"}, action::kill_process, {x86_64::value}), policy_error);
  const runtime_policy ordered(rules, {"a", "b"}, action::kill_process, {x86_64::value}, "p", true);
  CHECK(run(ordered.program(), sys::id::write, 1) == action::allow);
  CHECK(run(ordered.program(), sys::id::write, 2) == action::error(1));
  // Reversed, the unconditional rule decides alone: the conditional one after it is dead.
  const runtime_policy reversed({rules[1], rules[0]}, {"b", "a"}, action::kill_process, {x86_64::value}, "p",
                                true);
  CHECK(run(reversed.program(), sys::id::write, 1) == action::error(1));
  CHECK(reversed.program().size() < ordered.program().size());
}

// --- compile time and run time give the same program --------------------------------------------

constexpr char text_a[] = R"(
  POLICY base { ALLOW { read, write { fd == 1 || fd == 2 }, close } }
  POLICY net { ERRNO(13) { socket { family != 1 } }, ALLOW { socket } }
  USE base, USE net,
  LOG { getpid }, TRAP(7) { kill { sig == 9 } }, TRACE(3) { getppid }, USER_NOTIF { mkdirat }
  KILL_THREAD { ptrace } DENY { process_vm_readv }
  DEFAULT ERRNO(1)
)";
constexpr char text_b[] = R"(ALLOW {
  read, write, openat { (flags & 3) == 0 }, mmap { prot != 7 && (flags & 0x20) != 0 },
  futex { op == 0 || op == 1 || op == 128 || op == 129 }, exit_group
} DEFAULT KILL_PROCESS)";
constexpr char text_c[] = "";  // empty: everything is KILLed

template <const auto& Text>
void check_identical() {
  constexpr kafel<Text, x86_64> compiled;
  const runtime_policy at_run_time = kafel_policy(Text, "p", {x86_64::value});
  CHECK(at_run_time.first_match_wins());
  REQUIRE(compiled.program().size() == at_run_time.program().size());
  for (std::size_t i = 0; i < compiled.program().size(); ++i) {
    CAPTURE(i);
    CHECK(compiled.program()[i].code == at_run_time.program()[i].code);
    CHECK(compiled.program()[i].jt == at_run_time.program()[i].jt);
    CHECK(compiled.program()[i].jf == at_run_time.program()[i].jf);
    CHECK(compiled.program()[i].k == at_run_time.program()[i].k);
  }
  CHECK(compiled.dump() == at_run_time.dump());
}

TEST_CASE("kafel<\"...\"> and kafel_policy() compile the same program") {
  check_identical<text_a>();
  check_identical<text_b>();
  check_identical<text_c>();
}

TEST_CASE("every action kafel names") {
  const runtime_policy p = kafel_policy(text_a, "p", {x86_64::value});
  const auto prog = p.program();
  CHECK(run(prog, sys::id::getpid) == action::log);
  CHECK(run(prog, sys::id::kill, 1, 9) == action::trap(7));
  CHECK(run(prog, sys::id::kill, 1, 15) == action::error(1));
  CHECK(run(prog, sys::id::getppid) == action::trace(3));
  CHECK(run(prog, sys::id::mkdirat) == action::user_notif);
  CHECK(run(prog, sys::id::ptrace) == action::kill_thread);
  CHECK(run(prog, sys::id::process_vm_readv) == action::kill_thread);
  CHECK(run(prog, sys::id::socket, 2) == action::error(13));
  CHECK(run(prog, sys::id::socket, 1) == action::allow);
  CHECK(run(prog, sys::id::write, 2) == action::allow);
  CHECK(run(prog, sys::id::write, 3) == action::error(1));
}

// --- budget: 100 filters (133 rules) within clang 14's default 1,048,576 constexpr steps ---------

// Generated once (a third plain, a third `a == x || a == y`, a third masked and !=) over the first
// hundred x86_64 syscalls whose prototypes name their parameters.
constexpr char hundred_filters[] = R"(
  ALLOW { access }
  ERRNO(2) { acct { name == 1 || name == 1001 } }
  ALLOW { add_key { (_type & 0xf0) == 0x20 && _type != 7 } }
  ALLOW { adjtimex }
  ERRNO(5) { alarm { seconds == 4 || seconds == 1004 } }
  ALLOW { bpf { (cmd & 0xf0) == 0x50 && cmd != 7 } }
  ALLOW { brk }
  ERRNO(8) { cachestat { fd == 7 || fd == 1007 } }
  ALLOW { capget { (header & 0xf0) == 0x80 && header != 7 } }
  ALLOW { capset }
  ERRNO(11) { chdir { filename == 10 || filename == 1010 } }
  ALLOW { chmod { (filename & 0xf0) == 0xb0 && filename != 7 } }
  ALLOW { chown }
  ERRNO(14) { chroot { filename == 13 || filename == 1013 } }
  ALLOW { clock_adjtime { (which_clock & 0xf0) == 0xe0 && which_clock != 7 } }
  ALLOW { clock_getres }
  ERRNO(17) { clock_gettime { which_clock == 16 || which_clock == 1016 } }
  ALLOW { clock_nanosleep { (which_clock & 0xf0) == 0x10 && which_clock != 7 } }
  ALLOW { clock_settime }
  ERRNO(20) { clone3 { uargs == 19 || uargs == 1019 } }
  ALLOW { close { (fd & 0xf0) == 0x40 && fd != 7 } }
  ALLOW { close_range }
  ERRNO(23) { copy_file_range { fd_in == 22 || fd_in == 1022 } }
  ALLOW { creat { (pathname & 0xf0) == 0x70 && pathname != 7 } }
  ALLOW { delete_module }
  ERRNO(26) { dup { fildes == 25 || fildes == 1025 } }
  ALLOW { dup2 { (oldfd & 0xf0) == 0xa0 && oldfd != 7 } }
  ALLOW { dup3 }
  ERRNO(29) { epoll_create { size == 28 || size == 1028 } }
  ALLOW { epoll_create1 { (flags & 0xf0) == 0xd0 && flags != 7 } }
  ALLOW { epoll_ctl }
  ERRNO(2) { epoll_pwait { epfd == 31 || epfd == 1031 } }
  ALLOW { epoll_pwait2 { (epfd & 0xf0) == 0x0 && epfd != 7 } }
  ALLOW { epoll_wait }
  ERRNO(5) { eventfd { count == 34 || count == 1034 } }
  ALLOW { eventfd2 { (count & 0xf0) == 0x30 && count != 7 } }
  ALLOW { execve }
  ERRNO(8) { execveat { dfd == 37 || dfd == 1037 } }
  ALLOW { exit { (error_code & 0xf0) == 0x60 && error_code != 7 } }
  ALLOW { exit_group }
  ERRNO(11) { faccessat { dfd == 40 || dfd == 1040 } }
  ALLOW { faccessat2 { (dfd & 0xf0) == 0x90 && dfd != 7 } }
  ALLOW { fadvise64 }
  ERRNO(14) { fallocate { fd == 43 || fd == 1043 } }
  ALLOW { fanotify_init { (flags & 0xf0) == 0xc0 && flags != 7 } }
  ALLOW { fanotify_mark }
  ERRNO(17) { fchdir { fd == 46 || fd == 1046 } }
  ALLOW { fchmod { (fd & 0xf0) == 0xf0 && fd != 7 } }
  ALLOW { fchmodat }
  ERRNO(20) { fchmodat2 { dfd == 49 || dfd == 1049 } }
  ALLOW { fchown { (fd & 0xf0) == 0x20 && fd != 7 } }
  ALLOW { fchownat }
  ERRNO(23) { fcntl { fd == 52 || fd == 1052 } }
  ALLOW { fdatasync { (fd & 0xf0) == 0x50 && fd != 7 } }
  ALLOW { fgetxattr }
  ERRNO(26) { finit_module { fd == 55 || fd == 1055 } }
  ALLOW { flistxattr { (fd & 0xf0) == 0x80 && fd != 7 } }
  ALLOW { flock }
  ERRNO(29) { fremovexattr { fd == 58 || fd == 1058 } }
  ALLOW { fsconfig { (fs_fd & 0xf0) == 0xb0 && fs_fd != 7 } }
  ALLOW { fsetxattr }
  ERRNO(2) { fsmount { fs_fd == 61 || fs_fd == 1061 } }
  ALLOW { fsopen { (fs_name & 0xf0) == 0xe0 && fs_name != 7 } }
  ALLOW { fspick }
  ERRNO(5) { fstat { fd == 64 || fd == 1064 } }
  ALLOW { fstatfs { (fd & 0xf0) == 0x10 && fd != 7 } }
  ALLOW { fsync }
  ERRNO(8) { ftruncate { fd == 67 || fd == 1067 } }
  ALLOW { futex { (uaddr & 0xf0) == 0x40 && uaddr != 7 } }
  ALLOW { futex_requeue }
  ERRNO(11) { futex_wait { uaddr == 70 || uaddr == 1070 } }
  ALLOW { futex_waitv { (waiters & 0xf0) == 0x70 && waiters != 7 } }
  ALLOW { futex_wake }
  ERRNO(14) { futimesat { dfd == 73 || dfd == 1073 } }
  ALLOW { get_mempolicy { (policy & 0xf0) == 0xa0 && policy != 7 } }
  ALLOW { get_robust_list }
  ERRNO(17) { getcpu { cpu == 76 || cpu == 1076 } }
  ALLOW { getcwd { (buf & 0xf0) == 0xd0 && buf != 7 } }
  ALLOW { getdents }
  ERRNO(20) { getdents64 { fd == 79 || fd == 1079 } }
  ALLOW { getgroups { (gidsetsize & 0xf0) == 0x0 && gidsetsize != 7 } }
  ALLOW { getitimer }
  ERRNO(23) { getpgid { pid == 82 || pid == 1082 } }
  ALLOW { getpriority { (which & 0xf0) == 0x30 && which != 7 } }
  ALLOW { getrandom }
  ERRNO(26) { getresgid { rgid == 85 || rgid == 1085 } }
  ALLOW { getresuid { (ruid & 0xf0) == 0x60 && ruid != 7 } }
  ALLOW { getrlimit }
  ERRNO(29) { getrusage { who == 88 || who == 1088 } }
  ALLOW { getsid { (pid & 0xf0) == 0x90 && pid != 7 } }
  ALLOW { getsockopt }
  ERRNO(2) { gettimeofday { tv == 91 || tv == 1091 } }
  ALLOW { getxattr { (path & 0xf0) == 0xc0 && path != 7 } }
  ALLOW { init_module }
  ERRNO(5) { inotify_add_watch { fd == 94 || fd == 1094 } }
  ALLOW { inotify_init1 { (flags & 0xf0) == 0xf0 && flags != 7 } }
  ALLOW { inotify_rm_watch }
  ERRNO(8) { io_cancel { ctx_id == 97 || ctx_id == 1097 } }
  ALLOW { io_destroy { (ctx & 0xf0) == 0x20 && ctx != 7 } }
  ALLOW { io_getevents }
  DEFAULT KILL_PROCESS
)";
constexpr bool hundred_filters_compile() {
  constexpr kafel<hundred_filters, x86_64> p;
  return p.rules().size() == 133 && run(p.program(), sys::id::access) == action::allow &&
         run(p.program(), sys::id::acct, 1001) == action::error(2) &&
         run(p.program(), sys::id::acct, 2) == action::kill_process &&
         run(p.program(), sys::id::close, 0x47) == action::allow &&
         run(p.program(), sys::id::close, 0x57) == action::kill_process;
}
static_assert(hundred_filters_compile());
TEST_CASE("a 100-filter policy compiles at compile time, as at run time") {
  CHECK(hundred_filters_compile());
  check_identical<hundred_filters>();
}

// --- kafel's own samples ------------------------------------------------------------------------

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_CASE("kafel's samples: compiled, or refused where sysfence documents it") {
  const std::filesystem::path dir = std::filesystem::path(SYSFENCE_KAFEL_DIR) / "kafel-samples";
  std::size_t files = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    ++files;
    const std::string name = f.path().filename().string();
    CAPTURE(name);
    const std::string text = read_file(f.path());
    if (name.find("var") != std::string::npos) {  // (fd & buf), fd != buf: argument against argument
      CHECK_THROWS_WITH_AS((void)kafel_policy(text, name, {x86_64::value}),
                           doctest::Contains("comparing two arguments is not supported"), policy_error);
      continue;
    }
    if (name.find("custom_syscall") != std::string::npos) {  // SYSCALL[-1]: no such syscall
      CHECK_THROWS_WITH_AS((void)kafel_policy(text, name, {x86_64::value}),
                           doctest::Contains("no syscall sysfence knows has this number"), policy_error);
      continue;
    }
    const runtime_policy p = kafel_policy(text, name, {x86_64::value});
    const auto prog = p.program();
    if (name == "sample_basic.policy") {  // (myfd == 1 || myfd == 2) && (mysize < 4 || mybuf == 0)
      CHECK(run(prog, sys::id::write, 1, 5, 3) == action::allow);
      CHECK(run(prog, sys::id::write, 2, 0, 100) == action::allow);
      CHECK(run(prog, sys::id::write, 1, 5, 100) == action::kill_thread);
      CHECK(run(prog, sys::id::write, 3, 0, 0) == action::kill_thread);
    }
    if (name == "sample_or_flags.policy") {  // flags == O_RDWR|O_CREAT || flags == O_WRONLY|O_CREAT
      CHECK(run(prog, sys::id::open, 0, 66) == action::allow);
      CHECK(run(prog, sys::id::open, 0, 65) == action::allow);
      CHECK(run(prog, sys::id::open, 0, 64) == action::kill_thread);
    }
    if (name == "sample_and_eq_short_top_set.policy") {
      // (fd & 0xf1f1f1f100000000) == 0: fd is 4 bytes, the mask selects none of them: every write
      // (kafel compares the register's upper half, which the kernel ignores).
      CHECK(run(prog, sys::id::write, 0xf100000001ULL) == action::allow);
    }
    if (name == "sample_and_eq_long.policy") {  // (buf & 0xc267df278caf1f35) == 0xc267df278caf1f35
      CHECK(run(prog, sys::id::write, 0, ~std::uint64_t{0}) == action::allow);
      CHECK(run(prog, sys::id::write, 0, 0xc267df278caf1f34ULL) == action::kill_thread);
    }
    if (name == "sample_empty_not_kill.policy") CHECK(run(prog, sys::id::ptrace) == action::allow);
  }
  CHECK(files == 23);
}

// --- nsjail's sample policies --------------------------------------------------------------------

constexpr char imagemagick_convert[] = R"(ALLOW {
  read, write, open, openat, close, newstat, newfstat,
  newlstat, lseek, mmap, mprotect, munmap, brk,
  rt_sigaction, rt_sigprocmask, pwrite64, access,
  getpid, execveat, getdents, unlink, fchmod,
  getrlimit, getrusage, sysinfo, times, futex,
  arch_prctl, sched_getaffinity, set_tid_address,
  clock_gettime, set_robust_list, exit_group,
  clone, getcwd, pread64, readlink, prlimit64, madvise
}
DEFAULT KILL_PROCESS)";

TEST_CASE("nsjail's sample policies compile and mean what kafel says") {
  std::size_t files = 0;
  for (const auto& f : std::filesystem::directory_iterator(SYSFENCE_KAFEL_DIR)) {
    if (f.path().extension() != ".policy") continue;
    ++files;
    const std::string name = f.path().filename().string();
    CAPTURE(name);
    const std::string text = read_file(f.path());
    if (name == "static-busybox-with-execveat.policy") {
      // ERRNO(0) makes ptrace "succeed": sysfence refuses a faked success.
      CHECK_THROWS_WITH_AS((void)kafel_policy(text, name, {arch::x86_64::value}),
                           doctest::Contains("errno must be 1 to 4095"), policy_error);
      continue;
    }
    const runtime_policy p = kafel_policy(text, name, {arch::x86_64::value});
    const auto prog = p.program();
    if (name == "imagemagick-convert.policy") {
      CHECK(run(prog, sys::id::stat) == action::allow);  // newstat
      CHECK(run(prog, sys::id::openat) == action::allow);
      CHECK(run(prog, sys::id::socket) == action::kill_process);
      CHECK(run(prog, sys::id::ptrace) == action::kill_process);
      // The same text compiled at compile time gives the same program.
      constexpr kafel<imagemagick_convert, x86_64> compiled;
      CHECK(std::equal(prog.begin(), prog.end(), compiled.program().begin(), compiled.program().end(),
                       [](const bpf::insn& a, const bpf::insn& b) {
                         return a.code == b.code && a.jt == b.jt && a.jf == b.jf && a.k == b.k;
                       }));
      continue;
    }
    // The others are deny lists: ptrace is refused, plain calls run.
    CHECK(run(prog, sys::id::ptrace) != action::allow);
    CHECK(run(prog, sys::id::write, 1) == action::allow);
    if (name == "bash-with-fake-geteuid.policy") {
      CHECK(run(prog, sys::id::geteuid) == action::error(1337));
      CHECK(run(prog, sys::id::sched_setaffinity) == action::error(1));
      CHECK(run(prog, sys::id::syslog) == action::kill_process);
    }
    if (text.find("io_uring_setup") != std::string::npos)
      CHECK(run(prog, sys::id::io_uring_setup) == action::error(38));
    if (text.find("sched_setaffinity") != std::string::npos)
      CHECK(run(prog, sys::id::sched_setaffinity) != action::allow);
    if (text.find("process_vm_writev") != std::string::npos)
      CHECK(run(prog, sys::id::process_vm_writev) == action::kill_process);
  }
  CHECK(files == 13);
}

}  // namespace
