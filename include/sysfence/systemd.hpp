// SPDX-License-Identifier: MIT
// systemd.hpp - systemd's SystemCallFilter= vocabulary: its groups as rule sets
// (`systemd::system_service`, generated from systemd's own list) and a run-time parser of the
// setting itself, `systemd_filter("@system-service ~@mount")`, to a run-time policy.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sysfence/action.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/detail/generated/systemd_groups.hpp"
#include "sysfence/detail/terminal_ioctl.hpp"
#include "sysfence/runtime_policy.hpp"
#include "sysfence/syscall.hpp"

namespace sysfence {

namespace systemd {

// `find_group` is the group named `name` ("@system-service", with its "@"), if systemd has it.
constexpr const group_info* find_group(std::string_view name) noexcept {
  for (const group_info& g : groups)
    if (g.name == name) return &g;
  return nullptr;
}

}  // namespace systemd

// `systemd_filter_options` are the settings that go with SystemCallFilter=.
struct systemd_filter_options {
  // SystemCallErrorNumber=: the errno a refused call gets; 0 (the setting unset, or "kill")
  // kills the process, as systemd does.
  int error_number = 0;
  // The ABIs the program serves; any other is killed (systemd's SystemCallArchitectures=native).
  std::vector<arch::target> targets = {arch::native::value};
  // Prefixes every error message: the file and line the setting came from.
  std::string_view context = {};
};

namespace detail {

// `errno_number` is the errno named `name` ("EPERM") or written as a number ("1"), as
// systemd's parse_errno reads it (glibc names them), or -1.
inline int errno_number(std::string_view name) {
  if (name.empty()) return -1;
  if (name.find_first_not_of("0123456789") == std::string_view::npos) {
    if (name.size() > 4) return -1;
    return std::stoi(std::string(name));
  }
  for (int e = 1; e <= 4095; ++e)
    if (const char* n = strerrorname_np(e); n != nullptr && name == n) return e;
  return -1;
}

// `systemd_filter_builder` reads SystemCallFilter= assignments as systemd's
// config_parse_syscall_filter does: the first one fixes allow- or deny-listing; an allow list
// starts with @default; each later one adds its names ("~" on a deny list, none on an allow list)
// or removes them (the other way round); an empty one resets.
class systemd_filter_builder {
 public:
  explicit systemd_filter_builder(const systemd_filter_options& options) : options_(options) {}

  void assign(std::string_view text) {
    text = trim(text);
    if (text.empty()) {  // reset: every earlier assignment has no effect
      set_ = false;
      answers_.clear();
      words_.clear();
      return;
    }
    const bool invert = text.front() == '~';
    if (invert) text.remove_prefix(1);
    if (!set_) {
      set_ = true;
      allow_list_ = !invert;
      if (allow_list_) add_word("@default", std::nullopt, "@default (an allow list starts with it)");
    }
    const bool adds = invert != allow_list_;
    while (!(text = trim(text)).empty()) {
      const std::size_t end = text.find_first_of(" \t\n");
      std::string_view word = text.substr(0, end);
      text = end == std::string_view::npos ? std::string_view() : text.substr(end);
      std::optional<action> answer;
      if (const std::size_t colon = word.find(':'); colon != std::string_view::npos) {
        const std::string_view what = word.substr(colon + 1);
        word = word.substr(0, colon);
        if (allow_list_)
          fail("\"" + std::string(word) + ":" + std::string(what) +
               "\": an allowed system call cannot take an error number (only a deny list, \"~...\", can)");
        answer = parse_answer(word, what);
      }
      if (adds)
        add_word(word, answer, std::string(word));
      else
        remove_word(word);
    }
  }

  [[nodiscard]] runtime_policy build() const {
    if (!set_) fail("no system call filter: every assignment was empty");
    const action refused = options_.error_number == 0
                               ? action::kill_process
                               : action::error(static_cast<std::uint16_t>(options_.error_number));
    std::vector<entry> rules;
    for (std::size_t i = 0; i < answers_.size(); ++i) {
      if (!answers_[i].present) continue;
      const action a = allow_list_ ? action::allow : answers_[i].answer.value_or(refused);
      const auto id = static_cast<sys::id>(i);
      // An allowed ioctl refuses the requests that type into a terminal (systemd allows them); a
      // denied one is denied whatever the request.
      const rule r = allow_list_ && id == sys::id::ioctl ? ioctl_without_terminal_injection : rule(id);
      rules.push_back(entry{r.then(a), answers_[i].origin, 0, true});
    }
    return runtime_policy(std::move(rules), words_, allow_list_ ? refused : action::allow, options_.targets,
                          options_.context);
  }

