#include "test_requests.hpp"

#include "support.hpp"

#include <cctype>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace smr::test {

namespace fs = std::filesystem;

fs::path regressions_folder() { return fs::path(__FILE__).parent_path().parent_path() / "regressions"; }

const json& catalogue() {
  static const json document = [] {
    const fs::path path = regressions_folder() / "commands.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    return json::parse(std::string{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()});
  }();
  return document;
}

namespace {

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

}  // namespace

std::string substitute(std::string text, const Placeholders& places) {
  replace_all(text, "@SCENE@", places.inputs + "/scene");
  replace_all(text, "@SERIES@", places.inputs + "/series");
  replace_all(text, "@INPUTS@", places.inputs);
  replace_all(text, "@OUT@", places.out);
  replace_all(text, "@MODEL_FILE@", places.model_file);
  for (std::size_t at = text.find('$'); at != std::string::npos; at = text.find('$', at)) {
    if (at + 1 < text.size() && text[at + 1] == '#') {  // $#HEX$: raw bytes, e.g. invalid UTF-8
      const std::size_t end = text.find('$', at + 2);
      if (end == std::string::npos) throw std::runtime_error("a $#HEX$ without its closing '$'");
      std::string bytes;
      for (std::size_t i = at + 2; i + 1 < end; i += 2) bytes += static_cast<char>(std::stoi(text.substr(i, 2), nullptr, 16));
      text.replace(at, end - at + 1, bytes);
      at += bytes.size();
      continue;
    }
    const std::size_t star = text.find('*', at), end = star == std::string::npos ? star : text.find('$', star);
    if (end == std::string::npos) throw std::runtime_error("a $N*TEXT$ without '*' or its closing '$' in " + text.substr(at, 40));
    const std::size_t count = std::stoul(text.substr(at + 1, star - at - 1));
    const std::string unit = text.substr(star + 1, end - star - 1);
    std::string repeated;
    repeated.reserve(count * unit.size());
    for (std::size_t i = 0; i < count; ++i) repeated += unit;
    text.replace(at, end - at + 1, repeated);
    at += repeated.size();
  }
  return text;
}

json substitute(const json& value, const Placeholders& places) {
  if (value.is_string()) return substitute(value.get<std::string>(), places);
  if (value.is_array()) {
    json result = json::array();
    for (const auto& item : value) result.push_back(substitute(item, places));
    return result;
  }
  if (value.is_object()) {
    json result = json::object();
    for (const auto& item : value.items()) result[item.key()] = substitute(item.value(), places);
    return result;
  }
  return value;
}

const std::string& catalogue_inputs() {
  static const TempDir folder;
  static const std::string path = [] {
    const std::string inputs = folder.file("inputs");
    fs::create_directories(inputs);
    for (const auto& step : catalogue().at("inputs"))
      run_command(step.at("command").get<std::string>(), substitute(step.at("parameters"), {inputs, inputs, ""}));
    return inputs;
  }();
  return path;
}

bool names_key(const std::string& message, const std::string& key) {
  const auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (std::size_t at = message.find(key); at != std::string::npos; at = message.find(key, at + 1)) {
    if (at > 0 && word(message[at - 1])) continue;
    const std::size_t end = at + key.size();
    if (end == message.size() || !word(message[end])) return true;
    if (message[end] == '_' && end + 1 < message.size() && std::isdigit(static_cast<unsigned char>(message[end + 1])))
      return true;
  }
  return false;
}

}  // namespace smr::test
