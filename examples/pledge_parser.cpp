// SPDX-License-Identifier: MIT
// pledge_parser.cpp - seccomp-scopes' multimedia example, ported: a parser opens its input and
// output files, then pledges "stdio" before it looks at the (untrusted) data. From then on it can
// read, write and allocate; anything else ends the process with SIGSYS.
//
//   pledge_parser IN.pgm OUT.txt [--attack] [--report] [--compile-time]
//
// It reads a binary PGM image (P5), writes its size and mean grey level to OUT.txt and stdout.
// --attack: after pledging, the "compromised" parser tries to open /etc/passwd (killed: SIGSYS).
// --report: violations are trapped and reported on stderr by name, then end the process by SIGSYS.
// --compile-time: the same promises as a constant program, sysfence::pledged<"stdio">.
#include <sysfence/promises.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace {

// `read_all` reads a descriptor to its end into memory that grows (malloc: brk and mmap).
std::vector<unsigned char> read_all(int fd) {
  std::vector<unsigned char> data;
  unsigned char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    data.insert(data.end(), buffer, buffer + n);
  }
  return data;
}

// `parse_pgm` reads "P5 W H MAX" and W*H bytes; returns false for anything else.
bool parse_pgm(const std::vector<unsigned char>& data, unsigned& width, unsigned& height, double& mean) {
  std::size_t at = 0;
  auto number = [&](unsigned& out) {
    while (at < data.size() && (data[at] == ' ' || data[at] == '\n' || data[at] == '\t' || data[at] == '\r'))
      ++at;
    if (at >= data.size() || data[at] < '0' || data[at] > '9') return false;
    out = 0;
    while (at < data.size() && data[at] >= '0' && data[at] <= '9' && out < 100000)
      out = out * 10 + (data[at++] - '0');
    return true;
  };
  unsigned max = 0;
  if (data.size() < 2 || data[0] != 'P' || data[1] != '5') return false;
  at = 2;
  if (!number(width) || !number(height) || !number(max) || max == 0 || max > 255) return false;
  ++at;  // the one whitespace byte before the pixels
  const std::size_t pixels = std::size_t{width} * height;
  if (pixels == 0 || data.size() < at + pixels) return false;
  double sum = 0;
  for (std::size_t i = 0; i < pixels; ++i) sum += data[at + i];
  mean = sum / static_cast<double>(pixels);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool attack = false, report = false, compile_time = false;
  std::vector<const char*> files;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--attack")
      attack = true;
    else if (a == "--report")
      report = true;
    else if (a == "--compile-time")
      compile_time = true;
    else
      files.push_back(argv[i]);
  }
  if (files.size() != 2) {
    std::fprintf(stderr, "usage: pledge_parser IN.pgm OUT.txt [--attack] [--report] [--compile-time]\n");
    return 2;
  }
  // Open a bunch of files...
  const int in = ::open(files[0], O_RDONLY | O_CLOEXEC);
  const int out = ::open(files[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (in < 0 || out < 0) {
    std::perror("pledge_parser: open");
    return 1;
  }
  // ...then pledge "stdio": from here on only I/O on these descriptors, memory and exiting.
  if (compile_time) {
    sysfence::pledged<"stdio">{}.apply_to_all_threads();
  } else {
    sysfence::pledge("stdio", report ? sysfence::action::trap() : sysfence::action::kill_process);
  }
  std::printf("pledge_parser: pledged \"stdio\"\n");
  std::fflush(stdout);

  const std::vector<unsigned char> data = read_all(in);
  unsigned width = 0, height = 0;
  double mean = 0;
  if (!parse_pgm(data, width, height, mean)) {
    std::fprintf(stderr, "pledge_parser: %s: not a binary PGM image\n", files[0]);
    return 1;
  }
  if (attack) {
    // What an exploit in the parser would try: read another file. The filter ends the process.
    std::printf("pledge_parser: trying to open /etc/passwd\n");
    std::fflush(stdout);
    const int fd = ::open("/etc/passwd", O_RDONLY);
    std::printf("pledge_parser: open returned %d: the pledge did not hold\n", fd);
    return 3;
  }
  char line[128];
  const int n = std::snprintf(line, sizeof line, "%ux%u pixels, mean grey %.2f\n", width, height, mean);
  (void)::write(out, line, static_cast<std::size_t>(n));
  std::printf("pledge_parser: %s", line);
  return 0;
}
