#include "monitoring/drift_monitor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <set>
#include <thread>

#include "common/error.h"
#include "formats/model_loader.h"
#include "registry/dataset_profile.h"
#include "support/test_support.h"
#include "tabular/column_mapping.h"
#include "tabular/csv_reader.h"

namespace orchard {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;
const double kNaN = std::numeric_limits<double>::quiet_NaN();

// The churn fixture: LightGBM with numeric features (with missing values) and two categorical ones
// (plan, region). The profile is built from the training CSV the way `orchard push --dataset` does;
// live traffic is the test CSV.
struct Churn {
  std::shared_ptr<const Predictor> predictor;
  std::string profile;
  std::vector<double> rows;  // test set, model order
  std::size_t count = 0;
  std::size_t nf = 0;

  std::size_t feature(const std::string& name) const {
    const auto& features = predictor->model().features;
    for (std::size_t f = 0; f < features.size(); ++f) {
      if (features[f].name == name) return f;
    }
    throw std::runtime_error("no feature " + name);
  }
};

const Churn* churn() {
  static const Churn* loaded = [] () -> const Churn* {
    const auto fixtures = testing::fixtures_dir();
    if (!fixtures) return nullptr;
    auto* c = new Churn;
    const std::string model_path = *fixtures + "/models/lightgbm/churn_categorical.txt";
    c->predictor = std::make_shared<const Predictor>(load_model_file(model_path), model_path);
    c->profile = summarize_dataset(*fixtures + "/data/churn_train.csv", "target", *c->predictor).profile_json;
    c->nf = static_cast<std::size_t>(c->predictor->num_features());
    const std::string test_path = *fixtures + "/data/churn_test.csv";
    CsvReader reader(test_path);
    const ColumnMapping mapping(c->predictor->model(), reader.header(), test_path, {"target"});
    std::vector<std::string_view> cells;
    while (reader.next_row(cells)) {
      c->rows.resize(c->rows.size() + c->nf);
      mapping.fill(cells, reader.line_number(), c->rows.data() + c->count * c->nf);
      ++c->count;
    }
    return c;
  }();
  return loaded;
}

// A clock the test moves by hand.
struct FakeClock {
  std::shared_ptr<std::atomic<std::int64_t>> seconds = std::make_shared<std::atomic<std::int64_t>>(1'800'000'000);
  std::function<Clock::time_point()> function() const {
    auto s = seconds;
    return [s] { return Clock::time_point(std::chrono::seconds(s->load())); };
  }
  void advance(std::chrono::seconds by) { *seconds += by.count(); }
};

class DriftMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = churn();
    if (!data_) GTEST_SKIP() << "fixtures not found";
    options_.clock = clock_.function();
  }

  std::unique_ptr<DriftMonitor> make_monitor(std::string profile) {
    return std::make_unique<DriftMonitor>(
        [this, profile](const std::string&, std::int64_t) {
          ++lookups_;
          return profile;
        },
        options_);
  }

  std::shared_ptr<const PredictionContext> context(const std::string& arm = "@production", std::int64_t version = 1,
                                                   const std::string& endpoint = "churn") const {
    auto c = std::make_shared<PredictionContext>();
    c->endpoint = endpoint;
    c->model = "churn-model";
    c->version = version;
    c->arm = arm;
    c->predictor = data_->predictor;
    return c;
  }

  // Feeds `rows` (count × nf) in requests of `per_request` rows, with the model's real predictions.
  void feed(DriftMonitor& monitor, const std::vector<double>& rows, std::shared_ptr<const PredictionContext> ctx = nullptr,
            std::size_t per_request = 50, bool raw = false) {
    if (!ctx) ctx = context();
    const std::size_t nf = data_->nf;
    const std::size_t count = rows.size() / nf;
    for (std::size_t start = 0; start < count; start += per_request) {
      const std::size_t n = std::min(per_request, count - start);
      PredictionEntry entry;
      entry.context = ctx;
      entry.ids.resize(n);
      entry.rows.assign(rows.begin() + static_cast<std::ptrdiff_t>(start * nf), rows.begin() + static_cast<std::ptrdiff_t>((start + n) * nf));
      entry.width = data_->predictor->num_values(raw);
      entry.raw = raw;
      entry.outputs.resize(n * static_cast<std::size_t>(entry.width));
      data_->predictor->predict_rows(entry.rows.data(), n, entry.outputs.data(), raw);
      monitor.observe(entry.view());
    }
  }

