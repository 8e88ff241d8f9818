// SPDX-License-Identifier: MIT
// oci.hpp - Docker, Podman and OCI runtime-spec seccomp profiles (the JSON of `docker run
// --security-opt seccomp=FILE` and of config.json's linux.seccomp) read at run time into a
// runtime_policy, resolved and lowered as dockerd and runc would. Needs nlohmann-json, like
// formats/seccompiler.hpp; sysfence.hpp does not include this header.
//
// Three steps, each testable alone: `reader::read_profile` (the tree of detail/json.hpp to a
// `profile`, every key of the format checked for type), `resolve` (dockerd's setupSeccomp: the
// rules' includes and excludes for a capability set, kernel version and host architecture; archMap
// to the program's ABIs) and `lower` (runc's matchCall and libseccomp's rule database: the rules
// the core compiles, each choice noted).
//
// Choices, following runc (libcontainer/seccomp) and libseccomp 2.5.4 where the spec is silent:
// - SCMP_ACT_KILL is KILL_THREAD; SCMP_ACT_ERRNO without errnoRet is EPERM, SCMP_ACT_TRACE
//   without it TRACE(EPERM) (runc's actErrno, actTrace); errnoRet on any other action is an error
//   (crun; runc ignores it); errno 0 (a fake success) and above 4095 are errors. Podman's errno
//   names ("errno", "defaultErrno": "ENOSYS") are honoured; an unknown name is an error, as is a
//   name that disagrees with errnoRet.
// - SCMP_ACT_NOTIFY as the default action, or on `write`, is an error (runc). listenerPath and
//   listenerMetadata are accepted and noted: sysfence installs no listener, so NOTIFY calls fail
//   with ENOSYS unless the caller adds one.
// - Keys neither the runtime spec nor moby define are ignored with a note (Podman's comments);
//   null stands for an absent value, as in Go.
// - Only the host's archMap entry counts: its architecture and subArchitectures are the program's
//   ABIs, host first. `architectures` adds its ABIs to the host's (libseccomp's filter always
//   serves the native one). An ABI without a sysfence table is left out with a note; both
//   `architectures` and `archMap` is an error (dockerd).
// - Includes and excludes exactly as moby's setupSeccomp: excludes skip the rule if the host's
//   arch is listed, any listed capability is in the bounding set, or the kernel is at least
//   minKernel; includes skip it unless the arch is listed, every capability is present and the
//   kernel is at least minKernel.
// - A rule whose action is the default action is dropped (runc). A syscall name sysfence does not
//   know is skipped (runc skips what libseccomp does not know); a name a served ABI lacks is left
//   out there. Both are noted.
// - Two or more conditions on one argument index in one rule become one rule per condition, any
//   of which matches (runc's "revert to old behavior"; libseccomp compares each argument once per
//   rule): noted, and loudly when two `!=` on one index make the rule match every value.
// - Conditions compare all 64 bits (libseccomp on 64-bit ABIs); on i386 the low 32 bits, as the
//   core does there. SCMP_CMP_MASKED_EQ takes the mask from `value` and the expected value from
//   `valueTwo` (runc and crun pass them so to libseccomp, which masks the expected value too).
// - Contradictions after resolution, as libseccomp 2.5.4 resolves them (measured): of two plain
//   rules for one syscall the first wins; a plain rule beats every conditional rule of its
//   syscall, before or after it; equal conditions with another action are -EEXIST there, so runc
//   fails the container: an error here. Conditional rules of one syscall with different actions
//   that can match the same call get an answer from the order of libseccomp's decision tree: an
//   error here too (stricter, never a weaker filter). Every resolution is noted.
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <linux/seccomp.h>
#include <sys/utsname.h>

#include "sysfence/action.hpp"
#include "sysfence/apply.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/condition.hpp"
#include "sysfence/detail/analysis.hpp"
#include "sysfence/detail/json.hpp"
#include "sysfence/rule.hpp"
#include "sysfence/runtime_policy.hpp"
#include "sysfence/syscall.hpp"

namespace sysfence {

// `kernel_version` is a kernel's "major.minor", all that minKernel compares.
struct kernel_version {
  unsigned major = 0, minor = 0;
  friend constexpr auto operator<=>(const kernel_version&, const kernel_version&) noexcept = default;
};

// `docker_default_capabilities` is the bounding set Docker gives a container by default (moby
// oci/caps/defaults.go).
inline std::vector<std::string> docker_default_capabilities() {
  return {"CAP_CHOWN",      "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",     "CAP_MKNOD",
          "CAP_NET_RAW",    "CAP_SETGID",       "CAP_SETUID",           "CAP_SETFCAP",    "CAP_SETPCAP",
          "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"};
}

// `running_kernel_version` is the running kernel's version from uname, read as dockerd reads it
// ("%d.%d" of the release); throws policy_error if the release does not start so.
inline kernel_version running_kernel_version() {
  utsname u{};
  if (::uname(&u) != 0) throw policy_error("sysfence: uname failed, so minKernel cannot be checked");
  kernel_version v;
  const std::string_view release(u.release);
  std::size_t i = 0;
  bool ok = false;
  for (unsigned* part : {&v.major, &v.minor}) {
    ok = i < release.size() && release[i] >= '0' && release[i] <= '9';
    for (; i < release.size() && release[i] >= '0' && release[i] <= '9'; ++i)
      *part = *part * 10 + static_cast<unsigned>(release[i] - '0');
    if (!ok || part == &v.minor) break;
    ok = i < release.size() && release[i] == '.';
    ++i;
    if (!ok) break;
  }
  if (!ok) throw policy_error("sysfence: cannot read the kernel version in \"" + std::string(release) + "\"");
  return v;
}

// `oci_options` says how a profile is resolved: its name for messages, the container's bounding
// capabilities, the kernel version minKernel compares with (nullopt: the running kernel's, as
// dockerd does) and the host architecture (picks the archMap entry and matches `arches`).
struct oci_options {
  std::string_view file_name = "<profile>";
  std::vector<std::string> capabilities = docker_default_capabilities();
  std::optional<kernel_version> kernel = std::nullopt;
  arch::target host = arch::native::value;
};

// `oci_flags` is a profile's `flags`; `seccomp_flags` is what apply passes to seccomp(): TSYNC,
// LOG and SPEC_ALLOW. WAIT_KILLABLE_RECV concerns a notification listener, which sysfence does
// not create: read and kept, not passed.
struct oci_flags {
  bool tsync = false;
  bool log = false;
  bool spec_allow = false;
  bool wait_killable_recv = false;
  [[nodiscard]] unsigned long seccomp_flags() const noexcept {
    return (tsync ? 1UL : 0UL) | (log ? 2UL : 0UL) | (spec_allow ? 4UL : 0UL);  // SECCOMP_FILTER_FLAG_*
  }
  friend bool operator==(const oci_flags&, const oci_flags&) = default;
};

// `oci_profile` is a loaded profile: the compiled policy, the notes on what was skipped, dropped
// or resolved (each naming the file, position, rule index and syscall), and the profile's flags.
struct oci_profile {
  runtime_policy policy;
  std::vector<std::string> notes;
  oci_flags flags;
  std::string listener_path;  // empty unless the profile names one

