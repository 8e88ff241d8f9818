// SPDX-License-Identifier: MIT
// apply.hpp - installing a policy: checks, no_new_privs, Landlock's path rules if any, then one
// seccomp() call. The only header that talks to the kernel.
#pragma once

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <boost/hana/for_each.hpp>

#include "sysfence/bpf.hpp"
#include "sysfence/compile.hpp"
#include "sysfence/landlock.hpp"
#include "sysfence/policy.hpp"

namespace sysfence {

// `install_flag` asks the kernel for more when installing (SECCOMP_FILTER_FLAG_*).
enum class install_flag : unsigned long {
  log = SECCOMP_FILTER_FLAG_LOG,                // log every action but allow (actions_logged permitting)
  spec_allow = SECCOMP_FILTER_FLAG_SPEC_ALLOW,  // no forced speculative-store-bypass mitigation
  new_listener = SECCOMP_FILTER_FLAG_NEW_LISTENER,  // return a user-notification fd in apply_status
  // with new_listener: a call the supervisor has received waits for its answer through signals other
  // than fatal ones (Linux 5.19), instead of being interrupted and withdrawn
  wait_killable_recv = SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
};

// `apply_step` is the step of installing that failed.
enum class apply_step : std::uint8_t {
  none,
  check_values,        // a run-time value cannot be compared as its rule asks
  check_actions,       // the kernel lacks an action the program returns (SECCOMP_GET_ACTION_AVAIL)
  landlock,            // Landlock is missing, or refused the ruleset or restrict_self
  landlock_path,       // a Landlock path could not be opened or added (`thread` is its index)
  set_no_new_privs,    // prctl(PR_SET_NO_NEW_PRIVS)
  install_filter,      // seccomp(SECCOMP_SET_MODE_FILTER), or seccomp() denied by an earlier filter
  synchronise_threads, // TSYNC: another thread could not take the filter
};

// `apply_status` is the outcome of installing: true when the filter is in place.
struct apply_status {
  apply_step failed = apply_step::none;
  int error = 0;     // errno of the failed call (EINVAL for check_values)
  pid_t thread = 0;  // synchronise_threads: the thread that could not be synchronised
  int listener = -1; // install_flag::new_listener: the user-notification fd
  bool landlock_applied = false;  // the policy's Landlock path rules restrict this thread (they
                                  // stay even when the seccomp step after them failed)

  explicit operator bool() const noexcept { return failed == apply_step::none; }

  // `what` says in words what failed.
  [[nodiscard]] std::string_view what() const noexcept {
    switch (failed) {
      case apply_step::none: return "sysfence: filter installed";
      case apply_step::check_values:
        return "sysfence: a run-time value does not fit its condition (above 32 bits in a 32-bit "
               "comparison, or bits outside the mask); nothing was installed";
      case apply_step::check_actions:
        return "sysfence: this kernel does not support an action the policy returns "
               "(SECCOMP_GET_ACTION_AVAIL); nothing was installed";
      case apply_step::landlock:
        return "sysfence: Landlock is unavailable (not built into the kernel or disabled) or refused the "
               "ruleset or landlock_restrict_self; nothing was installed";
      case apply_step::landlock_path:
        return "sysfence: a Landlock path (its index in `thread`) could not be opened or added; "
               "nothing was installed";
      case apply_step::set_no_new_privs:
        return "sysfence: prctl(PR_SET_NO_NEW_PRIVS) failed; nothing was installed";
      case apply_step::install_filter:
        if (landlock_applied)
          return "sysfence: seccomp() refused the filter (or a filter already installed denies seccomp()) "
                 "after the Landlock path rules were applied: they stay in force, the seccomp filter was "
                 "not installed";
        return "sysfence: seccomp() refused the filter (or a filter already installed denies seccomp()); "
               "nothing was installed";
      case apply_step::synchronise_threads:
        return "sysfence: seccomp(SECCOMP_FILTER_FLAG_TSYNC) could not synchronise a thread (it has "
               "a filter that is not an ancestor of this one); nothing was installed";
    }
    return "sysfence: unknown failure";
  }
};

// `apply_error` is thrown by the apply_to_* forms; code() is the errno, thread() the TSYNC culprit.
class apply_error : public std::system_error {
 public:
  explicit apply_error(const apply_status& s)
      : std::system_error(s.error, std::generic_category(), message(s)), status_(s) {}
  [[nodiscard]] const apply_status& status() const noexcept { return status_; }

