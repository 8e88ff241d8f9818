// SPDX-License-Identifier: MIT
// diff.hpp - which calls two compiled programs answer differently, found with the simulator: every
// syscall number of every ABI either serves (and a few past each table), and where a program
// reads arguments, argument values made from the constants the programs compare them with.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include "sysfence/action.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/bpf.hpp"
#include "sysfence/dump.hpp"
#include "sysfence/simulate.hpp"

namespace sysfence {

// `argument_case` is one call, by its argument values, that the two programs answer differently.
struct argument_case {
  std::array<std::uint64_t, 6> args{};
  std::uint8_t shown = 0;  // bit N: argument N is read by a program for this syscall
  action a, b;             // the two programs' answers
};

// `syscall_difference` is a syscall (number `nr` of ABI `abi`) the two programs answer differently.
struct syscall_difference {
  arch::target abi{};
  std::uint32_t nr = 0;   // as seccomp_data.nr shows it (x32's with bit 30)
  std::string_view name;  // empty for a number past the ABI's table
  // `every_call` is true when every argument value probed gets `a` from one program and `b`
  // from the other; otherwise `cases` lists the calls that differ (a, b: the first one's).
  bool every_call = true;
  action a, b;
  std::vector<argument_case> cases;
  std::size_t cases_left_off = 0;  // differing calls found beyond diff_options::max_cases
  bool probes_cut = false;         // too many argument words: not every combination was tried
};

// `diff_options` bounds the search.
struct diff_options {
  std::size_t max_cases = 8;        // argument cases kept per syscall
  std::size_t max_probes = 1 << 16;  // argument combinations tried per syscall
  std::uint32_t past_table = 16;    // numbers tried past each ABI's table
};

namespace detail {

// An argument word: 2 * argument + (1 for the high half); 12 of them.
inline constexpr std::size_t argument_words = 12;

constexpr std::size_t word_of_offset(std::uint32_t offset) noexcept {
  for (unsigned i = 0; i < 6; ++i) {
    if (offset == bpf::off_arg_lo(i)) return 2 * i;
    if (offset == bpf::off_arg_hi(i)) return 2 * i + 1;
  }
  return argument_words;
}

// `probes` is, per argument word, the values worth trying: 0, ~0, and each constant a program
// compares the word with (k, k - 1, k + 1), each mask it applies (the mask, its complement, its
// bits). Empty: no program loads the word.
using word_probes = std::array<std::vector<std::uint32_t>, argument_words>;

inline void add_probe(std::vector<std::uint32_t>& p, std::uint32_t v) {
  if (std::find(p.begin(), p.end(), v) == p.end()) p.push_back(v);
}

inline void collect_probes(word_probes& probes, std::span<const bpf::insn> program) {
  std::size_t word = argument_words;  // the word A holds, if any
  for (const bpf::insn& i : program) {
    const auto cls = BPF_CLASS(i.code);
    if (i.code == (BPF_LD | BPF_W | BPF_ABS)) {
      word = word_of_offset(i.k);
      if (word < argument_words) {
        add_probe(probes[word], 0);
        add_probe(probes[word], ~std::uint32_t{0});
      }
      continue;
    }
    if (word == argument_words) continue;
    std::vector<std::uint32_t>& p = probes[word];
    if (i.code == (BPF_ALU | BPF_AND | BPF_K)) {
      add_probe(p, i.k);
      add_probe(p, ~i.k);
      for (unsigned bit = 0; bit < 32; ++bit)
        if ((i.k >> bit & 1U) != 0) add_probe(p, 1U << bit);
    } else if (cls == BPF_JMP && BPF_OP(i.code) != BPF_JA && BPF_SRC(i.code) == BPF_K) {
      add_probe(p, i.k);
      add_probe(p, i.k - 1);
      add_probe(p, i.k + 1);
    } else if (cls == BPF_JMP || cls == BPF_RET || cls == BPF_ST || cls == BPF_STX || cls == BPF_LDX) {
      // A unchanged
    } else {
      word = argument_words;  // A computed from something else
    }
  }
}

// `run_trace` is what tells two runs apart: the answer and the path's length.
struct run_trace {
  std::uint32_t result = 0;
  std::uint32_t executed = 0;
  bpf_error error = bpf_error::none;
  friend constexpr bool operator==(const run_trace&, const run_trace&) noexcept = default;
};

constexpr run_trace run(std::span<const bpf::insn> p, const seccomp_data& d) noexcept {
  const evaluation e = evaluate(p, d);
  return {e.result.value, e.executed, e.error};
}

constexpr void set_word(seccomp_data& d, std::size_t word, std::uint32_t v) noexcept {
  const std::size_t arg = word / 2;
  const std::uint64_t old = d.args[arg];
  d.args[arg] = word % 2 == 0 ? (old & 0xffffffff00000000ULL) | v : (old & 0xffffffffULL) | (std::uint64_t{v} << 32);
}

// `assignments` walks every combination of probe values over `words`, as an odometer.
struct assignments {
  const word_probes& probes;
  const std::vector<std::size_t>& words;
  std::vector<std::size_t> at = std::vector<std::size_t>(words.size(), 0);
  bool done = false;

