// SPDX-License-Identifier: MIT
// meta.hpp - small type-level helpers shared by the front end.
#pragma once

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace sysfence::detail {

// `always_false` lets a static_assert depend on a template parameter.
template <class...>
inline constexpr bool always_false = false;

// `nth` is the I-th type of a pack.
template <std::size_t I, class... Ts>
using nth = std::tuple_element_t<I, std::tuple<Ts...>>;

// `shown_as<T>::type` is how compile errors name rule set T: T itself, unless T's header says
// better (a built-in is named by its methods, not by its flags: system_io_with<allow_stdout>).
template <class T>
struct shown_as {
  using type = T;
};
template <class T>
using shown = typename shown_as<T>::type;

// `kept_if<B, T>` is a one-type list when B holds, else an empty one; `list_as<To, Lists...>` is
// the types of the lists, in order, as To<...>: together, a pack filtered at compile time.
template <bool B, class T>
using kept_if = std::conditional_t<B, std::tuple<T>, std::tuple<>>;
template <template <class...> class To, class Tuple>
struct rebind;
template <template <class...> class To, class... T>
struct rebind<To, std::tuple<T...>> {
  using type = To<T...>;
};
template <template <class...> class To, class... Lists>
using list_as = typename rebind<To, decltype(std::tuple_cat(std::declval<Lists>()...))>::type;

}  // namespace sysfence::detail
