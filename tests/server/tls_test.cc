// HTTPS with --tls-cert / --tls-key, checked with real clients (curl and openssl): TLS 1.2 and 1.3
// answer, TLS 1.1 and plain HTTP do not, and a bad certificate file is refused at start.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "support/test_support.h"

namespace orchard {
namespace {

// Runs a shell script, returning its standard output.
std::string shell(const std::string& script) {
  std::string out;
  FILE* pipe = popen(("bash -c '" + script + "' 2>&1").c_str(), "r");
  if (!pipe) return out;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  pclose(pipe);
  return out;
}

TEST(Tls, ServesHttpsOnlyWithTls12AndUp) {
  if (std::system("command -v openssl >/dev/null && command -v curl >/dev/null") != 0) GTEST_SKIP() << "openssl or curl not installed";
  const std::string dir = testing::temp_dir() + "/tls";
  // A self-signed certificate for 127.0.0.1; the server on a free port; then the clients.
  const std::string script =
      "set -u; cd " + testing::temp_dir() + " && mkdir -p tls && cd tls && "
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 || { echo CERT-FAILED; exit; }; " +
      testing::orchard_binary() + " serve --demo --data data --port 0 --tls-cert cert.pem --tls-key key.pem 2>server.log & pid=$!; "
      "for i in $(seq 100); do grep -q \"endpoint(s) on https\" server.log && break; sleep 0.1; done; "
      "port=$(sed -n \"s/.*on https:\\/\\/127.0.0.1:\\([0-9]*\\).*/\\1/p\" server.log); "
      "echo PORT=$port; "
      "echo TLS12=$(curl -s --cacert cert.pem --tlsv1.2 --tls-max 1.2 https://127.0.0.1:$port/health); "
      "echo TLS13=$(curl -s --cacert cert.pem --tlsv1.3 https://127.0.0.1:$port/health); "
      "curl -s --cacert cert.pem --tls-max 1.1 https://127.0.0.1:$port/health >/dev/null; echo TLS11=$?; "
      "curl -s --max-time 5 http://127.0.0.1:$port/health >/dev/null; echo PLAIN=$?; "
      "echo INFER=$(curl -s --cacert cert.pem https://127.0.0.1:$port/endpoints/churn/invocations "
      "-H content-type:application/json -d \"{\\\"instances\\\": [[56, 9.67, 103.9, 4, 0, 1]]}\" | head -c 40); "
      "kill -TERM $pid; wait $pid; echo EXIT=$?";
  const std::string out = shell(script);
  ASSERT_EQ(out.find("CERT-FAILED"), std::string::npos) << out;
  EXPECT_NE(out.find("TLS12={\"status\":\"ok\"}"), std::string::npos) << out;
  EXPECT_NE(out.find("TLS13={\"status\":\"ok\"}"), std::string::npos) << out;
  EXPECT_EQ(out.find("TLS11=0"), std::string::npos) << "TLS 1.1 must be refused\n" << out;
  EXPECT_EQ(out.find("PLAIN=0"), std::string::npos) << "plain HTTP must not be answered\n" << out;
  EXPECT_NE(out.find("INFER={\"predictions\""), std::string::npos) << out;
  EXPECT_NE(out.find("EXIT=0"), std::string::npos) << out;
}

TEST(Tls, ABrokenCertificateIsRefusedAtStart) {
  const std::string cert = testing::write_file("not-a-cert.pem", "hello");
  const auto r = testing::run_orchard("serve --data '" + testing::temp_dir() + "/tls-bad' --port 0 --tls-cert '" + cert + "' --tls-key '" + cert + "'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("cannot use the TLS certificate"), std::string::npos) << r.err;
  const auto half = testing::run_orchard("serve --data '" + testing::temp_dir() + "/tls-half' --port 0 --tls-cert '" + cert + "'");
  EXPECT_NE(half.exit_code, 0);
  EXPECT_NE(half.err.find("both a certificate and its key"), std::string::npos) << half.err;
}

}  // namespace
}  // namespace orchard
