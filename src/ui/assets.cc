#include "ui/assets.h"

#include <algorithm>

#include "ui/assets_data.h"

namespace orchard {

const UiAsset* find_ui_asset(std::string_view path) {
  const std::span<const UiAsset> all = ui_assets();
  const auto it = std::lower_bound(all.begin(), all.end(), path, [](const UiAsset& a, std::string_view p) { return a.path < p; });
  return it != all.end() && it->path == path ? &*it : nullptr;
}

std::string_view ui_build_id() { return ui_detail::kBuildId; }

std::span<const UiAsset> ui_assets() { return {ui_detail::kAssets, ui_detail::kAssetCount}; }

}  // namespace orchard