  // `try_apply_to_current_thread` installs the policy with the profile's flags (TSYNC makes it
  // every thread's); nothing is allocated.
  apply_status try_apply_to_current_thread() const noexcept {
    return policy.try_apply_to_current_thread(flags.seccomp_flags());
  }
  // `apply_to_current_thread` is try_apply_to_current_thread, throwing apply_error on failure.
  apply_status apply_to_current_thread() const {
    const apply_status s = try_apply_to_current_thread();
    if (!s) throw apply_error(s);
    return s;
  }
};

namespace detail::oci {

using json::find_syscall;
using json::json_value;
using json::parse_json;
using json::position;

// `argument` is one of a rule's `args`.
struct argument {
  std::uint8_t index = 0;
  cmp op = cmp::eq;
  std::uint64_t value = 0;
  std::uint64_t value_two = 0;
  std::size_t offset = 0;
};

// `gate` is a rule's `includes` or `excludes`.
struct gate {
  std::vector<std::string> caps;
  std::vector<std::string> arches;
  std::optional<kernel_version> min_kernel;
};

// `syscall_rule` is one entry of `syscalls`.
struct syscall_rule {
  std::vector<std::string> names;
  std::vector<std::size_t> name_offsets;
  action result = action::allow;
  std::vector<argument> args;
  gate includes, excludes;
  std::size_t offset = 0;
};

// `located` is a string of the profile and where it is.
struct located {
  std::string text;
  std::size_t offset = 0;
};

// `arch_map_entry` is one entry of Docker's `archMap`.
struct arch_map_entry {
  located architecture;
  std::vector<located> sub_architectures;
};

// `profile` is a profile as read, nothing resolved.
struct profile {
  action default_action = action::kill_thread;
  std::vector<located> architectures;
  std::vector<arch_map_entry> arch_map;
  oci_flags flags;
  std::string listener_path;
  std::vector<syscall_rule> syscalls;
  std::vector<std::string> notes;  // keys ignored
};

// `errno_names` maps Podman's errno strings to numbers.
inline constexpr std::pair<std::string_view, int> errno_names[]{
    {"E2BIG", E2BIG}, {"EACCES", EACCES}, {"EADDRINUSE", EADDRINUSE}, {"EADDRNOTAVAIL", EADDRNOTAVAIL},
    {"EADV", EADV}, {"EAFNOSUPPORT", EAFNOSUPPORT}, {"EAGAIN", EAGAIN}, {"EALREADY", EALREADY},
    {"EBADE", EBADE}, {"EBADF", EBADF}, {"EBADFD", EBADFD}, {"EBADMSG", EBADMSG}, {"EBADR", EBADR},
    {"EBADRQC", EBADRQC}, {"EBADSLT", EBADSLT}, {"EBFONT", EBFONT}, {"EBUSY", EBUSY},
    {"ECANCELED", ECANCELED}, {"ECHILD", ECHILD}, {"ECHRNG", ECHRNG}, {"ECOMM", ECOMM},
    {"ECONNABORTED", ECONNABORTED}, {"ECONNREFUSED", ECONNREFUSED}, {"ECONNRESET", ECONNRESET},
    {"EDEADLK", EDEADLK}, {"EDEADLOCK", EDEADLOCK}, {"EDESTADDRREQ", EDESTADDRREQ}, {"EDOM", EDOM},
    {"EDOTDOT", EDOTDOT}, {"EDQUOT", EDQUOT}, {"EEXIST", EEXIST}, {"EFAULT", EFAULT}, {"EFBIG", EFBIG},
    {"EHOSTDOWN", EHOSTDOWN}, {"EHOSTUNREACH", EHOSTUNREACH}, {"EHWPOISON", EHWPOISON}, {"EIDRM", EIDRM},
    {"EILSEQ", EILSEQ}, {"EINPROGRESS", EINPROGRESS}, {"EINTR", EINTR}, {"EINVAL", EINVAL}, {"EIO", EIO},
    {"EISCONN", EISCONN}, {"EISDIR", EISDIR}, {"EISNAM", EISNAM}, {"EKEYEXPIRED", EKEYEXPIRED},
    {"EKEYREJECTED", EKEYREJECTED}, {"EKEYREVOKED", EKEYREVOKED}, {"EL2HLT", EL2HLT}, {"EL2NSYNC", EL2NSYNC},
    {"EL3HLT", EL3HLT}, {"EL3RST", EL3RST}, {"ELIBACC", ELIBACC}, {"ELIBBAD", ELIBBAD},
    {"ELIBEXEC", ELIBEXEC}, {"ELIBMAX", ELIBMAX}, {"ELIBSCN", ELIBSCN}, {"ELNRNG", ELNRNG}, {"ELOOP", ELOOP},
    {"EMEDIUMTYPE", EMEDIUMTYPE}, {"EMFILE", EMFILE}, {"EMLINK", EMLINK}, {"EMSGSIZE", EMSGSIZE},
    {"EMULTIHOP", EMULTIHOP}, {"ENAMETOOLONG", ENAMETOOLONG}, {"ENAVAIL", ENAVAIL}, {"ENETDOWN", ENETDOWN},
    {"ENETRESET", ENETRESET}, {"ENETUNREACH", ENETUNREACH}, {"ENFILE", ENFILE}, {"ENOANO", ENOANO},
    {"ENOBUFS", ENOBUFS}, {"ENOCSI", ENOCSI}, {"ENODATA", ENODATA}, {"ENODEV", ENODEV}, {"ENOENT", ENOENT},
    {"ENOEXEC", ENOEXEC}, {"ENOKEY", ENOKEY}, {"ENOLCK", ENOLCK}, {"ENOLINK", ENOLINK},
    {"ENOMEDIUM", ENOMEDIUM}, {"ENOMEM", ENOMEM}, {"ENOMSG", ENOMSG}, {"ENONET", ENONET}, {"ENOPKG", ENOPKG},
    {"ENOPROTOOPT", ENOPROTOOPT}, {"ENOSPC", ENOSPC}, {"ENOSR", ENOSR}, {"ENOSTR", ENOSTR},
    {"ENOSYS", ENOSYS}, {"ENOTBLK", ENOTBLK}, {"ENOTCONN", ENOTCONN}, {"ENOTDIR", ENOTDIR},
    {"ENOTEMPTY", ENOTEMPTY}, {"ENOTNAM", ENOTNAM}, {"ENOTRECOVERABLE", ENOTRECOVERABLE},
    {"ENOTSOCK", ENOTSOCK}, {"ENOTSUP", ENOTSUP}, {"ENOTTY", ENOTTY}, {"ENOTUNIQ", ENOTUNIQ},
    {"ENXIO", ENXIO}, {"EOPNOTSUPP", EOPNOTSUPP}, {"EOVERFLOW", EOVERFLOW}, {"EOWNERDEAD", EOWNERDEAD},
    {"EPERM", EPERM}, {"EPFNOSUPPORT", EPFNOSUPPORT}, {"EPIPE", EPIPE}, {"EPROTO", EPROTO},
    {"EPROTONOSUPPORT", EPROTONOSUPPORT}, {"EPROTOTYPE", EPROTOTYPE}, {"ERANGE", ERANGE},
    {"EREMCHG", EREMCHG}, {"EREMOTE", EREMOTE}, {"EREMOTEIO", EREMOTEIO}, {"ERESTART", ERESTART},
    {"ERFKILL", ERFKILL}, {"EROFS", EROFS}, {"ESHUTDOWN", ESHUTDOWN}, {"ESOCKTNOSUPPORT", ESOCKTNOSUPPORT},
    {"ESPIPE", ESPIPE}, {"ESRCH", ESRCH}, {"ESRMNT", ESRMNT}, {"ESTALE", ESTALE}, {"ESTRPIPE", ESTRPIPE},
    {"ETIME", ETIME}, {"ETIMEDOUT", ETIMEDOUT}, {"ETOOMANYREFS", ETOOMANYREFS}, {"ETXTBSY", ETXTBSY},
    {"EUCLEAN", EUCLEAN}, {"EUNATCH", EUNATCH}, {"EUSERS", EUSERS}, {"EWOULDBLOCK", EWOULDBLOCK},
    {"EXDEV", EXDEV}, {"EXFULL", EXFULL},
};

// `known_arches` are the SCMP_ARCH_* strings of the runtime spec, with the sysfence target of
// each that has a table and libseccomp's native name (includes/excludes `arches`).
struct known_arch {
  std::string_view scmp;
  std::string_view native;
  const arch::target* target;
};
inline constexpr known_arch known_arches[]{
    {"SCMP_ARCH_X86", "x86", &arch::x86::value},
    {"SCMP_ARCH_X86_64", "amd64", &arch::x86_64::value},
    {"SCMP_ARCH_X32", "x32", &arch::x32::value},
    {"SCMP_ARCH_ARM", "arm", nullptr},
    {"SCMP_ARCH_AARCH64", "arm64", &arch::aarch64::value},
    {"SCMP_ARCH_MIPS", "mips", nullptr},
    {"SCMP_ARCH_MIPS64", "mips64", nullptr},
    {"SCMP_ARCH_MIPS64N32", "mips64n32", nullptr},
    {"SCMP_ARCH_MIPSEL", "mipsel", nullptr},
    {"SCMP_ARCH_MIPSEL64", "mipsel64", nullptr},
    {"SCMP_ARCH_MIPSEL64N32", "mipsel64n32", nullptr},
    {"SCMP_ARCH_PPC", "ppc", nullptr},
    {"SCMP_ARCH_PPC64", "ppc64", nullptr},
    {"SCMP_ARCH_PPC64LE", "ppc64le", nullptr},
    {"SCMP_ARCH_S390", "s390", nullptr},
    {"SCMP_ARCH_S390X", "s390x", nullptr},
    {"SCMP_ARCH_PARISC", "parisc", nullptr},
    {"SCMP_ARCH_PARISC64", "parisc64", nullptr},
    {"SCMP_ARCH_RISCV64", "riscv64", &arch::riscv64::value},
    {"SCMP_ARCH_LOONGARCH64", "loong64", nullptr},
    {"SCMP_ARCH_M68K", "m68k", nullptr},
    {"SCMP_ARCH_SH", "sh", nullptr},
    {"SCMP_ARCH_SHEB", "sheb", nullptr},
};
inline const known_arch* find_arch(std::string_view scmp) noexcept {
  for (const known_arch& a : known_arches)
    if (a.scmp == scmp) return &a;
  return nullptr;
}
inline bool same_target(const arch::target& a, const arch::target& b) noexcept { return a.name == b.name; }
// `host_arch` is the entry of the host's target (every sysfence target has one).
inline const known_arch& host_arch(const arch::target& host) noexcept {
  for (const known_arch& a : known_arches)
    if (a.target != nullptr && same_target(*a.target, host)) return a;
  return known_arches[1];
}

// `reader` turns the tree into a profile; every error names the file, the position and the place.
struct reader : json::checker {
  mutable std::vector<std::string> notes;

