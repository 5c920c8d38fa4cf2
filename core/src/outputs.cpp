#include "smr/outputs.hpp"

#include <signal.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

namespace smr {

namespace fs = std::filesystem;

namespace {

OutputTransaction* g_current = nullptr;

constexpr std::string_view kStagingPrefix = ".smr-partial-";

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
  std::string host(name);
  // The name becomes part of a file name: keep it to characters every file system takes.
  for (char& c : host)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.') c = '_';
  return host.empty() ? "localhost" : host;
}

bool process_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

std::optional<long> parse_pid(const std::string& text) {
  if (text.empty() || text.size() > 12 || !std::all_of(text.begin(), text.end(), ::isdigit)) return std::nullopt;
  return std::stol(text);
}

// A previous file kept aside by a run that died while committing goes back where it was, unless a
// newer file took its place; everything else the dead run left is removed.
void settle_kept_file(const fs::path& kept, const fs::path& folder) {
  std::error_code error;
  const fs::path target = folder / kept.filename();
  if (!fs::exists(fs::symlink_status(target, error))) fs::rename(kept, target, error);
  if (error || fs::exists(fs::symlink_status(kept, error))) fs::remove(kept, error);
}

// Private folders of processes on this host that are gone (SIGKILL, power loss), and the per-file
// temporaries of `target_name` that earlier versions wrote (<stem>.smr-partial-<pid><ext>).
void remove_stale_partials(const fs::path& folder, const std::string& target_name) {
  const std::string own_prefix = std::string(kStagingPrefix) + host_name() + "-";
  const std::string stem = fs::path(target_name).stem().string();
  std::error_code error;
  std::vector<fs::path> stale_folders, stale_files, kept_files;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(own_prefix, 0) == 0) {
      const auto pid = parse_pid(name.substr(own_prefix.size()));
      if (pid && !process_alive(*pid)) stale_folders.push_back(it->path());
      continue;
    }
    for (const char* tag : {".smr-partial-", ".smr-previous-"}) {
      const std::string prefix = stem + tag;
      if (name.rfind(prefix, 0) != 0) continue;
      const std::string rest = name.substr(prefix.size());
      const auto pid = parse_pid(rest.substr(0, rest.find('.')));
      if (!pid || process_alive(*pid)) continue;
      (std::string(tag) == ".smr-previous-" ? kept_files : stale_files).push_back(it->path());
    }
  }
  for (const auto& stale : stale_folders) {
    for (fs::directory_iterator it(stale, error), end; !error && it != end; it.increment(error))
      if (it->path().filename().string().rfind("previous-", 0) == 0)
        for (fs::directory_iterator kept(it->path(), error), kept_end; !error && kept != kept_end; kept.increment(error))
          kept_files.push_back(kept->path());
  }
  for (const auto& kept : kept_files) {
    const std::string name = kept.filename().string();
    const auto legacy = name.find(".smr-previous-");
    if (legacy == std::string::npos) {
      settle_kept_file(kept, folder);
      continue;
    }
    // <stem>.smr-previous-<pid><ext> was <stem><ext>.
    const std::string rest = name.substr(legacy + std::strlen(".smr-previous-"));
    const auto dot = rest.find('.');
    const fs::path original = folder / (name.substr(0, legacy) + (dot == std::string::npos ? "" : rest.substr(dot)));
    if (!fs::exists(fs::symlink_status(original, error))) fs::rename(kept, original, error);
    fs::remove(kept, error);
  }
  for (const auto& file : stale_files) fs::remove(file, error);
  for (const auto& stale : stale_folders) fs::remove_all(stale, error);
}

// Every string in the parameters with the top-level key it sits under.
void collect_strings(const json& value, const std::string& top_key, std::vector<std::pair<std::string, std::string>>& out) {
  if (value.is_string()) {
    out.emplace_back(top_key, value.get<std::string>());
  } else if (value.is_array() || value.is_object()) {
    for (const auto& item : value) collect_strings(item, top_key, out);
  }
}

}  // namespace

std::string staging_folder_name() {
  return std::string(kStagingPrefix) + host_name() + "-" + std::to_string(::getpid());
}

