// SHA-256 digests (OpenSSL), as lower-case hex: artifact addresses and dataset fingerprints.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace orchard {

std::string sha256_hex(std::string_view bytes);

// Incremental hashing for files streamed in chunks.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes);
  std::string finish_hex();  // call once

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

// Hashes a whole file in chunks. Throws Error(kNotFound / kIo).
std::string sha256_file_hex(const std::string& path, std::size_t* size = nullptr);

}  // namespace orchard
