// SPDX-License-Identifier: MIT
// runc_peer.hpp - a Docker/OCI seccomp profile given to libseccomp the way dockerd and runc give
// it: dockerd's resolution (moby profiles/seccomp/seccomp_linux.go, setupSeccomp: the host's
// archMap entry, includes and excludes by arches, capabilities and minKernel), then runc's
// (libcontainer/seccomp/seccomp_linux.go: unknown names skipped, rules whose action is the
// default skipped, conditions on one argument index split into one rule each). Written apart
// from sysfence's reader (formats/oci.hpp), so that comparing the two programs checks both; used
// by tests/oci_libseccomp.cpp and the benchmarks. Host: amd64 (x86_64). Left out, as they do not
// change the program: runc's -ENOSYS stub for numbers above the profile's (patchbpf), flags, the
// notification listener.
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <seccomp.h>

namespace runc_peer {

using nlohmann::json;

// `rule` is a syscalls[] entry as runc adds it: names, action, conditions (alternatives if split).
struct rule {
  std::vector<std::string> names;
  std::uint32_t action = 0;
  std::vector<scmp_arg_cmp> conditions;
  bool split = false;
};

// `profile` is a profile as dockerd hands it to runc: resolved for one container.
struct profile {
  std::uint32_t default_action = 0;
  std::vector<std::uint32_t> arches;  // SCMP_ARCH_* beyond the native one
  std::vector<rule> rules;
};

namespace detail {

inline std::uint32_t action(const std::string& name, const json& where, const char* errno_key) {
  const auto ret = where.contains(errno_key) ? where.at(errno_key).get<std::uint32_t>() : std::uint32_t{EPERM};
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(ret);
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(ret);
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY") return SCMP_ACT_NOTIFY;
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  throw std::invalid_argument("unknown action " + name);
}

inline scmp_compare op(const std::string& name) {
  if (name == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (name == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (name == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (name == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
  if (name == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (name == "SCMP_CMP_GT") return SCMP_CMP_GT;
  if (name == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
  throw std::invalid_argument("unknown op " + name);
}

// `arch` is an x86 architecture's token; 0 for the others, which an amd64 host's program leaves
// out of the comparison.
inline std::uint32_t arch(const std::string& name) {
  if (name == "SCMP_ARCH_X86_64") return SCMP_ARCH_X86_64;
  if (name == "SCMP_ARCH_X86") return SCMP_ARCH_X86;
  if (name == "SCMP_ARCH_X32") return SCMP_ARCH_X32;
  return 0;
}

inline bool listed(const json& gate, const char* key, const std::string& what) {
  if (!gate.contains(key) || gate.at(key).is_null()) return false;
  for (const json& x : gate.at(key))
    if (x.get<std::string>() == what) return true;
  return false;
}

inline bool kernel_at_least(const json& gate, unsigned major, unsigned minor) {
  const std::string v = gate.at("minKernel").get<std::string>();
  const auto want_major = static_cast<unsigned>(std::stoul(v.substr(0, v.find('.'))));
  const auto want_minor = static_cast<unsigned>(std::stoul(v.substr(v.find('.') + 1)));
  return major > want_major || (major == want_major && minor >= want_minor);
}

// `gate` is an entry's includes or excludes, {} when absent or null.
inline const json& gate(const json& entry, const char* key) {
  static const json none = json::object();
  return entry.contains(key) && !entry.at(key).is_null() ? entry.at(key) : none;
}

}  // namespace detail

// `resolve` is dockerd's and runc's reading of a profile for an amd64 container with bounding
// set `caps` on kernel major.minor. Throws on what runc would refuse (an unknown action or op) and
// on malformed JSON.
inline profile resolve(std::string_view text, const std::vector<std::string>& caps, unsigned major,
                       unsigned minor) {
  const json p = json::parse(text);
  profile out;
  out.default_action = detail::action(p.at("defaultAction").get<std::string>(), p, "defaultErrnoRet");
  std::vector<std::string> arches;
  if (p.contains("architectures"))
    for (const json& a : p.at("architectures")) arches.push_back(a.get<std::string>());
  if (p.contains("archMap"))
    for (const json& e : p.at("archMap"))
      if (e.at("architecture") == "SCMP_ARCH_X86_64")
        for (const json& a : e.at("subArchitectures")) arches.push_back(a.get<std::string>());
  for (const std::string& a : arches)
    if (const std::uint32_t token = detail::arch(a); token != 0 && token != SCMP_ARCH_X86_64)
      out.arches.push_back(token);
  for (const json& entry : p.value("syscalls", json::array())) {
    // moby setupSeccomp, host amd64.
    const json& in = detail::gate(entry, "includes");
    const json& ex = detail::gate(entry, "excludes");
    bool keep = !detail::listed(ex, "arches", "amd64");
    for (const std::string& c : caps) keep = keep && !detail::listed(ex, "caps", c);
    if (ex.contains("minKernel") && detail::kernel_at_least(ex, major, minor)) keep = false;
    if (in.contains("arches") && !detail::listed(in, "arches", "amd64")) keep = false;
    if (in.contains("caps"))
      for (const json& c : in.at("caps"))
        keep = keep && std::find(caps.begin(), caps.end(), c.get<std::string>()) != caps.end();
    if (in.contains("minKernel") && !detail::kernel_at_least(in, major, minor)) keep = false;
    if (!keep) continue;
    // runc matchCall: a rule doing what the default does is skipped; conditions repeating an
    // index are split, every one its own rule ("revert to old behavior").
    rule r;
    r.action = detail::action(entry.at("action").get<std::string>(), entry, "errnoRet");
    if (r.action == out.default_action) continue;
    if (entry.contains("name")) r.names.push_back(entry.at("name").get<std::string>());
    if (entry.contains("names"))
      for (const json& n : entry.at("names")) r.names.push_back(n.get<std::string>());
    std::array<int, 6> per_index{};
    if (entry.contains("args") && !entry.at("args").is_null())
      for (const json& a : entry.at("args")) {
        const auto index = a.at("index").get<unsigned>();
        r.split = r.split || ++per_index.at(index) > 1;
        r.conditions.push_back({index, detail::op(a.at("op").get<std::string>()), a.at("value").get<std::uint64_t>(),
                                a.value("valueTwo", std::uint64_t{0})});
      }
    out.rules.push_back(std::move(r));
  }
  return out;
}

// `built` is a resolved profile as a libseccomp filter: null, or the first error of
// seccomp_rule_add (runc then fails the container); the names libseccomp does not know.
struct built {
  scmp_filter_ctx ctx = nullptr;
  int error = 0;
  std::set<std::string> unknown_names;

  built() = default;
  built(const built&) = delete;
  built& operator=(const built&) = delete;
  ~built() {
    if (ctx != nullptr) seccomp_release(ctx);
  }
};

// `build` makes the libseccomp filter of a resolved profile, as runc does.
inline void build(const profile& p, built& out) {
  out.ctx = seccomp_init(p.default_action);
  if (out.ctx == nullptr) {
    out.error = -ENOMEM;
    return;
  }
  for (const std::uint32_t a : p.arches)
    if (const int rc = seccomp_arch_add(out.ctx, a); rc != 0 && out.error == 0) out.error = rc;
  for (const rule& r : p.rules)
    for (const std::string& name : r.names) {
      const int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {  // runc: "unknown seccomp syscall ignored"
        out.unknown_names.insert(name);
        continue;
      }
      auto add = [&](unsigned count, const scmp_arg_cmp* c) {
        const int rc = seccomp_rule_add_array(out.ctx, r.action, nr, count, c);
        if (rc != 0 && out.error == 0) out.error = rc;
      };
      if (r.split)
        for (const scmp_arg_cmp& c : r.conditions) add(1, &c);
      else
        add(static_cast<unsigned>(r.conditions.size()), r.conditions.data());
    }
}

}  // namespace runc_peer
