#include "tracing/prediction_block.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "common/error.h"

namespace orchard {
namespace {

static_assert(std::endian::native == std::endian::little, "blocks store the machine's doubles as little-endian bytes");

constexpr std::uint32_t kMagic = 0x3142524f;  // "ORB1"
constexpr std::size_t kHeaderBytes = 24;
constexpr std::uint32_t kHasOrigins = 1;
constexpr std::size_t kIdBytes = sizeof(PredictionId);
constexpr std::size_t kMaxTextBytes = 0xffff;  // the log cuts texts far below this (1 KiB)

std::size_t padded(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

void put_u32(std::string& out, std::size_t at, std::uint32_t value) { std::memcpy(out.data() + at, &value, sizeof value); }

std::uint32_t get_u32(std::string_view in, std::size_t at) {
  std::uint32_t value;
  std::memcpy(&value, in.data() + at, sizeof value);
  return value;
}

std::uint16_t get_u16(std::string_view in, std::size_t at) {
  std::uint16_t value;
  std::memcpy(&value, in.data() + at, sizeof value);
  return value;
}

[[noreturn]] void corrupt(const std::string& what) {
  throw Error(ErrorKind::kIo, "a block of the prediction log is damaged: " + what, "prediction log",
              "a block written by this version of Orchard");
}

}  // namespace

void encode_block(const BlockRow* rows, std::size_t count, std::string& ids, std::string& data) {
  const std::size_t nf = count ? static_cast<std::size_t>(rows[0].entry->num_features()) : 0;
  const std::size_t width = count ? static_cast<std::size_t>(rows[0].entry->width) : 0;
  const bool has_origins = count && rows[0].entry->origins;
  std::size_t text_bytes = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const PredictionView& e = *rows[i].entry;
    text_bytes += 4 + std::min(e.request_id.size(), kMaxTextBytes) + std::min(e.traceparent.size(), kMaxTextBytes) + e.caller.size();
  }
  const std::size_t origins_at = kHeaderBytes;
  const std::size_t inputs_at = origins_at + (has_origins ? count * kIdBytes : 0);
  const std::size_t outputs_at = inputs_at + count * nf * sizeof(double);
  const std::size_t latency_at = outputs_at + count * width * sizeof(double);
  const std::size_t raw_at = latency_at + count * sizeof(double);
  const std::size_t text_end_at = raw_at + padded(count);
  const std::size_t texts_at = text_end_at + padded(count * 4);

  ids.resize(count * kIdBytes);
  data.resize(texts_at + text_bytes);
  put_u32(data, 0, kMagic);
  put_u32(data, 4, static_cast<std::uint32_t>(count));
  put_u32(data, 8, static_cast<std::uint32_t>(nf));
  put_u32(data, 12, static_cast<std::uint32_t>(width));
  put_u32(data, 16, has_origins ? kHasOrigins : 0);
  put_u32(data, 20, 0);
  std::size_t text_at = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const PredictionView& e = *rows[i].entry;
    const std::size_t r = rows[i].row;
    std::memcpy(ids.data() + i * kIdBytes, e.ids[r].bytes.data(), kIdBytes);
    if (has_origins) std::memcpy(data.data() + origins_at + i * kIdBytes, e.origins[r].bytes.data(), kIdBytes);
    if (nf) std::memcpy(data.data() + inputs_at + i * nf * sizeof(double), e.rows + r * nf, nf * sizeof(double));
    if (width) std::memcpy(data.data() + outputs_at + i * width * sizeof(double), e.outputs + r * width, width * sizeof(double));
    std::memcpy(data.data() + latency_at + i * sizeof(double), &e.latency_us, sizeof(double));
    data[raw_at + i] = e.raw ? 1 : 0;
    const std::string_view request_id = e.request_id.substr(0, kMaxTextBytes), traceparent = e.traceparent.substr(0, kMaxTextBytes);
    const auto rid_size = static_cast<std::uint16_t>(request_id.size()), tp_size = static_cast<std::uint16_t>(traceparent.size());
    char* t = data.data() + texts_at + text_at;
    std::memcpy(t, &rid_size, 2);
    std::memcpy(t + 2, &tp_size, 2);
    t += 4;
    for (std::string_view text : {request_id, traceparent, e.caller}) {
      if (!text.empty()) std::memcpy(t, text.data(), text.size());
      t += text.size();
    }
    text_at = static_cast<std::size_t>(t - (data.data() + texts_at));
    put_u32(data, text_end_at + i * 4, static_cast<std::uint32_t>(text_at));
  }
  // Padding bytes are zero (resize keeps old bytes when the buffer is reused).
  std::fill(data.begin() + static_cast<std::ptrdiff_t>(raw_at + count), data.begin() + static_cast<std::ptrdiff_t>(text_end_at), '\0');
  std::fill(data.begin() + static_cast<std::ptrdiff_t>(text_end_at + count * 4), data.begin() + static_cast<std::ptrdiff_t>(texts_at), '\0');
}