  std::vector<double> shifted(const std::string& feature, double by_std) const {
    std::vector<double> rows = data_->rows;
    const std::size_t f = data_->feature(feature);
    double sum = 0, sum2 = 0;
    std::size_t n = 0;
    for (std::size_t r = 0; r < data_->count; ++r) {
      const double x = rows[r * data_->nf + f];
      if (std::isnan(x)) continue;
      sum += x;
      sum2 += x * x;
      ++n;
    }
    const double mean = sum / static_cast<double>(n);
    const double sd = std::sqrt(sum2 / static_cast<double>(n) - mean * mean);
    for (std::size_t r = 0; r < data_->count; ++r) rows[r * data_->nf + f] += by_std * sd;
    return rows;
  }

  static std::set<std::string> features_with_status(const nlohmann::json& version, const std::string& status) {
    std::set<std::string> names;
    for (const auto& f : version["features"]) {
      if (f["status"] == status) names.insert(f["name"].get<std::string>());
    }
    return names;
  }

  const Churn* data_ = nullptr;
  FakeClock clock_;
  DriftMonitorOptions options_;
  std::atomic<int> lookups_{0};
};

TEST_F(DriftMonitorTest, UnshiftedTestSetRaisesNoAlert) {
  auto monitor = make_monitor(data_->profile);
  feed(*monitor, data_->rows);
  const nlohmann::json report = monitor->report("churn", 15min);
  ASSERT_EQ(report["versions"].size(), 1u) << report.dump(2);
  const auto& version = report["versions"][0];
  EXPECT_EQ(version["rows"], data_->count);
  EXPECT_EQ(version["status"], "ok") << version.dump(2);
  ASSERT_EQ(version["features"].size(), data_->nf);
  for (const auto& f : version["features"]) {
    EXPECT_LT(f["psi"].get<double>(), 0.02) << f.dump();
    EXPECT_EQ(f["status"], "ok");
    const auto& live = f["live_fractions"];
    EXPECT_EQ(live.size(), f["reference_fractions"].size());
    EXPECT_EQ(live.size(), f["kind"] == "numeric" ? f["edges"].size() + 2 : f["categories"].size() + 2) << f.dump();
    double total = 0;
    for (const auto& x : live) total += x.get<double>();
    EXPECT_NEAR(total, 1.0, 1e-9);
  }
  // Missing values are counted as such: age has some in both the training and the test set.
  const auto& age = version["features"][data_->feature("age")];
  EXPECT_GT(age["missing_rate_reference"].get<double>(), 0.01);
  EXPECT_NEAR(age["missing_rate_live"].get<double>(), age["missing_rate_reference"].get<double>(), 0.02);
  ASSERT_EQ(version["predictions"].size(), 1u);
  EXPECT_EQ(version["predictions"][0]["rows"], data_->count);
  EXPECT_LT(version["predictions"][0]["psi"].get<double>(), 0.02);
  EXPECT_TRUE(monitor->take_new_alerts().empty());
}

TEST_F(DriftMonitorTest, ShiftedFeatureAlertsOnExactlyThatFeatureOnce) {
  auto monitor = make_monitor(data_->profile);
  feed(*monitor, shifted("tenure", 3));
  const nlohmann::json report = monitor->report("churn", 15min);
  const auto& version = report["versions"][0];
  EXPECT_EQ(version["status"], "alert");
  EXPECT_EQ(features_with_status(version, "alert"), std::set<std::string>{"tenure"}) << version.dump(2);
  EXPECT_EQ(features_with_status(version, "ok").size(), data_->nf - 1);

  const auto alerts = monitor->take_new_alerts();
  std::set<std::string> alerted;
  for (const auto& a : alerts) {
    if (a.subject == "feature") alerted.insert(a.feature);
    EXPECT_EQ(a.endpoint, "churn");
    EXPECT_EQ(a.model, "churn-model");
    EXPECT_EQ(a.version, 1);
    EXPECT_GE(a.psi, 0.25);
    EXPECT_EQ(a.threshold, 0.25);
    EXPECT_EQ(a.window, 15min);
    EXPECT_EQ(a.rows, data_->count);
  }
  EXPECT_EQ(alerted, std::set<std::string>{"tenure"});
  // Still drifted, but already told: nothing new.
  feed(*monitor, shifted("tenure", 3));
  EXPECT_TRUE(monitor->take_new_alerts().empty());
}

