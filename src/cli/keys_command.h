// `orchard keys create | list | revoke`: the API keys a server with --auth accepts.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace orchard {

void add_keys_command(CLI::App& app, std::function<int()>& run);

}  // namespace orchard
