// API key tokens: "ork_<id>_<secret>", where id is 8 hex digits (public: shown, used to revoke) and
// secret 64 hex digits (256 random bits from OpenSSL). Only SHA-256(secret) is stored; a fast hash
// is enough for a random 256-bit secret (no password to guess), so checking a key costs microseconds.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "registry/records.h"

namespace orchard {

struct NewApiKey {
  ApiKeyRecord record;  // to store
  std::string token;    // to give to the holder, once
};

// A new key (its id and secret random); throws Error(kInternal) if the system has no randomness.
NewApiKey generate_api_key(const std::string& name, const std::string& role, std::vector<std::string> endpoints,
                           std::int64_t expires_at, double rate_limit, const std::string& created_by);

struct ParsedToken {
  std::string id;
  std::string secret;
};
// The parts of a well-formed token, or nullopt.
std::optional<ParsedToken> parse_api_token(std::string_view token);

std::string api_secret_digest(std::string_view secret);  // hex SHA-256
// Compares two digests in constant time.
bool digests_equal(const std::string& a, const std::string& b);

}  // namespace orchard
