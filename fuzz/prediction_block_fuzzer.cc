// Fuzz target: prediction-log blocks as read back from the database (tracing/prediction_block.h). The
// first 4 bytes give the size of the ids blob, the rest is split into ids and data; whatever the reader
// accepts is read row by row and every id looked up.
#include <cstring>

#include "common/error.h"
#include "tracing/prediction_block.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  std::uint32_t ids_size;
  std::memcpy(&ids_size, data, 4);
  const std::string_view rest(reinterpret_cast<const char*>(data) + 4, size - 4);
  const std::string_view ids = rest.substr(0, std::min<std::size_t>(ids_size, rest.size()));
  const std::string_view blob = rest.substr(ids.size());
  try {
    const orchard::BlockReader reader(ids, blob);
    orchard::PredictionRecord record;
    for (std::size_t i = 0; i < reader.count(); ++i) {
      reader.fill(i, record);
      (void)reader.find(record.id);
    }
  } catch (const orchard::Error&) {
  }
  return 0;
}
