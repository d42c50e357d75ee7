// `orchard evaluate` (compare versions on labelled data by quality and speed) and `orchard promote`
// (point an alias at a version, behind gates).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace orchard {

void add_evaluate_commands(CLI::App& app, std::function<int()>& run);

// Exit code of a promotion refused by a gate.
inline constexpr int kExitGateFailed = 7;

}  // namespace orchard
