// `orchard serve`: the registry, inference and management APIs on one port.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace orchard {

void add_serve_command(CLI::App& app, std::function<int()>& run);

}  // namespace orchard
