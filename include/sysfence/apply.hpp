// SPDX-License-Identifier: MIT
// apply.hpp - installing a policy: checks, no_new_privs, Landlock's rules if any, then one
// seccomp() call (none for a landlock_only() policy). The only header that talks to the kernel.
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
  landlock_port,       // a Landlock TCP port rule was refused (`thread` is its index)
  landlock_abi,        // the kernel's Landlock ABI lacks TCP port rules (4) or scopes (6) the policy has
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
  bool landlock_applied = false;  // the policy's Landlock rules restrict this thread (they
                                  // stay even when the seccomp step after them failed)
  long landlock_abi = 0;  // the kernel's Landlock ABI, when apply asked it (0: not asked, or none)

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
      case apply_step::landlock_port:
        return "sysfence: a Landlock TCP port rule (its index in `thread`) was refused (a port above 65535?); "
               "nothing was installed";
      case apply_step::landlock_abi:
        return "sysfence: this kernel's Landlock ABI (in `landlock_abi`) lacks what the policy asks: TCP port "
               "rules need ABI 4 (Linux 6.7), scopes ABI 6 (Linux 6.12); nothing was installed";
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
    if (s.failed == apply_step::landlock_abi) {
      m += " (Landlock ABI ";  // appended piecewise: g++ 12 -O3 warns -Wrestrict on "lit" + string&&
      m += std::to_string(s.landlock_abi);
      m += ")";
    }
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

// `landlock_request` is what a policy asks of Landlock: its path rules, its TCP port rules, its
// scopes, and whether to handle the filesystem rights (a policy with path rules, or landlock_only).
struct landlock_request {
  std::span<const landlock::path_rule> paths;
  std::span<const landlock::port_rule> ports;
  std::uint64_t scopes = 0;
  bool filesystem = false;
};

// `build_ruleset` makes the Landlock ruleset of `request` in `ruleset`, changing nothing yet. It
// handles every filesystem right of the kernel's ABI (best effort: an older kernel handles fewer)
// and grants each path its rights among those, one path-beneath rule per path; it handles the
// network rights the port rules grant and the scopes asked, which the ABI must have (refused
// otherwise: dropping them would leave bind, connect or signals unrestricted). Landlock missing
// (ENOSYS, or EOPNOTSUPP when disabled at boot) fails: rules are never skipped.
inline apply_status build_ruleset(const landlock_request& request, owned_fd& ruleset) noexcept {
  std::uint64_t net = 0;
  for (std::size_t i = 0; i < request.ports.size(); ++i) {
    const landlock::port_rule& p = request.ports[i];
    if (p.port > 65535 || p.rights == 0 || (p.rights & ~landlock::net_rights) != 0)
      return {apply_step::landlock_port, EINVAL, static_cast<pid_t>(i)};
    net |= p.rights;
  }
  if ((request.scopes & ~landlock::scopes) != 0) return {apply_step::landlock_abi, EINVAL, 0};
  const long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 1) return {apply_step::landlock, abi < 0 ? errno : EOPNOTSUPP, 0};
  apply_status failed{apply_step::landlock_abi, EOPNOTSUPP, 0};
  failed.landlock_abi = abi;
  if ((net & ~landlock::available_net_rights(abi)) != 0 || (request.scopes & ~landlock::available_scopes(abi)) != 0)
    return failed;
  const std::uint64_t handled = request.filesystem ? landlock::handled_rights(abi) : 0;
  const landlock::ruleset_attr attr{handled, net, request.scopes};
  // The prefix of the attribute this request uses: a kernel older than a field never sees it.
  const std::size_t size = request.scopes != 0 ? sizeof attr
                           : net != 0          ? offsetof(landlock::ruleset_attr, scoped)
                                               : offsetof(landlock::ruleset_attr, handled_access_net);
  apply_status status;
  status.landlock_abi = abi;
  auto fail = [&](apply_step step, int error, std::size_t index) {
    status.failed = step;
    status.error = error;
    status.thread = static_cast<pid_t>(index);
    return status;
  };
  ruleset.fd = static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, size, 0));
  if (ruleset.fd < 0) return fail(apply_step::landlock, errno, 0);
  for (std::size_t i = 0; i < request.paths.size(); ++i) {
    const landlock::path_rule& rule = request.paths[i];
    const owned_fd path{::open(rule.path, O_PATH | O_CLOEXEC)};
    if (path.fd < 0) {
      if (rule.optional && errno == ENOENT) continue;
      return fail(apply_step::landlock_path, errno, i);
    }
    // The kernel refuses a rule granting a right the ruleset does not handle, or nothing at all.
    const ::landlock_path_beneath_attr beneath{rule.rights & handled, path.fd};
    if (beneath.allowed_access == 0) continue;
    if (::syscall(SYS_landlock_add_rule, ruleset.fd, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) != 0)
      return fail(apply_step::landlock_path, errno, i);
  }
  for (std::size_t i = 0; i < request.ports.size(); ++i) {
    const landlock::net_port_attr port{request.ports[i].rights, request.ports[i].port};
    if (::syscall(SYS_landlock_add_rule, ruleset.fd, landlock::rule_net_port, &port, 0) != 0)
      return fail(apply_step::landlock_port, errno, i);
  }
  return status;
}

