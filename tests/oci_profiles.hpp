// SPDX-License-Identifier: MIT
// oci_profiles.hpp - Docker's default seccomp profile and moby's fixtures, as the OCI tests read
// them (golang-github-docker-docker-dev; SYSFENCE_DOCKER_PROFILES names the folder).
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include <doctest/doctest.h>

namespace oci_test {

// `profile_text` is the file `name` of the profiles folder ("default.json", "fixtures/example.json");
// a missing file fails the test, naming the package.
inline std::string profile_text(const std::string& name) {
  const std::string path = std::string(SYSFENCE_DOCKER_PROFILES) + "/" + name;
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), path << " is missing (apt-get install golang-github-docker-docker-dev)");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace oci_test
