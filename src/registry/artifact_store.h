// Content-addressed artifact folder: model files stored by SHA-256 under DIR/ab/abcdef....
//
// put() writes to DIR/tmp, fsyncs the file, renames it into place and fsyncs the directory, so a
// process killed at any moment leaves either no artifact or a complete one (never a partial file
// under a digest's name). The registry commits the database row only after put() returns.
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace orchard {

class ArtifactStore {
 public:
  explicit ArtifactStore(std::string dir);  // creates DIR and DIR/tmp if needed

  // Stores `bytes` and returns their digest. Idempotent: storing the same bytes twice is one file.
  std::string put(std::string_view bytes);
  // The stored bytes, checked against their digest. Throws Error(kNotFound) if absent and
  // Error(kIo) naming the file if its content no longer matches (corruption on disk).
  std::string read(const std::string& sha256) const;
  bool contains(const std::string& sha256) const;
  std::string path_of(const std::string& sha256) const;
  // Digests of every stored artifact.
  std::set<std::string> list() const;
  // Removes artifacts not in `keep` and temporary files, if older than `min_age_seconds` (so that a
  // push in progress, whose artifact is stored before its version is committed, is never disturbed).
  // Returns how many artifacts were removed. Call it under a Hold(kExclusive) taken before `keep`
  // was read (Registry::gc does).
  std::size_t remove_unreferenced(const std::set<std::string>& keep, long min_age_seconds = 3600);

  // An advisory lock on the folder (flock on DIR/.lock, across processes): a push holds it shared
  // from put() until its version is committed, gc holds it exclusively from reading the referenced
  // digests until it has removed the others. Without it, a push reusing an old unreferenced
  // artifact (it only refreshes the file's time) could lose it to a gc that had judged it a moment
  // before, and commit a version whose artifact is gone.
  class Hold {
   public:
    enum Mode { kShared, kExclusive };
    Hold(const ArtifactStore& store, Mode mode);  // waits for the lock
    ~Hold();
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    int fd_ = -1;
  };

 private:
  std::string dir_;
};

}  // namespace orchard
