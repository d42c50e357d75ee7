#include "cli/registry_commands.h"

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "common/error.h"
#include "common/sha256.h"
#include "cli/server_client.h"
#include "common/file_bytes.h"
#include "formats/mlflow_model.h"
#include "registry/record_json.h"
#include "registry/registry.h"
#include "registry/sqlite_store.h"

namespace orchard {

void add_registry_options(CLI::App* command, RegistryLocation& location) {
  const char* data = std::getenv("ORCHARD_DATA");
  const char* store = std::getenv("ORCHARD_STORE");
  location.data = data && *data ? data : "./orchard-data";
  location.store = store && *store ? store : "";
  command->add_option("--data", location.data, "Data folder holding the registry and its artifacts (default ./orchard-data, or $ORCHARD_DATA)");
  command->add_option("--store", location.store, "Registry database: sqlite (default, in --data) or postgresql://USER:PASSWORD@HOST:PORT/DB ($ORCHARD_STORE)");
  const char* server = std::getenv("ORCHARD_SERVER");
  location.server = server && *server ? server : "";
  command->add_option("--server", location.server, "Send the command to a running `orchard serve` at this URL (http://HOST:PORT; $ORCHARD_SERVER)");
}

namespace {
[[noreturn]] void not_remote(const char* verb) {
  throw Error(ErrorKind::kInvalidArgument, std::string("`orchard ") + verb + "` does not work with --server yet", "",
              "run it on the server's machine with --data / --store");
}
void print_json(const std::string& text) { std::cout << nlohmann::json::parse(text).dump(2) << "\n"; }
}  // namespace

std::unique_ptr<Registry> open_registry(const RegistryLocation& location) {
  // A mistyped --data would otherwise start a new, empty registry without a word: say so (a first
  // push or `keys create` in a new folder is fine; an empty `models` or a key nobody serves is not).
  const bool local = location.store.empty() || location.store == "sqlite";
  const bool is_new = local && !std::filesystem::exists(location.data + "/registry.db");
  auto registry = Registry::open(location.data, location.store, current_actor());
  if (is_new) std::cerr << "orchard: no registry in " << location.data << " yet: starting an empty one there (--data DIR picks another)\n";
  return registry;
}

std::string current_actor() {
  if (const char* actor = std::getenv("ORCHARD_ACTOR"); actor && *actor) return actor;
  if (const char* user = std::getenv("USER"); user && *user) return user;
  return "local";
}

namespace {


std::pair<std::string, std::string> split_pair(const std::string& text, const char* what) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw Error(ErrorKind::kInvalidArgument, std::string(what) + " \"" + text + "\" is not KEY=VALUE", "", "e.g. --" + std::string(what) + " key=value");
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

std::map<std::string, double> parse_metrics(const std::vector<std::string>& items) {
  std::map<std::string, double> out;
  for (const std::string& item : items) {
    auto [key, value] = split_pair(item, "metric");
    double number = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec != std::errc() || end != value.data() + value.size()) {
      throw Error(ErrorKind::kInvalidArgument, "metric \"" + key + "\" has the value \"" + value + "\"", "", "a number, e.g. --metric auc=0.93");
    }
    out[key] = number;
  }
  return out;
}

Tags parse_tags(const std::vector<std::string>& items, const char* what) {
  Tags out;
  for (const std::string& item : items) out.insert(split_pair(item, what));
  return out;
}

std::string join_tags(const Tags& tags) {
  std::string out;
  for (const auto& [key, value] : tags) out += (out.empty() ? "" : " ") + key + "=" + value;
  return out;
}

std::string join_metrics(const std::map<std::string, double>& metrics) {
  std::string out;
  for (const auto& [key, value] : metrics) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%s=%.6g", key.c_str(), value);
    out += (out.empty() ? "" : " ") + std::string(buffer);
  }
  return out;
}

// Prints rows as aligned columns.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - row[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::cout << line << "\n";
  }
}

