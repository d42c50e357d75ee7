#include "common/file_bytes.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace orchard {

std::string read_file_bytes(const std::string& path, std::size_t max_bytes) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    throw Error(ErrorKind::kNotFound, "file does not exist", path, "a readable file");
  }
  if (std::filesystem::is_directory(status)) {
    throw Error(ErrorKind::kInvalidArgument, "is a directory", path, "a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::kIo, std::string("cannot open: ") + std::strerror(errno), path);
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::size_t>(in.tellg());
  if (size > max_bytes) {
    throw Error(ErrorKind::kInvalidArgument, "file is too large (" + std::to_string(size) + " bytes)", path,
                "at most " + std::to_string(max_bytes) + " bytes");
  }
  in.seekg(0, std::ios::beg);
  std::string bytes(size, '\0');
  if (size > 0 && !in.read(bytes.data(), static_cast<std::streamsize>(size))) {
    throw Error(ErrorKind::kIo, "read failed", path);
  }
  return bytes;
}

}  // namespace orchard
