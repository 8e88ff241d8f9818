// SPDX-License-Identifier: MIT
// learn.hpp - learning which syscalls a command makes: `learn` runs it under a filter that sends
// every call to a user-notification supervisor answering CONTINUE, and records each syscall's
// count, processes and (optionally) argument values; the writers turn what was learned into a
// sysfence policy (a C++ header) or a seccompiler JSON policy that allows exactly those syscalls.
//
// A run shows what the command did, not everything it may do: review the result, and run the
// command under it (a missing syscall then fails with EPERM). Not a sandbox while learning: every
// call runs (see notify.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <linux/audit.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sysfence/action.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/builtins.hpp"
#include "sysfence/condition.hpp"
#include "sysfence/dump.hpp"
#include "sysfence/formats/write.hpp"
#include "sysfence/notify.hpp"
#include "sysfence/rule.hpp"
#include "sysfence/runtime_policy.hpp"
#include "sysfence/spawn.hpp"
#include "sysfence/syscall.hpp"

namespace sysfence {

// `learn_options` says how a command is learned.
struct learn_options {
  // `timeout` stops a command (and every process of it still running) after this long; 0: never.
  std::chrono::milliseconds timeout{0};
  // `args` records each syscall's argument values (at most `max_values` distinct ones each).
  bool args = false;
  std::size_t max_values = 8;
  // `started` is called with the command's pid once it is spawned (to forward signals to it).
  std::function<void(pid_t)> started;
};

// `observed_values` is the distinct values one argument had, in the order first seen; `more` is
// true when there were more than the options' max_values.
struct observed_values {
  std::vector<std::uint64_t> values;
  bool more = false;
};

// `learned_process` is one process the calls came from: a pid and the program it ran (a process
// that calls execve is a new entry with the same pid once the new program runs).
struct learned_process {
  pid_t pid = 0;
  std::string comm;  // /proc/PID/comm
  std::string exe;   // /proc/PID/exe, empty when unreadable
  std::uint64_t calls = 0;
  std::size_t threads = 0;  // distinct threads seen calling
};

// `learned_syscall` is one syscall of one ABI, as the command made it.
struct learned_syscall {
  std::optional<sys::id> id;  // none: a number sysfence's tables lack
  std::string_view abi;       // the ABI's name: "x86_64", "x32", "x86", ...
  std::uint32_t arch = 0;     // seccomp_data.arch
  std::int32_t nr = -1;       // seccomp_data.nr
  std::uint64_t count = 0;
  std::vector<std::size_t> processes;   // indices in learned::processes, ascending
  std::array<observed_values, 6> args;  // with learn_options::args, for the syscall's parameters

  // `name` is the syscall's kernel name, or "nr N" for a number sysfence's tables lack.
  [[nodiscard]] std::string name() const {
    if (id) return std::string(sys::name(*id));
    return "nr " + std::to_string(nr);
  }
};

// `learned` is what a run taught: the command, its syscalls and processes, and how it ended.
struct learned {
  std::vector<std::string> command;
  std::vector<learned_syscall> syscalls;   // by ABI, then name
  std::vector<learned_process> processes;  // in the order first seen
  std::uint64_t calls = 0;
  bool args = false;         // argument values were recorded
  spawned start;             // the spawn: failed step and errno when the command could not run
  waited end;                // the command's wait status (when it ran)
  bool timed_out = false;    // the timeout stopped the command or what was left of it
  notify_status supervised;  // the supervisor's outcome