 private:
  struct answer_of {
    bool present = false;
    std::optional<action> answer;  // a deny list's ":errno" or ":kill"
    std::uint16_t origin = 0;      // the word that added it
  };

  static std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
    return s;
  }

  [[noreturn]] void fail(const std::string& problem) const {
    std::string m = "sysfence: ";
    if (!options_.context.empty()) {
      m += options_.context;
      m += ": ";
    }
    m += "SystemCallFilter=: ";
    m += problem;
    throw policy_error(m);
  }

  action parse_answer(std::string_view word, std::string_view what) const {
    if (what == "kill") return action::kill_process;
    const int e = errno_number(what);
    if (e == 0)
      fail("\"" + std::string(word) + ":0\": errno 0 would make the refused call look successful; sysfence "
           "refuses it (systemd accepts it)");
    if (e < 1 || e > 4095)
      fail("\"" + std::string(word) + ":" + std::string(what) +
           "\": the error must be an errno name (EPERM), a number from 1 to 4095, or \"kill\"");
    return action::error(static_cast<std::uint16_t>(e));
  }

  // The syscalls a word names: a group's (nested groups expanded; with `ioctl` set when the group
  // has ioctl, which its rule set allows with conditions) or one syscall's.
  std::span<const sys::id> resolve(std::string_view word, sys::id& one, bool& ioctl) const {
    ioctl = false;
    if (word.starts_with('@')) {
      if (const systemd::group_info* g = systemd::find_group(word)) {
        ioctl = g->ioctl;
        return g->syscalls;
      }
      fail("\"" + std::string(word) + "\" is not a systemd " + std::to_string(systemd::systemd_version) +
           " group (docs/systemd-groups.md lists them)");
    }
    if (const auto s = sys::find(word)) {
      one = *s;
      return {&one, 1};
    }
    fail("\"" + std::string(word) +
         "\" is not a system call of any ABI sysfence knows (systemd would ignore it; a typo here would "
         "silently change the filter)");
  }

  void add_word(std::string_view word, std::optional<action> answer, const std::string& name) {
    sys::id one{};
    bool ioctl = false;
    const auto syscalls = resolve(word, one, ioctl);
    const auto origin = static_cast<std::uint16_t>(words_.size());
    words_.push_back(name);
    if (answers_.empty()) answers_.resize(detail::syscall_count);
    for (const sys::id s : syscalls) answers_[static_cast<std::size_t>(s)] = {true, answer, origin};
    if (ioctl) answers_[static_cast<std::size_t>(sys::id::ioctl)] = {true, answer, origin};
  }

  void remove_word(std::string_view word) {
    sys::id one{};
    bool ioctl = false;
    for (const sys::id s : resolve(word, one, ioctl))
      if (!answers_.empty()) answers_[static_cast<std::size_t>(s)] = {};
    if (ioctl && !answers_.empty()) answers_[static_cast<std::size_t>(sys::id::ioctl)] = {};
  }

  const systemd_filter_options& options_;
  bool set_ = false;
  bool allow_list_ = true;
  std::vector<answer_of> answers_;
  std::vector<std::string> words_;
};

}  // namespace detail

// `systemd_filter` is the policy systemd builds from SystemCallFilter= assignments, in order:
// "@system-service" allows that group (and @default) and refuses the rest; "~@mount" (first)
// allows everything but the group; later assignments add to or take from the first; "" resets.
// A refused call kills the process unless options.error_number (SystemCallErrorNumber=) or a
// deny list's "name:EPERM" says otherwise. Unlike systemd, a name sysfence does not know, an
// errno of 0 and ":errno" on an allow list are errors (policy_error naming the word), and only
// options.targets' ABIs are served: any other ABI is killed.
inline runtime_policy systemd_filter(std::span<const std::string_view> assignments,
                                     const systemd_filter_options& options = {}) {
  if (options.error_number < 0 || options.error_number > 4095) {
    std::string m = "sysfence: ";
    if (!options.context.empty()) m += std::string(options.context) + ": ";
    throw policy_error(m + "SystemCallErrorNumber=" + std::to_string(options.error_number) +
                       ": an errno is 1 to 4095 (0 kills)");
  }
  detail::systemd_filter_builder builder(options);
  for (const std::string_view a : assignments) builder.assign(a);
  return builder.build();
}

// `systemd_filter("@system-service @network-io")`: one assignment.
inline runtime_policy systemd_filter(std::string_view assignment, const systemd_filter_options& options = {}) {
  return systemd_filter(std::span<const std::string_view>(&assignment, 1), options);
}

}  // namespace sysfence