TEST_F(DriftMonitorTest, AlertFiresAgainOnlyAfterFallingBelow) {
  auto monitor = make_monitor(data_->profile);
  feed(*monitor, shifted("tenure", 3));
  EXPECT_FALSE(monitor->take_new_alerts().empty());
  clock_.advance(16min);  // the shifted rows leave the 15-minute alert window
  feed(*monitor, data_->rows);
  EXPECT_TRUE(monitor->take_new_alerts().empty());  // measured below: the alert is cleared
  clock_.advance(16min);
  feed(*monitor, shifted("tenure", 3));
  const auto again = monitor->take_new_alerts();
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again[0].feature, "tenure");
}

TEST_F(DriftMonitorTest, NewCategoriesAndMissingValuesAreDrift) {
  auto monitor = make_monitor(data_->profile);
  std::vector<double> rows = data_->rows;
  const std::size_t region = data_->feature("region"), age = data_->feature("age");
  for (std::size_t r = 0; r < data_->count; ++r) {
    if (r % 3 == 0) rows[r * data_->nf + region] = 99;  // a code the training data never had
    if (r % 2 == 0) rows[r * data_->nf + age] = kNaN;
  }
  feed(*monitor, rows);
  const auto version = monitor->report("churn", 1h)["versions"][0];
  EXPECT_EQ(features_with_status(version, "alert"), (std::set<std::string>{"age", "region"})) << version.dump(2);
  const auto& r = version["features"][region];
  EXPECT_EQ(r["kind"], "categorical");
  const std::size_t other = r["categories"].size();
  EXPECT_NEAR(r["live_fractions"][other].get<double>(), 1.0 / 3, 0.01);  // the "other" bin
  // Half the rows made missing, on top of the test set's own missing ages.
  const double own = version["features"][age]["missing_rate_reference"].get<double>();
  EXPECT_NEAR(version["features"][age]["missing_rate_live"].get<double>(), 0.5 + 0.5 * own, 0.02);
}

TEST_F(DriftMonitorTest, FewRowsAreNotEnoughData) {
  auto monitor = make_monitor(data_->profile);
  std::vector<double> few(data_->rows.begin(), data_->rows.begin() + static_cast<std::ptrdiff_t>(50 * data_->nf));
  for (std::size_t r = 0; r < 50; ++r) few[r * data_->nf + data_->feature("tenure")] += 1000;
  feed(*monitor, few);
  const auto version = monitor->report("churn", 15min)["versions"][0];
  EXPECT_EQ(version["status"], "not_enough_data");
  EXPECT_EQ(features_with_status(version, "not_enough_data").size(), data_->nf);
  EXPECT_TRUE(monitor->take_new_alerts().empty());
}

TEST_F(DriftMonitorTest, WindowsExpire) {
  options_.longest_window = 2h;
  auto monitor = make_monitor(data_->profile);
  feed(*monitor, data_->rows);
  clock_.advance(30min);
  EXPECT_TRUE(monitor->report("churn", 15min)["versions"].empty());
  const auto hour = monitor->report("churn", 1h);
  ASSERT_EQ(hour["versions"].size(), 1u);
  EXPECT_EQ(hour["versions"][0]["rows"], data_->count);
  EXPECT_EQ(monitor->report("churn", 24h)["window_seconds"], 7200);  // clamped to the longest window
  // Minute buckets: a window is its whole buckets and the current one, which is still filling (a
  // 1-minute window read a second into a minute covers 61 s, not 1 s). Rows counted 30 min ago are in
  // a 30-minute window, not in a 29-minute one.
  EXPECT_EQ(monitor->report("churn", 30min)["versions"].size(), 1u);
  EXPECT_TRUE(monitor->report("churn", 29min)["versions"].empty());
  EXPECT_GT(monitor->bucket_bytes(), 0u);
  clock_.advance(2h);
  EXPECT_TRUE(monitor->report("churn", 2h)["versions"].empty());
  // The next observation drops versions unseen for the longest window.
  PredictionEntry other;
  other.context = context("@production", 2);
  monitor->observe(other.view());
  EXPECT_TRUE(monitor->report("churn", 2h)["versions"].empty());  // no rows: not listed
  EXPECT_LT(monitor->bucket_bytes(), 2h / 1min * 64);  // only version 2's empty ring is left
}

