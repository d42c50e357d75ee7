// `orchard predict MODEL INPUT.csv [-o OUT.csv] [--raw] [--threads N]`
#pragma once

#include <ostream>
#include <string>

namespace orchard {

struct PredictOptions {
  std::string model_path;
  std::string input_path;   // "-" for standard input
  std::string output_path;  // empty or "-" for standard output
  bool raw = false;
  int threads = 0;          // 0: all hardware threads
  bool progress = true;     // draw a progress bar if stderr is a terminal
  std::size_t chunk_rows = 65536;
};

// Streams INPUT through the model in chunks (bounded memory) and writes a header row plus one line
// per input row. Throws orchard::Error on any failure; returns the number of rows predicted.
std::uint64_t run_predict(const PredictOptions& options, std::ostream& log);

}  // namespace orchard
