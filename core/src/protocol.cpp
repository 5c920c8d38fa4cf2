#include "smr/protocol.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace smr {

std::string temporary_name(const std::string& target, const std::string& tag) {
  const std::filesystem::path path(target);
  return (path.parent_path() / (path.stem().string() + "." + tag + "-" + std::to_string(::getpid()) +
                                path.extension().string()))
      .string();
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
