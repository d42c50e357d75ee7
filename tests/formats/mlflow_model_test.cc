// MLflow model directories (src/formats/mlflow_model.h, mlflow_bundle.h), built in the test: an
// MLmodel file written here, the model file copied from the fixtures.
//
// Guards: each flavor Orchard reads (xgboost, lightgbm, onnx) predicts what its model file predicts,
// through the library, `orchard predict` and a registry push and reload; feature names and types come
// from the signature (or, without one, the input example) and survive the registry; the sklearn
// flavor and broken MLmodel files are refused with messages that say what to do.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/file_bytes.h"
#include "engine/predictor.h"
#include "formats/mlflow_model.h"
#include "formats/model_loader.h"
#include "registry/registry.h"
#include "support/test_support.h"

namespace orchard {
namespace {

namespace fs = std::filesystem;

#define REQUIRE_FIXTURES()                                                   \
  const auto fixtures = testing::fixtures_dir();                             \
  if (!fixtures) GTEST_SKIP() << "fixtures not found (set ORCHARD_FIXTURES)"; \
  const std::string models = *fixtures + "/models/";                         \
  const std::string data = *fixtures + "/data/"

const char* const kIrisColumns[] = {"sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"};

// A fresh MLflow directory with `mlmodel` as its MLmodel and `model` copied in as `model_name`.
std::string mlflow_dir(const std::string& name, const std::string& mlmodel, const std::string& model = {}, const std::string& model_name = {}) {
  const fs::path dir = fs::path(testing::temp_dir()) / name;
  fs::create_directories(dir);
  std::ofstream(dir / "MLmodel") << mlmodel;
  if (!model.empty()) fs::copy_file(model, dir / model_name, fs::copy_options::overwrite_existing);
  return dir.string();
}

std::string signature(const std::vector<std::string>& names, const std::string& type = "double") {
  std::string inputs = "[";
  for (std::size_t k = 0; k < names.size(); ++k) {
    inputs += std::string(k ? ", " : "") + R"({"name": ")" + names[k] + R"(", "type": ")" + type + R"(", "required": true})";
  }
  return "signature:\n  inputs: '" + inputs + "]'\n  outputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float64\", \"shape\": [-1]}}]'\n";
}

std::vector<std::string> names_of(const Model& model) {
  std::vector<std::string> names;
  for (const Feature& f : model.features) names.push_back(f.name);
  return names;
}

// Runs `orchard predict` on the path and compares every value with the expected CSV (1e-6).
void expect_predictions(const std::string& model_path, const std::string& input, const std::string& expected) {
  const std::string out = testing::temp_dir() + "/predictions.csv";
  const auto result = testing::run_orchard("predict '" + model_path + "' '" + input + "' -o '" + out + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto got = testing::read_numeric_csv(out, true);
  const auto want = testing::read_numeric_csv(expected);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t r = 0; r < got.size(); ++r) {
    ASSERT_EQ(got[r].size(), want[r].size()) << "row " << r;
    for (std::size_t k = 0; k < got[r].size(); ++k) {
      ASSERT_LE(std::abs(got[r][k] - want[r][k]), 1e-5 + 1e-5 * std::abs(want[r][k])) << "row " << r << " column " << k;
    }
  }
}

TEST(MlflowDirectory, XgboostFlavorPredictsLikeItsModelFile) {
  REQUIRE_FIXTURES();
  const Model file = load_model_file(models + "xgboost/binary_breast_cancer.json");
  const std::string dir = mlflow_dir("xgb",
                                     "artifact_path: model\nflavors:\n  python_function:\n    data: model.xgb\n    loader_module: mlflow.xgboost\n"
                                     "  xgboost:\n    code: null\n    data: model.xgb\n    model_class: xgboost.sklearn.XGBClassifier\n"
                                     "    model_format: xgb\n    xgb_version: 1.7.4\nmlflow_version: 2.9.2\n" +
                                         signature(names_of(file)),
                                     models + "xgboost/binary_breast_cancer.json", "model.xgb");
  const Model model = load_model_file(dir);
  EXPECT_EQ(model.source_format, "mlflow-xgboost-json");
  EXPECT_EQ(names_of(model), names_of(file));
  expect_predictions(dir, data + "breast_cancer_test.csv", models + "xgboost/binary_breast_cancer.expected.csv");
}

TEST(MlflowDirectory, LightgbmFlavorWithIntegerColumns) {
  REQUIRE_FIXTURES();
  const Model file = load_model_file(models + "lightgbm/binary_breast_cancer.txt");
  auto names = names_of(file);
  const std::string dir = mlflow_dir("lgbm",
                                     "flavors:\n  lightgbm:\n    data: model.lgb\n    lgb_version: 4.1.0\n    model_class: lightgbm.basic.Booster\n" +
                                         signature(names, "long"),
                                     models + "lightgbm/binary_breast_cancer.txt", "model.lgb");
  const Model model = load_model_file(dir);
  EXPECT_EQ(model.source_format, "mlflow-lightgbm-text");
  EXPECT_EQ(model.features[0].type, FeatureType::kInteger);
  expect_predictions(dir, data + "breast_cancer_test.csv", models + "lightgbm/binary_breast_cancer.expected.csv");
}

TEST(MlflowDirectory, OnnxFlavorTakesFeatureNamesFromTheSignature) {
  REQUIRE_FIXTURES();
  // The ONNX file matches its inputs by position; the signature names them, so a CSV with the
  // columns in another order (and an extra one) is matched by name.
  const std::string dir = mlflow_dir("onnx",
                                     "flavors:\n  onnx:\n    code: null\n    data: model.onnx\n    onnx_version: 1.14.1\n"
                                     "    providers: [CPUExecutionProvider]\n" +
                                         signature({kIrisColumns[0], kIrisColumns[1], kIrisColumns[2], kIrisColumns[3]}, "float"),
                                     models + "onnx/logistic_iris.onnx", "model.onnx");
  const Model model = load_model_file(dir);
  EXPECT_TRUE(model.has_feature_names);
  EXPECT_EQ(model.features[2].name, "petal_length_cm");
  // Reorder the fixture's input columns and add one.
  const auto rows = testing::read_numeric_csv(models + "onnx/logistic_iris.input.csv", true);
  std::string csv = "extra,petal_width_cm,petal_length_cm,sepal_width_cm,sepal_length_cm\n";
  for (const auto& r : rows) {
    char line[256];
    std::snprintf(line, sizeof line, "7,%.9g,%.9g,%.9g,%.9g\n", r[3], r[2], r[1], r[0]);
    csv += line;
  }
  expect_predictions(dir, testing::write_file("iris_reordered.csv", csv), models + "onnx/logistic_iris.expected.csv");
}

TEST(MlflowDirectory, InputExampleNamesTheFeaturesWithoutASignature) {
  REQUIRE_FIXTURES();
  const std::string dir = mlflow_dir("example",
                                     "flavors:\n  onnx:\n    data: model.onnx\nsaved_input_example_info:\n  artifact_path: input_example.json\n"
                                     "  pandas_orient: split\n  type: dataframe\n",
                                     models + "onnx/logistic_iris.onnx", "model.onnx");
  std::ofstream(fs::path(dir) / "input_example.json")
      << R"({"columns": ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"], "data": [[5.1, 3.5, 1.4, 0.2]]})";
  const Model model = load_model_file(dir);
  EXPECT_EQ(names_of(model), (std::vector<std::string>{kIrisColumns[0], kIrisColumns[1], kIrisColumns[2], kIrisColumns[3]}));
}

