#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# compile_cost.sh - the time and peak memory of compiling each benchmark policy's translation unit
# (policy_S.cpp, policy_M.cpp, policy_L.cpp: each builds one policy's program and nothing else),
# per compiler, as a Markdown table.
#
#   benchmarks/compile_cost.sh [-o FILE] [COMPILER...]     (compilers default to: g++ clang++)
#
# -o FILE also writes one "compiler policy seconds KiB" line per measurement, which
# `sysfence_bench --compile-cost=FILE` adds to its table. Needs GNU time (/usr/bin/time).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

out=""
if [ "${1:-}" = "-o" ]; then
  out=$2
  shift 2
fi
compilers=("$@")
[ ${#compilers[@]} -eq 0 ] && compilers=(g++ clang++)

# What CMake's Release build passes, without the warnings' cost being special.
flags=(-std=c++20 -O2 -DNDEBUG -Wall -Wextra -Wpedantic -Werror -I"$root/include" -I"$here")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -n "$out" ] && : >"$out"

printf '| compiler | policy | seconds | peak MiB | goal |\n|---|---|--:|--:|---|\n'
for cxx in "${compilers[@]}"; do
  version=$("$cxx" -dumpfullversion 2>/dev/null || "$cxx" -dumpversion)
  label="$(basename "$cxx")-$version"
  for policy in S M L; do
    /usr/bin/time -o "$tmp/time" -f "%e %M" \
      "$cxx" "${flags[@]}" -c "$here/policy_$policy.cpp" -o "$tmp/policy_$policy.o"
    read -r seconds kib <"$tmp/time"
    goal=""
    if [ "$policy" = L ] && [[ "$label" == g++* ]]; then
      met=$(awk -v s="$seconds" -v k="$kib" 'BEGIN { print (s < 5 && k < 1048576) ? "met" : "MISSED" }')
      goal="< 5 s and < 1 GiB: $met"
    fi
    printf '| %s | %s | %.2f | %.0f | %s |\n' "$label" "$policy" "$seconds" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" "$goal"
    [ -n "$out" ] && printf '%s %s %s %s\n' "$label" "$policy" "$seconds" "$kib" >>"$out"
  done
done
