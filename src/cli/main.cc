// The `orchard` command line.
#include <CLI/CLI.hpp>

#include <functional>
#include <iostream>

#include "cli/evaluate_commands.h"
#include "cli/keys_command.h"
#include "cli/predict_command.h"
#include "cli/registry_commands.h"
#include "cli/serve_command.h"
#include "cli/trace_command.h"
#include "common/error.h"
#include "engine/predictor.h"
#include "formats/model_loader.h"

namespace {

// Exit codes that scripts can act on.
constexpr int kExitUsage = 2;         // wrong command line (CLI11 also uses 2..)
constexpr int kExitBadInput = 3;      // input data wrong
constexpr int kExitBadModel = 4;      // model file unreadable or unsupported
constexpr int kExitNotFound = 5;      // a named file does not exist
constexpr int kExitIo = 6;            // the OS refused a read or write
constexpr int kExitInternal = 70;     // a bug

int exit_code(const orchard::Error& e) {
  switch (e.kind()) {
    case orchard::ErrorKind::kInvalidArgument: return kExitBadInput;
    case orchard::ErrorKind::kInvalidModel: return kExitBadModel;
    case orchard::ErrorKind::kNotFound: return kExitNotFound;
    case orchard::ErrorKind::kIo: return kExitIo;
    case orchard::ErrorKind::kInternal: return kExitInternal;
  }
  return kExitInternal;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Orchard: serve, version and monitor LightGBM, XGBoost and scikit-learn models.\n"
               "Exit codes: 0 ok, 2 usage, 3 bad input data, 4 bad model file, 5 not found, 6 I/O or database error,\n"
               "7 a promotion gate failed."};
  using orchard::add_registry_commands;
  app.require_subcommand(1);
  app.set_version_flag("--version", "orchard 0.1.0");

  orchard::PredictOptions predict;
  auto* predict_cmd = app.add_subcommand("predict", "Score a CSV file with a model file, writing one line of predictions per row.");
  predict_cmd->add_option("model", predict.model_path, "Model file (XGBoost .json/.ubj, LightGBM .txt, ONNX .onnx, Orchard .json; format detected from content) or MLflow model directory")
      ->required();
  predict_cmd->add_option("input", predict.input_path,
                          "CSV with a header row ('-' for stdin). Columns are matched to features by name when the model "
                          "knows its feature names, by position otherwise. Empty, NaN or nan cells are missing values.")
      ->required();
  predict_cmd->add_option("-o,--output", predict.output_path, "Write predictions here instead of stdout");
  predict_cmd->add_flag("--raw", predict.raw, "Write margins (raw scores before the objective's transform)");
  predict_cmd->add_option("--threads", predict.threads, "Worker threads (default: all cores)")->check(CLI::Range(0, 1024));
  predict_cmd->add_option("--chunk-rows", predict.chunk_rows, "Rows read and scored at a time (bounds memory)")
      ->check(CLI::Range(1, 1 << 24));
  predict_cmd->add_flag("!--no-progress", predict.progress, "Never draw a progress bar");
  predict_cmd->footer("Example:\n  orchard predict examples/churn.json examples/churn.csv -o predictions.csv");

  std::function<int()> run_registry_command;
  add_registry_commands(app, run_registry_command);
  orchard::add_evaluate_commands(app, run_registry_command);
  orchard::add_serve_command(app, run_registry_command);
  orchard::add_trace_command(app, run_registry_command);
  orchard::add_keys_command(app, run_registry_command);

  std::string inspect_path;
  auto* inspect_cmd = app.add_subcommand("inspect", "Describe a model file: format, objective, features, outputs, trees.");
  inspect_cmd->add_option("model", inspect_path, "Model file or MLflow model directory")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints the help or the problem; its own codes vary by error, ours is always 2.
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }

  try {
    if (run_registry_command) {
      return run_registry_command();
    } else if (*predict_cmd) {
      orchard::run_predict(predict, std::cerr);
    } else if (*inspect_cmd) {
      const orchard::Predictor predictor(orchard::load_model_file(inspect_path), inspect_path);
      const orchard::Model& model = predictor.model();
      std::cout << "format:     " << model.source_format << "\n"
                << "objective:  " << model.objective << "\n"
                << "features:   " << model.num_features() << (model.has_feature_names ? "" : " (unnamed: matched by position)") << "\n";
      for (const auto& feature : model.features) {
        std::cout << "  - " << feature.name
                  << (feature.type == orchard::FeatureType::kCategorical ? " (categorical)"
                      : feature.type == orchard::FeatureType::kInteger  ? " (integer)"
                                                                         : "")
                  << "\n";
      }
      std::cout << "outputs:    ";
      for (std::size_t k = 0; k < model.output_names.size(); ++k) std::cout << (k ? ", " : "") << model.output_names[k];
      std::cout << "\ncompiled:   " << predictor.describe() << "\n";
    }
  } catch (const orchard::Error& e) {
    std::cerr << "orchard: error: " << e.what() << "\n";
    return exit_code(e);
  } catch (const std::exception& e) {
    std::cerr << "orchard: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
  return 0;
}