TEST(MlflowDirectory, PushedDirectoryKeepsItsSchemaInTheRegistry) {
  REQUIRE_FIXTURES();
  const std::string dir = mlflow_dir("push", "flavors:\n  onnx:\n    data: model.onnx\n" +
                                                 signature({kIrisColumns[0], kIrisColumns[1], kIrisColumns[2], kIrisColumns[3]}),
                                     models + "onnx/logistic_iris.onnx", "model.onnx");
  auto registry = Registry::open_local(testing::temp_dir() + "/registry", "tester");
  const VersionRecord version = registry->push("iris", dir, PushOptions{});
  EXPECT_EQ(version.format, "mlflow-onnx");
  // Reloaded from the stored artifact alone: the names are still the signature's.
  const auto predictor = registry->load(registry->resolve(ModelRef{"iris", std::nullopt, std::nullopt}));
  EXPECT_EQ(predictor->model().features[3].name, "petal_width_cm");
  const std::vector<double> row{5.8, 2.8, 5.1, 2.4};
  std::vector<double> p(3);
  predictor->predict_row(row.data(), p.data(), false);
  EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-9);

  // The same through the command line.
  const auto pushed = testing::run_orchard("push iris2 '" + dir + "' --data '" + testing::temp_dir() + "/registry_cli'");
  EXPECT_EQ(pushed.exit_code, 0) << pushed.err;
  EXPECT_NE(pushed.err.find("mlflow-onnx"), std::string::npos) << pushed.err;
}

// ---- refusals -----------------------------------------------------------------------------------

std::string refusal(const std::string& path) {
  try {
    load_model_file(path);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidModel) << e.what();
    return e.what();
  }
  ADD_FAILURE() << path << " loaded";
  return "";
}

TEST(MlflowDirectory, SklearnFlavorPointsToTheExporter) {
  const std::string dir = mlflow_dir("sklearn",
                                     "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n"
                                     "  sklearn:\n    pickled_model: model.pkl\n    serialization_format: cloudpickle\n    sklearn_version: 1.2.1\n");
  const std::string message = refusal(dir);
  EXPECT_NE(message.find("sklearn flavor"), std::string::npos) << message;
  EXPECT_NE(message.find("python3 -m orchard_export"), std::string::npos) << message;
  EXPECT_NE(message.find("model.pkl"), std::string::npos) << message;
  const auto result = testing::run_orchard("predict '" + dir + "' /dev/null");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("orchard_export"), std::string::npos) << result.err;
}

