// The registry verbs of the `orchard` command: push, models, versions, show, tag, archive, promote,
// rollback, sync, gc, audit. Each works on a local data folder (--data DIR, default ./orchard-data).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace orchard {

// Adds the verbs to `app`. Each verb's callback is stored in `run` when it is the one invoked.
void add_registry_commands(CLI::App& app, std::function<int()>& run);

// Where the registry is: --data DIR (default ./orchard-data or $ORCHARD_DATA) and --store URL
// (default: SQLite in DIR, or $ORCHARD_STORE).
struct RegistryLocation {
  std::string data;
  std::string store;
  std::string server;  // --server URL: send the verb to a running server instead
};
void add_registry_options(CLI::App* command, RegistryLocation& location);

class Registry;
std::unique_ptr<Registry> open_registry(const RegistryLocation& location);

// The actor recorded in the audit log: $ORCHARD_ACTOR, else $USER, else "local".
std::string current_actor();

}  // namespace orchard
