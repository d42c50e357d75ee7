#include "cli/evaluate_commands.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/registry_commands.h"
#include "cli/server_client.h"
#include "common/error.h"
#include "common/sha256.h"
#include "common/file_bytes.h"
#include "evaluation/evaluator.h"
#include "evaluation/report.h"
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

// Prints reports (evaluation_report's JSON, one per version) as one table, best value per column marked.
void print_table(const nlohmann::ordered_json& reports, const std::string& csv) {
  std::vector<std::string> columns;
  for (const auto& report : reports) {
    for (const auto& [key, value] : report.items()) {
      if (key == "version" || key == "rows") continue;
      if (std::find(columns.begin(), columns.end(), key) == columns.end()) columns.push_back(key);
    }
  }
  std::vector<double> best(columns.size(), std::nan(""));
  for (std::size_t c = 0; c < columns.size(); ++c) {
    for (const auto& report : reports) {
      if (!report.contains(columns[c]) || !report[columns[c]].is_number()) continue;
      const double value = report[columns[c]].get<double>();
      if (std::isnan(value)) continue;
      if (std::isnan(best[c]) || (report_higher_is_better(columns[c]) ? value > best[c] : value < best[c])) best[c] = value;
    }
  }
  const bool color = ::isatty(STDOUT_FILENO) == 1;
  std::vector<std::vector<std::string>> table{{"VERSION"}};
  for (const auto& c : columns) table[0].push_back(c);
  for (const auto& report : reports) {
    std::vector<std::string> row{std::to_string(report["version"].get<std::int64_t>())};
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (!report.contains(columns[c]) || !report[columns[c]].is_number()) {
        row.push_back("-");
        continue;
      }
      const double value = report[columns[c]].get<double>();
      std::string text = format_value(columns[c], value);
      if (reports.size() > 1 && value == best[c]) text = "*" + text;
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
  const std::int64_t rows = reports.empty() ? 0 : reports.front().value("rows", std::int64_t{0});
  std::cout << "(" << rows << " rows of " << csv << "; * marks the best value per column)\n";
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
    // "auc=>0.9" would otherwise be the metric "auc=" (then a failed gate, exit 7, not a typo).
    if (gate.metric.find_first_of("=<>! ") != std::string::npos) break;
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
        const std::string name = o->args.front();
        if (!o->where.server.empty()) {
          check_name(name, "model name");
          std::string versions;
          for (std::size_t i = 1; i + 1 < o->args.size(); ++i) versions += (versions.empty() ? "" : ",") + o->args[i];
          const std::string target = "/api/v1/models/" + name + "/evaluate?label=" + url_encode(o->label) + "&group=" + url_encode(o->group) +
                                     "&versions=" + url_encode(versions) + "&record=" + (o->record ? "1" : "0") + "&speed=" + (o->no_speed ? "0" : "1");
          const auto reports = nlohmann::ordered_json::parse(
              ServerClient(o->where.server).call("POST", target, read_file_bytes(o->args.back()), "text/csv"));
          if (o->json) std::cout << reports.dump(2) << "\n";
          else print_table(reports, o->args.back());
          return 0;
        }
        auto registry = open_registry(o->where);
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
        nlohmann::ordered_json reports = nlohmann::ordered_json::array();
        std::size_t size = 0;
        const std::string digest = o->record ? sha256_file_hex(csv, &size) : "";
        for (const VersionRecord& v : versions) {
          if (!o->json) std::cerr << "evaluating " << v.model << ":" << v.number << "...\n";
          const Evaluation evaluation = evaluate(*registry->load(v), data, !o->no_speed);
          nlohmann::ordered_json report = evaluation_report(v.number, v.artifact_size, evaluation, !o->no_speed);
          if (o->record) {
            nlohmann::ordered_json recorded = report;
            recorded["data"] = {{"path", csv}, {"sha256", digest}, {"label", o->label}};
            recorded["at"] = utc_now();
            VersionUpdate update;
            update.evaluation_json = recorded.dump();
            registry->store().update_version(v.model, v.number, update, registry->actor());
          }
          reports.push_back(std::move(report));
        }
        if (o->json) std::cout << reports.dump(2) << "\n";
        else print_table(reports, csv);
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
    cmd->add_option("--require", o->require, "Gate METRIC OP NUMBER, e.g. \"auc>=0.9\" (repeatable). Checked on --on data if given, else on the version's recorded evaluation, else its training metrics")
        ->check(CLI::Validator(
            [](std::string& text) -> std::string {
              try {
                parse_gate(text);
                return "";
              } catch (const Error& e) {
                return e.what();
              }
            },
            "METRIC OP NUMBER"));  // a malformed gate is a usage error (exit 2), found before anything runs
    cmd->add_option("--better-than", o->better_than, "Require beating the version this alias points at (needs --on, --label, --metric)");
    cmd->add_option("--on", o->on, "Labelled CSV to evaluate on for the gates");
    cmd->add_option("--label", o->label, "Label column of --on");
    cmd->add_option("--metric", o->metric, "Metric compared by --better-than (e.g. auc, rmse, p50_us)");
    cmd->callback([o, &run] {
      run = [o] {
        std::vector<Gate> gates;
        for (const std::string& text : o->require) gates.push_back(parse_gate(text));
        if (!o->better_than.empty() && (o->on.empty() || o->label.empty() || o->metric.empty())) {
          throw Error(ErrorKind::kInvalidArgument, "--better-than needs --on DATA.csv, --label COL and --metric M");
        }
        if (!o->on.empty() && o->label.empty()) throw Error(ErrorKind::kInvalidArgument, "--on needs --label COL");
        check_name(o->name, "model name");
        check_name(o->alias, "alias");
        bool need_speed = o->metric == "p50_us" || o->metric == "rows_per_s";
        for (const Gate& g : gates) need_speed = need_speed || g.metric == "p50_us" || g.metric == "rows_per_s";

        // The same gate logic locally and against a server; only where the numbers come from differs.
        const bool remote = !o->where.server.empty();
        std::unique_ptr<Registry> registry;
        std::unique_ptr<ServerClient> client;
        if (remote) client = std::make_unique<ServerClient>(o->where.server);
        else registry = open_registry(o->where);
        auto version_json = [&](std::int64_t number) -> nlohmann::json {
          if (remote) return nlohmann::json::parse(client->call("GET", "/api/v1/models/" + o->name + "/versions/" + std::to_string(number)));
          return to_json(registry->resolve(ModelRef{o->name, number, std::nullopt}));
        };
        auto alias_version = [&](const std::string& alias) -> std::int64_t {
          if (remote) return nlohmann::json::parse(client->call("GET", "/api/v1/models/" + o->name + "/aliases/" + alias))["version"].get<std::int64_t>();
          return registry->resolve(ModelRef{o->name, std::nullopt, alias}).number;
        };
        // Reports (one object per version, evaluation_report's form) on the --on data.
        auto evaluate_on = [&](const std::vector<std::int64_t>& numbers) -> nlohmann::ordered_json {
          if (remote) {
            std::string list;
            for (auto n : numbers) list += (list.empty() ? "" : ",") + std::to_string(n);
            return nlohmann::ordered_json::parse(client->call("POST", "/api/v1/models/" + o->name + "/evaluate?label=" + url_encode(o->label) +
                                                                  "&versions=" + list + "&speed=" + (need_speed ? "1" : "0"),
                                                              read_file_bytes(o->on), "text/csv"));
          }
          nlohmann::ordered_json reports = nlohmann::ordered_json::array();
          for (auto n : numbers) {
            const VersionRecord v = registry->resolve(ModelRef{o->name, n, std::nullopt});
            reports.push_back(evaluation_report(n, v.artifact_size, evaluate(*registry->load(v), LabelledData{o->on, o->label, ""}, need_speed), need_speed));
          }
          return reports;
        };

        const nlohmann::json candidate = version_json(o->version);
        std::vector<std::int64_t> to_evaluate{o->version};
        std::int64_t incumbent = 0;
        if (!o->better_than.empty()) {
          incumbent = alias_version(o->better_than);
          to_evaluate.push_back(incumbent);
        }
        nlohmann::ordered_json fresh;
        if (!o->on.empty()) fresh = evaluate_on(to_evaluate);

        auto candidate_value = [&](const std::string& metric, double& value, std::string& source) {
          if (!fresh.is_null()) {
            source = "on " + o->on;
            if (!fresh[0].contains(metric) || !fresh[0][metric].is_number()) return false;
            value = fresh[0][metric].get<double>();
            return true;
          }
          if (candidate.contains("evaluation") && candidate["evaluation"].is_object() && candidate["evaluation"].contains(metric) &&
              candidate["evaluation"][metric].is_number()) {
            value = candidate["evaluation"][metric].get<double>();
            source = "recorded evaluation";
            return true;
          }
          if (candidate.contains("metrics") && candidate["metrics"].contains(metric) && candidate["metrics"][metric].is_number()) {
            value = candidate["metrics"][metric].get<double>();
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
            failures.push_back("gate " + gate.text + ": version " + std::to_string(o->version) + " has no " + gate.metric +
                               " (evaluate with --on DATA.csv --label COL, or record one with `orchard evaluate --record`)");
          } else if (!gate_holds(gate, value)) {
            failures.push_back("gate " + gate.text + " failed: " + gate.metric + " is " + format_value(gate.metric, value) + " (" + source +
                               "), off by " + format_value(gate.metric, std::fabs(value - gate.threshold)));
          }
        }
        if (incumbent) {
          if (!fresh[0].contains(o->metric) || !fresh[1].contains(o->metric)) {
            throw Error(ErrorKind::kInvalidArgument, "metric \"" + o->metric + "\" is not computed for this model's task", "",
                        "one of the metrics `orchard evaluate` prints for it");
          }
          const double ours = fresh[0][o->metric].get<double>(), theirs = fresh[1][o->metric].get<double>();
          const bool higher = report_higher_is_better(o->metric);
          if (!(higher ? ours > theirs : ours < theirs)) {
            failures.push_back("--better-than " + o->better_than + " failed: " + o->metric + " of version " + std::to_string(o->version) +
                               " is " + format_value(o->metric, ours) + ", version " + std::to_string(incumbent) + " (@" + o->better_than +
                               ") has " + format_value(o->metric, theirs) + " (" + (higher ? "higher" : "lower") + " is better)");
          }
        }
        if (!failures.empty()) {
          std::cerr << "orchard: promotion of " << o->name << ":" << o->version << " to @" << o->alias << " refused:\n";
          for (const auto& f : failures) std::cerr << "  - " << f << "\n";
          return kExitGateFailed;
        }
        std::int64_t from = 0, to = 0;
        if (remote) {
          const auto change = nlohmann::json::parse(client->call("PUT", "/api/v1/models/" + o->name + "/aliases/" + o->alias,
                                                                 nlohmann::json{{"version", o->version}}.dump()));
          from = change["from_version"].get<std::int64_t>();
          to = change["to_version"].get<std::int64_t>();
        } else {
          const AliasChange change = registry->promote(o->name, o->version, o->alias);
          from = change.from_version;
          to = change.to_version;
        }
        std::cout << o->name << "@" << o->alias << ": " << (from ? std::to_string(from) : "(new)") << " -> " << to << "\n";
        return 0;
      };
    });
  }
}

}  // namespace orchard
