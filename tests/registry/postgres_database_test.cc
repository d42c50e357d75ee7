// What PostgreSQL connection strings look like in messages: never with their password.
#include <gtest/gtest.h>

#include "registry/postgres_database.h"

namespace orchard {
namespace {

TEST(RedactPassword, EveryFormOfPasswordIsMasked) {
  EXPECT_EQ(redact_password("postgresql://orchard:s3cret@db:5432/registry"), "postgresql://orchard:***@db:5432/registry");
  EXPECT_EQ(redact_password("postgresql://orchard@db/registry?password=s3cret"), "postgresql://orchard@db/registry?password=***");
  EXPECT_EQ(redact_password("postgresql://db/registry?user=u&PASSWORD=s3cret&sslmode=require"),
            "postgresql://db/registry?user=u&PASSWORD=***&sslmode=require");
  EXPECT_EQ(redact_password("host=db password=s3cret dbname=registry"), "host=db password=*** dbname=registry");
  EXPECT_EQ(redact_password("host=db password='s3 cret' dbname=registry"), "host=db password=*** dbname=registry");
}

TEST(RedactPassword, ConnectionStringsWithoutAPasswordAreKept) {
  EXPECT_EQ(redact_password("postgresql://orchard@127.0.0.1:55432/orchard_test"), "postgresql://orchard@127.0.0.1:55432/orchard_test");
  EXPECT_EQ(redact_password("postgresql://db/registry?application_name=mypassword=x"), "postgresql://db/registry?application_name=mypassword=x");
  EXPECT_EQ(redact_password("sqlite"), "sqlite");
}

}  // namespace
}  // namespace orchard
