// The output guard (DESIGN §3): every file a run writes — rasters, model files, CSV, JSON — is staged
// beside its target and committed together with the run's other outputs only once all of them
// succeeded, so a failed or cancelled run leaves each previous file as it was and never half a file.
// An output may never be one of the run's inputs, nor another output of the same run.
#pragma once

#include "smr/protocol.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace smr {

class OutputTransaction {
 public:
  // `parameters`: the run's parameters; every existing file they name (at any depth) under a key other
  // than `output_keys` is an input that no output may replace. Null for library callers that have no
  // parameter object. The outputs the parameters name are checked at once, before any work is done.
  explicit OutputTransaction(const json* parameters = nullptr, std::vector<std::string> output_keys = {});
  ~OutputTransaction();  // removes whatever is still staged
  OutputTransaction(const OutputTransaction&) = delete;
  OutputTransaction& operator=(const OutputTransaction&) = delete;

  // The transaction of the run in progress on this process, or null.
  static OutputTransaction* current();

  // Checks `path` as the output `key` (its folder exists; it is neither an input nor another output,
  // symlinks resolved) and returns where to write it until commit(): a file of the same name in a
  // private folder beside the target, so multi-file formats keep the references between their files.
  // `retired`: files of the previous output that the new one makes stale (a raster's .aux.xml, say);
  // they are moved away on commit and restored if the commit fails. Errors are InputError naming `key`.
  std::string stage(const std::string& key, const std::string& path, const std::vector<std::string>& retired = {});

  // An input the run reads besides those its parameters name (or when it has none): no output may be it.
  void declare_input(const std::string& key, const std::string& path) { declared_inputs_.emplace_back(key, path); }

  // Moves every staged file onto its target, all outputs together: if any move fails, every target
  // already replaced gets its previous file back and the error names the output.
  void commit();

 private:
  struct Staged {
    std::string key;
    std::filesystem::path target;     // absolute
    std::filesystem::path identity;   // the target with symlinks resolved, to compare outputs
    std::filesystem::path folder;     // the private folder holding the new files under their final names
    std::vector<std::filesystem::path> retired;
  };
  void check_not_an_input(const std::string& key, const std::string& path) const;
  std::filesystem::path staging_root(const std::filesystem::path& folder);
  void discard();

  const json* parameters_;
  std::vector<std::string> output_keys_;
  OutputTransaction* enclosing_;
  std::vector<std::pair<std::string, std::string>> declared_inputs_;  // (key, path)
  std::vector<Staged> staged_;
  std::vector<std::filesystem::path> roots_;  // one private folder per target folder
};

// The run's transaction, or — for writers called outside a run (library use, tests) — one of the
// writer's own that finish() commits.
class OutputScope {
 public:
  OutputScope();
  OutputTransaction& transaction() { return *transaction_; }
  void finish();

 private:
  std::optional<OutputTransaction> own_;
  OutputTransaction* transaction_;
};

// The name of the private folder where this process stages outputs in a folder; stale ones (of a dead
// process on this host) are removed by the next run that writes into the same folder.
std::string staging_folder_name();

// "no space left on device" when the file system holding `path` is (nearly) full, else empty: what a
// failed write most likely means, which GDAL's own message often does not say.
std::string disk_full_reason(const std::string& path);

}  // namespace smr
