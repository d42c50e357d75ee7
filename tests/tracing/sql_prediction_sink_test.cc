// The SQL prediction sink on SQLite and PostgreSQL: exact round trips, searches with filters and
// paging, feedback, traffic per arm, retention by age and by size.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <thread>

#include "formats/model_loader.h"
#include "registry/postgres_database.h"
#include "registry/sqlite_database.h"
#include "support/test_support.h"
#include "tracing/sql_prediction_sink.h"

namespace orchard {
namespace {

std::shared_ptr<const Predictor> churn_predictor() {
  static auto predictor = std::make_shared<const Predictor>(load_model_file(testing::source_dir() + "/examples/churn/churn_xgboost.ubj"), "churn");
  return predictor;
}

std::shared_ptr<const PredictionContext> context(const std::string& endpoint, std::int64_t version, const std::string& arm) {
  auto c = std::make_shared<PredictionContext>();
  c->endpoint = endpoint;
  c->model = "churn";
  c->version = version;
  c->artifact_sha256 = std::string(64, static_cast<char>('0' + version));
  c->arm = arm;
  c->predictor = churn_predictor();
  return c;
}

PredictionEntry entry(const std::shared_ptr<const PredictionContext>& c, std::size_t rows, double latency_us = 10) {
  PredictionEntry e;
  e.context = c;
  e.ids.resize(rows);
  new_prediction_ids(e.ids.data(), rows);
  for (std::size_t r = 0; r < rows; ++r) {
    for (int f = 0; f < 6; ++f) e.rows.push_back(static_cast<double>(r) + 0.1 * f);
    e.outputs.push_back(0.125 * static_cast<double>(r % 8));
  }
  e.width = 1;
  e.latency_us = latency_us;
  e.caller = "10.0.0.7";
  return e;
}

// The ids of every page of a search, following the cursor.
std::vector<PredictionId> every_page(PredictionSink& sink, PredictionQuery page) {
  std::vector<PredictionId> seen;
  for (;;) {
    const auto rows = sink.search(page);
    for (const auto& r : rows) seen.push_back(r.id);
    if (rows.size() < page.limit) return seen;
    page.before = rows.back().id;
  }
}

struct Backend {
  const char* name;
  bool postgres;
};

class SqlPredictionSinkTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam().postgres && testing::postgres_url().empty()) {
      GTEST_SKIP() << "ORCHARD_TEST_POSTGRES is not set (scripts/test.sh starts a PostgreSQL cluster)";
    }
    std::string tag = std::string("sink-") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(tag.begin(), tag.end(), '/', '-');
    location_ = GetParam().postgres ? testing::fresh_postgres_database(tag) : testing::temp_dir() + "/" + tag + ".db";
    sink_ = SqlPredictionSink::open(location_);
  }
  std::string location_;
  std::unique_ptr<SqlPredictionSink> sink_;
};

