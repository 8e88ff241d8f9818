// SPDX-License-Identifier: MIT
// meta.hpp - small type-level helpers shared by the front end.
#pragma once

#include <cstddef>
#include <tuple>

namespace sysfence::detail {

// `always_false` lets a static_assert depend on a template parameter.
template <class...>
inline constexpr bool always_false = false;

// `nth` is the I-th type of a pack.
template <std::size_t I, class... Ts>
using nth = std::tuple_element_t<I, std::tuple<Ts...>>;

}  // namespace sysfence::detail