// Rows from the end of one minute are still in a 1-minute window read a second into the next.
TEST_F(DriftMonitorTest, AShortWindowReadJustAfterAMinuteBeginsKeepsTheLastMinute) {
  auto monitor = make_monitor(data_->profile);
  clock_.advance(59s);
  feed(*monitor, data_->rows);
  clock_.advance(2s);
  const auto report = monitor->report("churn", 1min);
  ASSERT_EQ(report["versions"].size(), 1u) << report.dump();
  EXPECT_EQ(report["versions"][0]["rows"], data_->count);
}

TEST_F(DriftMonitorTest, EndpointsVersionsAndShadowsAreSeparate) {
  auto monitor = make_monitor(data_->profile);
  feed(*monitor, data_->rows, context("@production", 1));
  feed(*monitor, shifted("tenure", 3), context("shadow:2", 2));
  feed(*monitor, data_->rows, context("@production", 1, "other-endpoint"));
  const auto report = monitor->report("churn", 15min);
  ASSERT_EQ(report["versions"].size(), 2u);
  EXPECT_EQ(report["versions"][0]["version"], 1);
  EXPECT_EQ(report["versions"][0]["status"], "ok");
  EXPECT_EQ(report["versions"][0]["shadow_rows"], 0);
  EXPECT_EQ(report["versions"][1]["version"], 2);
  EXPECT_EQ(report["versions"][1]["status"], "alert");
  EXPECT_EQ(report["versions"][1]["shadow_rows"], data_->count);
  EXPECT_EQ(report["versions"][1]["arms"], nlohmann::json::array({"shadow:2"}));
  EXPECT_EQ(monitor->report("other-endpoint", 15min)["versions"].size(), 1u);
  EXPECT_TRUE(monitor->report("nowhere", 15min)["versions"].empty());
  EXPECT_EQ(lookups_, 2);  // one per version, whatever the endpoint
}

TEST_F(DriftMonitorTest, RawMarginsAreNotCountedAsPredictions) {
  auto monitor = make_monitor(data_->profile);
  feed(*monitor, data_->rows, nullptr, 50, /*raw=*/true);
  const auto version = monitor->report("churn", 15min)["versions"][0];
  EXPECT_EQ(version["rows"], data_->count);
  EXPECT_EQ(version["predictions"][0]["rows"], 0);
  EXPECT_EQ(version["features"][0]["rows"], data_->count);
}

TEST_F(DriftMonitorTest, VersionsWithoutAUsableProfileSaySo) {
  struct Case {
    std::string profile;
    std::string status;
    std::string problem;  // part of the problem text
  };
  const Case cases[] = {
      {"", "no_profile", ""},
      {"{truncated", "profile_unreadable", "not JSON"},
      {R"({"format": 1, "rows": 1, "features": [], "predictions": []})", "profile_unreadable", "0 features, the model has 6"},
  };
  for (const Case& c : cases) {
    lookups_ = 0;
    auto monitor = make_monitor(c.profile);
    feed(*monitor, data_->rows);  // never throws
    const auto version = monitor->report("churn", 15min)["versions"][0];
    EXPECT_EQ(version["status"], c.status) << version.dump();
    EXPECT_EQ(version["rows"], data_->count);
    if (!c.problem.empty()) {
      EXPECT_NE(version["problem"].get<std::string>().find(c.problem), std::string::npos) << version.dump();
    }
    EXPECT_FALSE(version.contains("features"));
    EXPECT_EQ(lookups_, 1) << "the result, even \"no profile\", is cached";
    EXPECT_TRUE(monitor->take_new_alerts().empty());
    EXPECT_ERROR_KIND(monitor->psi_series("churn", "churn-model", 1, DriftSubject::kFeature, "tenure", 1h, 1min), ErrorKind::kNotFound);
  }
  // Feature names that do not match the model's.
  std::string renamed = data_->profile;
  renamed.replace(renamed.find("\"tenure\""), 8, "\"tenures\"");
  auto monitor = make_monitor(renamed);
  feed(*monitor, data_->rows);
  const auto version = monitor->report("churn", 15min)["versions"][0];
  EXPECT_EQ(version["status"], "profile_unreadable");
  EXPECT_NE(version["problem"].get<std::string>().find("tenures"), std::string::npos) << version.dump();
}

