// SPDX-License-Identifier: MIT
// sysfence_policy.cpp - the generator behind sysfence_add_policy (cmake/sysfence_add_policy.cmake):
// reads a policy file, compiles it with the run-time front end, and writes a header holding the
// program as a constexpr sysfence::prebuilt_policy. A bad file prints the front end's error and
// exits 1, so the build fails with the run-time error text.
//
//   sysfence_policy --format seccompiler|oci|kafel --input FILE --file-name NAME_IN_MESSAGES --output HEADER
//                   --namespace NS [--filter NAME] [--arch ABI]... [--option KEY=VALUE]...
#include <sysfence/formats/load.hpp>
#include <sysfence/formats/oci.hpp>
#include <sysfence/formats/seccompiler.hpp>
#include <sysfence/formats/write.hpp>
#include <sysfence/kafel.hpp>
#include <sysfence/runtime_policy.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

// `request` is the command line: what to read, how, and where to write.
struct request {
  std::string format;
  std::string input;
  std::string file_name;  // the file as messages and the banner name it
  std::string output;
  std::string name_space;
  std::string filter;
  std::vector<sysfence::arch::target> targets;               // empty: the generator's own ABI
  std::vector<std::pair<std::string, std::string>> options;  // --option KEY=VALUE, format-specific
};

// `usage_error` is a wrong command line (exit status 2), as opposed to a bad policy file (1).
struct usage_error {
  std::string message;
};

// `abi_named` is the ABI ARCH names (formats/load.hpp's find_abi), or a usage error listing them.
sysfence::arch::target abi_named(std::string_view name) {
  if (const auto t = sysfence::find_abi(name)) return *t;
  std::string m = "unknown ARCH \"";
  m += name;
  m += "\" (known:";
  for (const sysfence::arch::target& t : sysfence::known_abis) {
    m += ' ';
    m += t.name;
  }
  m += ')';
  throw usage_error{m};
}

// `text_flags` are the flags that set one string of the request.
constexpr std::pair<std::string_view, std::string request::*> text_flags[] = {
    {"--format", &request::format},        {"--input", &request::input},
    {"--file-name", &request::file_name},  {"--output", &request::output},
    {"--namespace", &request::name_space}, {"--filter", &request::filter},
};

request read_command_line(std::span<char*> args) {
  request r;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view flag = args[i];
    if (i + 1 == args.size()) throw usage_error{std::string(flag) + " needs a value"};
    const std::string value = args[++i];
    bool known = false;
    for (const auto& [name, member] : text_flags)
      if (flag == name) {
        r.*member = value;
        known = true;
      }
    if (known) continue;
    if (flag == "--arch") {
      r.targets.push_back(abi_named(value));
    } else if (flag == "--option") {
      const auto eq = value.find('=');
      if (eq == std::string::npos) throw usage_error{"--option takes KEY=VALUE, not " + value};
      r.options.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else {
      throw usage_error{"unknown flag " + std::string(flag)};
    }
  }
  if (r.input.empty() || r.output.empty() || r.name_space.empty())
    throw usage_error{"--input, --output and --namespace are required"};
  if (r.file_name.empty()) r.file_name = r.input;
  if (r.targets.empty()) r.targets.push_back(sysfence::arch::native::value);
  return r;
}

// --- one function per FORMAT: the file's text to a compiled policy --------------------------------

// `loaded` is what a format's loader gives the header: the policy, the notes on what it skipped or
// resolved (written into the header as comments), and the seccomp() flags the file asks for.
struct loaded {
  sysfence::runtime_policy policy;
  std::vector<std::string> notes;
  unsigned long flags = 0;
};

loaded load_seccompiler(std::string_view text, const request& r) {
  if (!r.options.empty())
    throw usage_error{"FORMAT seccompiler takes no OPTIONS (found " + r.options[0].first + ")"};
  if (r.filter.empty())
    throw usage_error{"FORMAT seccompiler needs FILTER (the name of one filter of the file)"};
  return {sysfence::load_seccompiler_json(text, r.filter, {r.file_name, r.targets}), {}, 0};
}

