// SPDX-License-Identifier: MIT
// ipc_server_with_database.cpp - privilege separation: a network-facing part and a database part,
// two processes joined by a socketpair, each locked down to what its own job needs.
//
// Port of extrasafe's examples/ipc_server_with_database.rs. Why two processes: a network part
// needs read(2) and write(2) on any descriptor (sockets come and go), a database part should
// write only to its database file. One seccomp filter cannot say both - "write anywhere" and
// "write only to fd 3" on the same syscall is a compile error in sysfence (see user_guide.cpp) -
// so the work is split and each process gets its own filter:
//
//   supervisor (never filtered: makes the temporary directory, waits, checks, cleans up)
//    |-- database part: SQLite on one file; may touch only that file, the socketpair and stdout
//    `-- network part:  may talk over the socketpair only; in a real server it would also hold
//                       a listening socket made before its lockdown (see network_server.cpp)
//
// Wire format over a SOCK_SEQPACKET socketpair (one message per request and per reply):
//   "INSERT <text>" -> "OK <rowid>"     "SELECT" -> "ROWS <n>" + "\n<text>" per row
//   "QUIT"          -> "BYE"
//
// Prints one line per demonstrated fact; exits 0 when all hold.
#include <sysfence/sysfence.hpp>

#include "say.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace sysfence;
namespace builtins = sysfence::builtins;