TEST_P(SqlPredictionSinkTest, RoundTripsEveryFieldExactly) {
  auto e = entry(context("churn", 1, "@production"), 2, 42.5);
  e.rows[1] = std::nan("");
  e.rows[2] = 0.1 + 0.2;  // not a short decimal: stored as its bits
  e.raw = true;
  e.request_id = "req-1";
  e.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const PredictionId id = e.ids[0];
  std::vector<PredictionEntry> batch;
  batch.push_back(std::move(e));
  sink_->write(views_of(batch), /*sync=*/true);
  const auto found = sink_->find(id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, id);
  EXPECT_EQ(found->time_ms, id.unix_ms());
  EXPECT_EQ(found->endpoint, "churn");
  EXPECT_EQ(found->model, "churn");
  EXPECT_EQ(found->version, 1);
  EXPECT_EQ(found->artifact_sha256, std::string(64, '1'));
  EXPECT_EQ(found->arm, "@production");
  EXPECT_TRUE(found->raw);
  ASSERT_EQ(found->inputs.size(), 6u);
  EXPECT_EQ(found->inputs[0], 0.0);
  EXPECT_TRUE(std::isnan(found->inputs[1]));
  EXPECT_EQ(found->inputs[2], 0.1 + 0.2);
  EXPECT_EQ(found->outputs, std::vector<double>{0.0});
  EXPECT_DOUBLE_EQ(found->latency_us, 42.5);
  EXPECT_EQ(found->request_id, "req-1");
  EXPECT_EQ(found->traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(found->caller, "10.0.0.7");
  EXPECT_FALSE(found->label);
  EXPECT_FALSE(sink_->find(new_prediction_id()));
}

TEST_P(SqlPredictionSinkTest, SearchesFilterAndPageNewestFirst) {
  std::vector<PredictionEntry> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(entry(context("churn", 1, "@production"), 3));
  batch.push_back(entry(context("churn", 2, "shadow:2"), 4));
  batch.push_back(entry(context("other", 1, "1"), 2));
  sink_->write(views_of(batch), false);

  PredictionQuery all;
  all.limit = 1000;
  EXPECT_EQ(sink_->search(all).size(), 21u);
  PredictionQuery churn;
  churn.endpoint = "churn";
  churn.limit = 1000;
  EXPECT_EQ(sink_->search(churn).size(), 19u);
  churn.include_shadows = false;
  EXPECT_EQ(sink_->search(churn).size(), 15u);
  PredictionQuery v2;
  v2.version = 2;
  EXPECT_EQ(sink_->search(v2).size(), 4u);

  // Pages of 4 through the 15 live churn rows: newest first, no row twice, none missed.
  PredictionQuery page = churn;
  page.limit = 4;
  const std::vector<PredictionId> seen = every_page(*sink_, page);
  ASSERT_EQ(seen.size(), 15u);
  EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));
  EXPECT_EQ(std::set<PredictionId>(seen.begin(), seen.end()).size(), 15u);

  // A time range is an id range.
  PredictionQuery future;
  future.since_ms = unix_ms_now() + 60000;
  EXPECT_TRUE(sink_->search(future).empty());
  PredictionQuery past;
  past.until_ms = unix_ms_now() - 60000;
  EXPECT_TRUE(sink_->search(past).empty());
}