// `list` splits "A,B,C" (empty items dropped).
std::vector<std::string> list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    if (const std::string_view item = text.substr(0, comma); !item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// FORMAT oci: a Docker, Podman or OCI profile, resolved at build time for the container the
// program will run as. OPTIONS: kernel=MAJOR.MINOR (required: minKernel gates are decided here,
// and the build machine's kernel is not the one the program meets), caps=CAP_A,CAP_B (the bounding
// set; default Docker's 14), cap_add=... and cap_drop=... (as docker run's flags). One ARCH, the
// host: the profile's archMap entry for it gives the program's ABIs.
loaded load_oci(std::string_view text, const request& r) {
  if (!r.filter.empty()) throw usage_error{"FORMAT oci takes no FILTER (a profile is one policy)"};
  if (r.targets.size() != 1)
    throw usage_error{"FORMAT oci takes one ARCH, the host's (the profile's archMap gives the ABIs)"};
  sysfence::oci_options o{.file_name = r.file_name, .host = r.targets[0]};
  bool kernel_given = false;
  for (const auto& [key, value] : r.options) {
    if (key == "kernel") {
      unsigned major = 0, minor = 0;
      char end = 0;
      if (std::sscanf(value.c_str(), "%u.%u%c", &major, &minor, &end) != 2)
        throw usage_error{"OPTIONS kernel=" + value + ": expected MAJOR.MINOR, as 5.15"};
      o.kernel = sysfence::kernel_version{major, minor};
      kernel_given = true;
    } else if (key == "caps") {
      o.capabilities = list(value);
    } else if (key == "cap_add") {
      for (std::string& c : list(value)) o.capabilities.push_back(std::move(c));
    } else if (key == "cap_drop") {
      for (const std::string& c : list(value)) std::erase(o.capabilities, c);
    } else {
      throw usage_error{"FORMAT oci: unknown OPTIONS key \"" + key + "\" (known: kernel, caps, cap_add, cap_drop)"};
    }
  }
  if (!kernel_given)
    throw usage_error{
        "FORMAT oci needs OPTIONS kernel=MAJOR.MINOR, the oldest kernel the program will run on (minKernel "
        "gates are resolved at build time)"};
  sysfence::oci_profile p = sysfence::load_oci_profile(text, o);
  std::string caps;
  for (const std::string& c : o.capabilities) caps += (caps.empty() ? "" : ",") + c;
  p.notes.insert(p.notes.begin(), "resolved for kernel " + std::to_string(o.kernel->major) + "." +
                                      std::to_string(o.kernel->minor) + ", capabilities " +
                                      (caps.empty() ? std::string("none") : caps));
  return {std::move(p.policy), std::move(p.notes), p.flags.seccomp_flags()};
}

// FORMAT kafel: a kafel policy (nsjail's seccomp language; first match wins), for every ARCH; the
// first ARCH decides the syscall names, as in `sysfence run --kafel`.
loaded load_kafel(std::string_view text, const request& r) {
  if (!r.filter.empty()) throw usage_error{"FORMAT kafel takes no FILTER (a kafel file is one policy)"};
  if (!r.options.empty()) throw usage_error{"FORMAT kafel takes no OPTIONS (found " + r.options[0].first + ")"};
  return {sysfence::kafel_policy(text, r.file_name, r.targets), {}, 0};
}

// `formats` is the dispatch point: FORMAT's name and its loader. A format is one row here plus its
// loader above, which reads its options from r.options (KEY=VALUE, sysfence_add_policy's OPTIONS).
struct format_loader {
  std::string_view name;
  loaded (*load)(std::string_view text, const request& r);
};
constexpr format_loader formats[] = {
    {"seccompiler", load_seccompiler},
    {"oci", load_oci},
    {"kafel", load_kafel},
};

loaded load(std::string_view text, const request& r) {
  std::string known;
  for (const format_loader& f : formats) {
    if (f.name == r.format) return f.load(text, r);
    known += ' ';
    known += f.name;
  }
  throw usage_error{"unknown FORMAT \"" + r.format + "\" (known:" + known + ")"};
}

// --- the header ----------------------------------------------------------------------------------

// `header` is the generated header (formats/write.hpp's prebuilt_header, shared with `sysfence
// compile --header`).
std::string header(const request& r, const loaded& file) {
  return sysfence::prebuilt_header(file.policy.program(), file.policy.targets(), file.policy.explain(), file.notes,
                                   file.flags, {"sysfence_add_policy", r.file_name, r.filter, r.name_space});
}

// `write_if_changed` leaves an up-to-date header untouched, so what includes it is not rebuilt.
void write_if_changed(const std::string& path, const std::string& content) {
  {
    std::ifstream old(path, std::ios::binary);
    const std::string before((std::istreambuf_iterator<char>(old)), std::istreambuf_iterator<char>());
    if (old && before == content) return;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out.flush()) throw usage_error{"cannot write " + path + ": " + std::strerror(errno)};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const request r = read_command_line(std::span<char*>(argv + 1, static_cast<std::size_t>(argc - 1)));
    const loaded file = load(sysfence::read_policy_file(r.input, r.file_name), r);
    write_if_changed(r.output, header(r, file));
    return 0;
  } catch (const sysfence::policy_error& e) {
    std::cerr << e.what() << '\n';
    return 1;
  } catch (const usage_error& e) {
    std::cerr << "sysfence_policy: " << e.message << '\n';
    return 2;
  }
}
