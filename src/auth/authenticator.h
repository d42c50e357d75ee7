// Checks a request's API key: who it is, whether its role grants what the route needs, whether its
// endpoint scope includes the endpoint, and its rate limit.
//
// Keys are read from the registry's Store into memory (reload() after a change; the server also
// reloads every poll, so keys made or revoked by the CLI take effect within seconds). A check is a
// hash-map lookup, one SHA-256 of the secret and a constant-time comparison: microseconds, no I/O.
#pragma once

#include <chrono>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/rate_limiter.h"
#include "auth/role.h"
#include "registry/store.h"

namespace orchard {

struct AuthDecision {
  int status = 200;     // 200, 401 (no or bad key), 403 (not allowed) or 429 (rate limit)
  std::string message;  // why, for the error body
  std::string key_id, key_name;
  Role role = Role::kViewer;
  std::vector<std::string> endpoints;  // a predictor key limited to these endpoints (empty: any)
  double retry_after_seconds = 0;  // 429
};

class Authenticator {
 public:
  explicit Authenticator(Store& store);  // loads the keys
  void reload();                         // re-reads them (thread-safe)

  // `authorization`: the Authorization header's value ("Bearer ork_..."). `endpoint`: the endpoint a
  // predict, feedback or metadata route names ("" when none).
  AuthDecision check(std::string_view authorization, Access access, std::string_view endpoint) const;

  std::size_t usable_keys() const;  // neither revoked nor expired

 private:
  struct Entry {
    ApiKeyRecord record;
    Role role = Role::kViewer;
    std::shared_ptr<TokenBucket> bucket;  // kept across reloads; null without a rate limit
  };
  Store& store_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, Entry> keys_;  // by id
};

}  // namespace orchard
