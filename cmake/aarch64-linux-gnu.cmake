# SPDX-License-Identifier: MIT
# aarch64-linux-gnu.cmake - toolchain file: cross-build for 64-bit Arm Linux with Debian's
# g++-aarch64-linux-gnu; CTest runs the binaries under qemu-user (qemu-user-static).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# -L: the dynamic loader and libraries come from the cross toolchain's libc6-arm64-cross.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static -L /usr/aarch64-linux-gnu)

# Libraries only from the aarch64 tree: the host's x86_64 ones must not be linked.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
# Headers and package configs also from the host: doctest's and Boost's are header-only and the same
# on every architecture. Debian's cross compiler searches /usr/include last, after its own
# /usr/aarch64-linux-gnu/include, so the host's glibc and kernel headers never stand in for the
# target's; CMake reads that order from the compiler and leaves /usr/include off the command line.
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# pkg-config must not answer with the host's x86_64 libraries (libseccomp-dev:amd64).
set(ENV{PKG_CONFIG_LIBDIR} /usr/aarch64-linux-gnu/lib/pkgconfig:/usr/lib/aarch64-linux-gnu/pkgconfig)
