#include "registry/artifact_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>

#include "common/error.h"
#include "common/file_bytes.h"
#include "common/sha256.h"

namespace orchard {
namespace fs = std::filesystem;

namespace {

bool is_digest(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

[[noreturn]] void io_error(const std::string& what, const std::string& path) {
  throw Error(ErrorKind::kIo, what + ": " + std::strerror(errno), path);
}

void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) io_error("cannot open for fsync", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) io_error("fsync failed", path);
}

}  // namespace

ArtifactStore::ArtifactStore(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_ + "/tmp", ec);
  if (ec) throw Error(ErrorKind::kIo, "cannot create the artifact folder: " + ec.message(), dir_, "a writable data folder");
}

std::string ArtifactStore::path_of(const std::string& sha256) const { return dir_ + "/" + sha256.substr(0, 2) + "/" + sha256; }

bool ArtifactStore::contains(const std::string& sha256) const {
  std::error_code ec;
  return is_digest(sha256) && fs::is_regular_file(path_of(sha256), ec);
}

std::string ArtifactStore::put(std::string_view bytes) {
  const std::string digest = sha256_hex(bytes);
  // An existing file is reused only if its content is intact; a damaged one is replaced.
  if (contains(digest)) {
    std::size_t size = 0;
    try {
      if (sha256_file_hex(path_of(digest), &size) == digest) {
        // Reused: refresh its time, so that gc's age guard protects it until this push commits.
        std::error_code ec;
        fs::last_write_time(path_of(digest), fs::file_time_type::clock::now(), ec);
        return digest;
      }
    } catch (const Error&) {
      // unreadable: rewrite it below
    }
  }
  std::random_device random;
  const std::string temp = dir_ + "/tmp/" + digest + "." + std::to_string(random()) + ".partial";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) io_error("cannot create", temp);
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      errno = saved;
      io_error("write failed (disk full?)", temp);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(temp.c_str());
    io_error("fsync failed", temp);
  }
  const std::string shard = dir_ + "/" + digest.substr(0, 2);
  std::error_code ec;
  fs::create_directories(shard, ec);
  if (ec) throw Error(ErrorKind::kIo, "cannot create " + shard + ": " + ec.message(), dir_);
  if (::rename(temp.c_str(), path_of(digest).c_str()) != 0) {
    ::unlink(temp.c_str());
    io_error("rename failed", path_of(digest));
  }
  fsync_path(shard, O_RDONLY | O_DIRECTORY);
  fsync_path(dir_, O_RDONLY | O_DIRECTORY);
  return digest;
}

std::string ArtifactStore::read(const std::string& sha256) const {
  if (!contains(sha256)) {
    throw Error(ErrorKind::kNotFound, "artifact " + sha256 + " is missing from the data folder", path_of(sha256),
                "the artifact file; restore the data folder from a backup");
  }
  std::string bytes = read_file_bytes(path_of(sha256));
  const std::string actual = sha256_hex(bytes);
  if (actual != sha256) {
    throw Error(ErrorKind::kIo, "artifact is corrupted on disk: its content hashes to " + actual, path_of(sha256),
                "content with digest " + sha256 + "; restore the file from a backup");
  }
  return bytes;
}

std::set<std::string> ArtifactStore::list() const {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& shard : fs::directory_iterator(dir_, ec)) {
    if (!shard.is_directory() || shard.path().filename() == "tmp") continue;
    for (const auto& file : fs::directory_iterator(shard.path(), ec)) {
      const std::string name = file.path().filename().string();
      if (is_digest(name)) out.insert(name);
    }
  }
  return out;
}

std::size_t ArtifactStore::remove_unreferenced(const std::set<std::string>& keep, long min_age_seconds) {
  // Clamped to a century: a larger age would overflow the file clock and wrap into the future.
  min_age_seconds = std::clamp<long>(min_age_seconds, 0, 100L * 366 * 24 * 3600);
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::seconds(min_age_seconds);
  auto old_enough = [&](const fs::path& path) {
    std::error_code ec;
    const auto written = fs::last_write_time(path, ec);
    return !ec && written <= cutoff;
  };
  std::size_t removed = 0;
  for (const std::string& digest : list()) {
    if (keep.count(digest) || !old_enough(path_of(digest))) continue;
    std::error_code ec;
    if (fs::remove(path_of(digest), ec)) ++removed;
  }
  std::error_code ec;
  for (const auto& file : fs::directory_iterator(dir_ + "/tmp", ec)) {
    if (old_enough(file.path())) fs::remove(file.path(), ec);
  }
  return removed;
}

ArtifactStore::Hold::Hold(const ArtifactStore& store, Mode mode) {
  const std::string path = store.dir_ + "/.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) io_error("cannot open the artifact folder's lock", path);
  int rc;
  do {
    rc = ::flock(fd_, mode == kExclusive ? LOCK_EX : LOCK_SH);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int error = errno;
    ::close(fd_);
    errno = error;
    io_error("cannot lock the artifact folder", path);
  }
}

ArtifactStore::Hold::~Hold() { ::close(fd_); }  // closing releases the lock

}  // namespace orchard
