// Tests of registry/artifact_store: the content-addressed folder of model files.
#include "registry/artifact_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/sha256.h"
#include "support/test_support.h"

namespace orchard {
namespace {
namespace fs = std::filesystem;

// SHA-256 test vectors (FIPS 180-2).
const std::string kEmptyDigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string kAbcDigest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const std::string kLongDigest = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";  // abcdbcde...nopq

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void overwrite(const std::string& path, const std::string& bytes) {
  fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::vector<std::string> files_under(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (entry.is_regular_file()) out.push_back(entry.path().string());
  }
  return out;
}

void make_old(const std::string& path, std::chrono::seconds age) {
  fs::last_write_time(path, fs::file_time_type::clock::now() - age);
}

class ArtifactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    root_ = testing::temp_dir() + "/artifacts-" + std::to_string(counter++);
    fs::remove_all(root_);
    dir_ = root_ + "/artifacts";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string root_, dir_;
};

// gc's exclusive hold waits for every push's shared one, and pushes share.
TEST_F(ArtifactStoreTest, HoldsAreSharedByPushesAndExclusiveForGc) {
  ArtifactStore store(dir_);
  std::atomic<bool> gc_has_it{false};
  std::thread gc;
  {
    const ArtifactStore::Hold push(store, ArtifactStore::Hold::kShared);
    const ArtifactStore::Hold another_push(store, ArtifactStore::Hold::kShared);  // does not wait
    gc = std::thread([&] {
      const ArtifactStore::Hold hold(store, ArtifactStore::Hold::kExclusive);
      gc_has_it = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(gc_has_it) << "gc ran while a push held the folder";
  }
  gc.join();
  EXPECT_TRUE(gc_has_it);
  EXPECT_EQ(store.list().size(), 0u) << "the lock file is not an artifact";
}

TEST_F(ArtifactStoreTest, ConstructorCreatesTheFolders) {
  ArtifactStore store(dir_);
  EXPECT_TRUE(fs::is_directory(dir_));
  EXPECT_TRUE(fs::is_directory(dir_ + "/tmp"));
  EXPECT_TRUE(store.list().empty());
}

TEST_F(ArtifactStoreTest, PutThenReadRoundTrips) {
  ArtifactStore store(dir_);
  std::string bytes;
  for (int i = 0; i < 100000; ++i) bytes.push_back(static_cast<char>(i * 7 % 256));  // binary, with NULs
  const std::string digest = store.put(bytes);
  EXPECT_TRUE(store.contains(digest));
  EXPECT_EQ(store.read(digest), bytes);
  EXPECT_EQ(store.path_of(digest), dir_ + "/" + digest.substr(0, 2) + "/" + digest);
  EXPECT_EQ(slurp(store.path_of(digest)), bytes);

  // A second handle on the folder sees it too.
  ArtifactStore again(dir_);
  EXPECT_EQ(again.read(digest), bytes);
}

TEST_F(ArtifactStoreTest, DigestIsSha256OfTheBytes) {
  ArtifactStore store(dir_);
  EXPECT_EQ(store.put(""), kEmptyDigest);
  EXPECT_EQ(store.put("abc"), kAbcDigest);
  EXPECT_EQ(store.put("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), kLongDigest);
  EXPECT_EQ(store.read(kEmptyDigest), "");
  EXPECT_EQ(store.read(kAbcDigest), "abc");
  EXPECT_EQ(store.list(), (std::set<std::string>{kEmptyDigest, kAbcDigest, kLongDigest}));
}

TEST_F(ArtifactStoreTest, PutIsIdempotent) {
  ArtifactStore store(dir_);
  const std::string first = store.put("model bytes");
  struct stat before {};
  ASSERT_EQ(::stat(store.path_of(first).c_str(), &before), 0);
  const std::string second = store.put("model bytes");
  EXPECT_EQ(first, second);
  EXPECT_EQ(store.list().size(), 1u);
  EXPECT_EQ(files_under(dir_).size(), 1u);
  struct stat after {};
  ASSERT_EQ(::stat(store.path_of(first).c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "not rewritten (its time is refreshed, for gc's age guard)";
  EXPECT_GE(fs::last_write_time(store.path_of(first)), fs::file_time_type::clock::now() - std::chrono::minutes(1));
  EXPECT_EQ(store.read(first), "model bytes");
}

TEST_F(ArtifactStoreTest, NoPartialFilesAreLeftAfterPut) {
  ArtifactStore store(dir_);
  for (int i = 0; i < 20; ++i) store.put("artifact " + std::to_string(i) + std::string(static_cast<std::size_t>(i) * 1000, 'x'));
  store.put("artifact 3" + std::string(3000, 'x'));  // again
  EXPECT_TRUE(fs::is_empty(dir_ + "/tmp"));
  for (const std::string& file : files_under(dir_)) {
    EXPECT_EQ(file.find(".partial"), std::string::npos) << file;
    EXPECT_EQ(fs::path(file).filename().string().size(), 64u) << file;
  }
  EXPECT_EQ(store.list().size(), 20u);
}

TEST_F(ArtifactStoreTest, CorruptedFileIsAnIoErrorNamingThePathAndBothDigests) {
  ArtifactStore store(dir_);
  const std::string bytes(5000, 'm');
  const std::string digest = store.put(bytes);
  const std::string path = store.path_of(digest);

  for (const std::string& damaged : std::vector<std::string>{std::string(4999, 'm') + "M", std::string(100, 'm'), std::string()}) {
    overwrite(path, damaged);
    const std::string actual = sha256_hex(damaged);
    try {
      store.read(digest);
      ADD_FAILURE() << "read a corrupted artifact";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_STREQ(testing::kind_name(e.kind()), "kIo") << message;
      EXPECT_NE(message.find(path), std::string::npos) << message;
      EXPECT_NE(message.find(digest), std::string::npos) << message;
      EXPECT_NE(message.find(actual), std::string::npos) << message;
    }
    EXPECT_TRUE(store.contains(digest));  // still there: corruption is reported, not hidden
  }
}

TEST_F(ArtifactStoreTest, MissingArtifactIsNotFound) {
  ArtifactStore store(dir_);
  const std::string digest = store.put("present");
  fs::remove(store.path_of(digest));
  EXPECT_FALSE(store.contains(digest));
  for (const std::string& name : std::vector<std::string>{digest, kAbcDigest, std::string("not-a-digest"), std::string(""), std::string("../../etc/passwd"),
                                  std::string(64, 'A'), std::string(63, 'a'), std::string(65, 'a')}) {
    EXPECT_FALSE(store.contains(name)) << name;
    try {
      store.read(name);
      ADD_FAILURE() << "read " << name;
    } catch (const Error& e) {
      EXPECT_STREQ(testing::kind_name(e.kind()), "kNotFound") << e.what();
    }
  }
}

TEST_F(ArtifactStoreTest, ListGivesEveryDigestAndIgnoresOtherFiles) {
  ArtifactStore store(dir_);
  std::set<std::string> expected;
  for (int i = 0; i < 12; ++i) expected.insert(store.put("artifact " + std::to_string(i)));
  // Things that are not artifacts.
  std::ofstream(dir_ + "/tmp/" + kAbcDigest) << "abc";
  std::ofstream(dir_ + "/README") << "notes";
  fs::create_directories(dir_ + "/zz");
  std::ofstream(dir_ + "/zz/notes.txt") << "notes";
  EXPECT_EQ(store.list(), expected);
}

TEST_F(ArtifactStoreTest, RemoveUnreferencedWithZeroAgeRemovesOnlyUnreferenced) {
  ArtifactStore store(dir_);
  const std::string keep1 = store.put("keep one");
  const std::string keep2 = store.put("keep two");
  const std::string drop1 = store.put("drop one");
  const std::string drop2 = store.put("drop two");
  std::ofstream(dir_ + "/tmp/" + drop1 + ".123.partial") << "half";  // left by a killed push

  EXPECT_EQ(store.remove_unreferenced({keep1, keep2, kAbcDigest}, 0), 2u);
  EXPECT_EQ(store.list(), (std::set<std::string>{keep1, keep2}));
  EXPECT_EQ(store.read(keep1), "keep one");
  EXPECT_EQ(store.read(keep2), "keep two");
  EXPECT_FALSE(store.contains(drop1));
  EXPECT_FALSE(store.contains(drop2));
  EXPECT_TRUE(fs::is_empty(dir_ + "/tmp"));
  EXPECT_EQ(store.remove_unreferenced({keep1, keep2}, 0), 0u);

  // Everything unreferenced goes.
  EXPECT_EQ(store.remove_unreferenced({}, 0), 2u);
  EXPECT_TRUE(store.list().empty());
}

TEST_F(ArtifactStoreTest, RemoveUnreferencedWithAMinimumAgeSparesRecentFiles) {
  ArtifactStore store(dir_);
  const std::string keep = store.put("keep");
  const std::string recent = store.put("recent orphan");
  const std::string old = store.put("old orphan");
  make_old(store.path_of(old), std::chrono::hours(3));
  make_old(store.path_of(keep), std::chrono::hours(3));
  const std::string recent_partial = dir_ + "/tmp/" + recent + ".1.partial";
  const std::string old_partial = dir_ + "/tmp/" + old + ".2.partial";
  std::ofstream(recent_partial) << "half";
  std::ofstream(old_partial) << "half";
  make_old(old_partial, std::chrono::hours(3));

  EXPECT_EQ(store.remove_unreferenced({keep}, 3600), 1u);  // the default age: an hour
  EXPECT_EQ(store.list(), (std::set<std::string>{keep, recent}));
  EXPECT_TRUE(fs::exists(recent_partial));
  EXPECT_FALSE(fs::exists(old_partial));

  EXPECT_EQ(store.remove_unreferenced({keep}), 0u);
  EXPECT_EQ(store.remove_unreferenced({}, 24 * 3600), 0u);  // a day: nothing that recent goes
  EXPECT_EQ(store.list(), (std::set<std::string>{keep, recent}));
}

// A very large minimum age ("never remove anything young", e.g. `gc --min-age 10000000000`) must
// spare everything; it must not overflow into a cutoff in the future.
// BUG (reported, not fixed): now - seconds(min_age) overflows file_time_type (nanoseconds) and the
// cutoff lands in the future, so everything unreferenced is removed. Enable when fixed.
TEST_F(ArtifactStoreTest, RemoveUnreferencedWithAHugeMinimumAgeRemovesNothing) {
  ArtifactStore store(dir_);
  const std::string orphan = store.put("orphan");
  std::ofstream(dir_ + "/tmp/x.partial") << "half";
  EXPECT_EQ(store.remove_unreferenced({}, 10'000'000'000L), 0u);
  EXPECT_TRUE(store.contains(orphan));
  EXPECT_TRUE(fs::exists(dir_ + "/tmp/x.partial"));
}

}  // namespace
}  // namespace orchard
