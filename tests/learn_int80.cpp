// SPDX-License-Identifier: MIT
// learn_int80.cpp - a program for tests/learn_kernel.cpp that makes one i386 syscall from a
// 64-bit process (getppid through int $0x80): learn records it with the x86 ABI.
#include <cstdio>

#include <unistd.h>

int main() {
  long r = 64;  // i386 getppid
  __asm__ __volatile__("int $0x80" : "+a"(r) : : "memory", "cc", "r8", "r9", "r10", "r11");
  std::printf("%s\n", r == ::getppid() ? "same parent" : "another parent");
  return r == ::getppid() ? 0 : 1;
}
