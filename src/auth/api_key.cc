#include "auth/api_key.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/error.h"
#include "common/sha256.h"
#include "registry/record_json.h"

namespace orchard {
namespace {

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    throw Error(ErrorKind::kInternal, "the system's random number generator failed; no key was made");
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

bool all_hex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

NewApiKey generate_api_key(const std::string& name, const std::string& role, std::vector<std::string> endpoints,
                           std::int64_t expires_at, double rate_limit, const std::string& created_by) {
  NewApiKey key;
  const std::string id = random_hex(4), secret = random_hex(32);
  key.token = "ork_" + id + "_" + secret;
  key.record.id = id;
  key.record.name = name;
  key.record.role = role;
  key.record.endpoints = std::move(endpoints);
  key.record.secret_sha256 = api_secret_digest(secret);
  key.record.created_at = utc_now();
  key.record.created_by = created_by;
  key.record.expires_at = expires_at;
  key.record.rate_limit = rate_limit;
  return key;
}

std::optional<ParsedToken> parse_api_token(std::string_view token) {
  if (token.size() != 4 + 8 + 1 + 64 || token.substr(0, 4) != "ork_" || token[12] != '_') return std::nullopt;
  const std::string_view id = token.substr(4, 8), secret = token.substr(13);
  if (!all_hex(id) || !all_hex(secret)) return std::nullopt;
  return ParsedToken{std::string(id), std::string(secret)};
}

std::string api_secret_digest(std::string_view secret) { return sha256_hex(secret); }

bool digests_equal(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace orchard
