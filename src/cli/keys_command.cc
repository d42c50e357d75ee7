#include "cli/keys_command.h"

#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/registry_commands.h"
#include "cli/server_client.h"
#include "registry/record_json.h"
#include "registry/registry.h"
#include "server/service.h"

namespace orchard {
namespace {

std::string expiry_text(std::int64_t expires_at) {
  if (expires_at == 0) return "never";
  const std::time_t t = static_cast<std::time_t>(expires_at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace

void add_keys_command(CLI::App& app, std::function<int()>& run) {
  auto* keys = app.add_subcommand("keys", "API keys for a server started with --auth (or on a non-loopback address).");
  keys->require_subcommand(1);

  struct CreateOptions {
    RegistryLocation where;
    std::string role, name, expires;
    std::vector<std::string> endpoints;
    double rate_limit = 0;
    bool json = false;
  };
  auto c = std::make_shared<CreateOptions>();
  auto* create = keys->add_subcommand("create", "Make a key; its secret token is printed once, alone on the last line.");
  add_registry_options(create, c->where);
  create->add_option("--role", c->role, "admin (everything), deployer (push, alias, route, evaluate), predictor (inference), viewer (read)")
      ->required()
      ->check(CLI::IsMember({"admin", "deployer", "predictor", "viewer"}));
  create->add_option("--name", c->name, "A label for who or what holds the key (shown in the audit log)");
  create->add_option("--endpoint", c->endpoints, "Predictor keys: an endpoint it may call (repeat; default: all)");
  create->add_option("--expires", c->expires, "Lifetime, e.g. 30d, 12h (default: never)");
  create->add_option("--rate-limit", c->rate_limit, "Requests per second (bursts of twice that); default: unlimited")->check(CLI::Range(0.0, 1e9));
  create->add_flag("--json", c->json, "Print the key as JSON (with its token)");
  create->callback([c, &run] {
    run = [c] {
      nlohmann::json body = {{"role", c->role}, {"name", c->name}, {"endpoints", c->endpoints}, {"rate_limit", c->rate_limit}};
      if (!c->expires.empty()) body["expires"] = c->expires;
      nlohmann::json key;
      std::string token;
      if (!c->where.server.empty()) {
        key = nlohmann::json::parse(ServerClient(c->where.server).call("POST", "/api/v1/keys", body.dump()));
        token = key.value("token", "");
      } else {
        auto registry = open_registry(c->where);
        key = to_json(create_api_key_from_json(*registry, body, token));
        key["token"] = token;
      }
      if (c->json) {
        std::cout << key.dump(2) << "\n";
        return 0;
      }
      std::cerr << "orchard: created " << key["role"].get<std::string>() << " key " << key["id"].get<std::string>() << " \""
                << key["name"].get<std::string>() << "\" (expires: " << expiry_text(key["expires_at"].get<std::int64_t>())
                << "). Keep the token secret; it is not shown again:\n";
      std::cout << token << "\n";
      return 0;
    };
  });

  struct ListOptions {
    RegistryLocation where;
    bool json = false;
  };
  auto l = std::make_shared<ListOptions>();
  auto* list = keys->add_subcommand("list", "The keys (never their secrets).");
  add_registry_options(list, l->where);
  list->add_flag("--json", l->json, "Print JSON");
  list->callback([l, &run] {
    run = [l] {
      nlohmann::json all = nlohmann::json::array();
      if (!l->where.server.empty()) {
        all = nlohmann::json::parse(ServerClient(l->where.server).call("GET", "/api/v1/keys"));
      } else {
        for (const auto& key : open_registry(l->where)->store().list_keys()) all.push_back(to_json(key));
      }
      if (l->json) {
        std::cout << all.dump(2) << "\n";
        return 0;
      }
      for (const auto& key : all) {
        std::string endpoints;
        for (const auto& e : key["endpoints"]) endpoints += (endpoints.empty() ? "" : ",") + e.get<std::string>();
        const std::string state = !key["revoked_at"].get<std::string>().empty() ? "revoked"
                                  : key["expires_at"].get<std::int64_t>() != 0 && key["expires_at"].get<std::int64_t>() <= std::time(nullptr)
                                      ? "expired"
                                      : "active";
        std::cout << key["id"].get<std::string>() << "  " << key["role"].get<std::string>() << "  " << key["name"].get<std::string>()
                  << "  " << state << "  expires " << expiry_text(key["expires_at"].get<std::int64_t>())
                  << (endpoints.empty() ? "" : "  endpoints " + endpoints) << "\n";
      }
      return 0;
    };
  });

  struct RevokeOptions {
    RegistryLocation where;
    std::string id;
  };
  auto r = std::make_shared<RevokeOptions>();
  auto* revoke = keys->add_subcommand("revoke", "Revoke a key at once (a running server stops accepting it within --poll-seconds).");
  add_registry_options(revoke, r->where);
  revoke->add_option("id", r->id, "The key's id (see `orchard keys list`)")->required();
  revoke->callback([r, &run] {
    run = [r] {
      if (!r->where.server.empty()) {
        ServerClient(r->where.server).call("DELETE", "/api/v1/keys/" + r->id);
      } else {
        auto registry = open_registry(r->where);
        registry->store().revoke_key(r->id, registry->actor());
      }
      std::cerr << "orchard: revoked key " << r->id << "\n";
      return 0;
    };
  });
}

}  // namespace orchard
