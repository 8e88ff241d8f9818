// SPDX-License-Identifier: MIT
// json.hpp - JSON text to a tree that keeps every value's byte offset and refuses duplicate keys
// and deep nesting, for the policy-file front ends (formats/). Needs nlohmann-json.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sysfence/runtime_policy.hpp"
#include "sysfence/syscall.hpp"

namespace sysfence::detail::json {

// `json_value` is a parsed JSON value and the byte offset where the parser met it.
struct json_value {
  enum class kind : std::uint8_t {
    null,
    boolean,
    unsigned_number,
    negative_number,
    float_number,
    string,
    array,
    object
  };
  kind what = kind::null;
  std::size_t offset = 0;
  bool boolean = false;
  std::uint64_t number = 0;
  std::string text;                      // string; a float's spelling
  std::vector<json_value> items;         // array; an object's values
  std::vector<std::string> keys;         // object: its keys, in file order (items[i] is keys[i]'s)
  std::vector<std::size_t> key_offsets;  // object: where each key ends

  // `member` is one key of an object and its value.
  struct member {
    std::string_view key;
    const json_value& value;
  };
  // `members` is an object's keys and values in file order. (A vector of pairs of json_value
  // would need json_value complete: clang 14 with libstdc++ 12 refuses it.)
  [[nodiscard]] std::vector<member> members() const {
    std::vector<member> out;
    for (std::size_t i = 0; i < keys.size() && i < items.size(); ++i) out.push_back({keys[i], items[i]});
    return out;
  }
};

// `position` is a byte offset as "line L, column C" (both from 1; columns count bytes).
inline std::string position(std::string_view text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// `counting_iterator` walks the text for nlohmann's lexer and counts what it has read, so the
// SAX events below know where they are.
struct counting_iterator {
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;
  const char* at = nullptr;
  std::size_t* read = nullptr;
  reference operator*() const noexcept { return *at; }
  counting_iterator& operator++() noexcept {
    ++at;
    ++*read;
    return *this;
  }
  counting_iterator operator++(int) noexcept {
    counting_iterator old = *this;
    ++*this;
    return old;
  }
  friend bool operator==(const counting_iterator& a, const counting_iterator& b) noexcept {
    return a.at == b.at;
  }
};

// Policy files nest five levels; deeper input is refused before the tree's recursive
// destructor could exhaust the stack.
inline constexpr std::size_t max_depth = 32;

// `tree_builder` builds json_value trees from nlohmann's SAX events; duplicate keys and too deep
// nesting stop the parse with `error` set.
struct tree_builder {
  std::size_t read = 0;
  std::vector<json_value> stack;  // open arrays and objects
  std::vector<std::string> keys;  // each open object's pending key
  json_value root;
  std::string error;
  std::size_t error_offset = 0;

  [[nodiscard]] std::size_t last_read() const noexcept { return read > 0 ? read - 1 : 0; }
  bool add(json_value v) {
    if (stack.empty()) {
      root = std::move(v);
    } else {
      if (stack.back().what == json_value::kind::object) stack.back().keys.push_back(std::move(keys.back()));
      stack.back().items.push_back(std::move(v));
    }
    return true;
  }
  // An array or object is placed at its opening bracket, a scalar where the lexer finished it.
  bool open(json_value::kind k) {
    if (stack.size() >= max_depth) {
      error = "JSON nested deeper than " + std::to_string(max_depth) + " levels";
      error_offset = last_read();
      return false;
    }
    stack.push_back(scalar(k));
    keys.emplace_back();
    return true;
  }
  bool close() {
    json_value v = std::move(stack.back());
    stack.pop_back();
    keys.pop_back();
    return add(std::move(v));
  }
  [[nodiscard]] json_value scalar(json_value::kind k) const {
    json_value v;
    v.what = k;
    v.offset = last_read();
    return v;
  }

  bool null() { return add(scalar(json_value::kind::null)); }
  bool boolean(bool b) {
    json_value v = scalar(json_value::kind::boolean);
    v.boolean = b;
    return add(std::move(v));
  }
  bool number_integer(std::int64_t) { return add(scalar(json_value::kind::negative_number)); }
  bool number_unsigned(std::uint64_t n) {
    json_value v = scalar(json_value::kind::unsigned_number);
    v.number = n;
    return add(std::move(v));
  }
  bool number_float(double, const std::string& spelled) {
    json_value v = scalar(json_value::kind::float_number);
    v.text = spelled;
    return add(std::move(v));
  }
  bool string(std::string& s) {
    json_value v = scalar(json_value::kind::string);
    v.text = std::move(s);
    return add(std::move(v));
  }
  bool binary(nlohmann::json::binary_t&) { return add(scalar(json_value::kind::null)); }  // not in JSON text
  bool start_object(std::size_t) { return open(json_value::kind::object); }
  bool key(std::string& k) {
    for (const std::string& name : stack.back().keys)
      if (name == k) {
        error = "duplicate key \"" + k + "\" (JSON parsers disagree on which one wins)";
        error_offset = last_read();
        return false;
      }
    stack.back().key_offsets.push_back(last_read());
    keys.back() = std::move(k);
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t) { return open(json_value::kind::array); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t at, const std::string&, const nlohmann::json::exception& ex) {
    // nlohmann's message is "[json.exception.parse_error.101] parse error at line L, column C:
    // what"; the position is given by ours, so keep only what.
    std::string_view m = ex.what();
    if (const std::size_t colon = m.find(": ", m.find("column")); colon != std::string_view::npos)
      m.remove_prefix(colon + 2);
    error = "JSON syntax error: " + std::string(m);
    error_offset = at > 0 ? at - 1 : 0;
    return false;
  }
};

// `parse_json` parses `text` into a tree, or throws policy_error naming the file, line and column.
inline json_value parse_json(std::string_view text, std::string_view file) {
  tree_builder b;
  counting_iterator first{text.data(), &b.read};
  counting_iterator last{text.data() + text.size(), &b.read};
  bool ok = false;
  try {
    ok = nlohmann::json::sax_parse(first, last, &b);
  } catch (const nlohmann::json::exception& e) {  // (sax_parse reports through parse_error)
    b.error = std::string("JSON error: ") + e.what();
  }
  if (!ok || !b.error.empty()) {
    if (b.error.empty()) b.error = "JSON syntax error";
    throw policy_error("sysfence: " + std::string(file) + ": " + position(text, b.error_offset) + ": " +
                       b.error);
  }
  return std::move(b.root);
}

// `checker` reads a tree's values for a front end: every error names the file, the position
// and the place (`where`: "filter "vmm", rule 3 (ioctl)"), and throws policy_error.
struct checker {
  std::string_view text;
  std::string_view file;

  [[noreturn]] void fail_at(const std::string& where, std::size_t offset, const std::string& what) const {
    throw policy_error("sysfence: " + std::string(file) + ": " + position(text, offset) + ": " + where + ": " + what);
  }
  [[noreturn]] void fail(const std::string& where, const json_value& at, const std::string& what) const {
    fail_at(where, at.offset, what);
  }
  static std::string_view kind_name(json_value::kind k) noexcept {
    switch (k) {
      case json_value::kind::null:
        return "null";
      case json_value::kind::boolean:
        return "a boolean";
      case json_value::kind::unsigned_number:
        return "an unsigned integer";
      case json_value::kind::negative_number:
        return "a negative integer";
      case json_value::kind::float_number:
        return "a fractional number";
      case json_value::kind::string:
        return "a string";
      case json_value::kind::array:
        return "an array";
      case json_value::kind::object:
        return "an object";
    }
    return "a value";
  }
  void expect(const std::string& where, const json_value& v, json_value::kind k, std::string_view what) const {
    if (v.what != k) fail(where, v, "expected " + std::string(what) + ", found " + std::string(kind_name(v.what)));
  }
  std::uint64_t number(const std::string& where, const json_value& v, std::uint64_t max) const {
    expect(where, v, json_value::kind::unsigned_number, "an unsigned integer");
    if (v.number > max) fail(where, v, std::to_string(v.number) + " is above " + std::to_string(max));
    return v.number;
  }
};

// `find_syscall` is the syscall named `name` in sysfence's tables (sys::find: a binary search, as a
// profile names hundreds of syscalls and a linear search for each was a fifth of the time to load Docker's).
inline std::optional<sys::id> find_syscall(std::string_view name) noexcept { return sys::find(name); }

}  // namespace sysfence::detail::json
