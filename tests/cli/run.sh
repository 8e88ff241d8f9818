#!/bin/bash
# SPDX-License-Identifier: MIT
# run.sh - CTest cases of the `sysfence` command: `tests/cli/run.sh SYSFENCE CASE [ARGS...]` runs
# one case in a fresh temporary directory and exits non-zero, saying why, when it fails.
set -u
sysfence=$1
case_name=$2
shift 2
docker=/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
echo hello > file.txt

fail() { echo "FAIL ($case_name): $*" >&2; exit 1; }
# expect STATUS COMMAND...: runs COMMAND (stdout in out, stderr in err), checks its status.
expect() {
  local want=$1
  shift
  "$@" > out 2> err
  local got=$?
  [ "$got" = "$want" ] || { cat out err >&2; fail "$* exited $got, expected $want"; }
}
contains() { grep -q -- "$2" "$1" || { cat "$1" >&2; fail "$1 lacks \"$2\""; }; }
lacks() { ! grep -q -- "$2" "$1" || { cat "$1" >&2; fail "$1 has \"$2\""; }; }

case $case_name in
  learn_then_run)
    # The README's session: learn writes learned.json by default; run applies it to the same command.
    expect 0 "$sysfence" learn -- ls -l /
    contains err "wrote learned.json (filter \"ls\""
    ls -1 / > names
    expect 0 "$sysfence" run --policy learned.json -- ls -1 /
    cmp -s out names || fail "ls -1 / under the learned policy printed something else"
    # The list is exact: without one learned syscall (getdents64) ls cannot read the directory.
    contains learned.json '"syscall": "getdents64"'
    grep -v '"syscall": "getdents64"' learned.json > without.json
    expect 2 "$sysfence" run --policy without.json -- ls -l /
    contains err "Operation not permitted"
    ;;
  run_systemd)
    # systemd's SystemCallFilter= groups: @system-service runs cat; @basic-io @file-system lacks
    # fadvise64 (@system-service's own), which kills cat with SIGSYS as systemd would
    expect 0 "$sysfence" run --systemd "@system-service" -- cat file.txt
    contains out hello
    expect 159 "$sysfence" run --systemd "@basic-io @file-system" -- cat file.txt
    lacks out hello
    expect 137 "$sysfence" run --systemd "@basic-io @file-system" --report -- cat file.txt
    contains err "blocked fadvise64"
    # SystemCallErrorNumber=: the refused call fails instead, and cat goes on without its advice
    expect 0 "$sysfence" run --systemd "@basic-io @file-system" --systemd-errno EPERM -- cat file.txt
    contains out hello
    # a deny list with an errno; a later assignment takes from the first
    expect 1 "$sysfence" run --systemd "~uname:EPERM" -- uname
    contains err "Operation not permitted"
    expect 0 "$sysfence" run --systemd "~uname:EPERM" --systemd uname -- uname
    contains out Linux
    # errors name the word; a bad errno is a usage error
    expect 1 "$sysfence" run --systemd "@system-servic" -- true
    contains err '"@system-servic" is not a systemd 252 group'
    expect 2 "$sysfence" run --systemd "@basic-io" --systemd-errno EBOGUS -- true
    expect 2 "$sysfence" run --systemd "@basic-io" --policy x.json -- true
    ;;
  run_seccompiler)
    # the same file's two filters: one allows cat's work, one lacks openat
    expect 0 "$sysfence" run --policy "$here/cat.json" --filter cat -- /bin/true
    expect 0 "$sysfence" run --policy "$here/cat.json" --filter cat -- cat file.txt
    contains out hello
    expect 127 "$sysfence" run --policy "$here/cat.json" --filter no_openat -- cat file.txt
    lacks out hello
    expect 127 "$sysfence" run --policy "$here/cat.json" --filter no_openat --report -- cat file.txt
    contains err "blocked openat (257)"
    contains err "pid [0-9]* blocked openat"
    # kill: the supervisor's SIGKILL (137); without --report the kernel's SIGSYS (159)
    expect 137 "$sysfence" run --policy "$here/cat.json" --filter no_openat --report --action-on-violation kill -- cat file.txt
    contains err "blocked openat (257).*-> KILL_PROCESS"
    expect 159 "$sysfence" run --policy "$here/cat.json" --filter no_openat --action-on-violation kill -- cat file.txt
    # log: the calls run, and are reported
    expect 0 "$sysfence" run --policy "$here/cat.json" --filter no_openat --report --action-on-violation log -- cat file.txt
    contains out hello
    contains err "openat (257).*-> LOG"
    ;;
  run_kafel)
    # A kafel policy, first match wins: openat for writing fails with EACCES, reading runs (the
    # ALLOW comes before the ERRNO(1) that would refuse every openat).
    printf '%s\n' 'ERRNO(13) { openat { (flags & 3) != 0 } }' 'ALLOW { openat }' 'ERRNO(1) { openat }' \
      'DEFAULT ALLOW' > deny.policy
    expect 0 "$sysfence" run --kafel deny.policy -- cat file.txt
    contains out hello
    expect 2 "$sysfence" run --kafel deny.policy -- sh -c 'echo x > new.txt'
    contains err "Permission denied"
    [ ! -e new.txt ] || fail "new.txt was created"
    # --policy tells a kafel file by its name
    expect 2 "$sysfence" run --policy deny.policy -- sh -c 'echo x > new.txt'
    # explain shows the rules in their order, and says the first match decides
    expect 0 "$sysfence" explain deny.policy
    contains out "the first matching a call decides it"
    contains out "deny.policy:2:9:"
    # a syntax error names the file, line, column and token
    printf '%s\n' 'ALLOW {' '  read write }' > bad.policy
    expect 1 "$sysfence" run --kafel bad.policy -- /bin/true
    contains err "bad.policy:2:8: syntax error, unexpected token .write."
    ;;
  run_docker)
    expect 0 "$sysfence" run --profile "$docker/default.json" -- /bin/true
    expect 0 "$sysfence" run --profile "$docker/default.json" -- cat file.txt
    contains out hello
    # the command's own status passes through
    expect 3 "$sysfence" run --profile "$docker/default.json" -- sh -c 'exit 3'
    # unshare needs CAP_SYS_ADMIN in Docker's profile: EPERM without it
    expect 1 "$sysfence" run --profile "$docker/default.json" --report -- unshare -U true
    contains err "blocked unshare (272)"
    ;;
  run_server)
    # the example network server, confined by Docker's profile (socket, bind, accept allowed)
    expect 0 "$sysfence" run --profile "$docker/default.json" -- "$1" "$2"
    contains out "all checks held"
    expect 0 "$sysfence" run --profile "$docker/default.json" --report -- "$1" "$2"
    contains out "all checks held"
    lacks err "blocked"
    # cat's policy has no pipe2, socket or bind: the harness cannot even start the server
    "$sysfence" run --policy "$here/cat.json" --filter cat --report -- "$1" "$2" > out 2> err
    [ $? != 0 ] || fail "the server ran under cat's policy"
    # (under AddressSanitizer its run-time dies first, on calls cat's policy refuses before pipe2)
    if [ -n "${SYSFENCE_SANITIZED:-}" ]; then contains err "blocked"; else contains err "blocked pipe2 (293)"; fi
    lacks out "all checks held"
    ;;
  run_errors)
    expect 1 "$sysfence" run --policy missing.json -- /bin/true
    contains err "missing.json: cannot be opened"
    echo '{"f": {"mismatch_action": "allow", "match_action": {"errno": 1}, "filter": [{"syscall": "execve"}]}}' > noexec.json
    expect 1 "$sysfence" run --policy noexec.json -- /bin/true
    contains err "does not allow execve"
    expect 127 "$sysfence" run --profile "$docker/default.json" -- /nonexistent/command
    contains err "could not be executed"
    expect 2 "$sysfence" run -- /bin/true
    expect 2 "$sysfence" run --policy a.json --profile b.json -- /bin/true
    ;;
  compile_roundtrip)
    expect 0 "$sysfence" compile "$docker/default.json" -o default.bpf
    expect 0 "$sysfence" disasm default.bpf
    contains out "ld  \$data\[4\]"
    contains out "# clone3"
    expect 0 "$sysfence" sim default.bpf ptrace
    contains out "^ALLOW$"
    expect 0 "$sysfence" sim default.bpf mount
    contains out "^ERRNO(1)$"
    expect 0 "$sysfence" sim default.bpf personality 8
    contains out "^ALLOW$"
    expect 0 "$sysfence" sim default.bpf personality 0x1234
    contains out "^ERRNO(1)$"
    expect 0 "$sysfence" sim default.bpf 101 --arch x86_64
    contains out "^ALLOW$"
    # the raw program and the profile are the same program
    expect 0 "$sysfence" diff default.bpf "$docker/default.json"
    expect 0 "$sysfence" compile "$here/cat.json" --filter cat --header cat_policy.hpp
    contains cat_policy.hpp "prebuilt_policy<"
    printf '#include "cat_policy.hpp"\nstatic_assert(cat_policy::policy.program().size() > 10);\nint main() {}\n' > use.cpp
    expect 0 "${CXX:-c++}" -std=c++20 -I"$here/../../include" -fsyntax-only use.cpp
    expect 0 "$sysfence" compile "$here/cat.json" --filter cat --json
    contains out '"instructions": \['
    expect 0 "$sysfence" explain "$here/cat.json" --filter cat
    contains out "allow .*openat"
    ;;
  diff_profiles)
    expect 1 "$sysfence" diff "$docker/default.json" "$docker/default.json" --caps-b +CAP_SYS_ADMIN
    contains out "^x86_64 mount (165): A ERRNO(1), B ALLOW$"
    contains out "^x86_64 unshare (272): A ERRNO(1), B ALLOW$"
    contains out "^x86_64 clone (56) arg0=0x20000000: A ERRNO(1), B ALLOW$"
    lacks out "x86_64 read "
    expect 0 "$sysfence" diff "$docker/default.json" "$docker/default.json"
    expect 1 "$sysfence" diff "$here/cat.json" "$here/cat.json" --filter-a cat --filter-b no_openat
    contains out "^x86_64 openat (257): A ALLOW, B ERRNO(1)$"
    [ "$(wc -l < out)" = 1 ] || fail "cat vs no_openat differ in more than openat"
    expect 2 "$sysfence" diff "$docker/default.json" missing.json
    contains err "missing.json"
    ;;
  help_and_usage)
    for sub in run compile disasm explain sim diff; do
      expect 0 "$sysfence" "$sub" --help
      contains out "Usage"
    done
    expect 2 "$sysfence" compile
    expect 2 "$sysfence" nonsense
    expect 2 "$sysfence" compile "$here/cat.json" --filter cat
    printf 'not json' > bad.json
    expect 1 "$sysfence" explain bad.json
    contains err "bad.json"
    ;;
  run_promises)
    # pledge promises: cat is dynamically linked, so it starts under the wider filter (its loader
    # opens and maps libraries) and the preloaded library applies exactly the promises.
    cp /etc/hostname hostname
    expect 1 "$sysfence" run --promises "stdio" -- cat hostname
    contains err "cat: hostname: Operation not permitted"
    [ ! -s out ] || fail "cat printed the file under \"stdio\""
    expect 0 "$sysfence" run --promises "stdio rpath" -- cat hostname
    cmp -s out hostname || fail "cat under \"stdio rpath\" did not print the file"
    lacks err "statically linked"
    # ls -l reads extended attributes (ACLs, security labels): metadata, rpath's
    expect 0 "$sysfence" run --promises "stdio rpath" -- ls -l hostname
    contains out "hostname"
    # the penalty: kill ends it by SIGSYS (159); trap names the call first
    expect 159 "$sysfence" run --promises "stdio" --action-on-violation kill -- cat hostname
    expect 159 "$sysfence" run --promises "STDIO" --action-on-violation trap -- cat hostname
    contains err "sysfence: blocked openat"
    # the command's environment is its own again
    expect 0 "$sysfence" run --promises "stdio rpath exec" -- /usr/bin/env
    lacks out "SYSFENCE_PROMISES"
    lacks out "LD_PRELOAD"
    # writing needs wpath, creating cpath too
    expect 1 "$sysfence" run --promises "stdio rpath wpath" -- cp hostname copy
    expect 0 "$sysfence" run --promises "stdio rpath wpath cpath" -- cp hostname copy
    cmp -s copy hostname || fail "cp under \"stdio rpath wpath cpath\" did not copy"
    # a bad word is named before anything runs
    expect 1 "$sysfence" run --promises "stdio rpth" -- cat hostname
    contains err "unknown promise \"rpth\" at column 7"
    expect 2 "$sysfence" run --promises "stdio" --report -- cat hostname
    # the known limit, said: a static program (Debian's ldconfig) keeps the wider filter
    if [ -x /sbin/ldconfig ] && readelf -l /sbin/ldconfig > phdrs 2>/dev/null && ! grep -q INTERP phdrs; then
      expect 0 "$sysfence" run --promises "stdio" -- /sbin/ldconfig -p
      contains err "ldconfig is statically linked"
    fi
    ;;
  *)
    fail "unknown case"
    ;;
esac
echo "ok ($case_name)"
