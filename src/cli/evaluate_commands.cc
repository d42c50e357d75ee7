#include "cli/evaluate_commands.h"

#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/registry_commands.h"
#include "cli/server_client.h"
#include "common/error.h"
#include "common/sha256.h"
#include "evaluation/evaluator.h"
#include "registry/record_json.h"
#include "registry/registry.h"

namespace orchard {
namespace {


std::string format_value(const std::string& name, double value) {
  char buffer[64];
  if (name == "rows_per_s") std::snprintf(buffer, sizeof buffer, "%.0f", value);
  else if (name == "p50_us") std::snprintf(buffer, sizeof buffer, "%.2f", value);
  else if (name == "size_bytes") std::snprintf(buffer, sizeof buffer, "%.0f", value);
  else std::snprintf(buffer, sizeof buffer, "%.6f", value);
  return buffer;
}

struct VersionEvaluation {
  VersionRecord version;
  Evaluation evaluation;
};

nlohmann::ordered_json evaluation_json(const VersionEvaluation& item, bool with_speed) {
  nlohmann::ordered_json out = {{"version", item.version.number}};
  for (const MetricValue& m : item.evaluation.metrics) out[m.name] = m.value;
  if (with_speed) {
    out["p50_us"] = item.evaluation.p50_us;
    out["rows_per_s"] = item.evaluation.rows_per_s;
  }
  out["size_bytes"] = item.version.artifact_size;
  out["rows"] = item.evaluation.rows;
  return out;
}

// A gate such as "auc>=0.9".
struct Gate {
  std::string text, metric, op;
  double threshold = 0;
};

Gate parse_gate(const std::string& text) {
  for (const char* op : {">=", "<=", "==", ">", "<"}) {
    const std::size_t at = text.find(op);
    if (at == std::string::npos || at == 0) continue;
    Gate gate{text, text.substr(0, at), op, 0};
    const std::string number = text.substr(at + std::string(op).size());
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), gate.threshold);
    if (ec == std::errc() && end == number.data() + number.size()) return gate;
    break;
  }
  throw Error(ErrorKind::kInvalidArgument, "gate \"" + text + "\" is not METRIC OP NUMBER", "", "e.g. --require \"auc>=0.9\" (ops >=, <=, >, <, ==)");
}

bool gate_holds(const Gate& gate, double value) {
  if (gate.op == ">=") return value >= gate.threshold;
  if (gate.op == "<=") return value <= gate.threshold;
  if (gate.op == ">") return value > gate.threshold;
  if (gate.op == "<") return value < gate.threshold;
  return value == gate.threshold;
}

}  // namespace