  void apply(seccomp_data& d) const noexcept {
    for (std::size_t i = 0; i < words.size(); ++i) set_word(d, words[i], probes[words[i]][at[i]]);
  }
  void next() noexcept {
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (++at[i] < probes[words[i]].size()) return;
      at[i] = 0;
    }
    done = true;
  }
  // (counted in 64 bits and capped at 2^40, so that a 32-bit size_t cannot wrap)
  [[nodiscard]] std::uint64_t count() const noexcept {
    std::uint64_t n = 1;
    for (const std::size_t w : words) n = n > (std::uint64_t{1} << 40) ? n : n * probes[w].size();
    return n;
  }
};

// `relevant_words` is the argument words whose value changes the path or answer of either program
// for this call: grown until no other word changes anything under the combinations of those found.
inline std::vector<std::size_t> relevant_words(std::span<const bpf::insn> a, std::span<const bpf::insn> b,
                                               const seccomp_data& base, const word_probes& probes,
                                               std::size_t budget, bool& cut) {
  std::vector<std::size_t> found;
  for (bool grew = true; grew;) {
    grew = false;
    for (std::size_t w = 0; w < argument_words; ++w) {
      if (probes[w].size() < 2 || std::find(found.begin(), found.end(), w) != found.end()) continue;
      assignments walk{probes, found};
      if (walk.count() * probes[w].size() > budget) {
        cut = true;
        continue;
      }
      bool matters = false;
      for (; !walk.done && !matters; walk.next()) {
        seccomp_data d = base;
        walk.apply(d);
        set_word(d, w, 0);
        const run_trace fa = run(a, d), fb = run(b, d);
        for (const std::uint32_t v : probes[w]) {
          set_word(d, w, v);
          if (run(a, d) != fa || run(b, d) != fb) {
            matters = true;
            break;
          }
        }
      }
      if (matters) {
        found.push_back(w);
        grew = true;
      }
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

inline bool same_abi(const arch::target& x, const arch::target& y) noexcept {
  return x.audit == y.audit && x.nr_base == y.nr_base;
}

}  // namespace detail

// `diff_programs` lists the syscalls programs `a` (serving `targets_a`) and `b` (serving
// `targets_b`) answer differently, in ABI then number order, for every ABI either serves. Where a
// program reads a syscall's arguments, the calls are probed with values made from the constants
// the programs compare with, so a difference under some arguments only is found and shown as a
// case. Programs the kernel would refuse (check()) give no meaningful answer: check them first.
inline std::vector<syscall_difference> diff_programs(std::span<const bpf::insn> a,
                                                     std::span<const arch::target> targets_a,
                                                     std::span<const bpf::insn> b,
                                                     std::span<const arch::target> targets_b,
                                                     const diff_options& options = {}) {
  std::vector<arch::target> abis(targets_a.begin(), targets_a.end());
  for (const arch::target& t : targets_b) {
    bool seen = false;
    for (const arch::target& u : abis) seen = seen || detail::same_abi(t, u);
    if (!seen) abis.push_back(t);
  }
  detail::word_probes probes;
  detail::collect_probes(probes, a);
  detail::collect_probes(probes, b);

  std::vector<syscall_difference> out;
  for (const arch::target& t : abis) {
    for (std::uint32_t n = 0; n < t.table_size + options.past_table; ++n) {
      seccomp_data base{static_cast<int>(t.nr_base + n), t.audit, 0, {}};
      bool cut = false;
      const std::vector<std::size_t> words = detail::relevant_words(a, b, base, probes, options.max_probes, cut);
      syscall_difference d;
      d.abi = t;
      d.nr = t.nr_base + n;
      d.name = detail::syscall_name_for(t, d.nr);
      d.probes_cut = cut;
      std::uint8_t shown = 0;
      for (const std::size_t w : words) shown = static_cast<std::uint8_t>(shown | 1U << (w / 2));
      std::size_t tried = 0, differing = 0;
      bool first = true;
      for (detail::assignments walk{probes, words}; !walk.done; walk.next()) {
        if (tried++ == options.max_probes) {
          d.probes_cut = true;
          break;
        }
        seccomp_data data = base;
        walk.apply(data);
        const action ra = evaluate(a, data).result, rb = evaluate(b, data).result;
        if (ra == rb) {
          d.every_call = false;
          continue;
        }
        if (first) {
          d.a = ra;
          d.b = rb;
          first = false;
        } else if (ra != d.a || rb != d.b) {
          d.every_call = false;
        }
        if (++differing <= options.max_cases)
          d.cases.push_back({{data.args[0], data.args[1], data.args[2], data.args[3], data.args[4], data.args[5]},
                             shown, ra, rb});
      }
      if (differing == 0) continue;
      if (d.every_call) {
        d.cases.clear();
      } else {
        d.cases_left_off = differing - d.cases.size();
      }
      out.push_back(std::move(d));
    }
  }
  return out;
}

// `difference_words` is one difference as lines of text, one per case:
//   x86_64 ptrace (101): A ERRNO(1), B ALLOW
//   x86_64 personality (135) arg0=0x8: A ALLOW, B ERRNO(1)
inline std::string difference_words(const syscall_difference& d, std::string_view name_a = "A",
                                    std::string_view name_b = "B") {
  auto head = [&] {
    std::string s(d.abi.name);
    s += ' ';
    if (d.name.empty())
      s += "syscall";
    else
      s += d.name;
    s += " (";
    s += std::to_string(d.nr - d.abi.nr_base);
    s += ')';
    return s;
  };
  auto tail = [&](action x, action y) {
    std::string s = ": ";
    s += name_a;
    s += ' ';
    s += detail::render([&](detail::text& t) { detail::put_action(t, x.value); });
    s += ", ";
    s += name_b;
    s += ' ';
    s += detail::render([&](detail::text& t) { detail::put_action(t, y.value); });
    s += '\n';
    return s;
  };
  if (d.every_call) {
    std::string s = head();
    s += tail(d.a, d.b);
    return s;
  }
  std::string out;
  for (const argument_case& c : d.cases) {
    std::string s = head();
    for (unsigned i = 0; i < 6; ++i) {
      if ((c.shown >> i & 1U) == 0) continue;
      char buf[40];
      const std::uint64_t v = d.abi.argument_bits == 32 ? c.args[i] & 0xffffffffU : c.args[i];
      std::snprintf(buf, sizeof buf, " arg%u=0x%llx", i, static_cast<unsigned long long>(v));
      s += buf;
    }
    s += tail(c.a, c.b);
    out += s;
  }
  if (d.cases_left_off != 0) {
    out += head();
    out += ": and ";
    out += std::to_string(d.cases_left_off);
    out += " more argument cases\n";
  }
  if (d.probes_cut) {
    out += head();
    out += ": (too many argument words to try every combination)\n";
  }
  return out;
}

}  // namespace sysfence