 private:
  static std::string message(const apply_status& s) {
    std::string m(s.what());
    if (s.failed == apply_step::synchronise_threads) m += " (thread " + std::to_string(s.thread) + ")";
    return m;
  }
  apply_status status_;
};

namespace detail {

// `install` sets no_new_privs and hands the program to the kernel in one seccomp() call.
inline apply_status install(std::span<const bpf::insn> program, unsigned long flags) noexcept {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) != 0) return {apply_step::set_no_new_privs, errno, 0};
  // TSYNC and a listener share the return value: the kernel wants TSYNC_ESRCH with both.
  const bool listener = (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0;
  if (listener && (flags & SECCOMP_FILTER_FLAG_TSYNC) != 0) flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  ::sock_fprog fprog{static_cast<unsigned short>(program.size()), const_cast<bpf::insn*>(program.data())};
  const long r = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
  if (r < 0) {
    const int err = errno;
    if (err == ESRCH && (flags & SECCOMP_FILTER_FLAG_TSYNC_ESRCH) != 0) return {apply_step::synchronise_threads, err, 0};
    return {apply_step::install_filter, err, 0};
  }
  if (listener) return {apply_step::none, 0, 0, static_cast<int>(r)};
  if (r > 0 && (flags & SECCOMP_FILTER_FLAG_TSYNC) != 0)
    return {apply_step::synchronise_threads, ESRCH, static_cast<pid_t>(r)};
  return {};
}

// `owned_fd` closes a descriptor when it goes out of scope.
struct owned_fd {
  int fd = -1;
  explicit owned_fd(int f = -1) noexcept : fd(f) {}
  owned_fd(const owned_fd&) = delete;
  owned_fd& operator=(const owned_fd&) = delete;
  ~owned_fd() {
    if (fd >= 0) ::close(fd);
  }
};

// `build_ruleset` makes the Landlock ruleset of `rules` in `ruleset`, changing nothing yet: it
// handles every filesystem right of the kernel's ABI (best effort: an older kernel handles fewer)
// and grants each path its rights among those, one path-beneath rule per path. Landlock missing
// (ENOSYS, or EOPNOTSUPP when disabled at boot) fails: path rules are never skipped.
inline apply_status build_ruleset(std::span<const landlock::path_rule> rules, owned_fd& ruleset) noexcept {
  const long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 1) return {apply_step::landlock, abi < 0 ? errno : EOPNOTSUPP, 0};
  const std::uint64_t handled = landlock::handled_rights(abi);
  const ::landlock_ruleset_attr attr{handled};
  ruleset.fd = static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0));
  if (ruleset.fd < 0) return {apply_step::landlock, errno, 0};
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const owned_fd path{::open(rules[i].path, O_PATH | O_CLOEXEC)};
    if (path.fd < 0) {
      if (rules[i].optional && errno == ENOENT) continue;
      return {apply_step::landlock_path, errno, static_cast<pid_t>(i)};
    }
    // The kernel refuses a rule granting a right the ruleset does not handle, or nothing at all.
    const ::landlock_path_beneath_attr beneath{rules[i].rights & handled, path.fd};
    if (beneath.allowed_access == 0) continue;
    if (::syscall(SYS_landlock_add_rule, ruleset.fd, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) != 0)
      return {apply_step::landlock_path, errno, static_cast<pid_t>(i)};
  }
  return {};
}

// `actions_available` asks the kernel whether it knows every action kind the program returns.
// Allow and errno exist on every seccomp kernel; the others are checked. Only EOPNOTSUPP means
// "no such action": any other error is seccomp() itself refused (a filter already installed
// denies it, or the kernel has no seccomp), which is what install_filter reports.
template <class ActionSet>
apply_status actions_available(const ActionSet& actions) noexcept {
  for (std::size_t i = 0; i < actions.count; ++i) {
    const auto kind = actions.kinds[i];
    if (kind == action::kind::allow || kind == action::kind::error) continue;
    std::uint32_t value = static_cast<std::uint32_t>(kind);
    if (::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &value) != 0)
      return {errno == EOPNOTSUPP ? apply_step::check_actions : apply_step::install_filter, errno, 0};
  }
  return {};
}