TEST_P(SqlPredictionSinkTest, FeedbackAttachesToKnownPredictionsOnly) {
  std::vector<PredictionEntry> batch;
  batch.push_back(entry(context("churn", 1, "@production"), 3));
  const auto ids = batch[0].ids;
  sink_->write(views_of(batch), false);
  const auto found = sink_->add_feedback({{ids[0], 1.0}, {new_prediction_id(), 0.0}, {ids[1], 0.0}});
  EXPECT_EQ(found, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(sink_->find(ids[0])->label, 1.0);
  EXPECT_FALSE(sink_->find(ids[2])->label);
  EXPECT_EQ(sink_->add_feedback({{ids[0], 0.0}}), std::vector<bool>{true});
  EXPECT_EQ(sink_->find(ids[0])->label, 0.0) << "a second label replaces the first";
  PredictionQuery labelled;
  labelled.labelled_only = true;
  EXPECT_EQ(sink_->search(labelled).size(), 2u);
}

TEST_P(SqlPredictionSinkTest, TrafficPerArmOverAWindow) {
  std::vector<PredictionEntry> batch;
  batch.push_back(entry(context("churn", 1, "@production"), 6, 10));
  batch.push_back(entry(context("churn", 1, "@production"), 2, 30));
  batch.push_back(entry(context("churn", 2, "@staging"), 2, 50));
  batch.push_back(entry(context("other", 3, "3"), 5, 70));
  sink_->write(views_of(batch), false);
  const auto arms = sink_->traffic("churn", unix_ms_now() - 60000, unix_ms_now() + 1000);
  ASSERT_EQ(arms.size(), 2u);
  EXPECT_EQ(arms[0].arm, "@production");
  EXPECT_EQ(arms[0].rows, 8u);
  EXPECT_DOUBLE_EQ(arms[0].mean_latency_us, 15.0);
  EXPECT_EQ(arms[0].recent_latencies_us.size(), 8u);
  EXPECT_EQ(arms[1].arm, "@staging");
  EXPECT_EQ(arms[1].version, 2);
  EXPECT_EQ(arms[1].rows, 2u);
  EXPECT_TRUE(sink_->traffic("churn", unix_ms_now() + 60000, unix_ms_now() + 120000).empty());
}

TEST_P(SqlPredictionSinkTest, RetentionByAgeRemovesOnlyOlderRows) {
  std::vector<PredictionEntry> old_batch;
  old_batch.push_back(entry(context("churn", 1, "1"), 10));
  sink_->write(views_of(old_batch), false);
  sink_->add_feedback({{old_batch[0].ids[0], 1.0}});
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  std::vector<PredictionEntry> new_batch;
  new_batch.push_back(entry(context("churn", 1, "1"), 4));
  sink_->write(views_of(new_batch), false);
  RetentionPolicy policy;
  policy.max_age_ms = 400;  // between the two batches, with room for a slow machine
  EXPECT_EQ(sink_->apply_retention(policy), 10u);
  PredictionQuery all;
  EXPECT_EQ(sink_->search(all).size(), 4u);
  EXPECT_FALSE(sink_->find(old_batch[0].ids[0]));
  EXPECT_TRUE(sink_->find(new_batch[0].ids[0]));
}

TEST_P(SqlPredictionSinkTest, RetentionBySizeKeepsTheNewestUnderTheLimit) {
  for (int b = 0; b < 20; ++b) {
    std::vector<PredictionEntry> batch;
    batch.push_back(entry(context("churn", 1, "1"), 500));
    sink_->write(views_of(batch), false);
  }
  const std::int64_t before = sink_->size_bytes();
  ASSERT_GT(before, 0);
  RetentionPolicy policy;
  policy.max_bytes = before / 2;
  const auto removed = sink_->apply_retention(policy);
  EXPECT_GT(removed, 4000u);
  EXPECT_LT(removed, 10000u);
  PredictionQuery newest;
  newest.limit = 1;
  EXPECT_EQ(sink_->search(newest).size(), 1u) << "the newest rows stay";
  EXPECT_LE(sink_->size_bytes(), *policy.max_bytes);
  // PostgreSQL's files do not shrink after a delete: a size read from them stayed over the limit and
  // every later check deleted 5 % more of the log.
  EXPECT_EQ(sink_->apply_retention(policy), 0u) << "a second check finds the log under its limit";
}

// An id at a chosen millisecond (the n-th of it).
PredictionId id_at(std::int64_t unix_ms, std::uint8_t n) {
  PredictionId id = PredictionId::first_of(unix_ms);
  id.bytes[15] = n;
  return id;
}

TEST_P(SqlPredictionSinkTest, RowsEnqueuedOutOfOrderAndFarApartAreFoundAndSearchedInOrder) {
  // Two arms whose rows interleave in time, one batch with ids out of order and minutes apart (a
  // slow request), and more rows than one block holds: every row is found, and pages are exact.
  const std::int64_t now = unix_ms_now();
  auto a = context("churn", 1, "@production"), b = context("churn", 2, "@staging");
  std::vector<PredictionEntry> batch;
  for (std::uint8_t i = 0; i < 40; ++i) {
    PredictionEntry e = entry(i % 2 ? a : b, 1);
    e.ids = {id_at(now - (i % 3 == 0 ? 120000 : 0) - (40 - i), static_cast<std::uint8_t>(i))};
    batch.push_back(std::move(e));
  }
  std::reverse(batch.begin(), batch.end());
  batch.push_back(entry(a, SqlPredictionSink::kMaxBlockRows + 300));
  sink_->write(views_of(batch), false);
  std::vector<PredictionId> all;
  for (const auto& e : batch) all.insert(all.end(), e.ids.begin(), e.ids.end());
  for (const PredictionId& id : all) ASSERT_TRUE(sink_->find(id)) << id.text();
  std::sort(all.rbegin(), all.rend());
  PredictionQuery page;
  page.since_ms = now - 600000;
  page.limit = 97;
  EXPECT_EQ(every_page(*sink_, page), all) << "newest first, each row once, across blocks that overlap in time";
  const auto arms = sink_->traffic("churn", now - 600000, now + 60000);
  ASSERT_EQ(arms.size(), 2u);
  EXPECT_EQ(arms[0].rows + arms[1].rows, all.size());
  // A window that cuts through blocks counts exactly the rows inside it.
  const auto recent = sink_->traffic("churn", now - 30, now + 60000);
  std::uint64_t expected = 0;
  for (const PredictionId& id : all) expected += id.unix_ms() >= now - 30 ? 1 : 0;
  std::uint64_t counted = 0;
  for (const auto& arm : recent) counted += arm.rows;
  EXPECT_EQ(counted, expected);
}

TEST_P(SqlPredictionSinkTest, LabelledSearchWithoutInputsReadsLabelsAlone) {
  std::vector<PredictionEntry> batch;
  batch.push_back(entry(context("churn", 1, "@production"), 5));
  sink_->write(views_of(batch), false);
  sink_->add_feedback({{batch[0].ids[1], 1.0}, {batch[0].ids[3], 0.0}});
  PredictionQuery query;
  query.labelled_only = true;
  query.with_inputs = false;
  const auto rows = sink_->search(query);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id, batch[0].ids[3]);
  EXPECT_EQ(rows[0].label, 0.0);
  EXPECT_EQ(rows[0].outputs, std::vector<double>{0.375});
  EXPECT_EQ(rows[0].arm, "@production");
  EXPECT_EQ(rows[0].version, 1);
  EXPECT_TRUE(rows[0].inputs.empty());
  query.with_inputs = true;
  EXPECT_EQ(sink_->search(query)[1].inputs.size(), 6u);
}