std::string disk_full_reason(const std::string& path) {
  fs::path folder = fs::absolute(path);
  std::error_code error;
  while (!folder.empty() && !fs::is_directory(folder, error) && folder != folder.root_path()) folder = folder.parent_path();
  struct statvfs status {};
  if (::statvfs(folder.c_str(), &status) != 0) return {};
  // Less than one GeoTIFF tile of every band is as full as it gets for us.
  const unsigned long long available = static_cast<unsigned long long>(status.f_bavail) * status.f_frsize;
  if (available < 1024ULL * 1024ULL) return "no space left on device (" + std::to_string(available / 1024) + " KB free in '" + folder.string() + "')";
  return {};
}

OutputTransaction::OutputTransaction(const json* parameters, std::vector<std::string> output_keys)
    : parameters_(parameters), output_keys_(std::move(output_keys)), enclosing_(g_current) {
  if (parameters_ != nullptr && parameters_->is_object()) {
    std::vector<std::pair<std::string, fs::path>> named;  // (key, identity)
    std::error_code error;
    for (const auto& key : output_keys_) {
      const auto it = parameters_->find(key);
      if (it == parameters_->end() || !it->is_string() || it->get<std::string>().empty()) continue;
      const std::string path = it->get<std::string>();
      const fs::path identity = fs::weakly_canonical(fs::absolute(path, error).lexically_normal(), error);
      for (const auto& [other, other_identity] : named)
        if (identity == other_identity)
          throw InputError(key + ": '" + path + "' is also " + other + "; give each output its own file");
      check_not_an_input(key, path);
      named.emplace_back(key, identity);
    }
  }
  g_current = this;
}

OutputTransaction::~OutputTransaction() {
  discard();
  g_current = enclosing_;
}

OutputTransaction* OutputTransaction::current() { return g_current; }

void OutputTransaction::check_not_an_input(const std::string& key, const std::string& path) const {
  std::error_code error;
  if (!fs::exists(path, error)) return;  // a file that does not exist is nobody's input
  std::vector<std::pair<std::string, std::string>> named = declared_inputs_;
  if (parameters_ != nullptr && parameters_->is_object())
    for (const auto& item : parameters_->items())
      if (item.key() != key && std::find(output_keys_.begin(), output_keys_.end(), item.key()) == output_keys_.end())
        collect_strings(item.value(), item.key(), named);
  for (const auto& [input_key, candidate] : named) {
    if (candidate.empty() || !fs::exists(candidate, error)) continue;
    if (fs::equivalent(candidate, path, error))
      throw InputError(key + ": '" + path + "' is the input " + input_key +
                       " ('" + candidate + "'); writing it would destroy that input: choose another file");
  }
}

fs::path OutputTransaction::staging_root(const fs::path& folder) {
  const fs::path root = folder / staging_folder_name();
  if (std::find(roots_.begin(), roots_.end(), root) == roots_.end()) roots_.push_back(root);
  return root;
}

std::string OutputTransaction::stage(const std::string& key, const std::string& path, const std::vector<std::string>& retired) {
  if (path.empty()) throw InputError(key + ": no output path given");
  std::error_code error;
  const fs::path target = fs::absolute(path, error).lexically_normal();
  if (error || !target.has_filename())
    throw InputError(key + ": '" + path + "' is not a file name");
  const fs::path folder = target.parent_path();
  if (!fs::is_directory(folder, error)) throw InputError(key + ": folder '" + folder.string() + "' does not exist");
  if (fs::is_directory(target, error))
    throw InputError(key + ": '" + path + "' is a folder; give the name of a file to write");
  if (target.filename().string().rfind(kStagingPrefix, 0) == 0)
    throw InputError(key + ": '" + path + "' is named like smr's private folders; choose another name");
  const fs::path identity = fs::weakly_canonical(target, error);
  for (const auto& other : staged_)
    if (other.identity == identity)
      throw InputError(key + ": '" + path + "' is also " + other.key + "; give each output its own file");
  check_not_an_input(key, target.string());

  remove_stale_partials(folder, target.filename().string());
  const fs::path private_folder = staging_root(folder) / std::to_string(staged_.size());
  fs::create_directories(private_folder, error);
  if (error) {
    const std::string full = disk_full_reason(folder.string());
    throw InputError(key + ": cannot write in folder '" + folder.string() + "': " + (full.empty() ? error.message() : full));
  }
  Staged staged{key, target, identity, private_folder, {}};
  for (const auto& file : retired) {
    const fs::path stale = fs::absolute(file, error).lexically_normal();
    // Only the previous output's own sidecars: never a file elsewhere, nor one of the run's inputs.
    if (stale.parent_path() != folder || stale == target) continue;
    try {
      check_not_an_input(key, stale.string());
    } catch (const InputError&) {
      continue;
    }
    staged.retired.push_back(stale);
  }
  staged_.push_back(std::move(staged));
  return (private_folder / target.filename()).string();
}

