// What the generated ui_assets_data.cc defines (see embed_assets.cmake); only assets.cc reads it.
#pragma once

#include <cstddef>

#include "ui/assets.h"

namespace orchard::ui_detail {

extern const UiAsset kAssets[];       // sorted by path
extern const std::size_t kAssetCount;
extern const char kBuildId[];

}  // namespace orchard::ui_detail