TEST_F(DriftMonitorTest, AFailedLookupIsRetriedAMinuteLater) {
  bool fail = true;
  DriftMonitor monitor(
      [&](const std::string&, std::int64_t) -> std::string {
        ++lookups_;
        if (fail) throw std::runtime_error("database is locked");
        return data_->profile;
      },
      options_);
  feed(monitor, data_->rows);
  auto version = monitor.report("churn", 15min)["versions"][0];
  EXPECT_EQ(version["status"], "profile_unreadable");
  EXPECT_NE(version["problem"].get<std::string>().find("database is locked"), std::string::npos);
  EXPECT_EQ(lookups_, 1);
  fail = false;
  clock_.advance(61s);
  feed(monitor, data_->rows);
  EXPECT_EQ(lookups_, 2);
  version = monitor.report("churn", 1min)["versions"][0];
  EXPECT_EQ(version["status"], "ok") << version.dump();
}

TEST_F(DriftMonitorTest, PsiSeriesShowsWhenTheDriftBegan) {
  auto monitor = make_monitor(data_->profile);
  feed(*monitor, data_->rows);
  clock_.advance(1min);
  feed(*monitor, shifted("tenure", 3));
  clock_.advance(1min);
  const auto series = monitor->psi_series("churn", "churn-model", 1, DriftSubject::kFeature, "tenure", 4min, 1min);
  EXPECT_EQ(series["step_seconds"], 60);
  const auto& points = series["points"];
  ASSERT_EQ(points.size(), 4u) << series.dump(2);
  EXPECT_EQ(points[0]["rows"], 0);
  EXPECT_TRUE(points[0]["psi"].is_null());
  EXPECT_EQ(points[1]["rows"], data_->count);
  EXPECT_LT(points[1]["psi"].get<double>(), 0.02);
  EXPECT_GT(points[2]["psi"].get<double>(), 0.25);
  EXPECT_EQ(points[3]["rows"], 0);  // the current minute
  EXPECT_EQ(points[3]["end"], iso8601_utc(Clock::time_point(std::chrono::seconds(*clock_.seconds / 60 * 60 + 60))));
  // Steps of two buckets add them up.
  const auto coarse = monitor->psi_series("churn", "churn-model", 1, DriftSubject::kFeature, "tenure", 4min, 2min);
  ASSERT_EQ(coarse["points"].size(), 2u);
  EXPECT_EQ(coarse["points"][0]["rows"], data_->count);
  EXPECT_EQ(coarse["points"][1]["rows"], data_->count);
  // The prediction distribution, by output name.
  const std::string output = data_->predictor->value_names(false)[0];
  EXPECT_EQ(monitor->psi_series("churn", "churn-model", 1, DriftSubject::kPrediction, output, 4min, 1min)["points"].size(), 4u);
  EXPECT_ERROR_KIND(monitor->psi_series("churn", "churn-model", 1, DriftSubject::kFeature, "nope", 4min, 1min), ErrorKind::kNotFound);
  EXPECT_ERROR_KIND(monitor->psi_series("churn", "churn-model", 7, DriftSubject::kFeature, "tenure", 4min, 1min), ErrorKind::kNotFound);
}

TEST_F(DriftMonitorTest, MetricsPassPromtool) {
  auto monitor = make_monitor(data_->profile);
  feed(*monitor, shifted("tenure", 3));
  feed(*monitor, data_->rows, context("shadow:2", 2, "quote\"and\\backslash"));
  std::string text;
  monitor->append_metrics(text);
  EXPECT_NE(text.find("# TYPE orchard_drift_psi gauge\n"), std::string::npos);
  EXPECT_NE(text.find("orchard_drift_psi{endpoint=\"churn\",model=\"churn-model\",version=\"1\",feature=\"tenure\"} "), std::string::npos) << text;
  EXPECT_NE(text.find("endpoint=\"quote\\\"and\\\\backslash\""), std::string::npos) << text;
  EXPECT_NE(text.find("orchard_drift_rows{endpoint=\"churn\",model=\"churn-model\",version=\"1\"} " + std::to_string(data_->count)), std::string::npos);
  EXPECT_NE(text.find("orchard_drift_prediction_psi{"), std::string::npos);
  if (!std::ifstream("/usr/bin/promtool")) GTEST_SKIP() << "promtool not installed (Debian's prometheus package)";
  const std::string path = testing::write_file("drift.prom", text);
  const int status = std::system(("/usr/bin/promtool check metrics < " + path + " > " + path + ".out 2>&1").c_str());
  EXPECT_EQ(status, 0) << testing::read_text(path + ".out") << "\n" << text;
  // An empty monitor writes only HELP and TYPE lines, which is valid too.
  DriftMonitor empty(nullptr, options_);
  std::string bare;
  empty.append_metrics(bare);
  const std::string bare_path = testing::write_file("bare.prom", bare);
  EXPECT_EQ(std::system(("/usr/bin/promtool check metrics < " + bare_path + " > /dev/null 2>&1").c_str()), 0) << bare;
}