  void ignored(const std::string& where, std::string_view key, const json_value& at) const {
    notes.push_back(std::string(file) + ": " + position(text, at.offset) + ": " + where + ": key \"" +
                    std::string(key) + "\" ignored (not in the OCI or Docker format)");
  }
  // A list of strings; null is an empty list, as in Go.
  std::vector<located> strings(const std::string& where, const json_value& v) const {
    std::vector<located> out;
    if (v.what == json_value::kind::null) return out;
    expect(where, v, json_value::kind::array, "an array of strings");
    out.reserve(v.items.size());
    for (std::size_t i = 0; i < v.items.size(); ++i) {
      if (v.items[i].what != json_value::kind::string)  // (the place in words only when it is needed)
        expect(where + "[" + std::to_string(i) + "]", v.items[i], json_value::kind::string, "a string");
      out.push_back({v.items[i].text, v.items[i].offset});
    }
    return out;
  }
  static std::vector<std::string> texts(const std::vector<located>& v) {
    std::vector<std::string> out;
    for (const located& a : v) out.push_back(a.text);
    return out;
  }
  // An SCMP_ARCH_* string the runtime spec defines (libseccomp refuses others).
  std::vector<located> scmp_arches(const std::string& where, const json_value& v) const {
    std::vector<located> out = strings(where, v);
    for (const located& a : out)
      if (find_arch(a.text) == nullptr)
        fail_at(where, a.offset, "unknown architecture \"" + a.text + "\" (expected SCMP_ARCH_X86_64, SCMP_ARCH_X86, ...)");
    return out;
  }

