#include "cli/trace_command.h"

#include <filesystem>
#include <iostream>

#include "cli/registry_commands.h"
#include "cli/server_client.h"
#include "common/error.h"
#include "registry/registry.h"
#include "server/service.h"
#include "tracing/prediction_id.h"
#include "tracing/sql_prediction_sink.h"

namespace orchard {

void add_trace_command(CLI::App& app, std::function<int()>& run) {
  struct Options {
    RegistryLocation where;
    std::string id;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("trace", "Show a prediction by its id: inputs, outputs, version, arm, artifact, source and training data.");
  add_registry_options(cmd, o->where);
  cmd->add_option("id", o->id, "Prediction id (from a response's prediction_ids or the orchard-prediction-id header)")->required();
  cmd->callback([o, &run] {
    run = [o] {
      if (!is_prediction_id(o->id)) {
        throw Error(ErrorKind::kInvalidArgument, "\"" + o->id + "\" is not a prediction id", "", "a UUID such as 0192f1e4-...");
      }
      if (!o->where.server.empty()) {
        std::cout << nlohmann::json::parse(ServerClient(o->where.server).call("GET", "/api/v1/predictions/" + o->id)).dump(2) << "\n";
        return 0;
      }
      // The log is where `orchard serve` keeps it: the PostgreSQL store, else DATA/predictions.db.
      const bool shared_store = o->where.store.rfind("postgres", 0) == 0;
      const std::string log_path = shared_store ? o->where.store : o->where.data + "/predictions.db";
      if (!shared_store && !std::filesystem::exists(log_path)) {
        throw Error(ErrorKind::kNotFound, "no prediction log here", log_path, "the --data folder of `orchard serve`, or --server URL");
      }
      const auto found = SqlPredictionSink::open(log_path)->find(*PredictionId::parse(o->id));
      if (!found) throw Error(ErrorKind::kNotFound, "no prediction with id " + o->id, shared_store ? "the --store database" : log_path);
      auto registry = open_registry(o->where);
      std::cout << prediction_lineage(*registry, *found).dump(2) << "\n";
      return 0;
    };
  });
}

}  // namespace orchard