  // `ran` is true when the command was executed.
  [[nodiscard]] bool ran() const noexcept { return static_cast<bool>(start); }
  // `status` is the command's status as a shell reports it: its exit code, 128 + a signal, 126 or
  // 127 when it could not be executed (EACCES, or not found), 125 when learning could not start.
  [[nodiscard]] int status() const noexcept {
    if (start.failed == spawn_step::exec) return start.error == ENOENT ? 127 : 126;
    if (!start) return 125;
    return end.shell_status();
  }
  // `find` is the syscall named `name` on the ABI `abi` (the native one by default), or null.
  [[nodiscard]] const learned_syscall* find(std::string_view name,
                                            std::string_view abi = arch::native::name) const noexcept {
    for (const learned_syscall& s : syscalls)
      if (s.id && sys::name(*s.id) == name && s.abi == abi) return &s;
    return nullptr;
  }
};

// `arg_proposal` is a proposed condition: argument `arg` is one of `values`, compared on 32 bits
// (`dword`) or 64.
struct arg_proposal {
  std::uint8_t arg = 0;
  bool dword = true;
  std::vector<std::uint64_t> values;
};

namespace detail::learning {

// `notified_target` is the ABI a notification's arch and nr belong to, or null.
inline const arch::target* notified_target(std::uint32_t audit, std::int32_t nr) noexcept {
  const arch::target* best = nullptr;
  const auto n = static_cast<std::uint32_t>(nr);
  for (const arch::target& t : notified_abis)
    if (t.audit == audit && t.nr_base <= n && (best == nullptr || t.nr_base > best->nr_base)) best = &t;
  return best;
}

// `id_for` is the syscall numbered `nr` (as seccomp_data shows it) on `t`, if its table has it.
inline std::optional<sys::id> id_for(const arch::target& t, std::int32_t nr) noexcept {
  const auto n = static_cast<std::uint32_t>(nr);
  if (n < t.nr_base) return std::nullopt;
  const auto& numbers = *t.numbers;
  for (std::size_t i = 0; i < numbers.size(); ++i)
    if (numbers[i] >= 0 && static_cast<std::uint32_t>(numbers[i]) == n - t.nr_base)
      return static_cast<sys::id>(i);
  return std::nullopt;
}

// `narrow_argument` is true when the kernel reads argument `i` of syscall `id` on `t` as 32 bits:
// values are recorded (and compared) as those 32 bits.
inline bool narrow_argument(const arch::target& t, sys::id id, std::int32_t nr, std::size_t i) noexcept {
  const signature& sig = syscall_signatures[static_cast<std::size_t>(id)];
  if (t.argument_bits == 32) return true;
  if ((t.narrow_arguments(static_cast<std::size_t>(id), static_cast<std::uint32_t>(nr) - t.nr_base) >> i) &
      1U)
    return true;
  return i < sig.count && sig.bits[i] <= 32;
}

// `parameter_count` is how many arguments of `id` are recorded: its parameters, or all six.
inline std::size_t parameter_count(sys::id id) noexcept {
  const signature& sig = syscall_signatures[static_cast<std::size_t>(id)];
  return sig.known ? sig.count : 6;
}

// `watch` is an argument worth a proposed condition: `standard_fd` when every value seen is 0, 1
// or 2 (stdin, stdout, stderr), `few` whenever the values seen were few.
struct watch {
  sys::id syscall;
  std::uint8_t arg;
  bool standard_fd;
};
inline constexpr std::array<watch, 18> watches{{
    {sys::id::read, 0, true},
    {sys::id::write, 0, true},
    {sys::id::readv, 0, true},
    {sys::id::writev, 0, true},
    {sys::id::pread64, 0, true},
    {sys::id::pwrite64, 0, true},
    {sys::id::fstat, 0, true},
    {sys::id::lseek, 0, true},
    {sys::id::fsync, 0, true},
    {sys::id::ioctl, 1, false},
    {sys::id::fcntl, 1, false},
    {sys::id::fcntl64, 1, false},
    {sys::id::socket, 0, false},
    {sys::id::socket, 1, false},
    {sys::id::prctl, 0, false},
    {sys::id::arch_prctl, 0, false},
    {sys::id::setsockopt, 1, false},
    {sys::id::getsockopt, 1, false},
}};

// `max_proposed_rules` bounds the rules one syscall's proposal becomes (one per combination).
inline constexpr std::size_t max_proposed_rules = 16;

}  // namespace detail::learning

// `proposed_conditions` is the argument conditions proposed for a learned syscall of the native
// ABI: for the watched arguments (fds 0 to 2 of read and write, fcntl and ioctl commands, socket
// families and types, ...) whose values were all recorded and few. Every observed call satisfies
// them: the rules are one per combination of the proposed values. Empty: allow it whatever its
// arguments.
inline std::vector<arg_proposal> proposed_conditions(const learned_syscall& s) {
  std::vector<arg_proposal> out;
  if (!s.id || s.abi != arch::native::name) return out;
  std::size_t rules = 1;
  for (const detail::learning::watch& w : detail::learning::watches) {
    if (w.syscall != *s.id) continue;
    const observed_values& v = s.args[w.arg];
    if (v.values.empty() || v.more) continue;
    if (w.standard_fd && std::any_of(v.values.begin(), v.values.end(), [](std::uint64_t x) { return x > 2; }))
      continue;
    if (rules * v.values.size() > detail::learning::max_proposed_rules) continue;
    rules *= v.values.size();
    arg_proposal p;
    p.arg = w.arg;
    p.dword = detail::learning::narrow_argument(arch::native::value, *s.id, s.nr, w.arg);
    p.values = v.values;
    std::sort(p.values.begin(), p.values.end());
    out.push_back(std::move(p));
  }
  return out;
}

// `builtin_method` is a built-in rule set, or a method of one, as learn's header writer uses it:
// the C++ expression, the syscalls it allows whatever their arguments (read from the rule set's
// own simple_rules), whether it has conditional rules too, and whether it needs .yes_really().
struct builtin_method {
  std::string_view expression;  // as sysfence:: qualifies it: "builtins::system_io::nothing().allow_read()"
  std::span<const sys::id> syscalls;
  bool unconditional = true;  // no conditional rules
  bool dangerous = false;     // written with .yes_really() (extrasafe's YesReally)
};

namespace detail::learning {

// The rule set a method call gives, through .yes_really() for the dangerous ones.
template <class T>
struct set_of {
  using type = T;
};
template <class S, class M>
struct set_of<dangerous<S, M>> {
  using type = S;
};

// `method_of<T>` is the built-in method whose call has type T, read from its rule set's rules.
template <class T>
builtin_method method_of(std::string_view expression) noexcept {
  using set = typename set_of<T>::type;
  std::span<const sys::id> ids;
  if constexpr (has_simple_rules<set>)
    ids = {std::ranges::begin(set::simple_rules), std::ranges::size(set::simple_rules)};
  return {expression, ids, conditional_count<set>() == 0, is_dangerous<T>};
}

}  // namespace detail::learning

// `builtin_methods` is every built-in rule set and argument-free method, each with its syscalls
// read from the typed rule set it gives (so the list follows the built-ins), in the order the
// header writer prefers them.
inline std::span<const builtin_method> builtin_methods() {
#define SYSFENCE_LEARN_METHOD(expr) detail::learning::method_of<std::remove_cvref_t<decltype(expr)>>(#expr)
  static const std::array<builtin_method, 20> methods{
      SYSFENCE_LEARN_METHOD(builtins::basic_capabilities{}),
      SYSFENCE_LEARN_METHOD(builtins::system_io::nothing().allow_metadata()),
      SYSFENCE_LEARN_METHOD(builtins::system_io::nothing().allow_write()),
      SYSFENCE_LEARN_METHOD(builtins::system_io::nothing().allow_read()),
      SYSFENCE_LEARN_METHOD(builtins::system_io::nothing().allow_open()),
      SYSFENCE_LEARN_METHOD(builtins::system_io::nothing().allow_unlink()),
      SYSFENCE_LEARN_METHOD(builtins::system_io::nothing().allow_close()),
      SYSFENCE_LEARN_METHOD(builtins::system_io::nothing().allow_ioctl()),
      SYSFENCE_LEARN_METHOD(builtins::system_io::nothing().allow_open_readonly()),
      SYSFENCE_LEARN_METHOD(builtins::networking::nothing().allow_running_tcp_servers()),
      SYSFENCE_LEARN_METHOD(builtins::networking::nothing().allow_start_tcp_clients()),
      SYSFENCE_LEARN_METHOD(builtins::networking::nothing().allow_start_udp_servers()),
      SYSFENCE_LEARN_METHOD(builtins::networking::nothing().allow_start_unix_servers()),
      SYSFENCE_LEARN_METHOD(builtins::networking::nothing().allow_connect()),
      SYSFENCE_LEARN_METHOD(builtins::fork_and_exec{}),
      SYSFENCE_LEARN_METHOD(builtins::threads::nothing().allow_create()),
      SYSFENCE_LEARN_METHOD(builtins::threads::nothing().allow_sleep()),
      SYSFENCE_LEARN_METHOD(builtins::time::nothing().allow_gettime()),
      SYSFENCE_LEARN_METHOD(builtins::pipes{}),
      SYSFENCE_LEARN_METHOD(builtins::system_io::nothing().allow_stdout()),
  };
#undef SYSFENCE_LEARN_METHOD
  return methods;
}

namespace detail::learning {

// `cpp_names` maps kernel names to sysfence's sys:: identifiers (break is sys::break_).
inline std::string_view cpp_name(sys::id id) noexcept {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 1> renamed{
      {{"break", "break_"}}};
  const std::string_view name = sys::name(id);
  for (const auto& [kernel, cpp] : renamed)
    if (kernel == name) return cpp;
  return name;
}

// `printable` is `text` with what could end a comment line or a JSON string early (control
// characters, backslashes, bytes outside ASCII) replaced by '?'.
inline std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f || c == '\\') c = '?';
  return out;
}