  // An errno: errnoRet's number, or Podman's name.
  std::uint16_t errno_number(const std::string& where, const json_value& v) const {
    const std::uint64_t n = number(where, v, 0xffffffffU);
    if (n < 1 || n > 4095) fail(where, v, "errno " + std::to_string(n) + " is not 1 to 4095 (0 would fake a success)");
    return static_cast<std::uint16_t>(n);
  }
  std::uint16_t errno_named(const std::string& where, const json_value& v) const {
    expect(where, v, json_value::kind::string, "a string");
    for (const auto& [name, n] : errno_names)
      if (name == v.text) return static_cast<std::uint16_t>(n);
    fail(where, v, "unknown errno name \"" + v.text + "\" (expected EPERM, ENOSYS, ...)");
  }
  // `make_action` is an action string with its errno (errnoRet or errno name) if any.
  action make_action(const std::string& where, const json_value& v, const json_value* ret,
                     const json_value* named, const std::string& ret_key) const {
    expect(where, v, json_value::kind::string, "a string");
    std::optional<std::uint16_t> data;
    if (ret != nullptr) data = errno_number(where + ", " + ret_key, *ret);
    if (named != nullptr) {
      const std::uint16_t n = errno_named(where + ", errno name", *named);
      if (data && *data != n)
        fail(where, *named, "errno name " + named->text + " (" + std::to_string(n) + ") and " + ret_key + " " +
                                std::to_string(*data) + " disagree");
      data = n;
    }
    const std::string& s = v.text;
    if (s == "SCMP_ACT_ERRNO") return action::error(data.value_or(EPERM));
    if (s == "SCMP_ACT_TRACE") return action::trace(data.value_or(EPERM));
    action a = action::allow;
    if (s == "SCMP_ACT_KILL" || s == "SCMP_ACT_KILL_THREAD")
      a = action::kill_thread;
    else if (s == "SCMP_ACT_KILL_PROCESS")
      a = action::kill_process;
    else if (s == "SCMP_ACT_TRAP")
      a = action::trap();
    else if (s == "SCMP_ACT_LOG")
      a = action::log;
    else if (s == "SCMP_ACT_NOTIFY")
      a = action::user_notif;
    else if (s != "SCMP_ACT_ALLOW")
      fail(where, v,
           "unknown action \"" + s +
               "\" (expected SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, "
               "SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG or SCMP_ACT_NOTIFY)");
    if (data)
      fail(where, ret != nullptr ? *ret : *named,
           ret_key + " is given but " + s + " returns no errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one)");
    return a;
  }

  argument read_argument(const std::string& where, const json_value& v) const {
    expect(where, v, json_value::kind::object, "an object");
    argument a;
    a.offset = v.offset;
    const json_value* index = nullptr;
    const json_value* value = nullptr;
    const json_value* op = nullptr;
    for (const auto& [key, item] : v.members()) {
      if (key == "index")
        index = &item;
      else if (key == "value")
        value = &item;
      else if (key == "valueTwo")
        a.value_two = number(where + ", valueTwo", item, ~std::uint64_t{0});
      else if (key == "op")
        op = &item;
      else
        ignored(where, key, item);
    }
    for (const auto& [name, seen] : {std::pair{"index", index}, {"value", value}, {"op", op}})
      if (seen == nullptr) fail(where, v, "missing key \"" + std::string(name) + "\"");
    a.index = static_cast<std::uint8_t>(number(where + ", index", *index, 5));
    a.value = number(where + ", value", *value, ~std::uint64_t{0});
    expect(where + ", op", *op, json_value::kind::string, "a string");
    constexpr std::pair<std::string_view, cmp> ops[]{
        {"SCMP_CMP_NE", cmp::ne}, {"SCMP_CMP_LT", cmp::lt}, {"SCMP_CMP_LE", cmp::le},
        {"SCMP_CMP_EQ", cmp::eq}, {"SCMP_CMP_GE", cmp::ge}, {"SCMP_CMP_GT", cmp::gt},
        {"SCMP_CMP_MASKED_EQ", cmp::masked_eq}};
    for (const auto& [name, c] : ops)
      if (op->text == name) {
        a.op = c;
        return a;
      }
    fail(where + ", op", *op,
         "unknown op \"" + op->text +
             "\" (expected SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT or "
             "SCMP_CMP_MASKED_EQ)");
  }

