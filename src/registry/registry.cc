#include "registry/registry.h"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/file_bytes.h"
#include "formats/mlflow_model.h"
#include "formats/model_loader.h"
#include "registry/dataset_profile.h"
#include "registry/postgres_database.h"
#include "registry/postgres_store.h"
#include "registry/sqlite_store.h"

namespace orchard {

std::string schema_json(const Model& model) {
  nlohmann::json features = nlohmann::json::array();
  for (const Feature& f : model.features) {
    nlohmann::json entry = {{"name", f.name},
                            {"type", f.type == FeatureType::kCategorical ? "categorical" : f.type == FeatureType::kInteger ? "integer" : "numeric"}};
    if (!f.categories.empty()) entry["categories"] = f.categories;
    features.push_back(entry);
  }
  return nlohmann::json{{"features", features},
                        {"named", model.has_feature_names},
                        {"outputs", model.output_names},
                        {"objective", model.objective},
                        {"format", model.source_format}}
      .dump();
}

Registry::Registry(std::unique_ptr<Store> store, std::unique_ptr<ArtifactStore> artifacts, std::string actor)
    : store_(std::move(store)), artifacts_(std::move(artifacts)), actor_(std::move(actor)) {}

namespace {
thread_local std::string acting_actor;  // set by Registry::ActingAs
}

const std::string& Registry::actor() const { return acting_actor.empty() ? actor_ : acting_actor; }

Registry::ActingAs::ActingAs(std::string actor) : previous_(std::move(acting_actor)) { acting_actor = std::move(actor); }
Registry::ActingAs::~ActingAs() { acting_actor = std::move(previous_); }

std::unique_ptr<Registry> Registry::open_local(const std::string& data_dir, const std::string& actor) {
  return open(data_dir, "", actor);
}

std::unique_ptr<Registry> Registry::open(const std::string& data_dir, const std::string& store_url, const std::string& actor) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) throw Error(ErrorKind::kIo, "cannot create the data folder: " + ec.message(), data_dir, "a writable path (--data DIR)");
  std::unique_ptr<Store> store;
  if (store_url.empty() || store_url == "sqlite") {
    store = std::make_unique<SqliteStore>(data_dir + "/registry.db");
  } else if (store_url.rfind("postgresql://", 0) == 0 || store_url.rfind("postgres://", 0) == 0) {
    store = std::make_unique<PostgresStore>(store_url);
  } else {
    throw Error(ErrorKind::kInvalidArgument, "unknown store \"" + redact_password(store_url) + "\"", "",
                "sqlite (the default) or postgresql://USER:PASSWORD@HOST:PORT/DB");
  }
  auto artifacts = std::make_unique<ArtifactStore>(data_dir + "/artifacts");
  return std::make_unique<Registry>(std::move(store), std::move(artifacts), actor);
}

VersionRecord Registry::push(const std::string& name, const std::string& model_file, const PushOptions& options) {
  check_name(name, "model name");
  if (!options.alias.empty()) check_name(options.alias, "alias");
  for (const auto& [key, value] : options.tags) check_tag(key, value);
  for (const auto& [key, value] : options.params) check_tag(key, value);
  for (const auto& [key, value] : options.metrics) {
    check_name(key, "metric name");
    if (!std::isfinite(value)) {
      throw Error(ErrorKind::kInvalidArgument, "metric \"" + key + "\" is not a finite number", "", "a finite number, e.g. --metric auc=0.93");
    }
  }

  // The engine must accept the file before anything is written.
  const std::string where = options.source_name.empty() ? model_file : options.source_name;
  // A model file, or an MLflow directory as one bundle (formats/mlflow_model.h): what is stored.
  const std::string bytes = read_model_path(model_file);
  Model model = load_model_bytes(bytes, where);
  const std::string format = model.source_format;
  const Predictor predictor(std::move(model), where);

  VersionDraft draft;
  draft.model = name;
  draft.format = format;
  draft.artifact_size = static_cast<std::int64_t>(bytes.size());
  draft.schema_json = schema_json(predictor.model());
  draft.load_check = "ok: " + predictor.describe();
  std::error_code ec;
  draft.source_path = options.source_name.empty() ? std::filesystem::absolute(model_file, ec).string() : options.source_name;
  draft.git_commit = options.git_commit;
  draft.description = options.description;
  draft.metrics = options.metrics;
  draft.params = options.params;
  draft.tags = options.tags;
  if (!options.dataset_path.empty()) {
    DatasetSummary summary = summarize_dataset(options.dataset_path, options.label_column, predictor);
    summary.fingerprint.path = std::filesystem::absolute(options.dataset_path, ec).string();
    draft.dataset = summary.fingerprint;
    draft.profile_json = std::move(summary.profile_json);
  }
  const ArtifactStore::Hold hold(*artifacts_, ArtifactStore::Hold::kShared);  // no gc between put and commit
  draft.artifact_sha256 = artifacts_->put(bytes);
  return store_->create_version(draft, actor(), options.alias);
}