// `json_string` is `text` as a JSON string literal, made printable first (formats/write.hpp
// escapes the rest).
inline std::string json_string(std::string_view text) { return detail::json_string(printable(text)); }

// `number` is a value as a comment shows it: decimal below 4096, hex above.
inline std::string number(std::uint64_t v) {
  if (v < 4096) return std::to_string(v);
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "0x%llx", static_cast<unsigned long long>(v));
  return buffer;
}

// `note` says how often a syscall was called and by which processes (at most four named), and
// with argument values recorded, the values of the watched arguments.
inline std::string note(const learned& l, const learned_syscall& s) {
  std::string out = std::to_string(s.count);
  out += s.count == 1 ? " call from " : " calls from ";
  constexpr std::size_t named = 4;
  for (std::size_t i = 0; i < s.processes.size() && i < named; ++i) {
    const learned_process& p = l.processes[s.processes[i]];
    if (i != 0) out += ", ";
    out += printable(p.comm);
    out += " (pid ";
    out += std::to_string(p.pid);
    out += ')';
  }
  if (s.processes.size() > named) {
    out += " and ";
    out += std::to_string(s.processes.size() - named);
    out += " more";
  }
  if (l.args && s.id)
    for (const watch& w : watches) {
      if (w.syscall != *s.id) continue;
      const observed_values& v = s.args[w.arg];
      if (v.values.empty() && !v.more) continue;
      out += "; arg ";
      out += std::to_string(w.arg);
      out += ':';
      for (const std::uint64_t x : v.values) {
        out += ' ';
        out += number(x);
      }
      if (v.more) out += " and more";
    }
  return out;
}