  // minKernel: "<major>.<minor>", each 0 to 255, not 0.0; "" is none (moby's KernelVersion).
  std::optional<kernel_version> read_kernel(const std::string& where, const json_value& v) const {
    expect(where, v, json_value::kind::string, "a string \"<major>.<minor>\"");
    if (v.text.empty()) return std::nullopt;
    kernel_version k;
    std::size_t i = 0;
    for (unsigned* part : {&k.major, &k.minor}) {
      const std::size_t start = i;
      for (; i < v.text.size() && v.text[i] >= '0' && v.text[i] <= '9' && i - start < 4; ++i)
        *part = *part * 10 + static_cast<unsigned>(v.text[i] - '0');
      const bool last = part == &k.minor;
      if (i == start || *part > 255 || (last ? i != v.text.size() : (i >= v.text.size() || v.text[i] != '.')))
        fail(where, v, "invalid kernel version \"" + v.text + "\", expected \"<major>.<minor>\" (each 0 to 255)");
      ++i;
    }
    if (k.major == 0 && k.minor == 0) fail(where, v, "invalid kernel version \"0.0\"");
    return k;
  }

  gate read_gate(const std::string& where, const json_value& v) const {
    gate g;
    if (v.what == json_value::kind::null) return g;
    expect(where, v, json_value::kind::object, "an object");
    for (const auto& [key, item] : v.members()) {
      if (key == "caps")
        g.caps = texts(strings(where + ", caps", item));
      else if (key == "arches")
        g.arches = texts(strings(where + ", arches", item));
      else if (key == "minKernel")
        g.min_kernel = item.what == json_value::kind::null ? std::nullopt : read_kernel(where + ", minKernel", item);
      else
        ignored(where, key, item);
    }
    return g;
  }

  syscall_rule read_rule(const std::string& rule_name, const json_value& v) const {
    expect(rule_name, v, json_value::kind::object, "an object");
    syscall_rule r;
    r.offset = v.offset;
    const json_value* names = nullptr;
    const json_value* name = nullptr;
    const json_value* act = nullptr;
    const json_value* ret = nullptr;
    const json_value* named = nullptr;
    const json_value* args = nullptr;
    for (const auto& [key, item] : v.members()) {
      const bool null = item.what == json_value::kind::null;
      if (key == "names")
        names = null ? nullptr : &item;
      else if (key == "name")
        name = null ? nullptr : &item;
      else if (key == "action")
        act = &item;
      else if (key == "errnoRet")
        ret = null ? nullptr : &item;
      else if (key == "errno")
        named = null || (item.what == json_value::kind::string && item.text.empty()) ? nullptr : &item;
      else if (key == "args")
        args = null ? nullptr : &item;
      else if (key == "comment")
        null ? void() : expect(rule_name + ", comment", item, json_value::kind::string, "a string");
      else if (key == "includes")
        r.includes = read_gate(rule_name + ", includes", item);
      else if (key == "excludes")
        r.excludes = read_gate(rule_name + ", excludes", item);
      else
        ignored(rule_name, key, item);
    }
    if (name != nullptr) {
      expect(rule_name + ", name", *name, json_value::kind::string, "a string");
      if (!name->text.empty()) {
        r.names.push_back(name->text);
        r.name_offsets.push_back(name->offset);
      }
    }
    const std::vector<located> list = names != nullptr ? strings(rule_name + ", names", *names) : std::vector<located>{};
    if (!r.names.empty() && !list.empty())
      fail(rule_name, *names, "both \"name\" and \"names\" (use either, as dockerd says)");
    for (const located& n : list) {
      r.names.push_back(n.text);
      r.name_offsets.push_back(n.offset);
    }
    const std::string where = rule_name + " (" + (r.names.empty() ? std::string("no names") : r.names.front()) + ")";
    for (std::size_t i = 0; i < r.names.size(); ++i)
      if (r.names[i].empty()) fail_at(where, r.name_offsets[i], "an empty syscall name (runc: not a valid syscall)");
    if (act == nullptr) fail(where, v, "missing key \"action\"");
    r.result = make_action(where + ", action", *act, ret, named, "errnoRet");
    if (args != nullptr) {
      expect(where + ", args", *args, json_value::kind::array, "an array");
      for (std::size_t i = 0; i < args->items.size(); ++i)
        r.args.push_back(read_argument(where + ", args[" + std::to_string(i) + "]", args->items[i]));
    }
    if (r.result == action::user_notif)
      for (std::size_t i = 0; i < r.names.size(); ++i)
        if (r.names[i] == "write")
          fail_at(rule_name + " (write)", r.name_offsets[i],
                  "SCMP_ACT_NOTIFY on write (runc refuses: the runtime writes the listener's fd)");
    return r;
  }

