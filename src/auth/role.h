// Roles of API keys and the kinds of access a request needs.
//
//   admin      everything, keys included
//   deployer   read, predict, feedback, and change models and endpoints (push, alias, rollback,
//              route, evaluate, tags, archive, refresh, gc)
//   predictor  predict and send feedback, on its endpoints only when the key names some, and read
//              the metadata of what it may call
//   viewer     read only (models, endpoints, predictions, reports, drift, audit, metrics)
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace orchard {

enum class Role { kAdmin, kDeployer, kPredictor, kViewer };

enum class Access {
  kPublic,    // health probes and the web UI's files: no key needed
  kMetadata,  // what an endpoint expects and answers (Open Inference Protocol metadata): every role
  kRead,      // GET of registry, monitoring and metrics
  kPredict,   // inference on an endpoint
  kFeedback,  // labels for predictions
  kDeploy,    // changes to models and endpoints
  kAdmin,     // API keys
};

std::optional<Role> parse_role(std::string_view text);
const char* role_name(Role role);
const char* access_name(Access access);

// Whether `role` grants `access` (a predictor's endpoint scope is checked separately).
bool role_allows(Role role, Access access);

}  // namespace orchard
