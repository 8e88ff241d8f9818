// SPDX-License-Identifier: MIT
// user_guide_isolate.cpp - extrasafe's examples/user_guide_isolate.rs in sysfence: a function run
// in an isolate that sees one directory of the host, on a 1 MiB root.
#include <sysfence/isolate.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view example_isolate = "user guide isolate";

// `do_cool_thing` is the function that ultimately runs inside the isolate.
void do_cool_thing() {
  std::printf("I'm going to read some files from /cooldir and do cool stuff with it!\n");
  // Only /cooldir (the host's COOL_DIRECTORY) is there; the rest of the host is not.
  std::printf("/cooldir is %s, /etc/hostname is %s\n",
              std::filesystem::exists("/cooldir") ? "there" : "missing",
              std::filesystem::exists("/etc/hostname") ? "there" : "out of sight");
}

// `setup_isolate` configures the isolate when the program is re-executed by isolate::run.
sysfence::isolate setup_isolate(std::string_view name) {
  const char* path = std::getenv("COOL_DIRECTORY");
  return sysfence::isolate(name, do_cool_thing)
      // This mounts the host's COOL_DIRECTORY on /cooldir in the isolate, but not until after
      // entering the namespaces.
      .add_bind_mount(path != nullptr ? path : "", "/cooldir")
      // Limit the amount of data that can be written to the filesystem the isolate lives in.
      .set_rootfs_size(1);
}

}  // namespace

int main() {
  // Once isolate::run is called, this runs the setup function, enters the namespaces and calls
  // the function given. The first time the program runs, it returns at once.
  sysfence::isolate::main_hook(example_isolate, setup_isolate);

  // ... somewhere later in the program
  const std::map<std::string, std::string> env_vars{{"COOL_DIRECTORY", "/usr"}};

  // isolate::run returns an isolate_output: status, out, err (extrasafe's std::process::Output).
  const sysfence::isolate_output output = sysfence::isolate::run(example_isolate, env_vars);
  if (!output.status.success()) {
    std::fprintf(stderr, "the isolate failed (status %d):\n%s", output.status.wait_status,
                 output.err.c_str());
    return 1;
  }
  std::printf("stdout: %s", output.out.c_str());
}