  profile read_profile(const json_value& root) const {
    expect("the profile", root, json_value::kind::object, "an object");
    profile p;
    const json_value* def = nullptr;
    const json_value* def_ret = nullptr;
    const json_value* def_named = nullptr;
    const json_value* architectures = nullptr;
    const json_value* arch_map = nullptr;
    const json_value* syscalls = nullptr;
    for (const auto& [key, item] : root.members()) {
      const bool null = item.what == json_value::kind::null;
      if (key == "defaultAction") {
        def = &item;
      } else if (key == "defaultErrnoRet") {
        def_ret = null ? nullptr : &item;
      } else if (key == "defaultErrno") {
        def_named = null || (item.what == json_value::kind::string && item.text.empty()) ? nullptr : &item;
      } else if (key == "architectures") {
        architectures = null ? nullptr : &item;
      } else if (key == "archMap") {
        arch_map = null ? nullptr : &item;
      } else if (key == "syscalls") {
        syscalls = null ? nullptr : &item;
      } else if (key == "flags") {
        for (const located& f : strings("flags", item)) {
          if (f.text == "SECCOMP_FILTER_FLAG_TSYNC")
            p.flags.tsync = true;
          else if (f.text == "SECCOMP_FILTER_FLAG_LOG")
            p.flags.log = true;
          else if (f.text == "SECCOMP_FILTER_FLAG_SPEC_ALLOW")
            p.flags.spec_allow = true;
          else if (f.text == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")
            p.flags.wait_killable_recv = true;
          else
            fail_at("flags", f.offset,
                 "unknown flag \"" + f.text +
                     "\" (expected SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW "
                     "or SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)");
        }
      } else if (key == "listenerPath") {
        if (!null) expect("listenerPath", item, json_value::kind::string, "a string");
        p.listener_path = item.text;
      } else if (key == "listenerMetadata") {
        if (!null) expect("listenerMetadata", item, json_value::kind::string, "a string");
      } else {
        ignored("the profile", key, item);
      }
    }
    if (def == nullptr) fail("the profile", root, "missing key \"defaultAction\"");
    p.default_action = make_action("defaultAction", *def, def_ret, def_named, "defaultErrnoRet");
    if (p.default_action == action::user_notif)
      fail("defaultAction", *def, "SCMP_ACT_NOTIFY cannot be the default action (runc refuses it)");
    if (architectures != nullptr) p.architectures = scmp_arches("architectures", *architectures);
    if (arch_map != nullptr) {
      expect("archMap", *arch_map, json_value::kind::array, "an array");
      for (std::size_t i = 0; i < arch_map->items.size(); ++i) {
        const std::string where = "archMap[" + std::to_string(i) + "]";
        const json_value& e = arch_map->items[i];
        expect(where, e, json_value::kind::object, "an object");
        arch_map_entry entry;
        bool seen = false;
        for (const auto& [key, item] : e.members()) {
          if (key == "architecture") {
            expect(where + ", architecture", item, json_value::kind::string, "a string");
            json_value list;
            list.what = json_value::kind::array;
            list.items.push_back(item);
            entry.architecture = scmp_arches(where + ", architecture", list).front();
            seen = true;
          } else if (key == "subArchitectures") {
            entry.sub_architectures = scmp_arches(where + ", subArchitectures", item);
          } else {
            ignored(where, key, item);
          }
        }
        if (!seen) fail(where, e, "missing key \"architecture\"");
        p.arch_map.push_back(std::move(entry));
      }
    }
    if (!p.architectures.empty() && !p.arch_map.empty())
      fail("the profile", *arch_map,
           "both \"architectures\" and \"archMap\" (use either, as dockerd says)");
    if (syscalls != nullptr) {
      expect("syscalls", *syscalls, json_value::kind::array, "an array");
      for (std::size_t i = 0; i < syscalls->items.size(); ++i)
        p.syscalls.push_back(read_rule("syscalls[" + std::to_string(i) + "]", syscalls->items[i]));
    }
    p.notes = std::move(notes);
    return p;
  }
};

// `locator` is json::position in O(log n): the text's line starts, found once.
class locator {
 public:
  explicit locator(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') starts_.push_back(i + 1);
    size_ = text.size();
  }
  [[nodiscard]] std::string operator()(std::size_t offset) const {
    if (offset > size_) offset = size_;
    const auto line = static_cast<std::size_t>(std::upper_bound(starts_.begin(), starts_.end(), offset) - starts_.begin());
    return "line " + std::to_string(line) + ", column " + std::to_string(offset - starts_[line - 1] + 1);
  }

