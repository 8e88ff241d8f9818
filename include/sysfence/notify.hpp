// SPDX-License-Identifier: MIT
// notify.hpp - user notification (seccomp_unotify(2)): a listener fd from installing, receiving
// a call of action::user_notif, answering it (value, errno, CONTINUE), adding fds to the caller,
// a supervisor loop, and handing the listener from a child to its parent over SCM_RIGHTS.
//
// Not a security boundary on its own: the supervisor reads the caller's memory after the caller
// could have changed it (time of check, time of use), and a call answered with CONTINUE runs as
// the caller asked. An answer is advice; enforcement is a filter that denies. Learning which
// syscalls a program makes (CONTINUE every call) is what this is for.
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sysfence/apply.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/bpf.hpp"
#include "sysfence/compile.hpp"
#include "sysfence/detail/program_methods.hpp"
#include "sysfence/dump.hpp"

namespace sysfence {

// `notify_step` is the step of user notification that failed.
enum class notify_step : std::uint8_t {
  none,
  sizes,             // SECCOMP_GET_NOTIF_SIZES failed, or the kernel's structures outgrew our buffers
  receive,           // SECCOMP_IOCTL_NOTIF_RECV
  respond,           // SECCOMP_IOCTL_NOTIF_SEND, or an answer the kernel cannot give (errno outside 1..4095)
  add_fd,            // SECCOMP_IOCTL_NOTIF_ADDFD
  poll,              // poll() on the listener
  send_listener,     // sendmsg(SCM_RIGHTS)
  receive_listener,  // recvmsg(SCM_RIGHTS), or no descriptor came
  read_memory,       // process_vm_readv of the caller, or its call went away meanwhile (ENOENT)
};

// `notify_status` is the outcome of a user-notification call: true when it worked.
struct notify_status {
  notify_step failed = notify_step::none;
  int error = 0;  // errno of the failed call

  explicit operator bool() const noexcept { return failed == notify_step::none; }
  // `target_gone` is true when the notification no longer exists (ENOENT): its caller was killed,
  // or a signal interrupted its call; nothing is wrong with the listener.
  [[nodiscard]] bool target_gone() const noexcept { return failed != notify_step::none && error == ENOENT; }
  // `interrupted` is true when a signal interrupted the supervisor's own call (EINTR).
  [[nodiscard]] bool interrupted() const noexcept { return failed != notify_step::none && error == EINTR; }

