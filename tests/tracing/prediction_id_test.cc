// Prediction ids: UUIDv7, unique across threads, increasing, parse and print back exactly, and their
// timestamp bounds time-range searches.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "tracing/prediction_id.h"

namespace orchard {
namespace {

TEST(PredictionId, UniqueOrderedAndWellFormed) {
  std::vector<PredictionId> ids(20000);
  for (std::size_t i = 0; i < ids.size(); i += 100) new_prediction_ids(ids.data() + i, 100);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  std::vector<std::string> texts;
  for (const auto& id : ids) texts.push_back(id.text());
  EXPECT_TRUE(std::is_sorted(texts.begin(), texts.end())) << "the text form sorts like the bytes";
  EXPECT_EQ(std::set<std::string>(texts.begin(), texts.end()).size(), texts.size());
  for (const auto& text : {texts.front(), texts.back()}) {
    EXPECT_TRUE(is_prediction_id(text)) << text;
    EXPECT_EQ(text[14], '7') << "version 7";
    EXPECT_NE(std::string("89ab").find(text[19]), std::string::npos) << "RFC variant";
  }
  EXPECT_FALSE(is_prediction_id("not-an-id"));
  EXPECT_FALSE(is_prediction_id("0192f1e4-7c3a-7d2e-8b1f-00000000000g"));
}

TEST(PredictionId, UniqueAcrossThreads) {
  std::vector<std::vector<PredictionId>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& ids : per_thread) {
    threads.emplace_back([&ids] {
      for (int i = 0; i < 5000; ++i) ids.push_back(new_prediction_id());
    });
  }
  for (auto& t : threads) t.join();
  std::set<PredictionId> all;
  for (const auto& ids : per_thread) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), 20000u);
}

TEST(PredictionId, ParsesWhatItPrintsAndCarriesItsTime) {
  // Tests before this one in the process drew ids faster than 4096 per millisecond, which runs the
  // stamp ahead of the clock by a few milliseconds: let the clock catch up.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const std::int64_t before = unix_ms_now();
  const PredictionId id = new_prediction_id();
  const std::int64_t after = unix_ms_now();
  const auto parsed = PredictionId::parse(id.text());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, id);
  EXPECT_EQ(PredictionId::from_raw(id.raw()), id);
  EXPECT_GE(id.unix_ms(), before);
  EXPECT_LE(id.unix_ms(), after + 1);
  EXPECT_LE(PredictionId::first_of(id.unix_ms()), id);
  EXPECT_LT(id, PredictionId::first_of(id.unix_ms() + 2));
  // Upper case is accepted and printed back in lower case.
  std::string upper = id.text();
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  EXPECT_EQ(PredictionId::parse(upper)->text(), id.text());
  EXPECT_FALSE(PredictionId::parse("0192f1e4-7c3a-7d2e-8b1f"));
  EXPECT_FALSE(PredictionId::from_raw("short"));
}

TEST(PredictionId, IsoTimeHasMilliseconds) {
  EXPECT_EQ(iso_time_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso_time_ms(1796167397123), "2026-12-01T23:23:17.123Z");
}

}  // namespace
}  // namespace orchard
