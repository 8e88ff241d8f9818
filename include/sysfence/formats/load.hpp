// SPDX-License-Identifier: MIT
// load.hpp - a policy file of any kind sysfence reads, by its kind: seccompiler JSON, a Docker/
// Podman/OCI profile, a kafel policy, or a raw BPF program (an array of struct sock_filter, as
// libseccomp's seccomp_export_bpf writes it); the kind is told by the file's name (.bpf; .kafel or
// .policy for kafel) or its JSON's shape.
// Needs nlohmann-json, as the JSON front ends do; sysfence.hpp does not include this header.
//
// A new kind is one enumerator of policy_kind, its name in policy_kind_name, its test in
// detect_policy_kind and its branch in load_policy.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <linux/audit.h>
#include <linux/filter.h>

#include "sysfence/arch.hpp"
#include "sysfence/bpf.hpp"
#include "sysfence/detail/json.hpp"
#include "sysfence/formats/oci.hpp"
#include "sysfence/formats/seccompiler.hpp"
#include "sysfence/kafel.hpp"
#include "sysfence/runtime_policy.hpp"
#include "sysfence/simulate.hpp"

namespace sysfence {

// `policy_kind` is the kind of a policy file.
enum class policy_kind : std::uint8_t {
  automatic,    // told by the name (.bpf) or the JSON's shape (a `defaultAction` key: OCI)
  seccompiler,  // rust-vmm seccompiler JSON: named filters
  oci,          // a Docker, Podman or OCI runtime-spec seccomp profile
  bpf,          // a compiled program: struct sock_filter[] in the machine's byte order
  kafel,        // kafel's policy language (nsjail's seccomp policies): first match wins
};

// `policy_kind_name` names a kind as the command line spells it.
constexpr std::string_view policy_kind_name(policy_kind k) noexcept {
  switch (k) {
    case policy_kind::automatic:
      return "auto";
    case policy_kind::seccompiler:
      return "seccompiler";
    case policy_kind::oci:
      return "oci";
    case policy_kind::bpf:
      return "bpf";
    case policy_kind::kafel:
      return "kafel";
  }
  return "unknown";
}

// `known_abis` is every ABI sysfence has a syscall table for, as a command line names them.
inline constexpr std::array<arch::target, 5> known_abis{arch::x86_64::value, arch::x86::value, arch::x32::value,
                                                        arch::aarch64::value, arch::riscv64::value};

// `find_abi` is the ABI named `name` ("x86_64", "x86" or "i386", "x32", "aarch64", "riscv64").
inline std::optional<arch::target> find_abi(std::string_view name) noexcept {
  if (name == "i386") name = "x86";
  for (const arch::target& t : known_abis)
    if (t.name == name) return t;
  return std::nullopt;
}

// `load_options` says how a policy file is read.
struct load_options {
  policy_kind kind = policy_kind::automatic;
  // seccompiler: the filter to read; may stay empty when the file has exactly one.
  std::string filter;
  // oci: the container's bounding capabilities (nullopt: Docker's default 14).
  std::optional<std::vector<std::string>> capabilities;
  // oci: the kernel version minKernel compares with (nullopt: the running kernel's).
  std::optional<kernel_version> kernel;
  // seccompiler: the ABIs the program serves; oci: the first is the host (the profile's archMap
  // gives the rest); bpf: the ABIs syscalls are named for. Empty: the native one (bpf: those
  // the program checks for).
  std::vector<arch::target> targets;
};

// `loaded_policy` is a policy file read and compiled: the program, the ABIs it serves, and for
// the JSON kinds the rules it was compiled from.
struct loaded_policy {
  policy_kind kind = policy_kind::automatic;
  std::string file_name;
  std::string filter;                    // seccompiler: the filter read
  std::optional<runtime_policy> policy;  // the JSON kinds: the rules; bpf: none
  std::vector<bpf::insn> raw;            // bpf: the program as read
  std::vector<arch::target> abis;        // bpf: the ABIs named (see load_options::targets)
  std::vector<std::string> notes;        // what a front end skipped or resolved
  unsigned long flags = 0;               // seccomp() flags the file asks for (oci)