std::string aliases_of(Store& store, const std::string& model, std::int64_t version) {
  std::string out;
  for (const AliasRecord& alias : store.list_aliases(model)) {
    if (version == 0 || alias.version == version) {
      out += (out.empty() ? "" : ",") + alias.alias + (version == 0 ? "=" + std::to_string(alias.version) : "");
    }
  }
  return out;
}

std::string human_size(std::int64_t bytes) {
  char buffer[32];
  if (bytes < 1024) std::snprintf(buffer, sizeof buffer, "%lld B", static_cast<long long>(bytes));
  else if (bytes < 1024 * 1024) std::snprintf(buffer, sizeof buffer, "%.1f KiB", static_cast<double>(bytes) / 1024.0);
  else std::snprintf(buffer, sizeof buffer, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buffer;
}

// --- sync: DIR/NAME/VERSION/(model file + optional orchard.yaml) -------------------------------

// YAML scalars become strings, except under "metrics", whose values must be numbers.
nlohmann::json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& item : node) out[item.first.as<std::string>()] = yaml_to_json(item.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(yaml_to_json(item));
      return out;
    }
    case YAML::NodeType::Scalar: return node.as<std::string>();
    default: return nullptr;
  }
}

nlohmann::json read_yaml_metadata(const std::string& path) {
  nlohmann::json meta;
  try {
    meta = yaml_to_json(YAML::LoadFile(path));
  } catch (const YAML::Exception& e) {
    throw Error(ErrorKind::kInvalidArgument, std::string("not valid YAML: ") + e.what(), path, "a mapping of metrics, params, tags, alias, ...");
  }
  if (!meta.is_object()) throw Error(ErrorKind::kInvalidArgument, "is not a mapping", path, "keys such as metrics:, tags:, alias:");
  if (meta.contains("metrics")) {
    for (auto& [key, value] : meta["metrics"].items()) {
      double number = 0;
      const std::string text = value.is_string() ? value.get<std::string>() : "";
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
      if (ec != std::errc() || end != text.data() + text.size()) {
        throw Error(ErrorKind::kInvalidArgument, "metric \"" + key + "\" is not a number", path, "metrics: {auc: 0.93}");
      }
      value = number;
    }
  }
  return meta;
}

struct SyncEntry {
  std::string name;
  std::string version_dir;
  std::string model_file;
  nlohmann::json meta;
};

std::vector<SyncEntry> scan_sync_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(ErrorKind::kNotFound, "not a directory", dir, "DIR/NAME/VERSION/model-file");
  std::vector<SyncEntry> entries;
  std::vector<fs::path> names;
  for (const auto& entry : fs::directory_iterator(dir)) if (entry.is_directory()) names.push_back(entry.path());
  std::sort(names.begin(), names.end());
  for (const fs::path& name_dir : names) {
    std::vector<std::pair<long long, fs::path>> versions;
    for (const auto& entry : fs::directory_iterator(name_dir)) {
      if (!entry.is_directory()) continue;
      const std::string v = entry.path().filename().string();
      long long number = 0;
      auto [end, parse_ec] = std::from_chars(v.data(), v.data() + v.size(), number);
      if (parse_ec != std::errc() || end != v.data() + v.size()) {
        throw Error(ErrorKind::kInvalidArgument, "folder name \"" + v + "\" is not a version number", entry.path().string(), "DIR/NAME/1, DIR/NAME/2, ...");
      }
      versions.emplace_back(number, entry.path());
    }
    std::sort(versions.begin(), versions.end());
    for (const auto& [number, version_dir] : versions) {
      SyncEntry item;
      item.name = name_dir.filename().string();
      item.version_dir = version_dir.string();
      // The metadata first: the training data it names may sit beside the model (dataset: train.csv).
      std::vector<fs::path> others;
      for (const auto& file : fs::directory_iterator(version_dir)) {
        const std::string filename = file.path().filename().string();
        if (!file.is_regular_file()) continue;
        if (filename == "orchard.yaml" || filename == "orchard.yml") {
          item.meta = read_yaml_metadata(file.path().string());
        } else if (filename == "orchard.json") {
          std::ifstream in(file.path());
          try {
            item.meta = nlohmann::json::parse(in);
          } catch (const nlohmann::json::exception& e) {
            throw Error(ErrorKind::kInvalidArgument, std::string("orchard.json is not valid JSON: ") + e.what(), file.path().string());
          }
        } else {
          others.push_back(file.path());
        }
      }
      std::sort(others.begin(), others.end());  // directory order is arbitrary: messages stay the same
      const fs::path dataset = item.meta.contains("dataset") && item.meta["dataset"].is_string()
                                   ? fs::weakly_canonical(version_dir / item.meta["dataset"].get<std::string>(), ec)
                                   : fs::path();
      for (const fs::path& file : others) {
        if (!dataset.empty() && fs::weakly_canonical(file, ec) == dataset) continue;
        if (!item.model_file.empty()) {
          throw Error(ErrorKind::kInvalidArgument, "more than one model file (" + fs::path(item.model_file).filename().string() + " and " + file.filename().string() + ")",
                      version_dir.string(), "one model file, an optional orchard.yaml or orchard.json, and the dataset it names");
        }
        item.model_file = file.string();
      }
      if (item.model_file.empty()) throw Error(ErrorKind::kInvalidArgument, "no model file", version_dir.string(), "one model file");
      entries.push_back(std::move(item));
    }
  }
  return entries;
}

}  // namespace