// `native_syscalls` is the learned syscalls of the native ABI with a name, by name.
inline std::vector<const learned_syscall*> native_syscalls(const learned& l) {
  std::vector<const learned_syscall*> out;
  for (const learned_syscall& s : l.syscalls)
    if (s.id && s.abi == arch::native::name) out.push_back(&s);
  std::sort(out.begin(), out.end(), [](const learned_syscall* a, const learned_syscall* b) {
    return sys::name(*a->id) < sys::name(*b->id);
  });
  return out;
}

// `command_name` is the last path component of the command's program.
inline std::string command_name(const learned& l) {
  if (l.command.empty()) return "command";
  const std::string& p = l.command.front();
  const std::size_t slash = p.find_last_of('/');
  std::string name = slash == std::string::npos ? p : p.substr(slash + 1);
  return name.empty() ? std::string("command") : name;
}

// `identifier` is `text` made a C++ identifier: letters, digits and '_', not starting with a digit.
inline std::string identifier(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out += ok ? c : '_';
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out.insert(0, "learned_");
  return out;
}

// `command_line` is the command as one line, for comments.
inline std::string command_line(const learned& l) {
  std::string out;
  for (const std::string& a : l.command) {
    if (!out.empty()) out += ' ';
    out += printable(a);
  }
  return out;
}

}  // namespace detail::learning

// `learned_summary` is one line: "N syscalls, M calls, P processes".
inline std::string learned_summary(const learned& l) {
  auto plural = [](std::size_t n, std::string_view one, std::string_view many) {
    std::string s = std::to_string(n);
    s += ' ';
    s += n == 1 ? one : many;
    return s;
  };
  std::string out = plural(l.syscalls.size(), "syscall", "syscalls");
  out += ", ";
  out += plural(static_cast<std::size_t>(l.calls), "call", "calls");
  out += ", ";
  std::vector<pid_t> pids;
  for (const learned_process& p : l.processes)
    if (std::find(pids.begin(), pids.end(), p.pid) == pids.end()) pids.push_back(p.pid);
  out += plural(pids.size(), "process", "processes");
  return out;
}

// `seccompiler_json_options` names the filter learned_seccompiler_json writes (default: the command).
struct seccompiler_json_options {
  std::string filter;
};

// `learned_seccompiler_json` is a seccompiler JSON file with one filter, named after the command,
// allowing exactly the learned syscalls of the native ABI (each rule with a comment saying how
// often and from which processes it came), every other call failing with EPERM. With recorded
// arguments, a syscall whose watched arguments took few values gets one rule per combination.
inline std::string learned_seccompiler_json(const learned& l, const seccompiler_json_options& options = {}) {
  namespace dl = detail::learning;
  const std::string filter = options.filter.empty() ? dl::command_name(l) : options.filter;
  std::string out = "{\n  ";
  out += dl::json_string(filter);
  out +=
      ": {\n    \"mismatch_action\": {\"errno\": 1},\n    \"filter_action\": \"allow\",\n    \"filter\": [";
  bool first = true;
  auto begin_rule = [&] {
    out += first ? "\n      {" : ",\n      {";
    first = false;
  };
  for (const learned_syscall* s : dl::native_syscalls(l)) {
    const std::string name(sys::name(*s->id));
    const std::string comment = dl::json_string(dl::note(l, *s));
    const std::vector<arg_proposal> proposal = proposed_conditions(*s);
    std::size_t combinations = 1;
    for (const arg_proposal& p : proposal) combinations *= p.values.size();
    for (std::size_t k = 0; k < combinations; ++k) {
      begin_rule();
      out += "\"syscall\": \"";
      out += name;
      out += '"';
      if (!proposal.empty()) {
        out += ", \"args\": [";
        std::size_t rest = k;
        for (std::size_t i = 0; i < proposal.size(); ++i) {
          const arg_proposal& p = proposal[i];
          const std::uint64_t v = p.values[rest % p.values.size()];
          rest /= p.values.size();
          out += i == 0 ? "{" : ", {";
          out += "\"index\": ";
          out += std::to_string(p.arg);
          out += p.dword ? ", \"type\": \"dword\"" : ", \"type\": \"qword\"";
          out += ", \"op\": \"eq\", \"val\": ";
          out += std::to_string(v);
          out += '}';
        }
        out += ']';
      }
      out += ", \"comment\": ";
      out += comment;
      out += '}';
    }
  }
  out += "\n    ]\n  }\n}\n";
  return out;
}

// `learned_header_options` names what learned_header defines: `name`_rules and `name`_policy in
// namespace `ns` (default: the command's name, and "learned").
struct learned_header_options {
  std::string name;
  std::string ns = "learned";
};