namespace {

constexpr unsigned run_time_limit_s = 30;  // alarm() in each process: nothing can hang a test
constexpr std::size_t max_message = 4096;

const char* errno_name(int e) { return e == EPERM ? "EPERM" : e == 0 ? "no error" : "unexpected errno"; }

bool send_message(int sock, std::string_view m) {
  return ::write(sock, m.data(), m.size()) == static_cast<ssize_t>(m.size());
}
// `receive_message` reads one message; false at end of stream or on error.
bool receive_message(int sock, std::string& m) {
  char buf[max_message];
  const ssize_t n = ::read(sock, buf, sizeof buf);
  if (n <= 0) return false;
  m.assign(buf, static_cast<std::size_t>(n));
  return true;
}

// =============================================================================================
// The database part
// =============================================================================================

// `sqlite_file_writes` allows what SQLite does to its open database file that the built-ins cannot
// say for one descriptor (found with `strace -f` on this program, SQLite 3.40 on Debian 12):
//   - pwrite64(fd, ...): SQLite writes pages at offsets. system_io's allow_file_write(fd) covers
//     write(2) only; allow_write() would allow pwrite64 on every descriptor.
//   - fdatasync(fd): each commit makes its pages durable. Only allow_write() has it, unconditionally.
//   - fcntl(fd, F_SETLK, ...): SQLite's POSIX advisory locks. Only allow_ioctl() has fcntl, for every
//     descriptor and every command (F_SETFL, F_DUPFD, ...).
// pread64 and fstat (glibc: newfstatat(fd, "", AT_EMPTY_PATH)) come from allow_file_read(fd).
// The descriptor is known only at run time: a slot, patched into the constant program by apply().
struct sqlite_file_writes : rule_set_base {
  static constexpr std::string_view name = "sqlite_file_writes";
  static constexpr std::size_t slot_count = 1;
  static constexpr std::array conditional_rules{
      rule{sys::pwrite64, arg<0> == slot{0}},
      rule{sys::fdatasync, arg<0> == slot{0}},
      rule{sys::fcntl, arg<0> == slot{0}, arg32<1> == F_SETLK},
  };
  int fd;
  constexpr explicit sqlite_file_writes(int f) noexcept : fd(f) {}
  // `values` are the slots' values, in slot order.
  [[nodiscard]] constexpr std::array<std::uint64_t, 1> values() const noexcept {
    return {static_cast<std::uint64_t>(fd)};
  }
};

// `descriptor_of` finds the descriptor SQLite opened for `path` (its VFS does not hand it out):
// the /proc/self/fd entry whose link is the file. Runs before the lockdown (openat, getdents64,
// readlink are not allowed after it).
int descriptor_of(const std::string& path) {
  char real[PATH_MAX];
  if (::realpath(path.c_str(), real) == nullptr) return -1;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int found = -1;
  while (const dirent* e = ::readdir(dir)) {
    const std::string link = std::string("/proc/self/fd/") + e->d_name;
    char target[PATH_MAX];
    const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (std::strcmp(target, real) == 0) found = std::atoi(e->d_name);
  }
  ::closedir(dir);
  return found;
}

struct statements {
  sqlite3_stmt* insert = nullptr;
  sqlite3_stmt* select = nullptr;
};

std::string handle(sqlite3* db, const statements& st, std::string_view request) {
  if (request.starts_with("INSERT ")) {
    const std::string_view text = request.substr(7);
    sqlite3_bind_text(st.insert, 1, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    const int rc = sqlite3_step(st.insert);
    sqlite3_reset(st.insert);
    if (rc != SQLITE_DONE) return std::string("ERROR ") + sqlite3_errmsg(db);
    return "OK " + std::to_string(sqlite3_last_insert_rowid(db));
  }
  if (request == "SELECT") {
    std::string rows;
    int n = 0, rc;
    while ((rc = sqlite3_step(st.select)) == SQLITE_ROW) {
      rows += '\n';
      rows += reinterpret_cast<const char*>(sqlite3_column_text(st.select, 0));
      ++n;
    }
    sqlite3_reset(st.select);
    if (rc != SQLITE_DONE) return std::string("ERROR ") + sqlite3_errmsg(db);
    return "ROWS " + std::to_string(n) + rows;
  }
  return "ERROR unknown request";
}

int run_database(int sock, const std::string& path) {
  ::alarm(run_time_limit_s);

  // 1. Open the database and do everything that needs more than the policy allows.
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    say("database part: cannot open %s: %s\n", path.c_str(), sqlite3_errmsg(db));
    return 1;
  }
  // A write transaction normally creates a rollback journal, "<db>-journal", with openat() and
  // removes it with unlink() - both forbidden after the lockdown. So:
  //   journal_mode=MEMORY     the journal lives in memory: no journal file, ever. (The cost: a
  //                           crash in the middle of a commit can corrupt the database. WAL mode
  //                           would also do - extrasafe's example uses it - but keeps a -wal and a
  //                           -shm file open, two more descriptors to allow.)
  //   locking_mode=EXCLUSIVE  the first write takes the file lock and keeps it (this process owns
  //                           the database). Otherwise SQLite re-takes its locks before every
  //                           transaction and looks for a crashed writer's journal by path:
  //                           stat("<db>-journal"), stat("<db>-wal"). Paths are out of reach of
  //                           allow_file_read(fd), so the filter answers EPERM, which SQLite
  //                           happens to read as "no journal" - working by accident.
  //   temp_store=MEMORY       sorts and temporary tables never go to a temporary file.
  // CREATE TABLE is that first write: after it, the file is open, locked and has its schema.
  char* error = nullptr;
  if (sqlite3_exec(db,
                   "PRAGMA locking_mode=EXCLUSIVE;"
                   "PRAGMA journal_mode=MEMORY;"
                   "PRAGMA temp_store=MEMORY;"
                   "CREATE TABLE messages (id INTEGER PRIMARY KEY, text TEXT NOT NULL);",
                   nullptr, nullptr, &error) != SQLITE_OK) {
    say("database part: setting up the database failed: %s\n", error);
    return 1;
  }
  statements st;
  if (sqlite3_prepare_v2(db, "INSERT INTO messages (text) VALUES (?)", -1, &st.insert, nullptr) !=
          SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT text FROM messages ORDER BY id", -1, &st.select, nullptr) != SQLITE_OK) {
    say("database part: preparing statements failed: %s\n", sqlite3_errmsg(db));
    return 1;
  }
  const int db_fd = descriptor_of(path);
  if (db_fd < 0) {
    say("database part: cannot find the database's descriptor\n");
    return 1;
  }

  // 2. The lockdown: the database file, the socketpair, stdout/stderr, close. Nothing else - no
  //    openat, no socket, no other descriptor's reads or writes. system_io's conditions on
  //    read/write cannot be combined with networking (which allows them on every descriptor), so
  //    the socketpair end is allowed like a file: allow_file_read(sock) and allow_file_write(sock).
  const auto policy = safety_context{}
                          .enable(builtins::system_io::nothing()
                                      .allow_stdout()
                                      .allow_stderr()
                                      .allow_close()            // sqlite3_close() closes the file
                                      .allow_file_read(db_fd)   // pread64, fstat, lseek
                                      .allow_file_read(sock)    // requests in
                                      .allow_file_write(sock))  // replies out
                          .enable(sqlite_file_writes{db_fd});   // pwrite64, fdatasync, fcntl locks
  // One thread: apply_to_current_thread is the whole process.
  if (const apply_status s = policy.try_apply_to_current_thread(); !s) {
    say("database part: %s\n", std::string(s.what()).c_str());
    return 1;
  }

  bool ok = true;
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  const int socket_errno = errno;
  say("%-6s database part: socket(AF_INET, SOCK_STREAM) after lockdown: %s (%s)\n",
      s < 0 && socket_errno == EPERM ? "ok" : "FAILED", s < 0 ? std::strerror(socket_errno) : "succeeded",
      errno_name(s < 0 ? socket_errno : 0));
  ok = ok && s < 0 && socket_errno == EPERM;

  // 3. Serve until QUIT or the other end closes.
  if (!send_message(sock, "READY")) return 1;
  for (std::string request; receive_message(sock, request);) {
    if (request == "QUIT") {
      send_message(sock, "BYE");
      break;
    }
    if (!send_message(sock, handle(db, st, request))) return 1;
  }

  // 4. Close. SQLite stat()s the database by path twice on close, to see whether the file was
  //    moved or deleted while open (newfstatat(AT_FDCWD, path): a path, so outside
  //    allow_file_read(fd)). The filter answers EPERM, which SQLite takes as "maybe moved": it
  //    skips a WAL checkpoint this database does not have and reports a warning to sqlite3_log
  //    (not configured here). sqlite3_close still succeeds; allowing newfstatat(AT_FDCWD, ...)
  //    would let this process stat every path on the machine.
  sqlite3_finalize(st.insert);
  sqlite3_finalize(st.select);
  const int close_rc = sqlite3_close(db);
  say("%-6s database part: sqlite3_close after lockdown: %s\n", close_rc == SQLITE_OK ? "ok" : "FAILED",
      sqlite3_errstr(close_rc));
  return ok && close_rc == SQLITE_OK ? 0 : 1;
}

// =============================================================================================
// The network part
// =============================================================================================

// The network part's policy: read and write (and the rest of the socket I/O calls) on the
// descriptors it already has - stdout and its socketpair end. No socket(), connect() or bind(),
// no openat(): it can reach nothing new. A constant: nothing here is known only at run time.
constexpr auto network_policy =
    safety_context{}.enable(builtins::networking::nothing().allow_running_unix_clients());

int run_network(int sock, const std::string& db_path) {
  ::alarm(run_time_limit_s);
  if (const apply_status s = network_policy.try_apply_to_current_thread(); !s) {
    say("network part: %s\n", std::string(s.what()).c_str());
    return 1;
  }
  bool ok = true;
  std::string m;
  if (!receive_message(sock, m) || m != "READY") {
    say("FAILED network part: the database part did not say READY\n");
    return 1;
  }

  // Requests a web front end would forward; each must round-trip through the database part.
  const std::vector<std::string> texts = {"hello", "extrasafe", "sysfence"};
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::string expected = "OK " + std::to_string(i + 1);
    const bool round_trip =
        send_message(sock, "INSERT " + texts[i]) && receive_message(sock, m) && m == expected;
    say("%-6s network part: INSERT '%s' -> '%s'\n", round_trip ? "ok" : "FAILED", texts[i].c_str(),
        m.c_str());
    ok = ok && round_trip;
  }
  const std::string expected_rows = "ROWS 3\nhello\nextrasafe\nsysfence";
  const bool selected = send_message(sock, "SELECT") && receive_message(sock, m) && m == expected_rows;
  std::string shown = m;
  std::replace(shown.begin(), shown.end(), '\n', ' ');
  say("%-6s network part: SELECT -> '%s'\n", selected ? "ok" : "FAILED", shown.c_str());
  ok = ok && selected;