  // `what` says in words what failed.
  [[nodiscard]] std::string_view what() const noexcept {
    switch (failed) {
      case notify_step::none:
        return "sysfence: done";
      case notify_step::sizes:
        return "sysfence: SECCOMP_GET_NOTIF_SIZES failed, or the kernel's notification structures are "
               "larger than sysfence's buffers";
      case notify_step::receive:
        return "sysfence: SECCOMP_IOCTL_NOTIF_RECV failed (ENOENT: the call went away before it was read)";
      case notify_step::respond:
        return "sysfence: SECCOMP_IOCTL_NOTIF_SEND failed (ENOENT: the caller is gone), or the errno "
               "is outside 1..4095";
      case notify_step::add_fd:
        return "sysfence: SECCOMP_IOCTL_NOTIF_ADDFD failed (ENOENT: the caller is gone)";
      case notify_step::poll:
        return "sysfence: poll() on the listener failed";
      case notify_step::send_listener:
        return "sysfence: sendmsg(SCM_RIGHTS) of the listener failed";
      case notify_step::read_memory:
        return "sysfence: process_vm_readv of the caller failed, or the call went away while it was read "
               "(ENOENT: what was read may be another process's)";
      case notify_step::receive_listener:
        return "sysfence: recvmsg(SCM_RIGHTS) failed or brought no descriptor (ENOMSG)";
    }
    return "sysfence: unknown failure";
  }
};

// `notify_listener` owns a user-notification fd (the listener of a filter installed with
// SECCOMP_FILTER_FLAG_NEW_LISTENER) and closes it when destroyed.
class notify_listener {
 public:
  notify_listener() noexcept = default;
  explicit notify_listener(int fd) noexcept : fd_(fd) {}
  notify_listener(notify_listener&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  notify_listener& operator=(notify_listener&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  notify_listener(const notify_listener&) = delete;
  notify_listener& operator=(const notify_listener&) = delete;
  ~notify_listener() { reset(); }

  // `fd` is the descriptor, -1 when there is none.
  [[nodiscard]] int fd() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  // `release` gives up ownership: the caller closes the fd.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
  // `reset` closes the fd held, if any, and holds `fd` instead.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

namespace detail {

// The ABIs a notification can come from, named by the syscall tables sysfence has (x32 after
// x86_64: same audit value, numbers from bit 30).
inline constexpr std::array<arch::target, 5> notified_abis{
    arch::x86_64::value, arch::x32::value, arch::x86::value, arch::aarch64::value, arch::riscv64::value};

}  // namespace detail

// `notification` is one call the filter answered with action::user_notif, as the kernel reported it.
struct notification {
  std::uint64_t id = 0;    // the kernel's cookie: answers and id_valid name the call by it
  pid_t pid = 0;           // the calling thread, in the supervisor's pid namespace (0: not visible)
  std::uint32_t arch = 0;  // seccomp_data.arch (AUDIT_ARCH_*)
  std::int32_t nr = -1;    // seccomp_data.nr, in that ABI's numbers (x32: with bit 30)
  std::uint64_t instruction_pointer = 0;
  std::array<std::uint64_t, 6> args{};

  // `syscall_name` is the call's name in sysfence's tables, empty for a number they lack.
  [[nodiscard]] constexpr std::string_view syscall_name() const noexcept {
    return detail::syscall_name_for(detail::notified_abis, arch, static_cast<std::uint32_t>(nr));
  }
};

// `notif_sizes` is the kernel's sizes of its notification structures (SECCOMP_GET_NOTIF_SIZES).
struct notif_sizes {
  std::uint16_t notification = 0;  // struct seccomp_notif
  std::uint16_t response = 0;      // struct seccomp_notif_resp
  std::uint16_t data = 0;          // struct seccomp_data
  int error = 0;                   // errno of SECCOMP_GET_NOTIF_SIZES, 0 when it worked

  // `capacity` is the size of the stack buffers sysfence receives and answers in: room for a
  // kernel whose structures grew (their new fields are then not read).
  static constexpr std::size_t capacity = 256;
  // `fits` is true when the kernel answered and its structures fit sysfence's buffers.
  [[nodiscard]] bool fits() const noexcept {
    return error == 0 && notification <= capacity && response <= capacity && notification != 0 &&
           response != 0;
  }
};

// `query_notif_sizes` asks the kernel for its notification structures' sizes.
inline notif_sizes query_notif_sizes() noexcept {
  ::seccomp_notif_sizes s{};
  if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &s) != 0) return {0, 0, 0, errno};
  return {s.seccomp_notif, s.seccomp_notif_resp, s.seccomp_data, 0};
}

namespace detail {

// `kernel_notif_sizes` is query_notif_sizes(), asked once per process.
inline const notif_sizes& kernel_notif_sizes() noexcept {
  static const notif_sizes sizes = query_notif_sizes();
  return sizes;
}

inline notify_status sizes_status() noexcept {
  const notif_sizes& s = kernel_notif_sizes();
  if (s.fits()) return {};
  return {notify_step::sizes, s.error != 0 ? s.error : EOVERFLOW};
}

// `send_response` answers notification `id` in a zeroed buffer of the kernel's size.
inline notify_status send_response(const notify_listener& listener, std::uint64_t id, std::int64_t val,
                                   std::int32_t error, std::uint32_t flags) noexcept {
  if (const notify_status s = sizes_status(); !s) return s;
  ::seccomp_notif_resp resp{};
  resp.id = id;
  resp.val = val;
  resp.error = error;
  resp.flags = flags;
  alignas(::seccomp_notif_resp) std::array<unsigned char, notif_sizes::capacity> buffer{};
  std::memcpy(buffer.data(), &resp, sizeof resp);
  if (::ioctl(listener.fd(), SECCOMP_IOCTL_NOTIF_SEND, buffer.data()) != 0)
    return {notify_step::respond, errno};
  return {};
}

}  // namespace detail

// `try_receive` waits for the next notification and fills `out`; nothing is allocated. It
// blocks (poll the fd first not to). A failure with target_gone() (the call went away before it
// was read) or interrupted() (a signal) is worth trying again; supervise does.
inline notify_status try_receive(const notify_listener& listener, notification& out) noexcept {
  if (const notify_status s = detail::sizes_status(); !s) return s;
  // Zeroed, as the kernel requires, and as large as the kernel's structure.
  alignas(::seccomp_notif) std::array<unsigned char, notif_sizes::capacity> buffer{};
  if (::ioctl(listener.fd(), SECCOMP_IOCTL_NOTIF_RECV, buffer.data()) != 0)
    return {notify_step::receive, errno};
  ::seccomp_notif n{};
  std::memcpy(&n, buffer.data(), sizeof n);
  out.id = n.id;
  out.pid = static_cast<pid_t>(n.pid);
  out.arch = n.data.arch;
  out.nr = n.data.nr;
  out.instruction_pointer = n.data.instruction_pointer;
  for (std::size_t i = 0; i < out.args.size(); ++i) out.args[i] = n.data.args[i];
  return {};
}

// `respond_value` makes the call return `value` without running it. A value in -4095..-1 reads
// as an errno to libc; use respond_errno for that.
inline notify_status respond_value(const notify_listener& listener, const notification& n,
                                   std::int64_t value) noexcept {
  return detail::send_response(listener, n.id, value, 0, 0);
}

// `respond_errno` makes the call fail with `err` (1 to 4095) without running it.
inline notify_status respond_errno(const notify_listener& listener, const notification& n, int err) noexcept {
  if (err < 1 || err > 4095) return {notify_step::respond, EINVAL};
  return detail::send_response(listener, n.id, 0, -err, 0);
}

// `respond_continue` lets the kernel run the call as made (SECCOMP_USER_NOTIF_FLAG_CONTINUE, Linux
// 5.5). Advice, not enforcement: the caller may have changed the memory its arguments point to.
inline notify_status respond_continue(const notify_listener& listener, const notification& n) noexcept {
  return detail::send_response(listener, n.id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

// `id_valid` is true while the notification waits for an answer (its caller alive and still in
// the call): check it after reading the caller's memory and before trusting what was read.
inline bool id_valid(const notify_listener& listener, const notification& n) noexcept {
  std::uint64_t id = n.id;
  return ::ioctl(listener.fd(), SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

// `memory_read` is the outcome of reading a caller's memory: `size` bytes were read.
struct memory_read {
  notify_status status;
  std::size_t size = 0;
  explicit operator bool() const noexcept { return static_cast<bool>(status); }
};

// `read_caller_memory` copies out.size() bytes at `address` of the caller into `out`
// (process_vm_readv; needs ptrace access to it), then checks the call is still waiting
// (id_valid): else the pid may name another process by now, and ENOENT is returned. What was read
// may still change before the kernel reads it, if the call is answered with CONTINUE.
inline memory_read read_caller_memory(const notify_listener& listener, const notification& n,
                                      std::uint64_t address, std::span<std::byte> out) noexcept {
  ::iovec local{out.data(), out.size()};
  ::iovec remote{reinterpret_cast<void*>(static_cast<std::uintptr_t>(address)), out.size()};
  const ssize_t r = ::process_vm_readv(n.pid, &local, 1, &remote, 1, 0);
  if (r < 0) return {{notify_step::read_memory, errno}, 0};
  if (!id_valid(listener, n)) return {{notify_step::read_memory, ENOENT}, 0};
  if (static_cast<std::size_t>(r) != out.size())
    return {{notify_step::read_memory, EFAULT}, static_cast<std::size_t>(r)};
  return {{}, out.size()};
}

// `read_caller_string` copies the NUL-terminated string at `address` of the caller into `out`,
// terminated, and its length in `size` (without the NUL); a string that does not fit fails with
// ENAMETOOLONG, `out` holding its start. Read page by page, as a string may end before an unmapped
// page; then checked with id_valid as read_caller_memory is.
inline memory_read read_caller_string(const notify_listener& listener, const notification& n,
                                      std::uint64_t address, std::span<char> out) noexcept {
  if (out.empty()) return {{notify_step::read_memory, ENAMETOOLONG}, 0};
  constexpr std::uint64_t page = 4096;  // the smallest page size; a larger one only means more reads
  std::size_t size = 0;
  for (;;) {
    const std::size_t room = out.size() - 1 - size;
    if (room == 0) {
      out[size] = '\0';
      return {{notify_step::read_memory, ENAMETOOLONG}, size};
    }
    const std::size_t chunk = std::min<std::uint64_t>(room, page - (address + size) % page);
    ::iovec local{out.data() + size, chunk};
    ::iovec remote{reinterpret_cast<void*>(static_cast<std::uintptr_t>(address + size)), chunk};
    const ssize_t r = ::process_vm_readv(n.pid, &local, 1, &remote, 1, 0);
    if (r <= 0) {
      out[size] = '\0';
      return {{notify_step::read_memory, r < 0 ? errno : EFAULT}, size};
    }
    const std::string_view got(out.data() + size, static_cast<std::size_t>(r));
    if (const std::size_t end = got.find('\0'); end != std::string_view::npos) {
      size += end;
      break;
    }
    size += static_cast<std::size_t>(r);
  }
  if (!id_valid(listener, n)) return {{notify_step::read_memory, ENOENT}, 0};
  return {{}, size};
}

// `added_fd` is the outcome of adding a descriptor to a caller: `fd` is its number there.
struct added_fd {
  notify_status status;
  int fd = -1;
  explicit operator bool() const noexcept { return static_cast<bool>(status); }
};

namespace detail {

inline added_fd add_fd(const notify_listener& listener, const notification& n, int fd, int target_fd,
                       std::uint32_t flags, bool close_on_exec) noexcept {
  ::seccomp_notif_addfd addfd{};
  addfd.id = n.id;
  addfd.flags = flags;
  addfd.srcfd = static_cast<std::uint32_t>(fd);
  addfd.newfd = target_fd >= 0 ? static_cast<std::uint32_t>(target_fd) : 0;
  addfd.newfd_flags = close_on_exec ? O_CLOEXEC : 0;
  const int r = ::ioctl(listener.fd(), SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
  if (r < 0) return {{notify_step::add_fd, errno}, -1};
  return {{}, r};
}

}  // namespace detail

// `add_fd` puts a copy of `fd` in the caller's descriptor table at its lowest free number
// (SECCOMP_IOCTL_NOTIF_ADDFD, Linux 5.9); the call still waits for an answer.
inline added_fd add_fd(const notify_listener& listener, const notification& n, int fd,
                       bool close_on_exec = false) noexcept {
  return detail::add_fd(listener, n, fd, -1, 0, close_on_exec);
}

// `add_fd_at` is add_fd at number `target_fd`, replacing what is there (SECCOMP_ADDFD_FLAG_SETFD).
inline added_fd add_fd_at(const notify_listener& listener, const notification& n, int fd, int target_fd,
                          bool close_on_exec = false) noexcept {
  if (target_fd < 0) return {{notify_step::add_fd, EBADF}, -1};
  return detail::add_fd(listener, n, fd, target_fd, SECCOMP_ADDFD_FLAG_SETFD, close_on_exec);
}

// `respond_with_fd` adds `fd` to the caller and answers the call with its number, in one step
// (SECCOMP_ADDFD_FLAG_SEND, Linux 5.14): how a supervisor emulates open() or accept().
inline added_fd respond_with_fd(const notify_listener& listener, const notification& n, int fd,
                                bool close_on_exec = false) noexcept {
  return detail::add_fd(listener, n, fd, -1, SECCOMP_ADDFD_FLAG_SEND, close_on_exec);
}

// `notify_reply` is a supervisor handler's answer to a notification.
struct notify_reply {
  enum class kind : std::uint8_t { value, error, continue_call, answered };
  kind what = kind::continue_call;
  std::int64_t val = 0;
  int err = 0;

  // `value` makes the call return `v`.
  static constexpr notify_reply value(std::int64_t v) noexcept { return {kind::value, v, 0}; }
  // `error` makes the call fail with errno `e` (1 to 4095).
  static constexpr notify_reply error(int e) noexcept { return {kind::error, 0, e}; }
  // `continue_call` lets the kernel run the call (advice, not enforcement).
  static constexpr notify_reply continue_call() noexcept { return {kind::continue_call, 0, 0}; }
  // `answered` says the handler answered itself (respond_with_fd, ...) or leaves the call waiting.
  static constexpr notify_reply answered() noexcept { return {kind::answered, 0, 0}; }
};

// `respond` sends a handler's reply.
inline notify_status respond(const notify_listener& listener, const notification& n,
                             notify_reply r) noexcept {
  switch (r.what) {
    case notify_reply::kind::value:
      return respond_value(listener, n, r.val);
    case notify_reply::kind::error:
      return respond_errno(listener, n, r.err);
    case notify_reply::kind::continue_call:
      return respond_continue(listener, n);
    case notify_reply::kind::answered:
      return {};
  }
  return {notify_step::respond, EINVAL};
}

// `supervise` answers every notification with `handler`'s reply until no task uses the filter
// any more (the listener polls POLLHUP: on Linux 6.18 as soon as the last has exited, before it
// is reaped), or until `stop_fd` (if not -1: a pipe, an
// eventfd) is readable; then it returns a true status. `handler` is called as handler(notification)
// or handler(listener, notification) and returns a notify_reply. A call that went away before it
// was read or answered is skipped; signals are ignored; any other failure ends the loop and is
// returned, its call left waiting (answer it, or close the listener: calls waiting then fail with
// ENOSYS). Nothing is allocated here.
template <class Handler>
notify_status supervise(const notify_listener& listener, Handler&& handler, int stop_fd = -1) {
  constexpr bool with_listener = std::is_invocable_v<Handler&, const notify_listener&, const notification&>;
  static_assert(with_listener || std::is_invocable_v<Handler&, const notification&>,
                "sysfence: supervise's handler takes (const notification&) or (const notify_listener&, "
                "const notification&) and returns a notify_reply");
  for (;;) {
    // poll() skips an entry whose fd is negative: without stop_fd, only the listener counts.
    std::array<::pollfd, 2> p{::pollfd{listener.fd(), POLLIN, 0}, ::pollfd{stop_fd, POLLIN, 0}};
    if (::poll(p.data(), p.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return {notify_step::poll, errno};
    }
    if (p[1].revents != 0) return {};  // readable, or hung up: asked to stop
    if ((p[0].revents & POLLIN) != 0) {
      notification n;
      if (const notify_status s = try_receive(listener, n); !s) {
        if (s.target_gone() || s.interrupted()) continue;
        return s;
      }
      notify_reply reply;
      if constexpr (with_listener)
        reply = handler(listener, n);
      else
        reply = handler(n);
      if (const notify_status s = respond(listener, n, reply); !s && !s.target_gone()) return s;
      continue;
    }
    if ((p[0].revents & POLLHUP) != 0) return {};
    if ((p[0].revents & (POLLERR | POLLNVAL)) != 0) return {notify_step::poll, EBADF};
  }
}

namespace detail {

// `listener_message` is the one-byte SCM_RIGHTS message a listener travels in. It stays at one
// address (not copyable): learn.hpp's filter lets through exactly the sendmsg that sends it.
struct listener_message {
  char byte = 'L';
  ::iovec iov{};
  alignas(::cmsghdr) std::array<unsigned char, CMSG_SPACE(sizeof(int))> control{};
  ::msghdr msg{};

  listener_message() noexcept {
    iov = {&byte, 1};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    ::cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
  }
  listener_message(const listener_message&) = delete;
  listener_message& operator=(const listener_message&) = delete;

  // `send` sends `fd` over `socket` with `flags`, retrying on EINTR; 0 or the errno
  // (async-signal-safe: a child may send).
  int send(int socket, int fd, int flags) noexcept {
    std::memcpy(CMSG_DATA(CMSG_FIRSTHDR(&msg)), &fd, sizeof fd);
    for (;;) {
      if (::sendmsg(socket, &msg, flags) == 1) return 0;
      if (errno != EINTR) return errno;
    }
  }
};

}  // namespace detail

// `send_listener` sends a copy of the listener over a Unix socket (SCM_RIGHTS), with one byte of
// data. The sending thread's own filter must let sendmsg run (not notify it): nobody would answer.
inline notify_status send_listener(int socket, const notify_listener& listener) noexcept {
  detail::listener_message m;
  if (const int e = m.send(socket, listener.fd(), MSG_NOSIGNAL); e != 0) return {notify_step::send_listener, e};
  return {};
}

struct received_listener {
  notify_status status;
  notify_listener listener;
  explicit operator bool() const noexcept { return static_cast<bool>(status); }
};

// `receive_listener` receives a listener sent by send_listener (close-on-exec here). The peer
// closing the socket without sending one fails with ENOMSG.
inline received_listener receive_listener(int socket) noexcept {
  char byte = 0;
  ::iovec iov{&byte, 1};
  alignas(::cmsghdr) std::array<unsigned char, CMSG_SPACE(sizeof(int))> control{};
  ::msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  ssize_t r = 0;
  do {
    r = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return {{notify_step::receive_listener, errno}, {}};
  int fd = -1;
  for (::cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  if (fd < 0)
    return {{notify_step::receive_listener, (msg.msg_flags & MSG_CTRUNC) != 0 ? EMSGSIZE : ENOMSG}, {}};
  return {{}, notify_listener(fd)};
}

// `take_listener` copies descriptor `fd` of process `pid` (its listener) into this process with
// pidfd_getfd (Linux 5.6; needs ptrace access to it): the handoff without a socket.
inline received_listener take_listener(pid_t pid, int fd) noexcept {
  const long pidfd = ::syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) return {{notify_step::receive_listener, errno}, {}};
  const long copy = ::syscall(SYS_pidfd_getfd, static_cast<int>(pidfd), fd, 0);
  const int err = errno;
  ::close(static_cast<int>(pidfd));
  if (copy < 0) return {{notify_step::receive_listener, err}, {}};
  return {{}, notify_listener(static_cast<int>(copy))};
}

// `applied_listener` is the outcome of try_apply_with_listener: the listener when status is true.
struct applied_listener {
  apply_status status;
  notify_listener listener;
  explicit operator bool() const noexcept { return static_cast<bool>(status); }
};

// `try_apply_with_listener` installs a compiled program serving `targets` on the calling thread
// with SECCOMP_FILTER_FLAG_NEW_LISTENER (and `extra` flags, e.g. install_flag::wait_killable_recv)
// and returns the listener; nothing is allocated.
template <class... Flags>
applied_listener try_apply_with_listener(std::span<const bpf::insn> program,
                                         std::span<const arch::target> targets, Flags... extra) noexcept {
  static_assert((std::is_same_v<Flags, install_flag> && ...),
                "sysfence: try_apply_with_listener takes sysfence::install_flag values");
  const unsigned long flags =
      SECCOMP_FILTER_FLAG_NEW_LISTENER | (0UL | ... | static_cast<unsigned long>(extra));
  apply_status s = detail::apply_program(program, targets, detail::actions_returned(program), flags);
  const int fd = std::exchange(s.listener, -1);
  return {s, notify_listener(s ? fd : -1)};
}

// `try_apply_with_listener` installs a policy (typed, runtime_policy or prebuilt) on the calling
// thread with SECCOMP_FILTER_FLAG_NEW_LISTENER (and `extra` flags) and returns the listener.
template <class Policy, class... Flags>
applied_listener try_apply_with_listener(const Policy& policy, Flags... extra) noexcept {
  static_assert((std::is_same_v<Flags, install_flag> && ...),
                "sysfence: try_apply_with_listener takes sysfence::install_flag values");
  apply_status s;
  if constexpr (requires { policy.try_apply_to_current_thread(install_flag::new_listener, extra...); })
    s = policy.try_apply_to_current_thread(install_flag::new_listener, extra...);
  else
    s = policy.try_apply_to_current_thread(SECCOMP_FILTER_FLAG_NEW_LISTENER |
                                           (0UL | ... | static_cast<unsigned long>(extra)));
  const int fd = std::exchange(s.listener, -1);
  return {s, notify_listener(s ? fd : -1)};
}

}  // namespace sysfence