// `learned_header` is a C++ header defining the learned policy of the native ABI:
// `NAME_policy`, a sysfence::policy<> (every other call fails with EPERM) enabling each built-in
// rule set or method whose syscalls (those the native ABI has) were all seen and which allows
// them whatever their arguments, and `NAME_rules`, a rule set of the other syscalls by sys::
// name (with argument conditions where proposed); a comment per syscall says how often it was
// called and by which processes.
inline std::string learned_header(const learned& l, const learned_header_options& options = {}) {
  namespace dl = detail::learning;
  const std::string name = dl::identifier(options.name.empty() ? dl::command_name(l) : options.name);
  const std::string ns = dl::identifier(options.ns.empty() ? std::string("learned") : options.ns);
  const std::vector<const learned_syscall*> seen = dl::native_syscalls(l);
  auto find = [&](sys::id id) -> const learned_syscall* {
    for (const learned_syscall* s : seen)
      if (*s->id == id) return s;
    return nullptr;
  };
  const auto& numbers = *arch::native::value.numbers;

  // The methods whose every syscall (of the native ABI) was seen, and allowed unconditionally.
  std::vector<const builtin_method*> chosen;
  std::vector<sys::id> covered;
  for (const builtin_method& m : builtin_methods()) {
    if (!m.unconditional) continue;
    bool all = true, any = false, adds = false;
    for (const sys::id id : m.syscalls) {
      if (numbers[static_cast<std::size_t>(id)] < 0) continue;
      any = true;
      const learned_syscall* s = find(id);
      if (s == nullptr || !proposed_conditions(*s).empty()) all = false;
      if (std::find(covered.begin(), covered.end(), id) == covered.end()) adds = true;
    }
    if (!all || !any || !adds) continue;
    chosen.push_back(&m);
    for (const sys::id id : m.syscalls)
      if (numbers[static_cast<std::size_t>(id)] >= 0 &&
          std::find(covered.begin(), covered.end(), id) == covered.end())
        covered.push_back(id);
  }
  std::vector<const learned_syscall*> simple, conditional;
  for (const learned_syscall* s : seen) {
    if (std::find(covered.begin(), covered.end(), *s->id) != covered.end()) continue;
    (proposed_conditions(*s).empty() ? simple : conditional).push_back(s);
  }

  std::string out = "// SPDX-License-Identifier: MIT\n// ";
  out += name;
  out += ".hpp - the syscalls `";
  out += dl::command_line(l);
  out += "` made, learned by `sysfence learn` on ";
  out += arch::native::name;
  out += ": ";
  out += learned_summary(l);
  out +=
      ".\n// A run shows what the command did, not all it may do: review before use.\n#pragma once\n\n"
      "#include <array>\n#include <string_view>\n\n#include <sysfence/sysfence.hpp>\n\nnamespace ";
  out += ns;
  out += " {\n\n";
  const bool has_rules = !simple.empty() || !conditional.empty();
  if (has_rules) {
    out += "// `";
    out += name;
    out += "_rules` allows the learned syscalls no built-in rule set covers.\nstruct ";
    out += name;
    out += "_rules : sysfence::rule_set_base {\n  static constexpr std::string_view name = \"";
    out += name;
    out += "\";\n";
    if (!simple.empty()) {
      out += "  static constexpr auto simple_rules = sysfence::syscalls(\n";
      for (std::size_t i = 0; i < simple.size(); ++i) {
        out += "      sysfence::sys::";
        out += dl::cpp_name(*simple[i]->id);
        out += i + 1 < simple.size() ? ",  // " : "  // ";
        out += dl::note(l, *simple[i]);
        out += '\n';
      }
      out += "  );\n";
    }
    if (!conditional.empty()) {
      out += "  static constexpr std::array conditional_rules{\n";
      for (const learned_syscall* s : conditional) {
        out += "      // ";
        out += sys::name(*s->id);
        out += ": ";
        out += dl::note(l, *s);
        out += '\n';
        const std::vector<arg_proposal> proposal = proposed_conditions(*s);
        std::size_t combinations = 1;
        for (const arg_proposal& p : proposal) combinations *= p.values.size();
        for (std::size_t k = 0; k < combinations; ++k) {
          out += "      sysfence::rule{sysfence::sys::";
          out += dl::cpp_name(*s->id);
          std::size_t rest = k;
          for (const arg_proposal& p : proposal) {
            const std::uint64_t v = p.values[rest % p.values.size()];
            rest /= p.values.size();
            out += p.dword ? ", sysfence::arg32<" : ", sysfence::arg64<";
            out += std::to_string(p.arg);
            out += "> == ";
            out += dl::number(v);
            out += v >= 4096 ? "ULL" : "";
          }
          out += "},\n";
        }
      }
      out += "  };\n";
    }
    out += "};\n\n";
  }
  out += "// `";
  out += name;
  out += "_policy` is the learned policy: ";
  out += chosen.empty() ? "the syscalls seen"
                        : "the built-ins whose syscalls were all seen, the other syscalls seen";
  out += "; everything else fails with EPERM.\ninline constexpr auto ";
  out += name;
  out += "_policy = sysfence::policy<>{}";
  for (const builtin_method* m : chosen) {
    out += '\n';
    for (const sys::id id : m->syscalls) {
      if (numbers[static_cast<std::size_t>(id)] < 0) continue;
      const learned_syscall* s = find(id);
      out += "    // ";
      out += sys::name(id);
      out += ": ";
      out += dl::note(l, *s);
      out += '\n';
    }
    out += "    .enable(sysfence::";
    out += m->expression;
    if (m->dangerous) out += ".yes_really()";  // extrasafe's YesReally: dangerous, and seen
    out += ')';
  }
  if (has_rules) {
    out += "\n    .enable(";
    out += name;
    out += "_rules{})";
  }
  out += ";\n";
  // Other ABIs' calls (int 0x80, x32) are listed, not allowed: a policy serves them only when
  // applied for those ABIs too.
  bool other = false;
  for (const learned_syscall& s : l.syscalls) {
    if (s.id && s.abi == arch::native::name) continue;
    if (!other) out += "\n// Also seen, not allowed above (other ABIs, or numbers sysfence's tables lack):\n";
    other = true;
    out += "//   ";
    out += s.name();
    out += " (";
    out += s.abi;
    out += "): ";
    out += dl::note(l, s);
    out += '\n';
  }
  out += "\n}  // namespace ";
  out += ns;
  out += '\n';
  return out;
}

