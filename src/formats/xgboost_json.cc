#include "formats/xgboost_json.h"

#include "common/error.h"
#include "formats/xgboost_model.h"

namespace orchard {
namespace {

// Skips leading whitespace and the '{'; returns the index of the next byte, or npos.
std::size_t after_open_brace(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size() && (bytes[i] == ' ' || bytes[i] == '\n' || bytes[i] == '\r' || bytes[i] == '\t')) ++i;
  if (i >= bytes.size() || bytes[i] != '{') return std::string_view::npos;
  return i + 1;
}

// The model document nests only a few levels. The binary reader recurses per level, and an
// optimized UBJSON container can declare billions of zero-byte elements; this SAX handler builds the
// same DOM as nlohmann's own but stops at depth kMaxDepth or once there are more values than bytes
// (every value in a real file costs at least one byte), so no input can exhaust stack or memory.
class BoundedDomBuilder : public nlohmann::detail::json_sax_dom_parser<XgboostDocument> {
 public:
  using Base = nlohmann::detail::json_sax_dom_parser<XgboostDocument>;
  BoundedDomBuilder(XgboostDocument& document, std::size_t max_values) : Base(document, true), max_values_(max_values) {}

  bool null() { return count() && Base::null(); }
  bool boolean(bool v) { return count() && Base::boolean(v); }
  bool number_integer(std::int64_t v) { return count() && Base::number_integer(v); }
  bool number_unsigned(std::uint64_t v) { return count() && Base::number_unsigned(v); }
  bool number_float(float v, const std::string& s) { return count() && Base::number_float(v, s); }
  bool string(std::string& v) { return count() && Base::string(v); }
  bool binary(XgboostDocument::binary_t& v) { return count() && Base::binary(v); }
  bool start_object(std::size_t n) { return enter() && Base::start_object(n); }
  bool end_object() { --depth_; return Base::end_object(); }
  bool start_array(std::size_t n) { return enter() && Base::start_array(n); }
  bool end_array() { --depth_; return Base::end_array(); }

  const char* refusal() const { return refusal_; }

 private:
  static constexpr int kMaxDepth = 64;
  bool count() {
    if (++values_ <= max_values_) return true;
    refusal_ = "declares more values than the file has bytes";
    return false;
  }
  bool enter() {
    if (++depth_ <= kMaxDepth) return count();
    refusal_ = "nests deeper than 64 levels";
    return false;
  }
  std::size_t max_values_;
  std::size_t values_ = 0;
  int depth_ = 0;
  const char* refusal_ = nullptr;
};

XgboostDocument parse_document(std::string_view bytes, const std::string& where, nlohmann::json::input_format_t format) {
  const char* format_name = format == nlohmann::json::input_format_t::json ? "JSON" : "UBJSON";
  XgboostDocument document;
  BoundedDomBuilder builder(document, bytes.size() + 1);
  try {
    XgboostDocument::sax_parse(bytes.begin(), bytes.end(), &builder, format);
  } catch (const nlohmann::detail::exception& e) {
    // nlohmann's message names the byte position and the offending token.
    throw_invalid_model(where, std::string("not valid ") + format_name + ": " + e.what(), "a file written by XGBoost's save_model");
  }
  if (builder.refusal() != nullptr) {
    throw_invalid_model(where, std::string("the ") + format_name + " document " + builder.refusal(), "an XGBoost model");
  }
  if (builder.is_errored()) throw_invalid_model(where, std::string("not valid ") + format_name);
  return document;
}

}  // namespace

bool XgboostJsonLoader::recognizes(std::string_view bytes) const {
  std::size_t i = after_open_brace(bytes);
  if (i == std::string_view::npos) return false;
  while (i < bytes.size() && (bytes[i] == ' ' || bytes[i] == '\n' || bytes[i] == '\r' || bytes[i] == '\t')) ++i;
  return i < bytes.size() && (bytes[i] == '"' || bytes[i] == '}');
}

Model XgboostJsonLoader::load(std::string_view bytes, const std::string& where) const {
  const XgboostDocument document = parse_document(bytes, where, nlohmann::json::input_format_t::json);
  return build_xgboost_model(document, where, std::string(format_name()));
}

bool XgboostUbjsonLoader::recognizes(std::string_view bytes) const {
  // UBJSON objects open with '{' followed directly by a length marker or an optimized-container marker.
  return bytes.size() >= 2 && bytes[0] == '{' && std::string_view("iUIlL$#").find(bytes[1]) != std::string_view::npos;
}

Model XgboostUbjsonLoader::load(std::string_view bytes, const std::string& where) const {
  const XgboostDocument document = parse_document(bytes, where, nlohmann::json::input_format_t::ubjson);
  return build_xgboost_model(document, where, std::string(format_name()));
}

}  // namespace orchard
