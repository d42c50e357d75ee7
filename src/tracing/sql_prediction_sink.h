// The prediction log in SQL: SQLite (DATA/predictions.db, apart from the registry so that heavy
// logging never contends with registry writes) or PostgreSQL (the registry's database, so that every
// replica's predictions are in one place).
//
// Tables (prefixed prediction_ so they sit beside the registry's in PostgreSQL):
//   prediction_contexts  one row per (endpoint, model, version, artifact, arm) that answered
//   prediction_blocks    the rows themselves, packed (prediction_block.h): one database row per
//                        context per group commit, up to kMaxBlockRows rows whose ids lie within
//                        kMaxBlockSpanMs of each other. Indexed by (first id, last id), last id and
//                        (context, last id): a time range is a range of blocks, and an id is found
//                        among the blocks that start at most kMaxBlockSpanMs before it (the first
//                        index answers that alone, without reading the blocks).
//   prediction_labels    the label given later for a prediction id, with the row's context and outputs
//                        copied beside it, so live quality reads labelled rows without opening blocks.
//                        A label for a live row also labels the rows its shadows answered for it
//                        (shadow rows keep the live id they shadow), so shadows get live quality too.
// Retention removes whole blocks: a row outlives the age limit by at most kMaxBlockSpanMs.
// Databases written by earlier versions (one row per prediction in prediction_rows and
// prediction_feedback) are converted into blocks when opened.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "registry/sql_database.h"
#include "tracing/prediction_block.h"
#include "tracing/prediction_sink.h"

namespace orchard {

class SqlPredictionSink final : public PredictionSink {
 public:
  static constexpr std::size_t kMaxBlockRows = 1024;
  static constexpr std::size_t kMaxBlockBytes = std::size_t{1} << 20;  // of inputs and outputs
  static constexpr std::int64_t kMaxBlockSpanMs = 1000;
  // Feedback on a live prediction labels its shadows' rows too (they answered the same input), if
  // they were recorded within this time of it (the shadow queue is bounded: normally milliseconds).
  static constexpr std::int64_t kShadowWindowMs = 60000;

  explicit SqlPredictionSink(std::unique_ptr<SqlDatabase> db);
  ~SqlPredictionSink() override;

  // "postgresql://..." opens PostgreSQL; anything else is the path of a SQLite file.
  static std::unique_ptr<SqlPredictionSink> open(const std::string& location);

  void write(const std::vector<PredictionView>& batch, bool sync) override;
  std::optional<PredictionRecord> find(const PredictionId& id) override;
  std::vector<std::optional<PredictionRecord>> find_many(const std::vector<PredictionId>& ids) override;
  std::vector<PredictionRecord> search(const PredictionQuery& query) override;
  std::vector<bool> add_feedback(const std::vector<Feedback>& items) override;
  std::vector<ArmTraffic> traffic(const std::string& endpoint, std::int64_t since_ms, std::int64_t until_ms) override;
  std::uint64_t apply_retention(const RetentionPolicy& policy) override;
  std::int64_t size_bytes() override;

 private:
  struct ContextInfo {
    std::string endpoint, model, artifact_sha256, arm;
    std::int64_t version = 0;
  };
  // A block read back, with the blobs its reader points into.
  struct LoadedBlock {
    std::int64_t context = 0;
    std::string ids, data;
    std::unique_ptr<BlockReader> reader;
  };
  // Blocks loaded during one read, by their key (a lookup of many ids reads each block once).
  using BlockCache = std::map<std::int64_t, LoadedBlock>;

  std::int64_t context_id(const PredictionContext& context);  // cached; inserted on first use
  void refresh_contexts();
  const ContextInfo* context_info(std::int64_t id);  // nullptr if unknown
  // The ids of the contexts a query's filters admit, or nullopt if it has none.
  std::optional<std::vector<std::int64_t>> matching_contexts(const PredictionQuery& query);
  void begin();
  void insert_blocks(std::vector<BlockRow>& rows, const std::map<const PredictionContext*, std::int64_t>& context_ids);

  const LoadedBlock& load_block(std::int64_t key, BlockCache& cache);
  // The block holding `id` and the row's index in it, or nullopt.
  std::optional<std::pair<std::int64_t, std::size_t>> locate(const PredictionId& id, BlockCache& cache);
  void fill_record(const LoadedBlock& block, std::size_t row, PredictionRecord& record);
  void attach_labels(std::vector<PredictionRecord>& records);
  void store_label(const LoadedBlock& block, std::size_t row, double label, std::int64_t received_ms);
  void label_shadows(std::int64_t live_context, const PredictionId& live_id, double label, std::int64_t received_ms, BlockCache& cache);
  std::vector<PredictionRecord> search_blocks(const PredictionQuery& query, const std::optional<std::vector<std::int64_t>>& contexts);
  std::vector<PredictionRecord> search_labelled(const PredictionQuery& query, const std::optional<std::vector<std::int64_t>>& contexts);
  std::uint64_t delete_blocks_through(const std::string& last_id, bool inclusive);
  void convert_legacy_tables();

  std::recursive_mutex mutex_;  // one connection: the writer and readers take turns
  std::unique_ptr<SqlDatabase> db_;
  bool postgres_ = false;
  int synchronous_ = -1;  // SQLite: the PRAGMA synchronous in force (1 NORMAL, 2 FULL)
  std::map<std::tuple<std::string, std::string, std::int64_t, std::string, std::string>, std::int64_t> contexts_;
  std::map<std::int64_t, ContextInfo> context_infos_;
  std::int64_t contexts_read_ms_ = 0;  // when refresh_contexts() last read them all
  std::vector<BlockRow> block_rows_;  // the writer's, reused from batch to batch
  std::string block_ids_, block_data_;
};

}  // namespace orchard
