// The PostgreSQL database: a lost connection (a restarted server, a failover) comes back by itself,
// never in the middle of a transaction; connection strings never show their password in messages.
#include <gtest/gtest.h>

#include "common/error.h"
#include "registry/postgres_database.h"
#include "support/test_support.h"

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

// The session is ended from the server's side, as a restart would: the statement that finds the
// connection gone fails (it may or may not have run), the next one connects again.
TEST(PostgresDatabase, ALostConnectionIsMadeAgainForTheNextStatement) {
  if (testing::postgres_url().empty()) GTEST_SKIP() << "ORCHARD_TEST_POSTGRES is not set (scripts/test.sh starts a PostgreSQL cluster)";
  const std::string url = testing::fresh_postgres_database("reconnect");
  PostgresDatabase db(url);
  PostgresDatabase admin(url);
  db.exec_script("CREATE TABLE IF NOT EXISTS t (x BIGINT)");
  auto end_session = [&] {
    const std::string pid = *db.query("SELECT pg_backend_pid()", {})[0][0];
    admin.query("SELECT pg_terminate_backend(?1)", {std::int64_t{std::stoll(pid)}});
  };
  end_session();
  EXPECT_THROW(db.query("SELECT 1", {}), Error);
  EXPECT_EQ(db.query("SELECT 41 + 1", {})[0][0], "42") << "connected again";

  // Within a transaction the lost session is not replaced: the transaction fails as a whole.
  db.begin_write();
  db.query("INSERT INTO t VALUES (1)", {});
  end_session();
  EXPECT_THROW(db.query("INSERT INTO t VALUES (2)", {}), Error);
  EXPECT_THROW(db.commit(), Error);
  db.rollback();
  EXPECT_EQ(db.query("SELECT COUNT(*) FROM t", {})[0][0], "0") << "nothing of the lost transaction";
}

// A server whose default bytea_output is "escape" still hands blobs over in the hex form.
TEST(PostgresDatabase, BlobsComeBackWhateverTheServersByteaOutput) {
  if (testing::postgres_url().empty()) GTEST_SKIP() << "ORCHARD_TEST_POSTGRES is not set (scripts/test.sh starts a PostgreSQL cluster)";
  const std::string url = testing::fresh_postgres_database("bytea-escape");
  {
    PostgresDatabase admin(url);
    const std::string name = *admin.query("SELECT current_database()", {})[0][0];
    admin.exec_script("ALTER DATABASE \"" + name + "\" SET bytea_output = 'escape'");
  }
  PostgresDatabase db(url);
  const std::string bytes("\x00\x01\xfe\xff orchard", 12);
  const auto rows = db.query("SELECT ?1::bytea", {SqlBlob{bytes}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(decode_blob(db.dialect(), *rows[0][0]), bytes);
}

}  // namespace
}  // namespace orchard