 private:
  std::vector<std::size_t> starts_{0};
  std::size_t size_ = 0;
};

// `resolved` is a profile resolved for one container: what dockerd hands the runtime.
struct resolved {
  action default_action = action::kill_thread;
  std::vector<arch::target> targets;  // the host first
  std::vector<std::size_t> rules;     // indices into profile::syscalls, in order
  std::vector<std::string> notes;
};

inline bool contains(const std::vector<std::string>& list, std::string_view s) noexcept {
  for (const std::string& x : list)
    if (x == s) return true;
  return false;
}

// `resolve` is moby's setupSeccomp: the ABIs from archMap (or architectures) and the rules whose
// includes and excludes let them in for options' capabilities, kernel and host.
inline resolved resolve(const profile& p, const oci_options& options, std::string_view text) {
  resolved out;
  out.default_action = p.default_action;
  out.targets.push_back(options.host);
  const known_arch& host = host_arch(options.host);
  const std::string file(options.file_name);
  auto add_target = [&](const std::string& where, const located& a) {
    const known_arch* k = find_arch(a.text);
    if (k->target == nullptr) {
      out.notes.push_back(file + ": " + position(text, a.offset) + ": " + where + ": " + a.text +
                          " left out (sysfence has no syscall table for it)");
      return;
    }
    for (const arch::target& t : out.targets)
      if (same_target(t, *k->target)) return;
    out.targets.push_back(*k->target);
  };
  for (const located& a : p.architectures) add_target("architectures", a);
  if (!p.arch_map.empty()) {
    const arch_map_entry* entry = nullptr;
    for (const arch_map_entry& e : p.arch_map)
      if (entry == nullptr && e.architecture.text == host.scmp) entry = &e;
    if (entry == nullptr)
      out.notes.push_back(file + ": archMap has no entry for " + std::string(host.scmp) +
                          ", so the program serves the host's ABI only");
    else
      for (const located& a : entry->sub_architectures) add_target("archMap", a);
  }
  std::optional<kernel_version> kernel = options.kernel;
  auto at_least = [&](kernel_version min) {
    if (!kernel) kernel = running_kernel_version();
    return *kernel >= min;
  };
  const std::string native(host.native);
  for (std::size_t i = 0; i < p.syscalls.size(); ++i) {
    const syscall_rule& r = p.syscalls[i];
    bool keep = !contains(r.excludes.arches, native);
    for (const std::string& c : r.excludes.caps) keep = keep && !contains(options.capabilities, c);
    keep = keep && !(r.excludes.min_kernel && at_least(*r.excludes.min_kernel));
    keep = keep && (r.includes.arches.empty() || contains(r.includes.arches, native));
    for (const std::string& c : r.includes.caps) keep = keep && contains(options.capabilities, c);
    keep = keep && !(r.includes.min_kernel && !at_least(*r.includes.min_kernel));
    if (keep) out.rules.push_back(i);
  }
  return out;
}

// `condition_of` is an OCI argument as a core condition: 64 bits; MASKED_EQ's mask is `value`,
// its expected value `valueTwo`, masked as libseccomp masks it.
inline condition condition_of(const argument& a) noexcept {
  condition c;
  c.arg = a.index;
  c.op = a.op;
  c.size = width::qword;
  if (a.op == cmp::masked_eq) {
    c.mask = a.value;
    c.value = a.value_two & a.value;
  } else {
    c.value = a.value;
  }
  return c;
}

// `lowering` is runc's matchCall over the resolved rules and libseccomp's rule database: rules for
// the core, contradictions resolved (or refused) as libseccomp resolves them, each noted.
class lowering {
 public:
  lowering(const profile& p, const resolved& r, std::string_view text, std::string_view file)
      : profile_(p), resolved_(r), at_(text), file_(file), by_syscall_(syscall_count) {}

  oci_profile run() && {
    notes_ = profile_.notes;
    notes_.insert(notes_.end(), resolved_.notes.begin(), resolved_.notes.end());
    if (!profile_.listener_path.empty())
      notes_.push_back(file_ + ": listenerPath \"" + profile_.listener_path +
                       "\" noted; sysfence installs no notification listener");
    if (profile_.syscalls.size() >= no_origin)  // (entries number their rule in 16 bits)
      throw policy_error("sysfence: " + file_ + ": " + std::to_string(profile_.syscalls.size()) +
                         " syscalls entries; a profile holds fewer than 65535");
    std::size_t listed = 0;  // (reserved: a rule is some 200 bytes, and Docker's profile has 400)
    for (const std::size_t i : resolved_.rules) listed += profile_.syscalls[i].names.size();
    candidates_.reserve(listed);
    dead_.reserve(listed);
    for (const std::size_t i : resolved_.rules) lower_rule(i);
    // The live candidates are the policy's entries, compacted in place (no second copy: a fresh
    // process pays a page fault for every 4 KiB it touches).
    std::vector<entry> entries = std::move(candidates_);
    std::size_t kept = 0;
    for (std::size_t k = 0; k < entries.size(); ++k)
      if (!dead_[k]) entries[kept++] = entries[k];
    entries.resize(kept);
    std::vector<std::string> names;
    for (const syscall_rule& r : profile_.syscalls)
      names.push_back("syscalls[" + std::to_string(names.size()) + "] (" + at_(r.offset) + ")");
    runtime_policy policy(std::move(entries), std::move(names), resolved_.default_action, resolved_.targets, file_);
    return {std::move(policy), std::move(notes_), profile_.flags, profile_.listener_path};
  }

 private:
  // A candidate is an entry of the policy (origin: its syscalls[] index; portable: a name an
  // ABI lacks is left out there), dead_ when a later rule of libseccomp's database replaced it.
  using candidate = entry;

  [[nodiscard]] std::string place(std::size_t i, std::string_view name, std::size_t offset) const {
    return file_ + ": " + at_(offset) + ": syscalls[" + std::to_string(i) + "] (" + std::string(name) + ")";
  }
  [[nodiscard]] std::string names_of(const syscall_rule& r) const {
    std::string s;
    for (std::size_t j = 0; j < r.names.size() && j < 3; ++j) s += (j == 0 ? "" : ", ") + r.names[j];
    if (r.names.size() > 3) s += ", ... " + std::to_string(r.names.size()) + " names";
    return s;
  }
  [[nodiscard]] bool served(sys::id id) const noexcept {
    for (const arch::target& t : resolved_.targets)
      if ((*t.numbers)[static_cast<std::size_t>(id)] >= 0) return true;
    return false;
  }
  [[nodiscard]] std::string targets_words() const {
    std::string s;
    for (const arch::target& t : resolved_.targets) s += (s.empty() ? "" : ", ") + std::string(t.name);
    return s;
  }

