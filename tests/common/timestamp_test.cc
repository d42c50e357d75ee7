// Timestamps in queries: ISO-8601 UTC with or without a fraction of a second, Unix milliseconds,
// and clear refusals.
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/timestamp.h"

namespace orchard {
namespace {

constexpr std::int64_t kSecond = 1764193397000;  // 2025-11-26T21:43:17Z

TEST(Timestamp, IsoUtcWithAndWithoutAFraction) {
  EXPECT_EQ(parse_timestamp("2025-11-26T21:43:17Z", "since"), kSecond);
  EXPECT_EQ(parse_timestamp("2025-11-26T21:43:17", "since"), kSecond);
  EXPECT_EQ(parse_timestamp("2025-11-26T21:43:17.5Z", "since"), kSecond + 500);
  EXPECT_EQ(parse_timestamp("2025-11-26T21:43:17.05Z", "since"), kSecond + 50);
  EXPECT_EQ(parse_timestamp("2025-11-26T21:43:17.250Z", "since"), kSecond + 250);
  EXPECT_EQ(parse_timestamp("2025-11-26T21:43:17.123456Z", "since"), kSecond + 123) << "past milliseconds is dropped";
}

TEST(Timestamp, UnixMilliseconds) {
  EXPECT_EQ(parse_timestamp("1764193397250", "until"), kSecond + 250);
  EXPECT_EQ(parse_timestamp("0", "until"), 0);
}

TEST(Timestamp, OtherTextIsRefusedNamingTheParameter) {
  for (const char* text : {"yesterday", "", "2025-11-26", "2025-11-26T21:43:17+01:00", "2025-11-26T21:43:17.Z", "17.5"}) {
    try {
      parse_timestamp(text, "since");
      ADD_FAILURE() << text << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find("since"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace orchard