  // The point of the split: the network part cannot get at the database file itself...
  const int fd = ::open(db_path.c_str(), O_RDONLY | O_CLOEXEC);
  const int open_errno = errno;
  const bool open_denied = fd < 0 && open_errno == EPERM;
  say("%-6s network part: open(database file, O_RDONLY): %s (%s)\n", open_denied ? "ok" : "FAILED",
      fd < 0 ? std::strerror(open_errno) : "succeeded", errno_name(fd < 0 ? open_errno : 0));
  ok = ok && open_denied;
  // ...nor make new connections.
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  const int socket_errno = errno;
  const bool socket_denied = s < 0 && socket_errno == EPERM;
  say("%-6s network part: socket(AF_INET, SOCK_STREAM): %s (%s)\n", socket_denied ? "ok" : "FAILED",
      s < 0 ? std::strerror(socket_errno) : "succeeded", errno_name(s < 0 ? socket_errno : 0));
  ok = ok && socket_denied;

  const bool quit = send_message(sock, "QUIT") && receive_message(sock, m) && m == "BYE";
  ok = ok && quit;
  return ok ? 0 : 1;
}

// =============================================================================================
// The supervisor
// =============================================================================================

int count_rows(const std::string& path) {
  sqlite3* db = nullptr;
  int n = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM messages", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

bool exited_zero(pid_t pid) {
  int status = 0;
  return pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int main() {
  ::alarm(run_time_limit_s + 10);
  namespace fs = std::filesystem;
  std::string dir = (fs::temp_directory_path() / "sysfence-ipc-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) {
    say("FAILED supervisor: mkdtemp: %s\n", std::strerror(errno));
    return 1;
  }
  const std::string db_path = dir + "/messages.db";

  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    say("FAILED supervisor: socketpair: %s\n", std::strerror(errno));
    return 1;
  }
  // Each child keeps its own end only, so either sees end-of-stream if the other dies.
  const pid_t database = ::fork();
  if (database == 0) {
    ::close(pair[1]);
    ::_exit(run_database(pair[0], db_path));
  }
  const pid_t network = ::fork();
  if (network == 0) {
    ::close(pair[0]);
    ::_exit(run_network(pair[1], db_path));
  }
  ::close(pair[0]);
  ::close(pair[1]);

  const bool network_ok = exited_zero(network);
  const bool database_ok = exited_zero(database);
  say("%-6s supervisor: network part exited 0\n", network_ok ? "ok" : "FAILED");
  say("%-6s supervisor: database part exited 0\n", database_ok ? "ok" : "FAILED");

  // The writes really reached the file: the unfiltered supervisor reads it back.
  const int rows = count_rows(db_path);
  say("%-6s supervisor: the database file holds %d rows\n", rows == 3 ? "ok" : "FAILED", rows);

  std::error_code ignored;
  fs::remove_all(dir, ignored);
  const bool all = network_ok && database_ok && rows == 3;
  say(all ? "all facts held\n" : "some facts FAILED\n");
  return all ? 0 : 1;
}