namespace detail::learning {

// `read_small_file` is the start of a /proc file (at most 4 KiB), empty when unreadable.
inline std::string read_small_file(const std::string& path) {
  std::string out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buffer[4096];
  ssize_t n;
  do n = ::read(fd, buffer, sizeof buffer);
  while (n < 0 && errno == EINTR);
  ::close(fd);
  if (n > 0) out.assign(buffer, static_cast<std::size_t>(n));
  return out;
}

// `recorder` is the supervisor's handler: it answers every call with CONTINUE and records it.
class recorder {
 public:
  recorder(learned& out, const learn_options& options, pid_t child)
      : out_(out), options_(options), child_(child) {}
  recorder(const recorder&) = delete;
  recorder& operator=(const recorder&) = delete;
  ~recorder() {
    for (const auto& [pid, fd] : pidfds_) ::close(fd);
  }

  notify_reply operator()(const notify_listener& listener, const notification& n) {
    const arch::target* t = notified_target(n.arch, n.nr);
    const std::optional<sys::id> id = t != nullptr ? id_for(*t, n.nr) : std::nullopt;
    const std::string_view name = id ? sys::name(*id) : std::string_view{};
    const bool exec = name == "execve" || name == "execveat";
    // Recorded from the command's first execve on (the child's own calls before it are sysfence's).
    if (!started_) {
      if (!(exec && n.pid == child_)) return notify_reply::continue_call();
      started_ = true;
    }
    const std::optional<std::size_t> process = process_of(listener, n);
    if (!process) return notify_reply::continue_call();  // the caller went away meanwhile
    ++out_.calls;
    learned_process& p = out_.processes[*process];
    ++p.calls;
    learned_syscall& s = syscall_of(t, id, n);
    ++s.count;
    const auto at = std::lower_bound(s.processes.begin(), s.processes.end(), *process);
    if (at == s.processes.end() || *at != *process) s.processes.insert(at, *process);
    if (options_.args && id && t != nullptr) {
      const std::size_t count = parameter_count(*id);
      for (std::size_t i = 0; i < count; ++i) {
        std::uint64_t v = n.args[i];
        if (narrow_argument(*t, *id, n.nr, i)) v &= 0xffffffffU;
        observed_values& o = s.args[i];
        if (std::find(o.values.begin(), o.values.end(), v) != o.values.end()) continue;
        if (o.values.size() < options_.max_values)
          o.values.push_back(v);
        else
          o.more = true;
      }
    }
    // After an execve the process runs another program, after exit its thread is gone, after
    // exit_group all of them: forget them, to identify them afresh if they call again.
    const pid_t tgid = p.pid;
    if (exec || name == "exit_group") forget_process(tgid, name == "exit_group");
    if (name == "exit") threads_.erase(n.pid);
    return notify_reply::continue_call();
  }

  // `kill_all` sends SIGKILL to every process seen that has not exited.
  void kill_all() {
    const std::lock_guard<std::mutex> lock(pidfds_mutex_);
    for (const auto& [pid, fd] : pidfds_) ::syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0);
  }

 private:
  struct thread_entry {
    std::size_t process;
    pid_t tgid;
  };