  void lower_rule(std::size_t i) {
    const syscall_rule& sr = profile_.syscalls[i];
    const std::string rule_place = place(i, names_of(sr), sr.offset);
    if (sr.result == resolved_.default_action) {
      notes_.push_back(rule_place + ": dropped: its action " + action_words(sr.result) +
                       " is the default action (runc skips such rules)");
      return;
    }
    std::vector<condition> conditions;
    bool repeated = false;
    std::uint8_t seen = 0;
    for (const argument& a : sr.args) {
      repeated = repeated || ((seen >> a.index) & 1U) != 0;
      seen = static_cast<std::uint8_t>(seen | (1U << a.index));
      conditions.push_back(condition_of(a));
    }
    std::vector<std::vector<condition>> groups;
    if (repeated) {
      for (const condition& c : conditions) groups.push_back({c});
      std::string words = rule_place + ": " + std::to_string(conditions.size()) +
                          " conditions, some on the same argument, become " + std::to_string(conditions.size()) +
                          " rules any of which matches (runc splits them: libseccomp compares an argument once per rule)";
      for (std::size_t x = 0; x < conditions.size(); ++x)
        for (std::size_t y = x + 1; y < conditions.size(); ++y)
          if (conditions[x].op == cmp::ne && conditions[y].op == cmp::ne && conditions[x].arg == conditions[y].arg &&
              conditions[x].value != conditions[y].value)
            words += "; WARNING: argument " + std::to_string(conditions[x].arg) + " != " +
                     std::to_string(conditions[x].value) + " or != " + std::to_string(conditions[y].value) +
                     " holds for every value, so the rule matches every call";
      notes_.push_back(std::move(words));
    } else {
      std::sort(conditions.begin(), conditions.end(),
                [](const condition& a, const condition& b) { return a.arg < b.arg; });
      groups.push_back(std::move(conditions));
    }
    if (sr.names.empty()) notes_.push_back(rule_place + ": no syscall names; the rule adds nothing");
    for (std::size_t j = 0; j < sr.names.size(); ++j) {
      const std::string& name = sr.names[j];
      const auto where = [&] { return place(i, name, sr.name_offsets[j]); };
      const auto id = find_syscall(name);
      if (!id) {
        notes_.push_back(where() + ": unknown syscall name skipped (not a kernel syscall in sysfence's tables; runc skips the names libseccomp does not know)");
        continue;
      }
      if (!served(*id)) {
        notes_.push_back(where() + ": left out: not a syscall of " + targets_words());
        continue;
      }
      for (const std::vector<condition>& g : groups) {
        candidate c{{}, static_cast<std::uint16_t>(i), 0, true};
        c.r.syscall = *id;
        c.r.result = sr.result;
        for (const condition& k : g) c.r.conditions[c.r.count++] = k;
        add(std::move(c), where);
      }
    }
  }

  // `add` puts a rule in the database as libseccomp 2.5.4's seccomp_rule_add would.
  template <class Where>
  void add(candidate c, const Where& where) {
    std::vector<std::size_t>& same = by_syscall_[static_cast<std::size_t>(c.r.syscall)];
    const std::string_view sys_name = sys::name(c.r.syscall);
    auto other = [&](const candidate& e) { return "syscalls[" + std::to_string(e.origin) + "]"; };
    for (const std::size_t k : same) {
      const candidate& e = candidates_[k];
      if (dead_[k] || !e.r.is_simple()) continue;
      if (!c.r.is_simple()) {
        notes_.push_back(where() + ": conditional rule has no effect: " + other(e) + " answers every " + std::string(sys_name) +
                         " call with " + action_words(e.r.result) + " (libseccomp keeps the plain rule)");
        return;
      }
      if (e.r.result != c.r.result)
        notes_.push_back(where() + ": " + action_words(c.r.result) + " has no effect: " + other(e) + " already answers " +
                         std::string(sys_name) + " with " + action_words(e.r.result) + " (libseccomp keeps the first plain rule)");
      return;
    }
    if (c.r.is_simple()) {
      for (const std::size_t k : same) {
        const candidate& e = candidates_[k];
        if (dead_[k]) continue;
        dead_[k] = true;
        notes_.push_back(where() + ": its plain rule replaces the conditional rule of " + other(e) + " for " + std::string(sys_name) +
                         " (" + action_words(e.r.result) + "; libseccomp keeps the plain rule)");
      }
    } else {
      for (const std::size_t k : same) {
        const candidate& e = candidates_[k];
        if (dead_[k]) continue;
        if (e.r.same_match(c.r)) {
          if (e.r.result == c.r.result) return;  // a duplicate: libseccomp accepts it, nothing changes
          throw policy_error("sysfence: " + where() + ": the same conditions as " + other(e) + " with another action (" +
                             action_words(c.r.result) + ", not " + action_words(e.r.result) +
                             "); libseccomp refuses the rule (EEXIST), so runc fails the container");
        }
        if (e.r.result != c.r.result && !disjoint(e.r, c.r))
          throw policy_error("sysfence: " + where() + ": its conditions and those of " + other(e) +
                             " can match the same call with different actions (" + action_words(c.r.result) + ", " +
                             action_words(e.r.result) +
                             "); libseccomp's answer would depend on the order of its decision tree, so sysfence refuses "
                             "it: make the conditions disjoint");
      }
    }
    same.push_back(candidates_.size());
    candidates_.push_back(c);
    dead_.push_back(false);
  }

  const profile& profile_;
  const resolved& resolved_;
  locator at_;
  std::string file_;
  std::vector<std::vector<std::size_t>> by_syscall_;
  std::vector<candidate> candidates_;
  std::vector<bool> dead_;
  std::vector<std::string> notes_;
};

// `lower` is the resolved profile as a compiled policy with its notes.
inline oci_profile lower(const profile& p, const resolved& r, std::string_view text, std::string_view file) {
  return lowering(p, r, text, file).run();
}

// `read` is the text as a profile (parse and read).
inline profile read(std::string_view text, std::string_view file) {
  const json_value root = parse_json(text, file);
  return reader{{text, file}, {}}.read_profile(root);
}

}  // namespace detail::oci

// `load_oci_profile` reads a Docker, Podman or OCI seccomp profile, resolves it for
// options (capabilities, kernel, host) as dockerd does and compiles it as runc would have
// libseccomp build it; every problem throws policy_error naming the file, line and column, the
// rule (syscalls[i]) and syscall, and what is wrong. See this header's opening comment.
inline oci_profile load_oci_profile(std::string_view text, const oci_options& options = {}) {
  namespace oci = detail::oci;
  const oci::profile p = oci::read(text, options.file_name);
  const oci::resolved r = oci::resolve(p, options, text);
  return oci::lower(p, r, text, options.file_name);
}

}  // namespace sysfence