void add_evaluate_commands(CLI::App& app, std::function<int()>& run) {
  // evaluate
  {
    struct Options {
      RegistryLocation where;
      std::string label, group;
      std::vector<std::string> args;
      bool record = false, json = false, no_speed = false;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("evaluate", "Run versions of a model on labelled data and compare quality and speed.");
    add_registry_options(cmd, o->where);
    cmd->add_option("args", o->args, "NAME [VERSION...] DATA.csv (default: every version that is not archived)")->required()->expected(2, -1);
    cmd->add_option("--label", o->label, "Label column of DATA.csv")->required();
    cmd->add_option("--group", o->group, "Query id column: evaluate as ranking (NDCG@5, NDCG@10)");
    cmd->add_flag("--record", o->record, "Store the results on the versions (shown by `orchard show`, used by promotion gates)");
    cmd->add_flag("--json", o->json, "Print a JSON array, one object per version, lower-case metric keys");
    cmd->add_flag("--no-speed", o->no_speed, "Skip the latency and throughput measurements");
    cmd->footer("Metrics: binary auc logloss accuracy f1 precision recall; multiclass accuracy macro_f1 logloss;\n"
                "regression rmse mae r2; ranking ndcg@5 ndcg@10; speed p50_us (single row) rows_per_s (batch); size.");
    cmd->callback([o, &run] {
      run = [o] {
        if (!o->where.server.empty()) {
          throw Error(ErrorKind::kInvalidArgument, "`orchard evaluate` does not work with --server yet", "", "run it with --data / --store");
        }
        auto registry = open_registry(o->where);
        const std::string name = o->args.front();
        const std::string csv = o->args.back();
        check_name(name, "model name");
        std::vector<VersionRecord> versions;
        if (o->args.size() > 2) {
          for (std::size_t i = 1; i + 1 < o->args.size(); ++i) {
            std::int64_t number = 0;
            const std::string& text = o->args[i];
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
            if (ec != std::errc() || end != text.data() + text.size()) {
              throw Error(ErrorKind::kInvalidArgument, "\"" + text + "\" is not a version number", "", "orchard evaluate NAME [VERSION...] DATA.csv --label COL");
            }
            versions.push_back(registry->resolve(ModelRef{name, number, std::nullopt}));
          }
        } else {
          if (!registry->store().find_model(name)) {
            throw Error(ErrorKind::kNotFound, "no model named \"" + name + "\"", "", "a registered model (see `orchard models`)");
          }
          for (auto& v : registry->store().list_versions(name)) if (!v.archived) versions.push_back(std::move(v));
          if (versions.empty()) throw Error(ErrorKind::kNotFound, "model \"" + name + "\" has no version that is not archived");
        }
        const LabelledData data{csv, o->label, o->group};
        std::vector<VersionEvaluation> results;
        for (const VersionRecord& v : versions) {
          if (!o->json) std::cerr << "evaluating " << v.model << ":" << v.number << "...\n";
          results.push_back({v, evaluate(*registry->load(v), data, !o->no_speed)});
        }
        if (o->record) {
          std::size_t size = 0;
          const std::string digest = sha256_file_hex(csv, &size);
          for (const auto& item : results) {
            nlohmann::ordered_json recorded = evaluation_json(item, !o->no_speed);
            recorded["data"] = {{"path", csv}, {"sha256", digest}, {"label", o->label}};
            recorded["at"] = utc_now();
            VersionUpdate update;
            update.evaluation_json = recorded.dump();
            registry->store().update_version(item.version.model, item.version.number, update, registry->actor());
          }
        }
        if (o->json) {
          nlohmann::ordered_json out = nlohmann::ordered_json::array();
          for (const auto& item : results) out.push_back(evaluation_json(item, !o->no_speed));
          std::cout << out.dump(2) << "\n";
          return 0;
        }
        // One table: the union of metric columns, then speed and size; the best value per column marked.
        std::vector<std::pair<std::string, bool>> columns;  // name, higher is better
        for (const auto& item : results) {
          for (const MetricValue& m : item.evaluation.metrics) {
            if (std::none_of(columns.begin(), columns.end(), [&](const auto& c) { return c.first == m.name; })) columns.emplace_back(m.name, m.higher_is_better);
          }
        }
        if (!o->no_speed) {
          columns.emplace_back("p50_us", false);
          columns.emplace_back("rows_per_s", true);
        }
        columns.emplace_back("size_bytes", false);
        auto value_of = [](const VersionEvaluation& item, const std::string& column, double& value) {
          bool higher = false;
          if (column == "size_bytes") {
            value = static_cast<double>(item.version.artifact_size);
            return true;
          }
          return find_metric(item.evaluation, column, value, higher);
        };
        const bool color = ::isatty(STDOUT_FILENO) == 1;
        std::vector<std::vector<std::string>> table{{"VERSION"}};
        for (const auto& c : columns) table[0].push_back(c.first);
        std::vector<double> best(columns.size(), std::nan(""));
        for (std::size_t c = 0; c < columns.size(); ++c) {
          for (const auto& item : results) {
            double value = 0;
            if (!value_of(item, columns[c].first, value) || std::isnan(value)) continue;
            if (std::isnan(best[c]) || (columns[c].second ? value > best[c] : value < best[c])) best[c] = value;
          }
        }
        for (const auto& item : results) {
          std::vector<std::string> row{std::to_string(item.version.number)};
          for (std::size_t c = 0; c < columns.size(); ++c) {
            double value = 0;
            if (!value_of(item, columns[c].first, value)) {
              row.push_back("-");
              continue;
            }
            std::string text = format_value(columns[c].first, value);
            if (results.size() > 1 && value == best[c]) text = "*" + text;
            row.push_back(text);
          }
          table.push_back(row);
        }
        std::vector<std::size_t> widths(table[0].size(), 0);
        for (const auto& row : table) for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
        for (const auto& row : table) {
          for (std::size_t c = 0; c < row.size(); ++c) {
            const bool star = !row[c].empty() && row[c][0] == '*';
            const std::string cell = std::string(widths[c] - row[c].size(), ' ') + row[c];
            std::cout << (c ? "  " : "") << (star && color ? "\033[1;32m" + cell + "\033[0m" : cell);
          }
          std::cout << "\n";
        }
        std::cout << "(" << results.front().evaluation.rows << " rows of " << csv << "; * marks the best value per column)\n";
        return 0;
      };
    });
  }
  // promote
  {
    struct Options {
      RegistryLocation where;
      std::string name, alias, better_than, on, label, metric;
      std::int64_t version = 0;
      std::vector<std::string> require;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("promote", "Point an alias (production, staging, ...) at a version, if its gates hold.");
    add_registry_options(cmd, o->where);
    cmd->add_option("name", o->name, "Model name")->required();
    cmd->add_option("version", o->version, "Version number")->required()->check(CLI::PositiveNumber);
    cmd->add_option("--alias", o->alias, "Alias to move")->required();
    cmd->add_option("--require", o->require, "Gate METRIC OP NUMBER, e.g. \"auc>=0.9\" (repeatable). Checked on --on data if given, else on the version's recorded evaluation, else its training metrics");
    cmd->add_option("--better-than", o->better_than, "Require beating the version this alias points at (needs --on, --label, --metric)");
    cmd->add_option("--on", o->on, "Labelled CSV to evaluate on for the gates");
    cmd->add_option("--label", o->label, "Label column of --on");
    cmd->add_option("--metric", o->metric, "Metric compared by --better-than (e.g. auc, rmse, p50_us)");
    cmd->callback([o, &run] {
      run = [o] {
        if (!o->where.server.empty()) {
          if (!o->require.empty() || !o->better_than.empty()) {
            throw Error(ErrorKind::kInvalidArgument, "promotion gates do not work with --server yet", "", "promote without gates, or use --data / --store");
          }
          const auto change = nlohmann::json::parse(ServerClient(o->where.server).call(
              "PUT", "/api/v1/models/" + o->name + "/aliases/" + o->alias, nlohmann::json{{"version", o->version}}.dump()));
          std::cout << o->name << "@" << o->alias << ": " << (change["from_version"].get<std::int64_t>() ? std::to_string(change["from_version"].get<std::int64_t>()) : "(new)")
                    << " -> " << change["to_version"].get<std::int64_t>() << "\n";
          return 0;
        }
        auto registry = open_registry(o->where);
        const VersionRecord candidate = registry->resolve(ModelRef{o->name, o->version, std::nullopt});
        std::vector<Gate> gates;
        for (const std::string& text : o->require) gates.push_back(parse_gate(text));
        if (!o->better_than.empty() && (o->on.empty() || o->label.empty() || o->metric.empty())) {
          throw Error(ErrorKind::kInvalidArgument, "--better-than needs --on DATA.csv, --label COL and --metric M");
        }
        if (!o->on.empty() && o->label.empty()) throw Error(ErrorKind::kInvalidArgument, "--on needs --label COL");
        const bool need_speed = [&] {
          for (const Gate& g : gates) if (g.metric == "p50_us" || g.metric == "rows_per_s") return true;
          return o->metric == "p50_us" || o->metric == "rows_per_s";
        }();
        // Where the candidate's values come from.
        std::optional<Evaluation> fresh;
        if (!o->on.empty()) fresh = evaluate(*registry->load(candidate), LabelledData{o->on, o->label, ""}, need_speed);
        auto candidate_value = [&](const std::string& metric, double& value, std::string& source) {
          bool higher = false;
          if (fresh) {
            source = "on " + o->on;
            return find_metric(*fresh, metric, value, higher);
          }
          if (!candidate.evaluation_json.empty()) {
            const auto recorded = nlohmann::json::parse(candidate.evaluation_json);
            if (recorded.contains(metric) && recorded[metric].is_number()) {
              value = recorded[metric].get<double>();
              source = "recorded evaluation";
              return true;
            }
          }
          if (auto it = candidate.metrics.find(metric); it != candidate.metrics.end()) {
            value = it->second;
            source = "training metrics";
            return true;
          }
          return false;
        };
        std::vector<std::string> failures;
        for (const Gate& gate : gates) {
          double value = 0;
          std::string source;
          if (!candidate_value(gate.metric, value, source)) {
            failures.push_back("gate " + gate.text + ": version " + std::to_string(candidate.number) + " has no " + gate.metric +
                               " (evaluate with --on DATA.csv --label COL, or record one with `orchard evaluate --record`)");
          } else if (!gate_holds(gate, value)) {
            failures.push_back("gate " + gate.text + " failed: " + gate.metric + " is " + format_value(gate.metric, value) + " (" + source +
                               "), off by " + format_value(gate.metric, std::fabs(value - gate.threshold)));
          }
        }
        if (!o->better_than.empty()) {
          const VersionRecord incumbent = registry->resolve(ModelRef{o->name, std::nullopt, o->better_than});
          const Evaluation theirs = evaluate(*registry->load(incumbent), LabelledData{o->on, o->label, ""}, need_speed);
          double ours_value = 0, theirs_value = 0;
          bool higher = true;
          if (!find_metric(*fresh, o->metric, ours_value, higher) || !find_metric(theirs, o->metric, theirs_value, higher)) {
            throw Error(ErrorKind::kInvalidArgument, "metric \"" + o->metric + "\" is not computed for this model's task", "",
                        "one of the metrics `orchard evaluate` prints for it");
          }
          const bool better = higher ? ours_value > theirs_value : ours_value < theirs_value;
          if (!better) {
            failures.push_back("--better-than " + o->better_than + " failed: " + o->metric + " of version " + std::to_string(candidate.number) +
                               " is " + format_value(o->metric, ours_value) + ", version " + std::to_string(incumbent.number) + " (@" +
                               o->better_than + ") has " + format_value(o->metric, theirs_value) + " (" + (higher ? "higher" : "lower") + " is better)");
          }
        }
        if (!failures.empty()) {
          std::cerr << "orchard: promotion of " << o->name << ":" << candidate.number << " to @" << o->alias << " refused:\n";
          for (const auto& f : failures) std::cerr << "  - " << f << "\n";
          return kExitGateFailed;
        }
        const AliasChange change = registry->promote(o->name, candidate.number, o->alias);
        std::cout << o->name << "@" << o->alias << ": " << (change.from_version ? std::to_string(change.from_version) : "(new)") << " -> "
                  << change.to_version << "\n";
        return 0;
      };
    });
  }
}

}  // namespace orchard
