// The model registry: named models, immutable versions, aliases with history, lineage, audit.
//
// A Registry combines a Store (the records) with an ArtifactStore (the model files by digest) and
// the engine (a version is only created once the engine has loaded and compiled its file). Order of
// writes in push(): artifact (fsynced, renamed), then the database row; a crash in between leaves
// an unreferenced artifact that `gc` removes, never a version without its file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/predictor.h"
#include "registry/artifact_store.h"
#include "registry/names.h"
#include "registry/store.h"

namespace orchard {

struct PushOptions {
  std::string dataset_path;   // training data: fingerprint and reference profile
  std::string label_column;   // in the dataset; excluded from the features
  std::map<std::string, double> metrics;
  Tags params;
  Tags tags;
  std::string alias;          // point this alias at the new version
  std::string git_commit;
  std::string description;
  // Names the model in the version's lineage and in errors instead of the file's path (uploads,
  // whose temporary file does not outlive the push).
  std::string source_name;
};

class Registry {
 public:
  Registry(std::unique_ptr<Store> store, std::unique_ptr<ArtifactStore> artifacts, std::string actor);

  // The embedded default: DATA_DIR/registry.db (SQLite) and DATA_DIR/artifacts/.
  static std::unique_ptr<Registry> open_local(const std::string& data_dir, const std::string& actor);
  // store_url: empty for the embedded SQLite store, or postgresql://... for a shared PostgreSQL store.
  // Artifacts stay in DATA_DIR/artifacts (servers sharing a PostgreSQL store share that folder).
  static std::unique_ptr<Registry> open(const std::string& data_dir, const std::string& store_url, const std::string& actor);

  Store& store() { return *store_; }
  ArtifactStore& artifacts() { return *artifacts_; }
  // Who the audit log names for changes made on this thread: the ActingAs in force, else the actor
  // given at open (e.g. "cli:alice").
  const std::string& actor() const;

  // Names the caller of the changes made on this thread while it lives (a server request made with
  // an API key: "key:deploy-bot (10.0.0.5)").
  class ActingAs {
   public:
    explicit ActingAs(std::string actor);
    ~ActingAs();
    ActingAs(const ActingAs&) = delete;
    ActingAs& operator=(const ActingAs&) = delete;

   private:
    std::string previous_;
  };

  // Registers MODEL_FILE as the next version of `name`. Throws the engine's Error if it cannot load.
  VersionRecord push(const std::string& name, const std::string& model_file, const PushOptions& options);

  // NAME (the production alias if set, else the latest non-archived version), NAME:VERSION, NAME@ALIAS.
  VersionRecord resolve(const ModelRef& ref);
  VersionRecord resolve(const std::string& ref) { return resolve(parse_model_ref(ref)); }

  // Reads the version's artifact (verifying its digest) and compiles it.
  std::shared_ptr<const Predictor> load(const VersionRecord& version);

  AliasChange promote(const std::string& name, std::int64_t version, const std::string& alias);
  // Moves `alias` back to the version it pointed at before its current one.
  AliasChange rollback(const std::string& name, const std::string& alias);

  // Removes artifacts no version refers to (older than an hour, so pushes in progress are safe).
  std::size_t gc(long min_age_seconds = 3600);

 private:
  std::unique_ptr<Store> store_;
  std::unique_ptr<ArtifactStore> artifacts_;
  std::string actor_;
};

// The model's feature schema and outputs as JSON (stored with each version).
std::string schema_json(const Model& model);

}  // namespace orchard
