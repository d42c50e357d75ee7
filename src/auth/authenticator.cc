#include "auth/authenticator.h"

#include <algorithm>
#include <ctime>
#include <mutex>

#include "auth/api_key.h"

namespace orchard {

Authenticator::Authenticator(Store& store) : store_(store) { reload(); }

void Authenticator::reload() {
  std::unordered_map<std::string, Entry> fresh;
  for (ApiKeyRecord& record : store_.list_keys()) {
    Entry entry;
    entry.role = parse_role(record.role).value_or(Role::kViewer);
    const std::string id = record.id;
    entry.record = std::move(record);
    fresh.emplace(id, std::move(entry));
  }
  std::unique_lock lock(mutex_);
  for (auto& [id, entry] : fresh) {
    const double rate = entry.record.rate_limit;
    if (rate <= 0) continue;
    // A key's bucket survives reloads (else a reload would refill it).
    auto old = keys_.find(id);
    if (old != keys_.end() && old->second.bucket && old->second.record.rate_limit == rate) {
      entry.bucket = old->second.bucket;
    } else {
      entry.bucket = std::make_shared<TokenBucket>(rate, std::max(1.0, 2 * rate));
    }
  }
  keys_ = std::move(fresh);
}

AuthDecision Authenticator::check(std::string_view authorization, Access access, std::string_view endpoint) const {
  AuthDecision decision;
  auto deny = [&](int status, std::string message) {
    decision.status = status;
    decision.message = std::move(message);
    return decision;
  };
  if (access == Access::kPublic) return decision;
  if (authorization.empty()) {
    return deny(401, "this server needs an API key: send \"Authorization: Bearer <key>\" (orchard keys create makes one)");
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() || authorization.substr(0, kBearer.size()) != kBearer) {
    return deny(401, "the Authorization header is not \"Bearer <key>\"");
  }
  const auto token = parse_api_token(authorization.substr(kBearer.size()));
  if (!token) return deny(401, "the API key is malformed (expected ork_<8 hex>_<64 hex>)");
  std::shared_lock lock(mutex_);
  const auto it = keys_.find(token->id);
  if (it == keys_.end() || !digests_equal(it->second.record.secret_sha256, api_secret_digest(token->secret))) {
    return deny(401, "the API key is not valid");
  }
  const Entry& entry = it->second;
  decision.key_id = entry.record.id;
  decision.key_name = entry.record.name;
  decision.role = entry.role;
  if (entry.role == Role::kPredictor) decision.endpoints = entry.record.endpoints;
  if (!entry.record.revoked_at.empty()) return deny(401, "the API key " + entry.record.id + " was revoked at " + entry.record.revoked_at);
  if (entry.record.expires_at != 0 && std::time(nullptr) >= entry.record.expires_at) {
    return deny(401, "the API key " + entry.record.id + " has expired");
  }
  if (!role_allows(entry.role, access)) {
    return deny(403, std::string("the ") + role_name(entry.role) + " key \"" + entry.record.name + "\" may not " +
                         (access == Access::kAdmin ? "manage API keys" : access == Access::kDeploy ? "change models or endpoints"
                                                                          : access == Access::kRead ? "read the registry"
                                                                                                   : "predict"));
  }
  const bool scoped = entry.role == Role::kPredictor && !entry.record.endpoints.empty() &&
                      (access == Access::kPredict || access == Access::kMetadata);
  if (scoped && std::find(entry.record.endpoints.begin(), entry.record.endpoints.end(), endpoint) == entry.record.endpoints.end()) {
    return deny(403, "the key \"" + entry.record.name + "\" may not call endpoint \"" + std::string(endpoint) + "\"");
  }
  if (entry.bucket && !entry.bucket->take(std::chrono::steady_clock::now(), decision.retry_after_seconds)) {
    return deny(429, "the key \"" + entry.record.name + "\" is over its rate limit of " + std::to_string(entry.record.rate_limit) +
                         " requests per second");
  }
  return decision;
}

std::size_t Authenticator::usable_keys() const {
  std::shared_lock lock(mutex_);
  const std::int64_t now = std::time(nullptr);
  return static_cast<std::size_t>(std::count_if(keys_.begin(), keys_.end(), [&](const auto& kv) {
    return kv.second.record.revoked_at.empty() && (kv.second.record.expires_at == 0 || now < kv.second.record.expires_at);
  }));
}

}  // namespace orchard