void OutputTransaction::commit() {
  struct Replaced {
    fs::path target;
    std::optional<fs::path> kept;  // where the previous file waits until every output is in place
  };
  std::vector<Replaced> done;
  // The previous file is kept under a second name (a hard link, so the target is replaced in one
  // atomic rename) until the whole run is in place, then deleted.
  const auto keep_previous = [&](const fs::path& target, const fs::path& keep_folder) -> std::optional<fs::path> {
    std::error_code error;
    if (!fs::exists(fs::symlink_status(target, error))) return std::nullopt;
    fs::create_directories(keep_folder, error);
    const fs::path kept = keep_folder / target.filename();
    if (::link(target.c_str(), kept.c_str()) != 0) {
      fs::rename(target, kept, error);
      if (error) throw std::system_error(error, "cannot move the previous '" + target.string() + "' aside");
    }
    return kept;
  };
  try {
    for (std::size_t s = 0; s < staged_.size(); ++s) {
      const Staged& staged = staged_[s];
      const fs::path folder = staged.target.parent_path();
      const fs::path keep_folder = staged.folder.parent_path() / ("previous-" + std::to_string(s));
      std::vector<fs::path> files;
      std::error_code error;
      for (fs::directory_iterator it(staged.folder, error), end; !error && it != end; it.increment(error))
        files.push_back(it->path());
      if (error) throw std::system_error(error, "cannot list '" + staged.folder.string() + "'");
      std::sort(files.begin(), files.end());
      for (const auto& file : files) {
        const fs::path target = folder / file.filename();
        Replaced replaced{target, keep_previous(target, keep_folder)};
        fs::rename(file, target, error);
        if (error) {
          if (replaced.kept && !fs::exists(target)) fs::rename(*replaced.kept, target);
          throw std::system_error(error, staged.key + ": cannot move the new file to '" + target.string() + "'");
        }
        done.push_back(std::move(replaced));
      }
      for (const auto& stale : staged.retired) {
        if (std::find(files.begin(), files.end(), staged.folder / stale.filename()) != files.end()) continue;
        if (!fs::exists(fs::symlink_status(stale, error))) continue;
        const fs::path kept = keep_folder / stale.filename();
        fs::create_directories(keep_folder, error);
        fs::rename(stale, kept, error);
        if (!error) done.push_back({stale, kept});
        else {  // a file that describes old data is a nuisance, not a reason to fail the run
          error.clear();
          fs::remove(stale, error);
        }
      }
    }
  } catch (const std::exception& failure) {
    std::error_code ignored;
    for (auto it = done.rbegin(); it != done.rend(); ++it) {
      if (it->kept) fs::rename(*it->kept, it->target, ignored);
      else fs::remove(it->target, ignored);
    }
    const std::string full = staged_.empty() ? std::string() : disk_full_reason(staged_.front().target.string());
    throw InputError(std::string(failure.what()) + (full.empty() ? "" : ": " + full) +
                     "; every previous output was kept as it was");
  }
  staged_.clear();
  discard();
}

void OutputTransaction::discard() {
  std::error_code error;
  for (const auto& root : roots_) fs::remove_all(root, error);
  roots_.clear();
  staged_.clear();
}

OutputScope::OutputScope() : transaction_(OutputTransaction::current()) {
  if (transaction_ == nullptr) transaction_ = &own_.emplace();
}

void OutputScope::finish() {
  if (own_) own_->commit();
}

}  // namespace smr