void add_registry_commands(CLI::App& app, std::function<int()>& run) {
  // push
  {
    struct Options {
      RegistryLocation where;
      std::string name, file, dataset, label, alias, git_commit, description;
      std::vector<std::string> metrics, params, tags;
      bool json = false;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("push", "Register a model file as the next version of NAME.");
    add_registry_options(cmd, o->where);
    cmd->add_option("name", o->name, "Model name (letters, digits, '-', '_', '.')")->required();
    cmd->add_option("model_file", o->file, "Model file (XGBoost .json/.ubj, LightGBM .txt, ONNX .onnx, Orchard .json) or MLflow model directory")->required();
    cmd->add_option("--dataset", o->dataset, "Training data CSV: its digest and shape are recorded, and the reference profile for drift is computed from it");
    cmd->add_option("--label", o->label, "Label column of --dataset (not a feature)");
    cmd->add_option("--metric", o->metrics, "Training metric KEY=NUMBER (repeatable)");
    cmd->add_option("--param", o->params, "Training parameter KEY=VALUE (repeatable)");
    cmd->add_option("--tag", o->tags, "Tag KEY=VALUE (repeatable)");
    cmd->add_option("--alias", o->alias, "Point this alias (e.g. staging) at the new version");
    cmd->add_option("--git-commit", o->git_commit, "Commit of the training code");
    cmd->add_option("--description", o->description, "Free text");
    cmd->add_flag("--json", o->json, "Print the new version as JSON");
    cmd->callback([o, &run] {
      run = [o] {
        if (!o->where.server.empty()) {
          if (!o->dataset.empty()) not_remote("push --dataset");
          ServerClient client(o->where.server);
          std::string target = "/api/v1/models/" + o->name + "/versions?alias=" + url_encode(o->alias) +
                               "&description=" + url_encode(o->description) + "&git_commit=" + url_encode(o->git_commit) +
                               "&metrics=" + url_encode(nlohmann::json(parse_metrics(o->metrics)).dump()) +
                               "&params=" + url_encode(nlohmann::json(parse_tags(o->params, "param")).dump()) +
                               "&tags=" + url_encode(nlohmann::json(parse_tags(o->tags, "tag")).dump());
          const auto version = nlohmann::json::parse(client.call("POST", target, read_model_path(o->file), "application/octet-stream"));
          if (o->json) std::cout << version.dump(2) << "\n";
          else std::cout << version["model"].get<std::string>() << ":" << version["version"].get<std::int64_t>() << "\n";
          return 0;
        }
        auto registry = open_registry(o->where);
        PushOptions options;
        options.dataset_path = o->dataset;
        options.label_column = o->label;
        options.metrics = parse_metrics(o->metrics);
        options.params = parse_tags(o->params, "param");
        options.tags = parse_tags(o->tags, "tag");
        options.alias = o->alias;
        options.git_commit = o->git_commit;
        options.description = o->description;
        if (!o->label.empty() && o->dataset.empty()) {
          throw Error(ErrorKind::kInvalidArgument, "--label needs --dataset", "", "--dataset TRAIN.csv --label COLUMN");
        }
        const VersionRecord version = registry->push(o->name, o->file, options);
        if (o->json) {
          std::cout << to_json(version).dump(2) << "\n";
        } else {
          std::cout << version.model << ":" << version.number << "\n";
          std::cerr << "registered " << version.model << " version " << version.number << " (" << version.format << ", "
                    << human_size(version.artifact_size) << ", sha256 " << version.artifact_sha256.substr(0, 12) << ")"
                    << (o->alias.empty() ? "" : " as @" + o->alias) << "\n";
        }
        return 0;
      };
    });
  }
  // models
  {
    struct Options { RegistryLocation where; bool json = false; };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("models", "List the registered models.");
    add_registry_options(cmd, o->where);
    cmd->add_flag("--json", o->json, "JSON output");
    cmd->callback([o, &run] {
      run = [o] {
        if (!o->where.server.empty()) {
          const auto models = nlohmann::json::parse(ServerClient(o->where.server).call("GET", "/api/v1/models"));
          if (o->json) {
            std::cout << models.dump(2) << "\n";
            return 0;
          }
          std::vector<std::vector<std::string>> rows{{"NAME", "VERSIONS", "ALIASES", "DESCRIPTION"}};
          for (const auto& m : models) {
            std::string aliases;
            for (const auto& [alias, version] : m["aliases"].items()) aliases += (aliases.empty() ? "" : ",") + alias + "=" + std::to_string(version.get<std::int64_t>());
            rows.push_back({m["name"].get<std::string>(), std::to_string(m["latest_version"].get<std::int64_t>()), aliases, m["description"].get<std::string>()});
          }
          print_table(rows);
          return 0;
        }
        auto registry = open_registry(o->where);
        Store& store = registry->store();
        const auto models = store.list_models();
        if (o->json) {
          nlohmann::json out = nlohmann::json::array();
          for (const auto& m : models) {
            nlohmann::json entry = to_json(m);
            nlohmann::json aliases = nlohmann::json::object();
            for (const auto& a : store.list_aliases(m.name)) aliases[a.alias] = a.version;
            entry["aliases"] = aliases;
            out.push_back(entry);
          }
          std::cout << out.dump(2) << "\n";
          return 0;
        }
        std::vector<std::vector<std::string>> rows{{"NAME", "VERSIONS", "ALIASES", "DESCRIPTION"}};
        for (const auto& m : models) rows.push_back({m.name, std::to_string(m.latest_version), aliases_of(store, m.name, 0), m.description});
        if (models.empty()) std::cerr << "no models yet: register one with `orchard push NAME MODEL_FILE`\n";
        else print_table(rows);
        return 0;
      };
    });
  }
  // versions
  {
    struct Options { RegistryLocation where; std::string name; bool json = false; };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("versions", "List the versions of a model.");
    add_registry_options(cmd, o->where);
    cmd->add_option("name", o->name, "Model name")->required();
    cmd->add_flag("--json", o->json, "JSON output");
    cmd->callback([o, &run] {
      run = [o] {
        check_name(o->name, "model name");
        if (!o->where.server.empty()) {
          print_json(ServerClient(o->where.server).call("GET", "/api/v1/models/" + o->name + "/versions"));
          return 0;
        }
        auto registry = open_registry(o->where);
        Store& store = registry->store();
        if (!store.find_model(o->name)) {
          throw Error(ErrorKind::kNotFound, "no model named \"" + o->name + "\"", "", "a registered model (see `orchard models`)");
        }
        const auto versions = store.list_versions(o->name);
        if (o->json) {
          nlohmann::json out = nlohmann::json::array();
          for (const auto& v : versions) out.push_back(to_json(v));
          std::cout << out.dump(2) << "\n";
          return 0;
        }
        std::vector<std::vector<std::string>> rows{{"VERSION", "CREATED", "BY", "FORMAT", "SIZE", "ALIASES", "METRICS", "TAGS"}};
        for (const auto& v : versions) {
          rows.push_back({std::to_string(v.number) + (v.archived ? " (archived)" : ""), v.created_at.substr(0, 19), v.created_by, v.format,
                          human_size(v.artifact_size), aliases_of(store, v.model, v.number), join_metrics(v.metrics), join_tags(v.tags)});
        }
        print_table(rows);
        return 0;
      };
    });
  }
  // show
  {
    struct Options { RegistryLocation where; std::string ref; bool json = false; };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("show", "Show a version and its lineage: NAME (production, else latest), NAME:VERSION or NAME@ALIAS.");
    add_registry_options(cmd, o->where);
    cmd->add_option("ref", o->ref, "NAME, NAME:VERSION or NAME@ALIAS")->required();
    cmd->add_flag("--json", o->json, "JSON output");
    cmd->callback([o, &run] {
      run = [o] {
        if (!o->where.server.empty()) {
          const ModelRef ref = parse_model_ref(o->ref);
          ServerClient client(o->where.server);
          std::int64_t number = ref.version.value_or(0);
          if (ref.alias) {
            number = nlohmann::json::parse(client.call("GET", "/api/v1/models/" + ref.model + "/aliases/" + *ref.alias))["version"].get<std::int64_t>();
          }
          print_json(number ? client.call("GET", "/api/v1/models/" + ref.model + "/versions/" + std::to_string(number))
                            : client.call("GET", "/api/v1/models/" + ref.model));
          return 0;
        }
        auto registry = open_registry(o->where);
        Store& store = registry->store();
        const VersionRecord v = registry->resolve(o->ref);
        nlohmann::json out = to_json(v);
        nlohmann::json aliases = nlohmann::json::array();
        for (const auto& a : store.list_aliases(v.model)) {
          nlohmann::json entry = to_json(a);
          nlohmann::json history = nlohmann::json::array();
          for (const auto& change : store.alias_history(v.model, a.alias)) history.push_back(to_json(change));
          entry["history"] = history;
          aliases.push_back(entry);
        }
        out["aliases"] = aliases;
        if (o->json) {
          std::cout << out.dump(2) << "\n";
          return 0;
        }
        std::cout << v.model << ":" << v.number << (v.archived ? "  (archived)" : "") << "\n"
                  << "  created      " << v.created_at << " by " << v.created_by << "\n"
                  << "  artifact     sha256 " << v.artifact_sha256 << ", " << v.format << ", " << human_size(v.artifact_size) << "\n"
                  << "  engine       " << v.load_check << "\n"
                  << "  source       " << v.source_path << (v.git_commit.empty() ? "" : "  (git " + v.git_commit + ")") << "\n";
        if (v.dataset) {
          std::cout << "  training     " << v.dataset->path << ": " << v.dataset->rows << " rows, " << v.dataset->columns
                    << " columns, sha256 " << v.dataset->sha256 << (v.profile_json.empty() ? "" : "; reference profile stored") << "\n";
        } else {
          std::cout << "  training     (no dataset recorded: push with --dataset to enable drift monitoring)\n";
        }
        if (!v.description.empty()) std::cout << "  description  " << v.description << "\n";
        if (!v.metrics.empty()) std::cout << "  metrics      " << join_metrics(v.metrics) << "\n";
        if (!v.params.empty()) std::cout << "  params       " << join_tags(v.params) << "\n";
        if (!v.tags.empty()) std::cout << "  tags         " << join_tags(v.tags) << "\n";
        if (!v.evaluation_json.empty()) std::cout << "  evaluation   " << v.evaluation_json << "\n";
        for (const auto& a : store.list_aliases(v.model)) {
          std::cout << "  @" << a.alias << " -> " << a.version << "  (history:";
          for (const auto& change : store.alias_history(v.model, a.alias)) {
            std::cout << " " << (change.from_version ? std::to_string(change.from_version) : "-") << "->" << change.to_version
                      << (change.kind == "rollback" ? " rollback" : "");
          }
          std::cout << ")\n";
        }
        const auto schema = nlohmann::json::parse(v.schema_json);
        std::cout << "  features     ";
        std::size_t shown = 0;
        for (const auto& f : schema["features"]) {
          if (shown++ == 12) { std::cout << " ... (" << schema["features"].size() << " in all)"; break; }
          std::cout << (shown > 1 ? ", " : "") << f["name"].get<std::string>();
        }
        std::cout << "\n  outputs      ";
        for (std::size_t k = 0; k < schema["outputs"].size(); ++k) std::cout << (k ? ", " : "") << schema["outputs"][k].get<std::string>();
        std::cout << "\n";
        return 0;
      };
    });
  }
  // tag
  {
    struct Options { RegistryLocation where; std::string ref, description; std::vector<std::string> tags, remove; bool has_description = false; };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("tag", "Set or remove tags (and the description) of a model (NAME) or a version (NAME:VERSION).");
    add_registry_options(cmd, o->where);
    cmd->add_option("ref", o->ref, "NAME or NAME:VERSION")->required();
    cmd->add_option("tags", o->tags, "KEY=VALUE pairs to set");
    cmd->add_option("--remove", o->remove, "Tag keys to remove");
    auto* description = cmd->add_option("--description", o->description, "New description");
    cmd->callback([o, description, &run] {
      run = [o, has_description = description->count() > 0] {
        const ModelRef ref = parse_model_ref(o->ref);
        const Tags tags = parse_tags(o->tags, "tag");
        for (const auto& [key, value] : tags) check_tag(key, value);
        if (ref.alias) throw Error(ErrorKind::kInvalidArgument, "tag takes NAME or NAME:VERSION, not an alias", "", "e.g. churn:3");
        if (!o->where.server.empty()) {
          nlohmann::json body = {{"tags", tags}, {"remove_tags", o->remove}};
          if (has_description) body["description"] = o->description;
          ServerClient(o->where.server).call("PATCH", "/api/v1/models/" + ref.model + (ref.version ? "/versions/" + std::to_string(*ref.version) : ""), body.dump());
          return 0;
        }
        auto registry = open_registry(o->where);
        if (ref.version) {
          VersionUpdate update;
          update.set_tags = tags;
          update.remove_tags = o->remove;
          if (has_description) update.description = o->description;
          registry->store().update_version(ref.model, *ref.version, update, registry->actor());
        } else {
          ModelUpdate update;
          update.set_tags = tags;
          update.remove_tags = o->remove;
          if (has_description) update.description = o->description;
          registry->store().update_model(ref.model, update, registry->actor());
        }
        return 0;
      };
    });
  }
  // archive
  {
    struct Options { RegistryLocation where; std::string ref; bool undo = false; };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("archive", "Archive a version (kept, but left out of `evaluate` and of NAME's default).");
    add_registry_options(cmd, o->where);
    cmd->add_option("ref", o->ref, "NAME:VERSION")->required();
    cmd->add_flag("--undo", o->undo, "Unarchive");
    cmd->callback([o, &run] {
      run = [o] {
        const ModelRef ref = parse_model_ref(o->ref);
        if (!ref.version) throw Error(ErrorKind::kInvalidArgument, "archive needs a version", "", "NAME:VERSION, e.g. churn:2");
        if (!o->where.server.empty()) {
          ServerClient(o->where.server).call("PATCH", "/api/v1/models/" + ref.model + "/versions/" + std::to_string(*ref.version),
                                             nlohmann::json{{"archived", !o->undo}}.dump());
          return 0;
        }
        auto registry = open_registry(o->where);
        VersionUpdate update;
        update.archived = !o->undo;
        registry->store().update_version(ref.model, *ref.version, update, registry->actor());
        return 0;
      };
    });
  }
  // rollback
  {
    struct Options { RegistryLocation where; std::string name, alias; };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("rollback", "Move an alias back to the version it pointed at before.");
    add_registry_options(cmd, o->where);
    cmd->add_option("name", o->name, "Model name")->required();
    cmd->add_option("--alias", o->alias, "Alias to roll back (e.g. production)")->required();
    cmd->callback([o, &run] {
      run = [o] {
        if (!o->where.server.empty()) {
          check_name(o->name, "model name");
          check_name(o->alias, "alias");
          const auto change = nlohmann::json::parse(
              ServerClient(o->where.server).call("POST", "/api/v1/models/" + o->name + "/aliases/" + o->alias + "/rollback"));
          std::cout << o->name << "@" << o->alias << ": " << change["from_version"].get<std::int64_t>() << " -> "
                    << change["to_version"].get<std::int64_t>() << "\n";
          return 0;
        }
        auto registry = open_registry(o->where);
        const AliasChange change = registry->rollback(o->name, o->alias);
        std::cout << o->name << "@" << o->alias << ": " << change.from_version << " -> " << change.to_version << "\n";
        return 0;
      };
    });
  }
  // gc
  {
    struct Options { RegistryLocation where; long min_age = 3600; };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("gc", "Remove artifacts that no version refers to.");
    add_registry_options(cmd, o->where);
    cmd->add_option("--min-age", o->min_age, "Only remove files older than this many seconds (protects pushes in progress)")->check(CLI::NonNegativeNumber);
    cmd->callback([o, &run] {
      run = [o] {
        if (!o->where.server.empty()) {
          const auto result = nlohmann::json::parse(ServerClient(o->where.server).call("POST", "/api/v1/gc?min_age=" + std::to_string(o->min_age)));
          std::cout << "removed " << result["removed"].get<std::size_t>() << " unreferenced artifact(s)\n";
          return 0;
        }
        auto registry = open_registry(o->where);
        std::cout << "removed " << registry->gc(o->min_age) << " unreferenced artifact(s)\n";
        return 0;
      };
    });
  }
  // sync
  {
    struct Options { RegistryLocation where; std::string dir; bool dry_run = false; };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("sync", "Register what DIR/NAME/VERSION/(model file + optional orchard.yaml) holds; idempotent.");
    add_registry_options(cmd, o->where);
    cmd->add_option("dir", o->dir, "Folder laid out as DIR/NAME/VERSION/")->required();
    cmd->add_flag("--dry-run", o->dry_run, "Only print what would be registered");
    cmd->footer("orchard.yaml (or orchard.json) may hold:\n"
                "  metrics: {auc: 0.93}\n  params: {max_depth: 6}\n  tags: {team: growth}\n  alias: production\n"
                "  description: ...\n  git_commit: ...\n  dataset: train.csv   # relative to the version folder\n  label: target\n"
                "A version folder whose model file is already registered under NAME (same digest) is skipped.");
    cmd->callback([o, &run] {
      run = [o] {
        std::size_t added = 0, skipped = 0;
        if (!o->where.server.empty()) {
          // The folder is read here and each new model file is uploaded with its metadata.
          ServerClient client(o->where.server);
          for (const SyncEntry& entry : scan_sync_dir(o->dir)) {
            check_name(entry.name, "model name");
            const std::string digest = sha256_file_hex(entry.model_file);
            bool known = false;
            const auto listed = client.request("GET", "/api/v1/models/" + entry.name + "/versions");
            if (listed.status == 200) {
              for (const auto& v : nlohmann::json::parse(listed.body)) known = known || v["artifact"]["sha256"] == digest;
            }
            if (known) {
              ++skipped;
              continue;
            }
            const nlohmann::json& meta = entry.meta;
            if (meta.contains("dataset")) not_remote("sync (with a dataset in orchard.yaml)");
            auto text = [&](const char* key) { return meta.contains(key) ? url_encode(meta[key].get<std::string>()) : std::string(); };
            auto object = [&](const char* key) { return meta.contains(key) ? url_encode(meta[key].dump()) : std::string(); };
            if (o->dry_run) {
              std::cout << "would register " << entry.model_file << " as " << entry.name << "\n";
              ++added;
              continue;
            }
            const auto version = nlohmann::json::parse(client.call(
                "POST", "/api/v1/models/" + entry.name + "/versions?alias=" + text("alias") + "&description=" + text("description") +
                            "&git_commit=" + text("git_commit") + "&metrics=" + object("metrics") + "&params=" + object("params") + "&tags=" + object("tags"),
                read_model_path(entry.model_file), "application/octet-stream"));
            std::cout << "registered " << entry.model_file << " as " << entry.name << ":" << version["version"].get<std::int64_t>() << "\n";
            ++added;
          }
          std::cerr << added << " registered, " << skipped << " already present\n";
          return 0;
        }
        auto registry = open_registry(o->where);
        for (const SyncEntry& entry : scan_sync_dir(o->dir)) {
          std::size_t size = 0;
          const std::string digest = sha256_file_hex(entry.model_file, &size);
          bool known = false;
          if (registry->store().find_model(entry.name)) {
            for (const auto& v : registry->store().list_versions(entry.name)) known = known || v.artifact_sha256 == digest;
          }
          if (known) {
            ++skipped;
            continue;
          }
          PushOptions options;
          const nlohmann::json& meta = entry.meta;
          try {
            if (meta.contains("metrics")) options.metrics = meta["metrics"].get<std::map<std::string, double>>();
            if (meta.contains("params")) options.params = meta["params"].get<Tags>();
            if (meta.contains("tags")) options.tags = meta["tags"].get<Tags>();
            if (meta.contains("alias")) options.alias = meta["alias"].get<std::string>();
            if (meta.contains("description")) options.description = meta["description"].get<std::string>();
            if (meta.contains("git_commit")) options.git_commit = meta["git_commit"].get<std::string>();
            if (meta.contains("dataset")) options.dataset_path = entry.version_dir + "/" + meta["dataset"].get<std::string>();
            if (meta.contains("label")) options.label_column = meta["label"].get<std::string>();
          } catch (const nlohmann::json::exception& e) {
            throw Error(ErrorKind::kInvalidArgument, std::string("orchard.json has a field of the wrong type: ") + e.what(),
                        entry.version_dir + "/orchard.json", "metrics: numbers; params, tags: strings; alias, description: strings");
          }
          if (o->dry_run) {
            std::cout << "would register " << entry.model_file << " as " << entry.name << "\n";
            ++added;
            continue;
          }
          const VersionRecord version = registry->push(entry.name, entry.model_file, options);
          std::cout << "registered " << entry.model_file << " as " << version.model << ":" << version.number << "\n";
          ++added;
        }
        std::cerr << added << " registered, " << skipped << " already present\n";
        return 0;
      };
    });
  }
  // audit
  {
    struct Options { RegistryLocation where; std::string prefix; std::size_t limit = 50; bool json = false; };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("audit", "Show the audit log (newest first): who changed what, when, before and after.");
    add_registry_options(cmd, o->where);
    cmd->add_option("target", o->prefix, "Only this model's events (churn: the model, its versions and aliases) or one target (churn:3, churn@production)");
    cmd->add_option("--limit", o->limit, "Number of events");
    cmd->add_flag("--json", o->json, "JSON output with before/after");
    cmd->callback([o, &run] {
      run = [o] {
        if (!o->where.server.empty()) {
          print_json(ServerClient(o->where.server).call("GET", "/api/v1/audit?target=" + url_encode(o->prefix) + "&limit=" + std::to_string(o->limit)));
          return 0;
        }
        auto registry = open_registry(o->where);
        const auto events = registry->store().audit_log(o->prefix, o->limit);
        if (o->json) {
          nlohmann::json out = nlohmann::json::array();
          for (const auto& e : events) out.push_back(to_json(e));
          std::cout << out.dump(2) << "\n";
          return 0;
        }
        std::vector<std::vector<std::string>> rows{{"ID", "AT", "ACTOR", "ACTION", "TARGET"}};
        for (const auto& e : events) rows.push_back({std::to_string(e.id), e.at, e.actor, e.action, e.target});
        print_table(rows);
        return 0;
      };
    });
  }
}

}  // namespace orchard