TEST_F(DriftMonitorTest, ConfigurableThresholdsAndWindows) {
  options_.thresholds = {0.001, 0.002};
  options_.min_rows = 10;
  options_.alert_window = 5min;
  auto monitor = make_monitor(data_->profile);
  feed(*monitor, data_->rows);
  const auto version = monitor->report("churn", 15min)["versions"][0];
  EXPECT_EQ(monitor->report("churn", 15min)["thresholds"], (nlohmann::json{{"watch", 0.001}, {"alert", 0.002}}));
  EXPECT_NE(version["status"], "ok");  // sampling noise alone crosses such low thresholds
  const auto alerts = monitor->take_new_alerts();
  ASSERT_FALSE(alerts.empty());
  EXPECT_EQ(alerts[0].window, 5min);
  EXPECT_EQ(alerts[0].threshold, 0.002);
  DriftMonitorOptions inverted;
  inverted.thresholds = {0.3, 0.2};
  EXPECT_ERROR_KIND(DriftMonitor(nullptr, inverted), ErrorKind::kInvalidArgument);
  DriftMonitorOptions zero;
  zero.bucket_width = 0s;
  EXPECT_ERROR_KIND(DriftMonitor(nullptr, zero), ErrorKind::kInvalidArgument);
}

// A profile too wide to count (1500 numeric features of 11 bins) is reported, not allocated.
TEST(DriftMonitor, AProfileWithTooManyBinsIsReportedNotCounted) {
  nlohmann::json features = nlohmann::json::array();
  for (int f = 0; f < 1500; ++f) {
    std::string name = std::to_string(f);
    name.insert(name.begin(), 'f');  // not "f" + …: GCC 12's -Wrestrict false positive at -O3
    features.push_back({{"name", name}, {"missing", 0}, {"kind", "numeric"},
                        {"edges", {1, 2, 3, 4, 5, 6, 7, 8, 9}}, {"counts", {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}}});
  }
  const std::string profile = nlohmann::json{{"format", 1}, {"rows", 10}, {"features", features}, {"predictions", nlohmann::json::array()}}.dump();
  DriftMonitor monitor([&](const std::string&, std::int64_t) { return profile; });
  auto context = std::make_shared<PredictionContext>();
  context->endpoint = "wide";
  context->model = "m";
  context->version = 1;
  PredictionEntry entry;
  entry.context = context;
  entry.ids.resize(1);
  entry.rows.assign(1500, 1.0);
  monitor.observe(entry.view());
  const auto version = monitor.report("wide", 1h)["versions"][0];
  EXPECT_EQ(version["status"], "profile_unreadable");
  EXPECT_NE(version["problem"].get<std::string>().find("16500 bins"), std::string::npos) << version.dump();
  EXPECT_LT(monitor.bucket_bytes(), 1440u * 64);
}

// Reports, alerts and metrics read while the writer thread observes.
TEST_F(DriftMonitorTest, ReadersRunAlongsideTheWriter) {
  auto monitor = make_monitor(data_->profile);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 20; ++i) feed(*monitor, i % 2 ? data_->rows : shifted("tenure", 3), context("@production", 1 + i % 3));
    done = true;
  });
  std::size_t reads = 0;
  while (!done) {
    std::string text;
    monitor->append_metrics(text);
    monitor->take_new_alerts();
    EXPECT_TRUE(monitor->report("churn", 15min)["versions"].is_array());
    ++reads;
  }
  writer.join();
  EXPECT_GT(reads, 0u);
  EXPECT_EQ(monitor->report("churn", 15min)["versions"].size(), 3u);
}

}  // namespace
}  // namespace orchard
