// SPDX-License-Identifier: MIT
// time.hpp - reading clocks, and pipes: extrasafe's Time and Pipes.
#pragma once

#include <string_view>

#include "sysfence/builtins/detail.hpp"
#include "sysfence/rule_set.hpp"
#include "sysfence/syscall.hpp"

namespace sysfence::builtins {

// `time_rules` allows reading clocks, like extrasafe's Time. glibc usually answers clock_gettime from
// the vDSO without a syscall; this is for when it does not (on i386 it calls the time64 forms).
template <bool GetTime = false>
struct time_rules : rule_set_base {
  static constexpr std::string_view name = "time";
  static constexpr bool portable = true;  // a syscall the target lacks is left out
  static constexpr time_rules<> nothing() noexcept { return {}; }
  [[nodiscard]] constexpr time_rules<true> allow_gettime() const noexcept { return {}; }

  static constexpr auto simple_rules = [] {
    detail::bounded_list<sys::id, 4> out;
    if (GetTime) out.add(syscalls(sys::clock_gettime, sys::clock_getres));
    if (GetTime) out.add(syscalls(sys::clock_gettime64, sys::clock_getres_time64));  // i386's
    return out;
  }();
};

// `time` is the rule set that allows nothing yet: `builtins::time::nothing().allow_gettime()`
// (qualify it: ::time is a C function).
using time = time_rules<>;

// `time_with<Methods...>` is how compile errors name a time rule set: by its methods.
template <class... Methods>
struct time_with {};

}  // namespace sysfence::builtins

namespace sysfence::detail {
template <bool GetTime>
struct shown_as<builtins::time_rules<GetTime>> {
  using type = list_as<builtins::time_with, kept_if<GetTime, builtins::method::allow_gettime>>;
};
}  // namespace sysfence::detail

namespace sysfence::builtins {

// `pipes` allows creating pipes, like extrasafe's Pipes.
struct pipes : rule_set_base {
  static constexpr std::string_view name = "pipes";
  static constexpr bool portable = true;  // a syscall the target lacks is left out
  static constexpr auto simple_rules = syscalls(sys::pipe, sys::pipe2);
};

}  // namespace sysfence::builtins
