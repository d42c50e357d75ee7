#include "auth/role.h"

namespace orchard {

std::optional<Role> parse_role(std::string_view text) {
  if (text == "admin") return Role::kAdmin;
  if (text == "deployer") return Role::kDeployer;
  if (text == "predictor") return Role::kPredictor;
  if (text == "viewer") return Role::kViewer;
  return std::nullopt;
}

const char* role_name(Role role) {
  switch (role) {
    case Role::kAdmin: return "admin";
    case Role::kDeployer: return "deployer";
    case Role::kPredictor: return "predictor";
    case Role::kViewer: return "viewer";
  }
  return "?";
}

const char* access_name(Access access) {
  switch (access) {
    case Access::kPublic: return "public";
    case Access::kMetadata: return "metadata";
    case Access::kRead: return "read";
    case Access::kPredict: return "predict";
    case Access::kFeedback: return "feedback";
    case Access::kDeploy: return "deploy";
    case Access::kAdmin: return "admin";
  }
  return "?";
}

bool role_allows(Role role, Access access) {
  switch (access) {
    case Access::kPublic:
    case Access::kMetadata: return true;  // a predictor's endpoint scope is checked by the caller
    case Access::kRead: return role != Role::kPredictor;
    case Access::kPredict:
    case Access::kFeedback: return role != Role::kViewer;
    case Access::kDeploy: return role == Role::kAdmin || role == Role::kDeployer;
    case Access::kAdmin: return role == Role::kAdmin;
  }
  return false;
}

}  // namespace orchard