  std::optional<std::size_t> process_of(const notify_listener& listener, const notification& n) {
    if (const auto it = threads_.find(n.pid); it != threads_.end()) return it->second.process;
    const std::string status = read_small_file("/proc/" + std::to_string(n.pid) + "/status");
    pid_t tgid = n.pid;
    if (const std::size_t at = status.find("\nTgid:"); at != std::string::npos)
      tgid = static_cast<pid_t>(std::strtol(status.c_str() + at + 6, nullptr, 10));
    const std::string dir = "/proc/" + std::to_string(tgid);
    std::string comm = read_small_file(dir + "/comm");
    while (!comm.empty() && comm.back() == '\n') comm.pop_back();
    std::string exe(4096, '\0');
    const ssize_t len = ::readlink((dir + "/exe").c_str(), exe.data(), exe.size());
    exe.resize(len > 0 ? static_cast<std::size_t>(len) : 0);
    open_pidfd(tgid);
    // The caller still waits: what was read is its process, not one that reused its pid.
    if (!id_valid(listener, n)) return std::nullopt;
    std::size_t index = out_.processes.size();
    for (std::size_t i = 0; i < out_.processes.size(); ++i) {
      const learned_process& p = out_.processes[i];
      if (p.pid == tgid && p.comm == comm && p.exe == exe) index = i;
    }
    if (index == out_.processes.size()) out_.processes.push_back({tgid, comm, exe, 0, 0});
    if (counted_.insert({index, n.pid}).second) ++out_.processes[index].threads;
    threads_[n.pid] = {index, tgid};
    return index;
  }

  void open_pidfd(pid_t tgid) {
    const std::lock_guard<std::mutex> lock(pidfds_mutex_);
    if (pidfds_.count(tgid) != 0) return;
    const long fd = ::syscall(SYS_pidfd_open, tgid, 0);
    if (fd >= 0) pidfds_[tgid] = static_cast<int>(fd);
  }

  void forget_process(pid_t tgid, bool exited) {
    for (auto it = threads_.begin(); it != threads_.end();)
      it = it->second.tgid == tgid ? threads_.erase(it) : std::next(it);
    if (!exited) return;
    const std::lock_guard<std::mutex> lock(pidfds_mutex_);
    if (const auto it = pidfds_.find(tgid); it != pidfds_.end()) {
      ::close(it->second);
      pidfds_.erase(it);
    }
  }

  learned_syscall& syscall_of(const arch::target* t, std::optional<sys::id> id, const notification& n) {
    const std::uint64_t key = (std::uint64_t{n.arch} << 32) | static_cast<std::uint32_t>(n.nr);
    if (const auto it = syscalls_.find(key); it != syscalls_.end()) return out_.syscalls[it->second];
    learned_syscall s;
    s.id = id;
    s.abi = t != nullptr ? t->name : arch_name_for(n.arch);
    s.arch = n.arch;
    s.nr = n.nr;
    syscalls_[key] = out_.syscalls.size();
    out_.syscalls.push_back(std::move(s));
    return out_.syscalls.back();
  }

  learned& out_;
  const learn_options& options_;
  pid_t child_;
  bool started_ = false;
  std::unordered_map<pid_t, thread_entry> threads_;
  std::unordered_map<std::uint64_t, std::size_t> syscalls_;
  std::set<std::pair<std::size_t, pid_t>> counted_;  // (process, thread) pairs counted
  std::mutex pidfds_mutex_;
  std::map<pid_t, int> pidfds_;
};

// `handoff` is the message the child sends its listener in: built by the parent before fork, so
// the child's copy is at the same address, which the learning filter lets sendmsg send from (with
// this socket and these flags) without notifying it: the only call a supervisor without the
// listener yet would have to answer.
struct handoff : listener_message {
  static constexpr int flags = MSG_NOSIGNAL | MSG_DONTWAIT;

  // `send` sends `fd` over `socket` (async-signal-safe: for the child).
  bool send(int socket, int fd) noexcept { return listener_message::send(socket, fd, flags) == 0; }
};

// `learn_targets` is the ABIs the kernel may see calls of from this machine's programs.
inline std::vector<arch::target> learn_targets() {
#if defined(__x86_64__)
  return {arch::x86_64::value, arch::x32::value, arch::x86::value};
#else
  return {arch::native::value};
#endif
}

// `learning_policy` notifies every call of every ABI in learn_targets(), but the handoff's sendmsg.
inline runtime_policy learning_policy(int socket, const handoff& h) {
  const rule send{sys::sendmsg, arg<0> == static_cast<std::uint64_t>(socket),
                  arg<1> == static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(&h.msg)),
                  arg<2> == static_cast<std::uint64_t>(handoff::flags)};
  return runtime_policy({{send, 0, 0, true}}, {"the listener's handoff"}, action::user_notif, learn_targets(),
                        "sysfence learn");
}

// `wait_readable` polls `fd` until it is readable or `timeout` (-1: none) passes; false on timeout.
inline bool wait_readable(int fd, std::chrono::steady_clock::time_point deadline, bool forever) {
  for (;;) {
    int wait_ms = -1;
    if (!forever) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      wait_ms = left.count() > 0 ? static_cast<int>(std::min<long long>(left.count(), 1 << 30)) : 0;
    }
    ::pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, wait_ms);
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return true;
  }
}

}  // namespace detail::learning

