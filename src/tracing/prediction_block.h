// A block: many logged rows of one context packed into two blobs, so that the log's database stores
// one row per block instead of one per prediction. A database row costs about 2 µs to insert (b-tree
// descent, record encoding, statement steps) whatever its size; a block of a thousand rows costs a
// memcpy per row plus one insert, which is what brings tracing under 10 % of the server's
// throughput (measured in docs/performance.md).
//
//   ids   the rows' 16-byte ids, increasing (a lookup is a binary search; feedback checks read only this)
//   data  a little-endian layout, 8-byte aligned sections:
//           u32 magic "ORB1", u32 count, u32 num_features, u32 width, u32 flags, u32 zero
//           16-byte origins[count]             (flags bit 0: shadow rows, the live prediction each shadows)
//           f64 inputs[count * num_features]   (NaN = missing, as the model saw them)
//           f64 outputs[count * width]
//           f64 latency_us[count]              (the request's model time, repeated per row)
//           u8  raw[count], padded to 8
//           u32 text_end[count], padded to 8   (end of row i's texts in the text area)
//           texts: per row u16 request_id size, u16 traceparent size, then request id, traceparent, caller
// Blocks come back from the database, so decoding checks every size and throws Error(kIo) naming what
// is wrong rather than reading out of bounds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tracing/prediction_record.h"

namespace orchard {

// One row of an entry, as the writer gathers them into blocks.
struct BlockRow {
  const PredictionView* entry = nullptr;
  std::uint32_t row = 0;
  const PredictionId& id() const { return entry->ids[row]; }
};

// Encodes rows (of one context, num_features and width, all with origins or none, sorted by id) into
// `ids` and `data`,
// replacing their contents (their capacity is reused from block to block).
void encode_block(const BlockRow* rows, std::size_t count, std::string& ids, std::string& data);

// Whether the sorted ids blob holds `id`, and where.
std::optional<std::size_t> find_in_ids(std::string_view ids, const PredictionId& id);

// A block read back: views into the two blobs, which must outlive it.
class BlockReader {
 public:
  // Throws Error(kIo) if the blobs are not a consistent block.
  BlockReader(std::string_view ids, std::string_view data);

  std::size_t count() const { return count_; }
  PredictionId id(std::size_t i) const;
  std::optional<std::size_t> find(const PredictionId& id) const { return find_in_ids(ids_, id); }
  double latency_us(std::size_t i) const;
  bool has_origins() const { return has_origins_; }
  // Row i's origin (REQUIRES: has_origins()); and the first row whose origin is `origin`, if any.
  PredictionId origin(std::size_t i) const;
  std::optional<std::size_t> find_origin(const PredictionId& origin) const;
  // Fills the row-level fields of `record` (id, time, raw, inputs, outputs, latency and texts).
  void fill(std::size_t i, PredictionRecord& record) const;

 private:
  double f64(std::size_t offset) const;

  std::string_view ids_, data_;
  std::size_t count_ = 0, num_features_ = 0, width_ = 0;
  bool has_origins_ = false;
  std::size_t origins_at_ = 0, inputs_at_ = 0, outputs_at_ = 0, latency_at_ = 0, raw_at_ = 0, text_end_at_ = 0, texts_at_ = 0;
};

}  // namespace orchard