  // `program` is the compiled program.
  [[nodiscard]] std::span<const bpf::insn> program() const noexcept {
    return policy ? policy->program() : std::span<const bpf::insn>(raw);
  }
  // `targets` is the ABIs the program serves, in dispatch order.
  [[nodiscard]] std::span<const arch::target> targets() const noexcept {
    return policy ? policy->targets() : std::span<const arch::target>(abis);
  }
};

namespace detail {

[[noreturn]] inline void load_failed(std::string_view file, std::string_view what) {
  std::string m = "sysfence: ";
  m += file;
  m += ": ";
  m += what;
  throw policy_error(m);
}

// `abis_checked` is the ABIs whose audit value `program` compares the loaded arch word with
// (x86_64's audit value stands for x86_64 and x32); none found: the native ABI.
inline std::vector<arch::target> abis_checked(std::span<const bpf::insn> program) {
  std::vector<arch::target> out;
  bool holds_arch = false;
  for (const bpf::insn& i : program) {
    if (i.code == (BPF_LD | BPF_W | BPF_ABS)) {
      holds_arch = i.k == bpf::off_arch;
      continue;
    }
    if (BPF_CLASS(i.code) != BPF_JMP) holds_arch = false;
    if (!holds_arch || i.code != (BPF_JMP | BPF_JEQ | BPF_K)) continue;
    for (const arch::target& t : known_abis) {
      bool seen = false;
      for (const arch::target& o : out) seen = seen || o.name == t.name;
      if (t.audit == i.k && !seen) out.push_back(t);
    }
  }
  if (out.empty()) out.push_back(arch::native::value);
  return out;
}

}  // namespace detail

// `read_bpf` is a raw BPF program (struct sock_filter[], this machine's byte order) from its
// bytes; a size that is not a whole number of instructions, an empty or too long program, or
// one the kernel would refuse throws policy_error naming `file_name`.
inline std::vector<bpf::insn> read_bpf(std::string_view bytes, std::string_view file_name) {
  if (bytes.empty()) detail::load_failed(file_name, "an empty file is no BPF program");
  if (bytes.size() % sizeof(bpf::insn) != 0)
    detail::load_failed(file_name, std::to_string(bytes.size()) +
                                       " bytes is not a whole number of 8-byte BPF instructions (struct sock_filter)");
  std::vector<bpf::insn> program(bytes.size() / sizeof(bpf::insn));
  std::memcpy(program.data(), bytes.data(), bytes.size());
  if (const bpf_error e = check(program); e != bpf_error::none) {
    std::string m = "the kernel would refuse this BPF program: ";
    m += describe(e);
    detail::load_failed(file_name, m);
  }
  return program;
}

// `bpf_bytes` is `program` as a raw BPF file holds it (what read_bpf reads).
inline std::string bpf_bytes(std::span<const bpf::insn> program) {
  std::string out(program.size() * sizeof(bpf::insn), '\0');
  if (!program.empty()) std::memcpy(out.data(), program.data(), out.size());
  return out;
}

// `detect_policy_kind` tells a file's kind: bpf by the name's .bpf suffix, else from its JSON
// (an object with a `defaultAction` key is a Docker/OCI profile, any other object seccompiler's
// filters). Text that is not JSON throws policy_error naming the file and the position.
inline policy_kind detect_policy_kind(std::string_view text, std::string_view file_name) {
  if (file_name.size() > 4 && file_name.substr(file_name.size() - 4) == ".bpf") return policy_kind::bpf;
  if (file_name.ends_with(".kafel") || file_name.ends_with(".policy")) return policy_kind::kafel;
  const detail::json::json_value root = detail::json::parse_json(text, file_name);
  if (root.what != detail::json::json_value::kind::object)
    detail::load_failed(file_name,
                        "a policy file is a JSON object (seccompiler filters, or a profile with defaultAction) "
                        "or a raw BPF program named *.bpf");
  for (const std::string& key : root.keys)
    if (key == "defaultAction") return policy_kind::oci;
  return policy_kind::seccompiler;
}

// `load_policy` reads a policy file's contents `text` (named `file_name` in messages) and
// compiles it. Every problem throws policy_error naming the file (and the place, for JSON).
inline loaded_policy load_policy(std::string_view text, std::string_view file_name, const load_options& options = {}) {
  loaded_policy out;
  out.file_name = file_name;
  out.kind = options.kind == policy_kind::automatic ? detect_policy_kind(text, file_name) : options.kind;
  switch (out.kind) {
    case policy_kind::seccompiler: {
      seccompiler_options o{file_name, options.targets.empty() ? std::vector<arch::target>{arch::native::value}
                                                               : options.targets};
      out.filter = options.filter;
      if (out.filter.empty()) {
        const std::vector<std::string> names = seccompiler_filter_names(text, o);
        if (names.size() != 1) {
          std::string list;
          for (const std::string& n : names) {
            list += list.empty() ? "\"" : ", \"";
            list += n;
            list += '"';
          }
          detail::load_failed(file_name, "the file has " + std::to_string(names.size()) +
                                             " filters; name one with --filter (" +
                                             (list.empty() ? std::string("none") : list) + ")");
        }
        out.filter = names.front();
      }
      out.policy = load_seccompiler_json(text, out.filter, o);
      break;
    }
    case policy_kind::oci: {
      if (!options.filter.empty())
        detail::load_failed(file_name, "a Docker/OCI profile is one policy: it takes no filter name");
      oci_options o{.file_name = file_name};
      if (options.capabilities) o.capabilities = *options.capabilities;
      o.kernel = options.kernel;
      if (!options.targets.empty()) o.host = options.targets.front();
      oci_profile p = load_oci_profile(text, o);
      out.notes = std::move(p.notes);
      out.flags = p.flags.seccomp_flags();
      out.policy = std::move(p.policy);
      break;
    }
    case policy_kind::bpf:
      if (!options.filter.empty()) detail::load_failed(file_name, "a raw BPF program takes no filter name");
      out.raw = read_bpf(text, file_name);
      out.abis = options.targets.empty() ? detail::abis_checked(out.raw) : options.targets;
      break;
    case policy_kind::kafel:
      if (!options.filter.empty()) detail::load_failed(file_name, "a kafel policy is one policy: it takes no filter name");
      out.policy = kafel_policy(text, file_name,
                                options.targets.empty() ? std::vector<arch::target>{arch::native::value} : options.targets);
      break;
    case policy_kind::automatic:
      break;
  }
  return out;
}

// `read_policy_file` is the bytes of file `path`, or a policy_error naming it (as `shown_as` when
// given: a build names the file as its CMakeLists.txt does).
inline std::string read_policy_file(const std::string& path, const std::string& shown_as = {}) {
  const std::string& name = shown_as.empty() ? path : shown_as;
  std::ifstream in(path, std::ios::binary);
  if (!in) detail::load_failed(name, std::string("cannot be opened: ") + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) detail::load_failed(name, std::string("cannot be read: ") + std::strerror(errno));
  return text;
}

// `load_policy_file` reads and compiles the policy file at `path` (see load_policy).
inline loaded_policy load_policy_file(const std::string& path, const load_options& options = {}) {
  return load_policy(read_policy_file(path), path, options);
}

}  // namespace sysfence
