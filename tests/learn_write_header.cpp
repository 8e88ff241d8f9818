// SPDX-License-Identifier: MIT
// learn_write_header.cpp - writes learned_header(learn_fixture::script()) to argv[1], at build
// time, for tests/learn_header.cpp to include: the header the writer makes must compile.
#include <cstdio>
#include <string>

#include "learn_fixture.hpp"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string text = sysfence::learned_header(learn_fixture::script(), {"script", "learned"});
  std::FILE* f = std::fopen(argv[1], "w");
  if (f == nullptr) return 1;
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok ? 0 : 1;
}