TEST_P(SqlPredictionSinkTest, ALogOfOneRowPerPredictionIsConvertedIntoBlocks) {
  // The layout before blocks: one database row per prediction, and feedback beside it.
  sink_.reset();
  std::unique_ptr<SqlDatabase> db;
  if (GetParam().postgres) {
    db = std::make_unique<PostgresDatabase>(location_);
  } else {
    db = std::make_unique<SqliteDatabase>(location_);
  }
  const char* blob = GetParam().postgres ? "BYTEA" : "BLOB";
  db->exec_script(std::string("CREATE TABLE prediction_rows (id ") + blob + " PRIMARY KEY, context BIGINT NOT NULL, raw INTEGER NOT NULL, inputs " +
                  blob + " NOT NULL, outputs " + blob + " NOT NULL, latency_us DOUBLE PRECISION NOT NULL, request_id TEXT, traceparent TEXT, caller TEXT);" +
                  "CREATE TABLE prediction_feedback (id " + blob + " PRIMARY KEY, label DOUBLE PRECISION NOT NULL, received_ms BIGINT NOT NULL);" +
                  "INSERT INTO prediction_contexts (endpoint, model, version, artifact_sha256, arm) VALUES ('churn', 'churn', 3, 'abc', '@production');");
  const auto context_id = db->query("SELECT id FROM prediction_contexts")[0][0];
  std::vector<PredictionId> ids(3);
  new_prediction_ids(ids.data(), ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::vector<double> inputs{1.0 * static_cast<double>(i), 0.5}, outputs{0.25 * static_cast<double>(i)};
    db->query("INSERT INTO prediction_rows VALUES (?1, ?2, 0, ?3, ?4, 7.5, ?5, NULL, 'old-caller')",
              {SqlBlob{std::string(ids[i].raw())}, std::stoll(*context_id),
               SqlBlob{std::string(reinterpret_cast<const char*>(inputs.data()), 16)},
               SqlBlob{std::string(reinterpret_cast<const char*>(outputs.data()), 8)}, "req-" + std::to_string(i)});
  }
  db->query("INSERT INTO prediction_feedback VALUES (?1, 1.0, 12345)", {SqlBlob{std::string(ids[2].raw())}});
  db.reset();

  sink_ = SqlPredictionSink::open(location_);
  const auto found = sink_->find(ids[2]);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->inputs, (std::vector<double>{2.0, 0.5}));
  EXPECT_EQ(found->outputs, std::vector<double>{0.5});
  EXPECT_EQ(found->version, 3);
  EXPECT_EQ(found->request_id, "req-2");
  EXPECT_EQ(found->caller, "old-caller");
  EXPECT_EQ(found->label, 1.0);
  EXPECT_EQ(found->label_time_ms, 12345);
  PredictionQuery all;
  EXPECT_EQ(sink_->search(all).size(), 3u);
  sink_.reset();
  sink_ = SqlPredictionSink::open(location_);  // converted once: nothing is left to convert
  EXPECT_EQ(sink_->search(all).size(), 3u);
}