// `learn` runs `argv` (a program found like execvp does, and its arguments) under a filter that
// notifies every call of every ABI the kernel may see from this machine (x86_64, x32 and i386 on
// x86) to a supervisor that answers CONTINUE and records it, from the command's execve on; the
// filter is inherited, so every thread and child process is recorded. It returns when the command
// and everything it started have exited, or the timeout passed (then they are killed). Throws
// policy_error if the learning filter cannot be built; a command that cannot be run is reported
// in `start`.
inline learned learn(std::span<const std::string> argv, const learn_options& options = {}) {
  namespace dl = detail::learning;
  learned out;
  out.command.assign(argv.begin(), argv.end());
  out.args = options.args;
  if (argv.empty()) {
    out.start = {-1, -1, spawn_step::exec, ENOENT};
    return out;
  }
  std::vector<std::string> copies(argv.begin(), argv.end());
  std::vector<char*> pointers;
  for (std::string& a : copies) pointers.push_back(a.data());
  pointers.push_back(nullptr);

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    out.start = {-1, -1, spawn_step::pipe, errno};
    return out;
  }
  dl::handoff h;
  const runtime_policy policy = dl::learning_policy(sv[1], h);
  const auto begin = std::chrono::steady_clock::now();

  // In the child: install the filter with a listener (waiting killably for answers once read, so
  // a signal does not withdraw a call the supervisor is recording, Linux 5.19), send it, exec.
  spawned s = spawn(pointers, [&]() noexcept -> int {
    ::close(sv[0]);
    applied_listener a = try_apply_with_listener(policy, install_flag::wait_killable_recv);
    if (!a && a.status.error == EINVAL) a = try_apply_with_listener(policy);
    if (!a) return a.status.error != 0 ? a.status.error : EINVAL;
    const bool sent = h.send(sv[1], a.listener.fd());
    // Close-on-exec: closing it here would be a notified call nobody may answer yet.
    [[maybe_unused]] const int kept = a.listener.release();
    return sent ? 0 : EIO;  // (a failure now is reported by notified calls: the parent times out)
  });
  ::close(sv[1]);
  if (!s) {
    ::close(sv[0]);
    out.start = s;
    return out;
  }
  if (options.started) options.started(s.pid);

  // The listener, or the child's end: it failed before sending (exec_outcome says why), or got
  // stuck after installing its filter (then it is killed).
  const bool arrived =
      dl::wait_readable(sv[0], std::chrono::steady_clock::now() + std::chrono::seconds(30), false);
  if (!arrived) ::kill(s.pid, SIGKILL);
  received_listener r =
      arrived ? receive_listener(sv[0]) : received_listener{{notify_step::receive_listener, ETIMEDOUT}, {}};
  ::close(sv[0]);
  if (!r) {
    exec_outcome(s);
    if (s) {
      out.end = wait_command(s.pid);
      out.start = {s.pid, -1, spawn_step::prepare, r.status.error};
    } else {
      out.start = s;
    }
    return out;
  }

  int done[2], stop[2];
  if (::pipe2(done, O_CLOEXEC) != 0 || ::pipe2(stop, O_CLOEXEC) != 0) {
    ::kill(s.pid, SIGKILL);  // its execve waits for an answer: it dies when the listener closes
    exec_outcome(s);
    if (s) wait_command(s.pid);
    out.start = {s.pid, -1, spawn_step::pipe, EMFILE};
    return out;
  }
  dl::recorder record(out, options, s.pid);
  std::thread supervisor([&] {
    out.supervised = supervise(r.listener, record, stop[0]);
    [[maybe_unused]] const ssize_t n = ::write(done[1], "d", 1);
  });
  const bool forever = options.timeout.count() <= 0;
  const auto deadline = begin + options.timeout;
  exec_outcome(s);
  out.start = s;
  if (s) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    out.end = wait_command(
        s.pid, forever ? std::chrono::milliseconds{0} : std::max(left, std::chrono::milliseconds{1}));
    out.timed_out = out.end.timed_out;
  }
  // The command is reaped; its children may still run, and the supervisor with them.
  if (out.timed_out) record.kill_all();
  if (!dl::wait_readable(done[0], deadline, forever)) {
    out.timed_out = true;
    record.kill_all();
    // What escaped (a process that made no call since it was forked) cannot hold supervise up.
    if (!dl::wait_readable(done[0], std::chrono::steady_clock::now() + std::chrono::seconds(2), false)) {
      [[maybe_unused]] const ssize_t n = ::write(stop[1], "s", 1);
    }
  }
  supervisor.join();
  for (const int fd : {done[0], done[1], stop[0], stop[1]}) ::close(fd);
  std::sort(out.syscalls.begin(), out.syscalls.end(), [](const learned_syscall& a, const learned_syscall& b) {
    if (a.abi != b.abi) return a.abi < b.abi;
    return a.name() < b.name();
  });
  return out;
}

}  // namespace sysfence