VersionRecord Registry::resolve(const ModelRef& ref) {
  if (!store_->find_model(ref.model)) {
    throw Error(ErrorKind::kNotFound, "no model named \"" + ref.model + "\"", "", "a registered model (see `orchard models`)");
  }
  std::int64_t number = 0;
  if (ref.version) {
    number = *ref.version;
  } else if (ref.alias) {
    auto alias = store_->find_alias(ref.model, *ref.alias);
    if (!alias) {
      throw Error(ErrorKind::kNotFound, "model \"" + ref.model + "\" has no alias \"" + *ref.alias + "\"", "",
                  "an alias set with `orchard promote` (see `orchard show " + ref.model + "`)");
    }
    number = alias->version;
  } else if (auto production = store_->find_alias(ref.model, "production")) {
    number = production->version;
  } else {
    for (const VersionRecord& v : store_->list_versions(ref.model)) {
      if (!v.archived) number = v.number;
    }
    if (number == 0) throw Error(ErrorKind::kNotFound, "model \"" + ref.model + "\" has no version that is not archived");
  }
  auto version = store_->find_version(ref.model, number);
  if (!version) {
    throw Error(ErrorKind::kNotFound, "model \"" + ref.model + "\" has no version " + std::to_string(number), "",
                "an existing version (see `orchard versions " + ref.model + "`)");
  }
  return *version;
}

std::shared_ptr<const Predictor> Registry::load(const VersionRecord& version) {
  const std::string bytes = artifacts_->read(version.artifact_sha256);
  const std::string where = version.model + ":" + std::to_string(version.number);
  return std::make_shared<const Predictor>(load_model_bytes(bytes, where), where);
}

AliasChange Registry::promote(const std::string& name, std::int64_t version, const std::string& alias) {
  check_name(name, "model name");
  check_name(alias, "alias");
  return store_->set_alias(name, alias, version, "set", actor());
}

AliasChange Registry::rollback(const std::string& name, const std::string& alias) {
  check_name(name, "model name");
  check_name(alias, "alias");
  if (!store_->find_model(name)) {
    throw Error(ErrorKind::kNotFound, "no model named \"" + name + "\"", "", "a registered model (see `orchard models`)");
  }
  const auto current = store_->find_alias(name, alias);
  if (!current) {
    throw Error(ErrorKind::kNotFound, "model \"" + name + "\" has no alias \"" + alias + "\"", "", "an alias set with `orchard promote`");
  }
  // Replay the history as a stack: a "set" pushes, a "rollback" pops; roll back to the entry below
  // the top. A "set" to the version on top (written before such sets became no-ops) pushes nothing.
  std::vector<std::int64_t> stack;
  for (const AliasChange& change : store_->alias_history(name, alias)) {
    if (change.kind == "rollback") {
      if (!stack.empty()) stack.pop_back();
    } else if (stack.empty() || stack.back() != change.to_version) {
      stack.push_back(change.to_version);
    }
  }
  if (stack.size() < 2) {
    throw Error(ErrorKind::kInvalidArgument, "alias \"" + alias + "\" of \"" + name + "\" has no earlier version to roll back to", "",
                "an alias that was moved at least once with `orchard promote`");
  }
  // Written only if nothing moved the alias since it was read: two rollbacks at once, or a rollback
  // and a promotion, would otherwise both apply, the second from a stale history.
  return store_->set_alias(name, alias, stack[stack.size() - 2], "rollback", actor(), current->version);
}

std::size_t Registry::gc(long min_age_seconds) {
  const ArtifactStore::Hold hold(*artifacts_, ArtifactStore::Hold::kExclusive);  // no push between reading and removing
  return artifacts_->remove_unreferenced(store_->referenced_artifacts(), min_age_seconds);
}

}  // namespace orchard
