// Reading a whole file into memory, with errors that name the file.
#pragma once

#include <cstddef>
#include <string>

namespace orchard {

// Returns the file's contents. Throws Error(kNotFound) if it does not exist, Error(kIo) if it cannot
// be read, Error(kInvalidArgument) if it is larger than max_bytes (a guard against reading a
// multi-gigabyte file by mistake).
std::string read_file_bytes(const std::string& path, std::size_t max_bytes = std::size_t{4} << 30);

}  // namespace orchard
