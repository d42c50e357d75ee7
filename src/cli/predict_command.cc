#include "cli/predict_command.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <vector>

#include "tabular/column_mapping.h"
#include "tabular/csv_reader.h"
#include "cli/progress_bar.h"
#include "common/error.h"
#include "engine/predictor.h"
#include "engine/thread_pool.h"
#include "formats/model_loader.h"

namespace orchard {
namespace {

// Shortest text that reads back as the same double.
void append_number(std::string& out, double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  (void)ec;
  out.append(buffer, end);
}

}  // namespace

std::uint64_t run_predict(const PredictOptions& options, std::ostream& log) {
  const Predictor predictor(load_model_file(options.model_path), options.model_path);
  CsvReader reader(options.input_path);
  const ColumnMapping mapping(predictor.model(), reader.header(), reader.name());

  std::ofstream file;
  std::ostream* out = &std::cout;
  if (!options.output_path.empty() && options.output_path != "-") {
    // Opening the output truncates it: if it is the input, the data would be gone before it was read.
    std::error_code ec;
    if (std::filesystem::equivalent(options.input_path, options.output_path, ec)) {
      throw Error(ErrorKind::kInvalidArgument, "the output file is the input file", options.output_path,
                  "another path for -o (the input would be overwritten while it is read)");
    }
    file.open(options.output_path, std::ios::binary | std::ios::trunc);
    if (!file) throw Error(ErrorKind::kIo, "cannot create output file", options.output_path);
    out = &file;
  }
  (void)log;

  ThreadPool pool(options.threads);
  const std::size_t nf = static_cast<std::size_t>(predictor.num_features());
  const std::size_t nv = static_cast<std::size_t>(predictor.num_values(options.raw));
  // At most ~64 MB of parsed inputs in memory at a time, whatever the width of the model.
  const std::size_t max_chunk = std::max<std::size_t>(1, (std::size_t{64} << 20) / (sizeof(double) * std::max<std::size_t>(nf + nv, 1)));
  const std::size_t chunk = std::clamp<std::size_t>(options.chunk_rows, 1, max_chunk);
  std::vector<double> rows(chunk * std::max<std::size_t>(nf, 1));
  std::vector<double> values(chunk * nv);
  std::vector<std::string_view> cells;
  std::string text;

  {
    const auto header = predictor.value_names(options.raw);
    for (std::size_t k = 0; k < header.size(); ++k) text += (k ? "," : "") + header[k];
    text += '\n';
  }
  ProgressBar progress("predict", reader.total_bytes(), options.progress && ProgressBar::stderr_is_terminal());
  std::uint64_t total = 0;
  for (;;) {
    std::size_t n = 0;
    while (n < chunk && reader.next_row(cells)) {
      mapping.fill(cells, reader.line_number(), rows.data() + n * nf);
      ++n;
    }
    if (n == 0) break;
    predictor.predict_rows(rows.data(), n, values.data(), options.raw, &pool);
    for (std::size_t r = 0; r < n; ++r) {
      for (std::size_t k = 0; k < nv; ++k) {
        if (k) text += ',';
        append_number(text, values[r * nv + k]);
      }
      text += '\n';
    }
    out->write(text.data(), static_cast<std::streamsize>(text.size()));
    text.clear();
    total += n;
    progress.update(reader.bytes_read(), total);
    if (n < chunk) break;
  }
  if (!text.empty()) out->write(text.data(), static_cast<std::streamsize>(text.size()));
  out->flush();
  if (!*out) throw Error(ErrorKind::kIo, "writing the predictions failed (disk full?)", options.output_path.empty() ? "stdout" : options.output_path);
  progress.finish(total);
  return total;
}

}  // namespace orchard
