// SPDX-License-Identifier: MIT
// builtins.hpp - extrasafe's built-in rule sets, as sysfence types in sysfence::builtins.
#pragma once

#include "sysfence/builtins/basic_capabilities.hpp"
#include "sysfence/builtins/landlock_scope.hpp"
#include "sysfence/builtins/networking.hpp"
#include "sysfence/builtins/system_io.hpp"
#include "sysfence/builtins/threads.hpp"
#include "sysfence/builtins/time.hpp"
