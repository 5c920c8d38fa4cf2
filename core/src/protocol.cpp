#include "smr/protocol.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace smr {

std::string temporary_name(const std::string& target, const std::string& tag) {
  const std::filesystem::path path(target);
  return (path.parent_path() / (path.stem().string() + "." + tag + "-" + std::to_string(::getpid()) +
                                path.extension().string()))
      .string();
}

void write_file_atomically(const std::string& key, const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (target.has_parent_path() && !fs::is_directory(target.parent_path()))
    throw InputError(key + ": folder '" + target.parent_path().string() + "' does not exist");
  const fs::path partial = temporary_name(path, "smr-partial");
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(key + ": cannot write '" + partial.string() + "'");
    out << text;
    out.flush();
    if (!out) {
      std::error_code ignored;
      fs::remove(partial, ignored);
      throw std::runtime_error(key + ": writing '" + path + "' failed (disk full?)");
    }
  }
  std::error_code error;
  fs::rename(partial, target, error);
  if (error) {
    std::error_code ignored;
    fs::remove(partial, ignored);
    throw InputError(key + ": cannot replace '" + path + "': " + error.message());
  }
}

namespace {

void check_nesting(const std::string& text, const std::string& origin, int max_nesting, const std::string& what) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_nesting)
        throw InputError(origin + " is nested more than " + std::to_string(max_nesting) + " levels deep; not " + what);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

}  // namespace

json read_json_file(const std::string& origin, const std::string& path, std::uintmax_t max_bytes, int max_nesting,
                    const std::string& what) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_regular_file(path, error)) throw InputError(origin + " does not exist or is not a file");
  const auto bytes = fs::file_size(path, error);
  if (error || bytes > max_bytes)
    throw InputError(origin + " is larger than " + std::to_string(max_bytes >> 20) + " MB; not " + what);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(origin + " cannot be read");
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  check_nesting(text, origin, max_nesting, what);
  try {
    return json::parse(text);
  } catch (const json::parse_error& parse) {
    throw InputError(origin + " is not valid JSON (corrupt or truncated?): " + parse.what());
  }
}

void Reporter::write(const json& line) {
  if (stream_ == nullptr) return;
  // Invalid UTF-8 in a path must not abort the run: replace it in what we print.
  const std::string text = line.dump(-1, ' ', false, json::error_handler_t::replace);
  std::fprintf(stream_, "%s\n", text.c_str());
  std::fflush(stream_);
}

void Reporter::progress(double fraction) {
  const int percent = static_cast<int>(std::floor(std::clamp(fraction, 0.0, 1.0) * 100.0));
  std::lock_guard<std::mutex> lock(mutex_);
  if (percent <= last_percent_) return;
  last_percent_ = percent;
  write({{"type", "progress"}, {"value", percent / 100.0}});
}

void Reporter::log(const char* level, const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  write({{"type", "log"}, {"level", level}, {"message", message}});
}

void Reporter::result(const json& outputs) {
  std::lock_guard<std::mutex> lock(mutex_);
  write({{"type", "result"}, {"outputs", outputs}});
}

void Reporter::error(const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  write({{"type", "error"}, {"message", message}});
}

}  // namespace smr
