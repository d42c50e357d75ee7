// The registry verbs of the `orchard` command: push, models, versions, show, tag, archive, promote,
// rollback, sync, gc, audit. Each works on a local data folder (--data DIR, default ./orchard-data).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace orchard {

// Adds the verbs to `app`. Each verb's callback is stored in `run` when it is the one invoked.
void add_registry_commands(CLI::App& app, std::function<int()>& run);

// The actor recorded in the audit log: $ORCHARD_ACTOR, else $USER, else "local".
std::string current_actor();

}  // namespace orchard
