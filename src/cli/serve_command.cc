#include "cli/serve_command.h"

#include <condition_variable>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/registry_commands.h"
#include "common/duration.h"
#include "common/error.h"
#include "auth/authenticator.h"
#include "monitoring/drift_monitor.h"
#include "monitoring/drift_watcher.h"
#include "registry/registry.h"
#include "server/http_server.h"
#include "server/serving_catalog.h"
#include "server/service.h"
#include "tracing/prediction_log.h"
#include "tracing/sql_prediction_sink.h"

namespace orchard {
namespace {

// Registers the demo models (from the repository's examples/) into an empty registry.
void register_demo(Registry& registry) {
  if (!registry.store().list_models().empty()) return;
  const std::string examples = ORCHARD_EXAMPLES_DIR;
  if (!std::filesystem::exists(examples + "/churn/churn_xgboost.ubj")) {
    throw Error(ErrorKind::kNotFound, "the demo models are not here", examples, "the repository's examples/ folder");
  }
  PushOptions xgb;
  xgb.alias = "production";
  xgb.dataset_path = examples + "/churn/customers.csv";
  xgb.label_column = "target";
  xgb.description = "demo: churn classifier (XGBoost)";
  registry.push("churn", examples + "/churn/churn_xgboost.ubj", xgb);
  PushOptions lgbm;
  lgbm.alias = "staging";
  lgbm.description = "demo: churn classifier (LightGBM, categorical plan and region)";
  registry.push("churn", examples + "/churn/churn_lightgbm.txt", lgbm);
  PushOptions iris;
  iris.alias = "production";
  iris.description = "demo: iris species (XGBoost, 3 classes)";
  registry.push("iris", examples + "/iris/iris_xgboost.json", iris);
  std::cerr << "orchard: registered the demo models churn (versions 1 @production, 2 @staging) and iris (1 @production)\n";
}

}  // namespace

void add_serve_command(CLI::App& app, std::function<int()>& run) {
  struct Options {
    RegistryLocation where;
    HttpServerOptions http;
    bool demo = false;
    bool no_trace = false;
    double poll_seconds = 2.0;
    std::size_t body_limit_mib = 16;
    std::size_t max_rows = 100000;
    std::string trace_mode = "async";
    std::string trace_max_age;
    std::size_t trace_max_mib = 0;
    std::string drift_webhook;
    double drift_watch = 0.1;
    double drift_alert = 0.25;
    double drift_check_seconds = 10;
    bool auth = false;
    bool insecure = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("serve", "Serve the registry's models: Open Inference Protocol v2, MLflow invocations and the management API on one port.");
  add_registry_options(cmd, o->where);
  cmd->add_option("--host", o->http.host, "Address to listen on (0.0.0.0 for all interfaces)");
  cmd->add_option("--port", o->http.port, "Port (0: any free port, printed at start)");
  cmd->add_option("--threads", o->http.threads, "Server threads (default: one per core)")->check(CLI::Range(0, 1024));
  cmd->add_flag("--demo", o->demo, "Register demo models first if the registry is empty");
  cmd->add_flag("--no-trace", o->no_trace, "Do not record predictions in the prediction log (DATA/predictions.db, or the --store database)");
  cmd->add_option("--trace-mode", o->trace_mode,
                  "Prediction log mode of endpoints without their own route setting: async (a crash loses about the last 100 ms) "
                  "or durable (each response waits for its record's commit; raise --threads)")
      ->check(CLI::IsMember({"async", "durable"}));
  cmd->add_option("--trace-max-age", o->trace_max_age, "Delete logged predictions older than this (e.g. 30d, 12h); default: keep");
  cmd->add_option("--trace-max-mib", o->trace_max_mib, "Delete the oldest logged predictions beyond this size in MiB; default: no limit")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30));
  cmd->add_option("--poll-seconds", o->poll_seconds, "How often to pick up registry changes made elsewhere (CLI, other servers)")->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--body-limit-mib", o->body_limit_mib, "Largest request body (larger gets 413)")->check(CLI::Range(1, 4096));
  cmd->add_option("--max-rows", o->max_rows, "Most rows per prediction request")->check(CLI::Range(1, 100000000));
  cmd->add_option("--drift-watch", o->drift_watch, "PSI at which a feature's drift is marked \"watch\"")->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--drift-alert", o->drift_alert, "PSI at which a feature's drift is an alert")->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--drift-webhook", o->drift_webhook, "http:// URL that gets a JSON POST when a feature's drift crosses into alert");
  cmd->add_option("--drift-check-seconds", o->drift_check_seconds, "How often drift alerts are checked for the webhook")->check(CLI::Range(0.05, 3600.0));
  cmd->add_flag("--auth", o->auth, "Require an API key (Authorization: Bearer ...) on every route but health checks; "
                                   "on by itself when --host is not a loopback address");
  cmd->add_option("--tls-cert", o->http.tls_cert_file, "PEM certificate (chain): serve HTTPS only, TLS 1.2 and up")->check(CLI::ExistingFile);
  cmd->add_option("--tls-key", o->http.tls_key_file, "PEM private key of --tls-cert")->check(CLI::ExistingFile);
  cmd->add_flag("--insecure", o->insecure, "Serve without API keys on a non-loopback address (a trusted network only)");
  cmd->add_option("--read-timeout", o->http.read_timeout_seconds, "Seconds to receive a request once started (408 after)")->check(CLI::Range(1, 3600));
  cmd->add_option("--idle-timeout", o->http.idle_timeout_seconds, "Seconds a kept-alive connection may idle")->check(CLI::Range(1, 3600));
  cmd->add_option("--max-connections", o->http.max_connections, "Open connections at most (503 beyond)")->check(CLI::Range(1, 1000000));
  cmd->footer("Routes: /v2/... (KServe v2), /endpoints/NAME/invocations (MLflow), /api/v1/... (management; /api/v1/openapi.json).\n"
              "SIGTERM or Ctrl-C: stop accepting, finish the requests in flight, exit 0.");
  cmd->callback([o, &run] {
    run = [o] {
      auto registry = open_registry(o->where);
      if (o->demo) register_demo(*registry);
      ServingCatalog catalog(*registry);
      catalog.refresh();
      ServiceOptions options;
      options.max_rows = o->max_rows;
      options.durable_by_default = o->trace_mode == "durable";
      // Drift is measured on what the log writes (off the request path), against each version's
      // reference profile (push --dataset). Declared before the log, so that the log's writer (which
      // calls it) stops first.
      if (o->drift_watch > o->drift_alert) {
        throw Error(ErrorKind::kInvalidArgument, "--drift-watch is above --drift-alert", "", "watch <= alert, e.g. 0.1 and 0.25");
      }
      if (o->no_trace && !o->drift_webhook.empty()) {
        throw Error(ErrorKind::kInvalidArgument, "--drift-webhook needs the prediction log", "--no-trace", "drop --no-trace to measure drift");
      }
      std::unique_ptr<DriftMonitor> drift;
      if (!o->no_trace) {
        DriftMonitorOptions drift_options;
        drift_options.thresholds = {o->drift_watch, o->drift_alert};
        Registry* profiles = registry.get();
        drift = std::make_unique<DriftMonitor>(
            [profiles](const std::string& model, std::int64_t version) {
              return profiles->resolve(ModelRef{model, version, std::nullopt}).profile_json;
            },
            drift_options);
      }
      std::unique_ptr<PredictionLog> log;
      if (!o->no_trace) {
        PredictionLogOptions log_options;
        if (!o->trace_max_age.empty()) {
          log_options.retention.max_age_ms = parse_duration(o->trace_max_age, "--trace-max-age").count() * 1000;
        }
        if (o->trace_max_mib) log_options.retention.max_bytes = static_cast<std::int64_t>(o->trace_max_mib) << 20;
        // With a PostgreSQL registry the log goes to the same database, so that every replica's
        // predictions are in one place; otherwise beside the registry, in its own SQLite file.
        const bool shared_store = o->where.store.rfind("postgres", 0) == 0;
        log = std::make_unique<PredictionLog>(SqlPredictionSink::open(shared_store ? o->where.store : o->where.data + "/predictions.db"),
                                              log_options);
      }
      OrchardService service(*registry, catalog, options, log.get());
      std::unique_ptr<DriftWatcher> watcher;
      if (log) {
        log->add_observer(drift.get());
        service.set_drift_monitor(drift.get());
        if (!o->drift_webhook.empty()) {
          DriftWatcherOptions watcher_options;
          watcher_options.url = o->drift_webhook;
          watcher_options.interval = std::chrono::milliseconds(static_cast<long>(o->drift_check_seconds * 1000));
          watcher = std::make_unique<DriftWatcher>(*drift, watcher_options);
        }
      }
      // Authentication: asked for, or needed because the server is reachable from other machines.
      const bool loopback = o->http.host == "127.0.0.1" || o->http.host == "::1" || o->http.host == "localhost";
      if (o->auth && o->insecure) throw Error(ErrorKind::kInvalidArgument, "--auth and --insecure contradict each other");
      std::unique_ptr<Authenticator> auth;
      if (o->auth || (!loopback && !o->insecure)) {
        auth = std::make_unique<Authenticator>(registry->store());
        service.set_authenticator(auth.get());
        if (auth->usable_keys() == 0) {
          std::cerr << "orchard: warning: API keys are required but none exists; create one with\n"
                       "  orchard keys create --role admin --name me"
                    << (o->where.store.empty() ? " --data " + o->where.data : " --store URL") << "\n";
        }
      } else if (!loopback) {
        std::cerr << "orchard: warning: serving on " << o->http.host << " without API keys (--insecure)\n";
      }
      service.set_ready(true);
      HttpServerOptions http = o->http;
      http.body_limit = o->body_limit_mib << 20;
      HttpServer server(http, [&service](HttpRequest&& request) { return service.handle(std::move(request)); });
      const auto snapshot = catalog.current();
      std::cerr << "orchard: serving " << snapshot->endpoints.size() << " endpoint(s) on " << (http.tls_cert_file.empty() ? "http" : "https")
                << "://" << http.host << ":" << server.port() << "\n";
      for (const auto& problem : snapshot->problems) std::cerr << "orchard: warning: " << problem << "\n";
      // Picks up changes made by the CLI or by other servers sharing the store.
      std::mutex mutex;
      std::condition_variable wake;
      bool stopping = false;
      std::thread poller([&] {
        std::unique_lock lock(mutex);
        while (!wake.wait_for(lock, std::chrono::duration<double>(o->poll_seconds), [&] { return stopping; })) {
          lock.unlock();
          // Apart: a failed model refresh must not keep a revoked key working.
          try {
            catalog.refresh();
          } catch (const std::exception& e) {
            std::cerr << "orchard: warning: refreshing from the registry failed: " << e.what() << "\n";
          }
          try {
            if (auth) auth->reload();  // keys made or revoked by the CLI
          } catch (const std::exception& e) {
            std::cerr << "orchard: warning: reloading the API keys failed (the ones loaded before stay in force): " << e.what() << "\n";
          }
          lock.lock();
        }
      });
      server.run(true);
      {
        std::lock_guard lock(mutex);
        stopping = true;
      }
      wake.notify_all();
      poller.join();
      service.shadows().drain();
      if (log) log->flush();
      watcher.reset();
      std::cerr << "orchard: stopped\n";
      return 0;
    };
  });
}

}  // namespace orchard