TEST_P(SqlPredictionSinkTest, ALabelForALiveRowLabelsTheRowsItsShadowsAnswered) {
  std::vector<PredictionEntry> live;
  live.push_back(entry(context("churn", 1, "1"), 3));
  live.push_back(entry(context("other", 1, "1"), 1));
  sink_->write(views_of(live), false);
  // Shadows record later, with ids of their own and the live ids they shadowed; another endpoint's
  // shadow of the same version must not be labelled.
  std::vector<PredictionEntry> shadows;
  shadows.push_back(entry(context("churn", 2, "shadow:2"), 3));
  shadows.back().origins = live[0].ids;
  shadows.push_back(entry(context("other", 2, "shadow:2"), 1));
  shadows.back().origins = live[1].ids;
  sink_->write(views_of(shadows), false);
  const auto shadow = sink_->find(shadows[0].ids[1]);
  ASSERT_TRUE(shadow && shadow->shadow_of);
  EXPECT_EQ(*shadow->shadow_of, live[0].ids[1]);
  EXPECT_FALSE(sink_->find(live[0].ids[1])->shadow_of);

  EXPECT_EQ(sink_->add_feedback({{live[0].ids[1], 1.0}, {live[0].ids[2], 0.0}}), (std::vector<bool>{true, true}));
  EXPECT_EQ(sink_->find(shadows[0].ids[1])->label, 1.0);
  EXPECT_EQ(sink_->find(shadows[0].ids[2])->label, 0.0);
  EXPECT_FALSE(sink_->find(shadows[0].ids[0])->label);
  EXPECT_FALSE(sink_->find(shadows[1].ids[0])->label);
  PredictionQuery labelled;
  labelled.labelled_only = true;
  labelled.with_inputs = false;
  labelled.arm = "shadow:2";
  const auto rows = sink_->search(labelled);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].version, 2);
  EXPECT_EQ(rows[0].label, 0.0);
  ASSERT_TRUE(rows[0].shadow_of) << "live quality per version needs it to count a prediction once";
  EXPECT_EQ(*rows[0].shadow_of, live[0].ids[2]);

  // A shadow added once feedback has been given (the sink knows the endpoint's contexts by then) is
  // labelled from its first prediction on.
  std::vector<PredictionEntry> later;
  later.push_back(entry(context("churn", 3, "shadow:3"), 1));
  later.back().origins = {live[0].ids[0]};
  sink_->write(views_of(later), false);
  EXPECT_EQ(sink_->add_feedback({{live[0].ids[0], 1.0}}), std::vector<bool>{true});
  EXPECT_EQ(sink_->find(later[0].ids[0])->label, 1.0);
}

INSTANTIATE_TEST_SUITE_P(Backends, SqlPredictionSinkTest, ::testing::Values(Backend{"Sqlite", false}, Backend{"Postgres", true}),
                         [](const ::testing::TestParamInfo<Backend>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace orchard