template <action Default, class... Sets>
struct installer<basic_policy<Default, Sets...>> {
  using policy_type = basic_policy<Default, Sets...>;

  template <bool AllThreads, class... Abis, class... Flags>
  static apply_status try_apply(const policy_type& p, Flags... extra) noexcept {
    static_assert(sizeof...(Abis) == 0 || (std::is_same_v<Abis, arch::native> || ...),
                  "sysfence: the ABIs a program serves must include arch::native, the process's own");
    using compiled = program<policy_type, Abis...>;
    static_assert((std::is_same_v<Flags, install_flag> && ...), "sysfence: apply takes sysfence::install_flag values");
    static_assert(!AllThreads || policy_type::landlock_count == 0,
                  "sysfence: Landlock restricts only the calling thread, so a policy with path rules "
                  "(allow_read_path, ...) cannot apply_to_all_threads; apply it in each thread, or "
                  "before starting threads (they inherit it)");
    const unsigned long flags =
        (AllThreads ? SECCOMP_FILTER_FLAG_TSYNC : 0UL) | (0UL | ... | static_cast<unsigned long>(extra));
    // Everything that can be checked is checked before the first step that cannot be undone
    // (no_new_privs, then Landlock): a failure up to there leaves the thread as it was.
    if (const apply_status s = actions_available(compiled::actions); !s) return s;
    if constexpr (policy_type::slot_count == 0) {
      return install_with_paths(p, compiled::insns, flags);  // the constant itself: nothing built at run time
    } else {
      // Gather the rule sets' run-time values, then patch them into a stack copy.
      std::array<std::uint64_t, policy_type::slot_count> values{};
      std::size_t base = 0;
      boost::hana::for_each(p.sets(), [&](const auto& set) {
        using S = std::remove_cvref_t<decltype(set)>;
        if constexpr (slot_count<S>() > 0) {
          const auto v = set.values();
          for (std::size_t i = 0; i < v.size(); ++i) values[base + i] = v[i];
        }
        base += slot_count<S>();
      });
      auto copy = compiled::insns;
      if (!patch_values(copy, compiled::patches, values)) return {apply_step::check_values, EINVAL, 0};
      return install_with_paths(p, copy, flags);
    }
  }

  // `install_with_paths` builds the Landlock ruleset (a failure changes nothing), then sets
  // no_new_privs, restricts the thread with Landlock and installs the program.
  static apply_status install_with_paths(const policy_type& p, std::span<const bpf::insn> program,
                                         unsigned long flags) noexcept {
    if constexpr (policy_type::landlock_count == 0) {
      return install(program, flags);
    } else {
      // The rules point into `p`'s rule sets (literals or strings they own), alive until we return.
      std::array<landlock::path_rule, policy_type::landlock_count> paths{};
      std::size_t n = 0;
      boost::hana::for_each(p.sets(), [&](const auto& set) {
        using S = std::remove_cvref_t<decltype(set)>;
        if constexpr (landlock_count<S>() > 0)
          for (const auto& rule : set.landlock_rules()) paths[n++] = rule;
      });
      owned_fd ruleset;
      if (const apply_status s = build_ruleset(paths, ruleset); !s) return s;
      if (::prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) != 0) return {apply_step::set_no_new_privs, errno, 0};
      if (::syscall(SYS_landlock_restrict_self, ruleset.fd, 0) != 0) return {apply_step::landlock, errno, 0};
      apply_status s = install(program, flags);
      s.landlock_applied = true;
      return s;
    }
  }

  template <bool AllThreads, class... Abis, class... Flags>
  static apply_status apply(const policy_type& p, Flags... flags) {
    const apply_status s = try_apply<AllThreads, Abis...>(p, flags...);
    if (!s) throw apply_error(s);
    return s;  // carries the listener fd for install_flag::new_listener
  }
};

}  // namespace detail
}  // namespace sysfence
