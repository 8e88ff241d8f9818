// SPDX-License-Identifier: MIT
// load.cpp - tests of formats/load.hpp: each kind detected and loaded, raw BPF read back, bad
// files named in the error; and formats/write.hpp's outputs.
#include "sysfence/formats/load.hpp"

#include <string>

#include <doctest/doctest.h>

#include "sysfence/formats/write.hpp"
#include "sysfence/simulate.hpp"

using namespace sysfence;

namespace {

constexpr std::string_view one_filter = R"({"main": {"mismatch_action": {"errno": 1}, "match_action": "allow",
  "filter": [{"syscall": "read"}, {"syscall": "write", "args": [{"index": 0, "type": "dword", "op": "eq", "val": 1}]}]}})";
constexpr std::string_view two_filters = R"({"a": {"mismatch_action": "kill_process", "match_action": "allow", "filter": []},
  "b": {"mismatch_action": "kill_process", "match_action": "allow", "filter": [{"syscall": "getpid"}]}})";
constexpr std::string_view profile = R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})";

std::string error_of(std::string_view text, std::string_view name, const load_options& o = {}) {
  try {
    load_policy(text, name, o);
  } catch (const policy_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("the kind is told by the name (.bpf) or the JSON's shape") {
  CHECK(detect_policy_kind(one_filter, "p.json") == policy_kind::seccompiler);
  CHECK(detect_policy_kind(profile, "p.json") == policy_kind::oci);
  CHECK(detect_policy_kind("anything", "p.bpf") == policy_kind::bpf);
  CHECK(error_of("[1]", "list.json").find("list.json: a policy file is a JSON object") != std::string::npos);
  CHECK(error_of("{oops", "broken.json").find("broken.json") != std::string::npos);
}

TEST_CASE("seccompiler: the only filter needs no name; of several, one must be named") {
  const loaded_policy p = load_policy(one_filter, "one.json");
  CHECK(p.kind == policy_kind::seccompiler);
  CHECK(p.filter == "main");
  CHECK(evaluate(p.program(), call(sys::id::write, 1)) == action::allow);
  CHECK(evaluate(p.program(), call(sys::id::write, 2)) == action::error(1));
  CHECK(error_of(two_filters, "two.json") ==
        "sysfence: two.json: the file has 2 filters; name one with --filter (\"a\", \"b\")");
  load_options o;
  o.filter = "b";
  CHECK(evaluate(load_policy(two_filters, "two.json", o).program(), call(sys::id::getpid)) == action::allow);
}

TEST_CASE("OCI: the profile resolved for the capabilities given") {
  const loaded_policy p = load_policy(profile, "docker.json");
  CHECK(p.kind == policy_kind::oci);
  CHECK(evaluate(p.program(), call(sys::id::read)) == action::allow);
  CHECK(evaluate(p.program(), call(sys::id::write)) == action::error(1));
  load_options o;
  o.filter = "x";
  CHECK(error_of(profile, "docker.json", o).find("docker.json: a Docker/OCI profile is one policy") !=
        std::string::npos);
}

TEST_CASE("raw BPF: written and read back, ABIs found in the program; bad bytes named") {
  load_options o;
  o.targets = {arch::x86_64::value, arch::x86::value};
  const loaded_policy p = load_policy(one_filter, "one.json", o);
  const std::string bytes = bpf_bytes(p.program());
  CHECK(bytes.size() == 8 * p.program().size());
  const loaded_policy r = load_policy(bytes, "one.bpf");
  CHECK(r.kind == policy_kind::bpf);
  REQUIRE(r.program().size() == p.program().size());
  for (std::size_t i = 0; i < r.program().size(); ++i) CHECK(bpf::same(r.program()[i], p.program()[i]));
  REQUIRE(r.targets().size() == 3);  // x86_64's audit value stands for x86_64 and x32 too
  CHECK(r.targets()[0].name == "x86_64");
  CHECK(r.targets()[1].name == "x32");
  CHECK(r.targets()[2].name == "x86");
  CHECK(error_of(bytes.substr(0, 12), "cut.bpf") ==
        "sysfence: cut.bpf: 12 bytes is not a whole number of 8-byte BPF instructions (struct sock_filter)");
  CHECK(error_of("", "empty.bpf") == "sysfence: empty.bpf: an empty file is no BPF program");
  std::string no_ret = bytes.substr(0, 8);  // ld arch, then nothing
  CHECK(error_of(no_ret, "short.bpf").find("short.bpf: the kernel would refuse this BPF program") != std::string::npos);
}

TEST_CASE("a missing file is named") {
  try {
    load_policy_file("/nonexistent/policy.json");
    FAIL("no error");
  } catch (const policy_error& e) {
    CHECK(std::string(e.what()) == "sysfence: /nonexistent/policy.json: cannot be opened: No such file or directory");
  }
}

TEST_CASE("with_default_action compiles the same rules with another default") {
  const loaded_policy p = load_policy(one_filter, "one.json");
  const runtime_policy k = with_default_action(*p.policy, action::kill_process);
  CHECK(evaluate(k.program(), call(sys::id::read)) == action::allow);
  CHECK(evaluate(k.program(), call(sys::id::write, 2)) == action::kill_process);
}

TEST_CASE("write.hpp: the header holds the program; the JSON lists instructions and jump targets") {
  const loaded_policy p = load_policy(one_filter, "one.json");
  const std::string h = prebuilt_header(p.program(), p.targets(), p.policy->explain(), p.notes, 0,
                                        {"sysfence compile", "one.json", "main", "one"});
  CHECK(h.find("// GENERATED by sysfence compile from one.json (filter \"main\", ABIs ") == 0);
  CHECK(h.find("inline constexpr sysfence::prebuilt_policy<" + std::to_string(p.program().size()) + ", 1> policy") !=
        std::string::npos);
  CHECK(h.find("//     allow read") != std::string::npos);
  const std::string j = program_json(p.program(), p.targets(), p.notes, 0);
  CHECK(j.find("{\"index\": 0, \"code\": 32, \"jt\": 0, \"jf\": 0, \"k\": 4, \"text\": \"ld  $data[4]") !=
        std::string::npos);
  CHECK(j.find("\"true\": ") != std::string::npos);
}
