// `orchard trace ID`: a logged prediction with its full lineage.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace orchard {

void add_trace_command(CLI::App& app, std::function<int()>& run);

}  // namespace orchard