// `restrict_with_landlock` builds the ruleset of `request` (a failure changes nothing), then sets
// no_new_privs and restricts the calling thread with it.
inline apply_status restrict_with_landlock(const landlock_request& request) noexcept {
  owned_fd ruleset;
  apply_status s = build_ruleset(request, ruleset);
  if (!s) return s;
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) != 0) {
    s.failed = apply_step::set_no_new_privs;
    s.error = errno;
    return s;
  }
  if (::syscall(SYS_landlock_restrict_self, ruleset.fd, 0) != 0) {
    s.failed = apply_step::landlock;
    s.error = errno;
    return s;
  }
  s.landlock_applied = true;
  return s;
}

// `landlock_rules_of<Policy>` gathers a policy's Landlock path and port rules from its rule sets.
// Path rules point into the policy's rule sets (literals or strings they own): the policy must
// outlive it.
template <class Policy>
struct landlock_rules_of {
  std::array<landlock::path_rule, Policy::landlock_count> paths{};
  std::array<landlock::port_rule, Policy::landlock_port_count> ports{};

  explicit landlock_rules_of(const Policy& p) noexcept {
    std::size_t n = 0;
    std::size_t m = 0;
    boost::hana::for_each(p.sets(), [&](const auto& set) {
      using S = std::remove_cvref_t<decltype(set)>;
      if constexpr (landlock_count<S>() > 0)
        for (const auto& rule : set.landlock_rules()) paths[n++] = rule;
      if constexpr (landlock_port_count<S>() > 0)
        for (const auto& rule : set.landlock_port_rules()) ports[m++] = rule;
    });
  }
  // `request` asks for these rules and the policy's scopes; `filesystem` handles the
  // filesystem rights even without a path rule (landlock_only).
  [[nodiscard]] landlock_request request(bool filesystem) const noexcept {
    return {paths, ports, Policy::landlock_scopes, filesystem || Policy::landlock_count > 0};
  }
};

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
    static_assert(!AllThreads || !policy_type::uses_landlock,
                  "sysfence: Landlock restricts only the calling thread, so a policy with Landlock rules "
                  "(allow_read_path, allow_connect_tcp, landlock_scope, ...) cannot apply_to_all_threads; "
                  "apply it in each thread, or before starting threads (they inherit it)");
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
    if constexpr (!policy_type::uses_landlock) {
      return install(program, flags);
    } else {
      const landlock_rules_of<policy_type> rules(p);
      const apply_status landlocked = restrict_with_landlock(rules.request(false));
      if (!landlocked) return landlocked;
      apply_status s = install(program, flags);
      s.landlock_applied = true;
      s.landlock_abi = landlocked.landlock_abi;
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

// A landlock_only() policy: its Landlock rules, every filesystem right handled, no seccomp filter.
template <class Policy>
struct installer<landlock_only_policy<Policy>> {
  static apply_status try_apply(const landlock_only_policy<Policy>& p) noexcept {
    const landlock_rules_of<Policy> rules(p.policy());
    return restrict_with_landlock(rules.request(true));
  }
  static apply_status apply(const landlock_only_policy<Policy>& p) {
    const apply_status s = try_apply(p);
    if (!s) throw apply_error(s);
    return s;
  }
};

}  // namespace detail
}  // namespace sysfence