TEST(MlflowDirectory, BrokenMlmodelFilesAreRefusedWithTheReason) {
  REQUIRE_FIXTURES();
  const std::string onnx = models + "onnx/logistic_iris.onnx";
  EXPECT_NE(refusal(mlflow_dir("bad_yaml", "flavors:\n  onnx: [unclosed\n")).find("not valid YAML"), std::string::npos);
  EXPECT_NE(refusal(mlflow_dir("no_flavors", "artifact_path: model\n")).find("no \"flavors\""), std::string::npos);
  EXPECT_NE(refusal(mlflow_dir("pytorch", "flavors:\n  pytorch:\n    model_data: data\n")).find("found: pytorch"), std::string::npos);
  EXPECT_NE(refusal(mlflow_dir("no_data", "flavors:\n  onnx:\n    onnx_version: 1.14.1\n")).find("names no model file"), std::string::npos);
  EXPECT_NE(refusal(mlflow_dir("escape", "flavors:\n  onnx:\n    data: ../../etc/passwd\n")).find("outside the model directory"), std::string::npos);
  EXPECT_NE(refusal(mlflow_dir("absolute", "flavors:\n  onnx:\n    data: /etc/passwd\n")).find("not a path relative"), std::string::npos);
  EXPECT_NE(refusal(mlflow_dir("width", "flavors:\n  onnx:\n    data: model.onnx\n" + signature({"a", "b"}), onnx, "model.onnx"))
                .find("2 input columns, the model 4 features"),
            std::string::npos);
  EXPECT_NE(refusal(mlflow_dir("bad_signature", "flavors:\n  onnx:\n    data: model.onnx\nsignature:\n  inputs: '[{\"name\": 1}'\n", onnx, "model.onnx"))
                .find("signature.inputs"),
            std::string::npos);
  EXPECT_NE(refusal(mlflow_dir("strings", "flavors:\n  onnx:\n    data: model.onnx\n" + signature({"a", "b", "c", "d"}, "string"), onnx, "model.onnx"))
                .find("holds strings"),
            std::string::npos);
  // A model with its own names and a signature that names other columns.
  const std::string xgb = models + "xgboost/binary_breast_cancer.json";
  std::vector<std::string> names = names_of(load_model_file(xgb));
  names[5] = "something_else";
  EXPECT_NE(refusal(mlflow_dir("renamed", "flavors:\n  xgboost:\n    data: model.xgb\n" + signature(names), xgb, "model.xgb")).find("mean_compactness"),
            std::string::npos);
  // Model files no loader reads: a pickle, XGBoost's deprecated binary format.
  {
    const std::string dir = mlflow_dir("pickle", "flavors:\n  lightgbm:\n    data: model.pkl\n");
    std::ofstream(fs::path(dir) / "model.pkl") << std::string("\x80\x04\x95\x10", 4) << "lightgbm.sklearn";
    EXPECT_NE(refusal(dir).find("Python pickle"), std::string::npos);
    const std::string xgb_dir = mlflow_dir("xgb_binary", "flavors:\n  xgboost:\n    data: model.xgb\n");
    std::ofstream(fs::path(xgb_dir) / "model.xgb") << "binf" << std::string(40, '\0');
    const std::string message = refusal(xgb_dir);
    EXPECT_NE(message.find("model_format"), std::string::npos) << message;
  }
  // A missing model file is a missing file.
  EXPECT_ERROR_KIND(load_model_file(mlflow_dir("missing", "flavors:\n  onnx:\n    data: model.onnx\n")), ErrorKind::kNotFound);
  // A directory that is not an MLflow model.
  const std::string empty = testing::temp_dir() + "/not_mlflow";
  fs::create_directories(empty);
  EXPECT_ERROR_KIND(load_model_file(empty), ErrorKind::kInvalidArgument);
}

TEST(MlflowBundle, DamagedBundlesAreRefused) {
  REQUIRE_FIXTURES();
  MlflowBundle bundle;
  bundle.flavor = "onnx";
  bundle.model_file = "model.onnx";
  bundle.has_features = true;
  for (const char* name : kIrisColumns) bundle.features.push_back({name, FeatureType::kNumeric});
  bundle.model_bytes = read_file_bytes(models + "onnx/logistic_iris.onnx");
  const std::string bytes = write_mlflow_bundle(bundle);
  EXPECT_EQ(load_model_bytes(bytes, "bundle").features[1].name, "sepal_width_cm");
  for (std::size_t cut = 0; cut < bytes.size(); cut += 7) {
    try {
      load_model_bytes(bytes.substr(0, cut), "bundle");
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidModel) << "cut at " << cut << ": " << e.what();
    }
  }
  std::string damaged = bytes;
  damaged.replace(damaged.find("\"features\""), 10, "\"features\":7,\"x\"");
  EXPECT_ERROR_KIND(load_model_bytes(damaged, "bundle"), ErrorKind::kInvalidModel);
}

}  // namespace
}  // namespace orchard