std::optional<std::size_t> find_in_ids(std::string_view ids, const PredictionId& id) {
  std::size_t low = 0, high = ids.size() / kIdBytes;
  while (low < high) {
    const std::size_t mid = low + (high - low) / 2;
    const int order = std::memcmp(ids.data() + mid * kIdBytes, id.bytes.data(), kIdBytes);
    if (order == 0) return mid;
    if (order < 0) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  return std::nullopt;
}

BlockReader::BlockReader(std::string_view ids, std::string_view data) : ids_(ids), data_(data) {
  if (data.size() < kHeaderBytes || get_u32(data, 0) != kMagic) corrupt("its header is missing");
  count_ = get_u32(data, 4);
  num_features_ = get_u32(data, 8);
  width_ = get_u32(data, 12);
  const std::uint32_t flags = get_u32(data, 16);
  if (flags & ~kHasOrigins) corrupt("unknown flags " + std::to_string(flags));
  has_origins_ = (flags & kHasOrigins) != 0;
  if (ids.size() != count_ * kIdBytes) {
    corrupt(std::to_string(ids.size()) + " bytes of ids for " + std::to_string(count_) + " rows");
  }
  // Sizes come from the database: check them in 64 bits before any section is read.
  const std::uint64_t per_row = std::uint64_t{num_features_} + width_ + 1 + (has_origins_ ? 2 : 0);
  if (count_ > data.size() / sizeof(double) / per_row) corrupt("its rows do not fit in its " + std::to_string(data.size()) + " bytes");
  origins_at_ = kHeaderBytes;
  inputs_at_ = origins_at_ + (has_origins_ ? count_ * kIdBytes : 0);
  outputs_at_ = inputs_at_ + count_ * num_features_ * sizeof(double);
  latency_at_ = outputs_at_ + count_ * width_ * sizeof(double);
  raw_at_ = latency_at_ + count_ * sizeof(double);
  text_end_at_ = raw_at_ + padded(count_);
  texts_at_ = text_end_at_ + padded(count_ * 4);
  if (texts_at_ > data.size()) corrupt("its rows do not fit in its " + std::to_string(data.size()) + " bytes");
  std::uint32_t previous = 0;
  for (std::size_t i = 0; i < count_; ++i) {
    const std::uint32_t end = get_u32(data, text_end_at_ + i * 4);
    if (end < previous + 4 || texts_at_ + end > data.size()) corrupt("the texts of row " + std::to_string(i) + " are out of bounds");
    const std::size_t begin = texts_at_ + previous;
    if (std::size_t{get_u16(data, begin)} + get_u16(data, begin + 2) > end - previous - 4) {
      corrupt("the texts of row " + std::to_string(i) + " overrun their space");
    }
    previous = end;
  }
}

PredictionId BlockReader::id(std::size_t i) const {
  PredictionId id;
  std::memcpy(id.bytes.data(), ids_.data() + i * kIdBytes, kIdBytes);
  return id;
}

PredictionId BlockReader::origin(std::size_t i) const {
  PredictionId id;
  std::memcpy(id.bytes.data(), data_.data() + origins_at_ + i * kIdBytes, kIdBytes);
  return id;
}

std::optional<std::size_t> BlockReader::find_origin(const PredictionId& origin) const {
  if (!has_origins_) return std::nullopt;
  // Linear: origins follow the shadow rows' order, which is the live rows' order only roughly.
  for (std::size_t i = 0; i < count_; ++i) {
    if (std::memcmp(data_.data() + origins_at_ + i * kIdBytes, origin.bytes.data(), kIdBytes) == 0) return i;
  }
  return std::nullopt;
}

double BlockReader::f64(std::size_t offset) const {
  double value;
  std::memcpy(&value, data_.data() + offset, sizeof value);
  return value;
}

double BlockReader::latency_us(std::size_t i) const { return f64(latency_at_ + i * sizeof(double)); }

void BlockReader::fill(std::size_t i, PredictionRecord& record) const {
  record.id = id(i);
  record.time_ms = record.id.unix_ms();
  record.raw = data_[raw_at_ + i] != 0;
  record.inputs.resize(num_features_);
  if (num_features_) std::memcpy(record.inputs.data(), data_.data() + inputs_at_ + i * num_features_ * sizeof(double), num_features_ * sizeof(double));
  record.outputs.resize(width_);
  if (width_) std::memcpy(record.outputs.data(), data_.data() + outputs_at_ + i * width_ * sizeof(double), width_ * sizeof(double));
  record.latency_us = latency_us(i);
  record.shadow_of = has_origins_ ? std::optional<PredictionId>(origin(i)) : std::nullopt;
  const std::size_t begin = texts_at_ + (i ? get_u32(data_, text_end_at_ + (i - 1) * 4) : 0);
  const std::size_t end = texts_at_ + get_u32(data_, text_end_at_ + i * 4);
  const std::size_t rid_size = get_u16(data_, begin), tp_size = get_u16(data_, begin + 2);
  const std::size_t text = begin + 4;
  record.request_id.assign(data_.substr(text, rid_size));
  record.traceparent.assign(data_.substr(text + rid_size, tp_size));
  record.caller.assign(data_.substr(text + rid_size + tp_size, end - text - rid_size - tp_size));
}

}  // namespace orchard
