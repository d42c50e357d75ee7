#include "tracing/sql_prediction_sink.h"

#include <algorithm>
#include <cstring>
#include <iostream>
#include <set>

#include "common/error.h"
#include "registry/postgres_database.h"
#include "registry/sqlite_database.h"

namespace orchard {
namespace {

constexpr int kSqlitePageSize = 16384;
constexpr std::size_t kBlocksPerPage = 64;        // block descriptions read per query while searching
constexpr std::size_t kLabelsPerPage = 4096;      // labelled rows read per query while searching
constexpr std::size_t kRecentLatencies = 5000;    // per arm, for the A/B report's percentiles
constexpr std::size_t kBlocksCachedPerRead = 64;  // a read of many ids keeps at most this many blocks

const char* kSqliteSchema = R"sql(
CREATE TABLE IF NOT EXISTS prediction_contexts (
  id INTEGER PRIMARY KEY,
  endpoint TEXT NOT NULL, model TEXT NOT NULL, version INTEGER NOT NULL, artifact_sha256 TEXT NOT NULL, arm TEXT NOT NULL,
  UNIQUE (endpoint, model, version, artifact_sha256, arm)
);
CREATE TABLE IF NOT EXISTS prediction_blocks (
  block INTEGER PRIMARY KEY, first_id BLOB NOT NULL, last_id BLOB NOT NULL, context INTEGER NOT NULL,
  rows INTEGER NOT NULL, latency_sum REAL NOT NULL, ids BLOB NOT NULL, data BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS prediction_blocks_span ON prediction_blocks (first_id, last_id);
CREATE INDEX IF NOT EXISTS prediction_blocks_last ON prediction_blocks (last_id);
CREATE INDEX IF NOT EXISTS prediction_blocks_context ON prediction_blocks (context, last_id);
CREATE TABLE IF NOT EXISTS prediction_labels (
  id BLOB PRIMARY KEY, context INTEGER NOT NULL, raw INTEGER NOT NULL, outputs BLOB NOT NULL,
  label REAL NOT NULL, received_ms INTEGER NOT NULL, shadow_of BLOB
) WITHOUT ROWID;
)sql";

// Blocks are stored uncompressed out of line (STORAGE EXTERNAL): doubles do not compress, and pglz
// would spend the writer's time finding that out.
const char* kPostgresSchema = R"sql(
CREATE TABLE IF NOT EXISTS prediction_contexts (
  id BIGSERIAL PRIMARY KEY,
  endpoint TEXT NOT NULL, model TEXT NOT NULL, version BIGINT NOT NULL, artifact_sha256 TEXT NOT NULL, arm TEXT NOT NULL,
  UNIQUE (endpoint, model, version, artifact_sha256, arm)
);
CREATE TABLE IF NOT EXISTS prediction_blocks (
  block BIGSERIAL PRIMARY KEY, first_id BYTEA NOT NULL, last_id BYTEA NOT NULL, context BIGINT NOT NULL,
  rows BIGINT NOT NULL, latency_sum DOUBLE PRECISION NOT NULL, ids BYTEA NOT NULL, data BYTEA NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS prediction_blocks_span ON prediction_blocks (first_id, last_id);
ALTER TABLE prediction_blocks ALTER COLUMN ids SET STORAGE EXTERNAL;
ALTER TABLE prediction_blocks ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE INDEX IF NOT EXISTS prediction_blocks_last ON prediction_blocks (last_id);
CREATE INDEX IF NOT EXISTS prediction_blocks_context ON prediction_blocks (context, last_id);
CREATE TABLE IF NOT EXISTS prediction_labels (
  id BYTEA PRIMARY KEY, context BIGINT NOT NULL, raw INTEGER NOT NULL, outputs BYTEA NOT NULL,
  label DOUBLE PRECISION NOT NULL, received_ms BIGINT NOT NULL, shadow_of BYTEA
);
ALTER TABLE prediction_labels ADD COLUMN IF NOT EXISTS shadow_of BYTEA;
)sql";

std::string text_of(const std::optional<std::string>& value) { return value.value_or(""); }

double number_of(const std::optional<std::string>& value) { return value ? std::strtod(value->c_str(), nullptr) : 0.0; }

std::int64_t integer_of(const std::optional<std::string>& value) { return value ? std::strtoll(value->c_str(), nullptr, 10) : 0; }

std::vector<double> blob_doubles(const std::string& bytes) {
  std::vector<double> values(bytes.size() / sizeof(double));
  if (!values.empty()) std::memcpy(values.data(), bytes.data(), values.size() * sizeof(double));
  return values;
}

SqlBlob id_param(const PredictionId& id) { return SqlBlob{std::string(id.raw())}; }

// The smallest id of a millisecond, clamped to the 48 bits an id has.
PredictionId id_of_ms(std::int64_t unix_ms) {
  return PredictionId::first_of(std::clamp<std::int64_t>(unix_ms, 0, (std::int64_t{1} << 48) - 1));
}

// Where rows of [since, until) may be: ids in [lower, upper).
struct IdRange {
  PredictionId lower, upper;
  bool holds(const PredictionId& id) const { return lower <= id && id < upper; }
};

IdRange range_of(std::int64_t since_ms, std::int64_t until_ms, const std::optional<PredictionId>& before = std::nullopt) {
  IdRange range{id_of_ms(since_ms), id_of_ms(until_ms)};
  if (before && *before < range.upper) range.upper = *before;
  return range;
}

// "(?n, ...)": the placeholders of params[from...], for an IN list.
std::string placeholders_from(const std::vector<SqlParam>& params, std::size_t from) {
  std::string sql = "(";
  for (std::size_t i = from; i < params.size(); ++i) sql += (i > from ? ",?" : "?") + std::to_string(i + 1);
  return sql + ")";
}

// " AND context IN (?n, ...)" for a set of context ids, appending them to params.
std::string context_filter(const std::optional<std::vector<std::int64_t>>& contexts, std::vector<SqlParam>& params, const char* column = "context") {
  if (!contexts) return "";
  const std::size_t from = params.size();
  for (std::int64_t context : *contexts) params.emplace_back(context);
  return std::string(" AND ") + column + " IN " + placeholders_from(params, from);
}

}  // namespace

SqlPredictionSink::SqlPredictionSink(std::unique_ptr<SqlDatabase> db) : db_(std::move(db)) {
  postgres_ = std::strcmp(db_->dialect(), "postgresql") == 0;
  db_->exec_script(postgres_ ? kPostgresSchema : kSqliteSchema);
  // Labels tables made before shadow rows kept their live id (2026-11) get the column; their shadow
  // labels stay without it (counted per version as separate predictions, as they were then).
  if (!postgres_ && db_->query("SELECT 1 FROM pragma_table_info('prediction_labels') WHERE name = 'shadow_of'").empty()) {
    db_->exec_script("ALTER TABLE prediction_labels ADD COLUMN shadow_of BLOB");
  }
  convert_legacy_tables();
}

SqlPredictionSink::~SqlPredictionSink() = default;

std::unique_ptr<SqlPredictionSink> SqlPredictionSink::open(const std::string& location) {
  if (location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0) {
    return std::make_unique<SqlPredictionSink>(std::make_unique<PostgresDatabase>(location));
  }
  // Large pages: blocks are tens to hundreds of KiB, and larger pages mean shorter overflow chains
  // and fewer WAL frames per committed row (measured: bench/prediction_log_bench.cc).
  return std::make_unique<SqlPredictionSink>(std::make_unique<SqliteDatabase>(location, 10000, kSqlitePageSize));
}

void SqlPredictionSink::begin() {
  // A plain transaction: the registry's write lock (begin_write) is not wanted here.
  db_->exec_script(postgres_ ? "BEGIN" : "BEGIN IMMEDIATE");
}

std::int64_t SqlPredictionSink::context_id(const PredictionContext& context) {
  auto key = std::make_tuple(context.endpoint, context.model, context.version, context.artifact_sha256, context.arm);
  if (auto it = contexts_.find(key); it != contexts_.end()) return it->second;
  const std::vector<SqlParam> params{context.endpoint, context.model, context.version, context.artifact_sha256, context.arm};
  db_->query("INSERT INTO prediction_contexts (endpoint, model, version, artifact_sha256, arm) VALUES (?1, ?2, ?3, ?4, ?5) "
             "ON CONFLICT DO NOTHING",
             params);
  const auto rows = db_->query("SELECT id FROM prediction_contexts WHERE endpoint = ?1 AND model = ?2 AND version = ?3 AND "
                               "artifact_sha256 = ?4 AND arm = ?5",
                               params);
  if (rows.empty() || !rows[0][0]) throw Error(ErrorKind::kIo, "the prediction log could not record a context", db_->location());
  const std::int64_t id = integer_of(rows[0][0]);
  contexts_.emplace(std::move(key), id);
  // Known to the readers at once: feedback labels a new shadow's rows from its first prediction on.
  context_infos_[id] = {context.endpoint, context.model, context.artifact_sha256, context.arm, context.version};
  return id;
}

void SqlPredictionSink::refresh_contexts() {
  // Contexts this process or another replica (PostgreSQL) added since the last read: read them all
  // (a few hundred rows at most).
  for (const SqlRow& row : db_->query("SELECT id, endpoint, model, version, artifact_sha256, arm FROM prediction_contexts")) {
    context_infos_[integer_of(row[0])] = {text_of(row[1]), text_of(row[2]), text_of(row[4]), text_of(row[5]), integer_of(row[3])};
  }
  contexts_read_ms_ = unix_ms_now();
}

const SqlPredictionSink::ContextInfo* SqlPredictionSink::context_info(std::int64_t id) {
  auto it = context_infos_.find(id);
  if (it == context_infos_.end()) {
    refresh_contexts();
    it = context_infos_.find(id);
  }
  return it == context_infos_.end() ? nullptr : &it->second;
}

std::optional<std::vector<std::int64_t>> SqlPredictionSink::matching_contexts(const PredictionQuery& query) {
  if (query.endpoint.empty() && query.model.empty() && !query.version && query.arm.empty() && query.include_shadows) return std::nullopt;
  refresh_contexts();  // contexts added since the last read must be matched too
  std::vector<std::int64_t> ids;
  for (const auto& [id, c] : context_infos_) {
    if (!query.endpoint.empty() && c.endpoint != query.endpoint) continue;
    if (!query.model.empty() && c.model != query.model) continue;
    if (query.version && c.version != *query.version) continue;
    if (!query.arm.empty() && c.arm != query.arm) continue;
    if (!query.include_shadows && c.arm.rfind("shadow:", 0) == 0) continue;
    ids.push_back(id);
  }
  return ids;
}

void SqlPredictionSink::write(const std::vector<PredictionView>& batch, bool sync) {
  if (batch.empty()) return;
  std::lock_guard lock(mutex_);
  if (!postgres_) {
    // Async batches commit in NORMAL mode: in WAL, a crash of the process loses nothing committed and a
    // power cut at most the last commits. Durable batches commit with FULL (fsync of the WAL).
    const int wanted = sync ? 2 : 1;
    if (synchronous_ != wanted) {
      db_->exec_script(sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
      synchronous_ = wanted;
    }
  }
  // Contexts are resolved (and inserted on first sight) before the batch's transaction.
  std::map<const PredictionContext*, std::int64_t> context_ids;
  for (const PredictionView& entry : batch) {
    if (!context_ids.count(entry.context)) context_ids.emplace(entry.context, context_id(*entry.context));
  }
  block_rows_.clear();
  for (const PredictionView& entry : batch) {
    for (std::size_t r = 0; r < entry.count(); ++r) block_rows_.push_back({&entry, static_cast<std::uint32_t>(r)});
  }
  begin();
  try {
    if (postgres_ && !sync) db_->query("SET LOCAL synchronous_commit = off");  // async batches do not wait for the WAL flush
    insert_blocks(block_rows_, context_ids);
    db_->commit();
  } catch (...) {
    db_->rollback();
    throw;
  }
}

void SqlPredictionSink::insert_blocks(std::vector<BlockRow>& rows, const std::map<const PredictionContext*, std::int64_t>& context_ids) {
  // Rows of one context, feature count, output width and kind (shadow rows carry origins) go
  // together, in id order (requests enqueue out of id order when threads race).
  auto group_less = [](const BlockRow& a, const BlockRow& b) {
    if (a.entry->context != b.entry->context) return std::less<const PredictionContext*>()(a.entry->context, b.entry->context);
    if (a.entry->num_features() != b.entry->num_features()) return a.entry->num_features() < b.entry->num_features();
    if (a.entry->width != b.entry->width) return a.entry->width < b.entry->width;
    return a.entry->origins == nullptr && b.entry->origins != nullptr;
  };
  std::sort(rows.begin(), rows.end(), [&](const BlockRow& a, const BlockRow& b) {
    if (group_less(a, b)) return true;
    if (group_less(b, a)) return false;
    return a.id() < b.id();
  });
  for (std::size_t begin = 0; begin < rows.size();) {
    const BlockRow& first = rows[begin];
    const std::size_t row_bytes = (static_cast<std::size_t>(first.entry->num_features()) + static_cast<std::size_t>(first.entry->width)) * sizeof(double);
    const std::size_t max_rows = std::clamp<std::size_t>(kMaxBlockBytes / std::max<std::size_t>(row_bytes, 1), 1, kMaxBlockRows);
    std::size_t end = begin + 1;
    while (end < rows.size() && end - begin < max_rows && !group_less(first, rows[end]) &&
           rows[end].id().unix_ms() - first.id().unix_ms() <= kMaxBlockSpanMs) {
      ++end;
    }
    double latency_sum = 0;
    for (std::size_t i = begin; i < end; ++i) latency_sum += rows[i].entry->latency_us;
    encode_block(rows.data() + begin, end - begin, block_ids_, block_data_);
    const PredictionId& last = rows[end - 1].id();
    db_->query("INSERT INTO prediction_blocks (first_id, last_id, context, rows, latency_sum, ids, data) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (first_id, last_id) DO NOTHING",
               {SqlBlobView{first.id().bytes.data(), sizeof(PredictionId)}, SqlBlobView{last.bytes.data(), sizeof(PredictionId)},
                context_ids.at(first.entry->context), static_cast<std::int64_t>(end - begin), latency_sum,
                SqlBlobView{block_ids_.data(), block_ids_.size()}, SqlBlobView{block_data_.data(), block_data_.size()}});
    begin = end;
  }
}

const SqlPredictionSink::LoadedBlock& SqlPredictionSink::load_block(std::int64_t key, BlockCache& cache) {
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  if (cache.size() >= kBlocksCachedPerRead) cache.clear();
  const auto rows = db_->query("SELECT context, ids, data FROM prediction_blocks WHERE block = ?1", {key});
  if (rows.empty()) throw Error(ErrorKind::kIo, "block " + std::to_string(key) + " of the prediction log vanished while being read", db_->location());
  LoadedBlock& block = cache[key];
  block.context = integer_of(rows[0][0]);
  block.ids = decode_blob(db_->dialect(), text_of(rows[0][1]));
  block.data = decode_blob(db_->dialect(), text_of(rows[0][2]));
  try {
    block.reader = std::make_unique<BlockReader>(block.ids, block.data);
  } catch (const Error& e) {
    cache.erase(key);
    // Where it is, so that an operator can delete it: every search that crosses it fails until then.
    throw Error(e.kind(), e.problem(), db_->location() + ", table prediction_blocks, block " + std::to_string(key),
                e.expected() + " (or delete that row: its predictions are lost either way)");
  } catch (...) {
    cache.erase(key);
    throw;
  }
  return block;
}

std::optional<std::pair<std::int64_t, std::size_t>> SqlPredictionSink::locate(const PredictionId& id, BlockCache& cache) {
  // A block already read for a neighbouring id often holds this one too (an id is in one block only).
  for (const auto& [key, block] : cache) {
    if (auto row = block.reader->find(id)) return std::make_pair(key, *row);
  }
  // Otherwise: the blocks that start at most kMaxBlockSpanMs before the id and end after it.
  const auto candidates = db_->query("SELECT block, ids FROM prediction_blocks WHERE first_id >= ?1 AND first_id <= ?2 AND last_id >= ?2",
                                     {id_param(id_of_ms(id.unix_ms() - kMaxBlockSpanMs)), id_param(id)});
  for (const SqlRow& candidate : candidates) {
    if (find_in_ids(decode_blob(db_->dialect(), text_of(candidate[1])), id)) {
      const std::int64_t key = integer_of(candidate[0]);
      return std::make_pair(key, *load_block(key, cache).reader->find(id));
    }
  }
  return std::nullopt;
}

void SqlPredictionSink::fill_record(const LoadedBlock& block, std::size_t row, PredictionRecord& record) {
  block.reader->fill(row, record);
  if (const ContextInfo* c = context_info(block.context)) {
    record.endpoint = c->endpoint;
    record.model = c->model;
    record.version = c->version;
    record.artifact_sha256 = c->artifact_sha256;
    record.arm = c->arm;
  }
}

void SqlPredictionSink::attach_labels(std::vector<PredictionRecord>& records) {
  if (records.empty()) return;
  // The records' ids by name, in chunks: a page of a rare endpoint may span months, and a range of
  // ids would read every label given in between, on every endpoint, while the writer waits.
  constexpr std::size_t kIdsPerQuery = 512;
  std::map<std::string, std::pair<double, std::int64_t>> labels;
  for (std::size_t first = 0; first < records.size(); first += kIdsPerQuery) {
    std::vector<SqlParam> params;
    for (std::size_t i = first; i < std::min(records.size(), first + kIdsPerQuery); ++i) params.push_back(id_param(records[i].id));
    for (const SqlRow& row : db_->query("SELECT id, label, received_ms FROM prediction_labels WHERE id IN " + placeholders_from(params, 0), params)) {
      labels[decode_blob(db_->dialect(), text_of(row[0]))] = {number_of(row[1]), integer_of(row[2])};
    }
  }
  if (labels.empty()) return;
  for (PredictionRecord& record : records) {
    if (auto it = labels.find(std::string(record.id.raw())); it != labels.end()) {
      record.label = it->second.first;
      record.label_time_ms = it->second.second;
    }
  }
}

std::optional<PredictionRecord> SqlPredictionSink::find(const PredictionId& id) { return std::move(find_many({id})[0]); }

std::vector<std::optional<PredictionRecord>> SqlPredictionSink::find_many(const std::vector<PredictionId>& ids) {
  std::lock_guard lock(mutex_);
  BlockCache cache;  // neighbouring ids are usually in one block: it is read once
  std::vector<std::optional<PredictionRecord>> out(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto where = locate(ids[i], cache);
    if (!where) continue;
    std::vector<PredictionRecord> one(1);
    fill_record(cache.at(where->first), where->second, one[0]);
    attach_labels(one);
    out[i] = std::move(one[0]);
  }
  return out;
}

std::vector<PredictionRecord> SqlPredictionSink::search(const PredictionQuery& query) {
  std::lock_guard lock(mutex_);
  const auto contexts = matching_contexts(query);
  if (contexts && contexts->empty()) return {};
  return query.labelled_only ? search_labelled(query, contexts) : search_blocks(query, contexts);
}

std::vector<PredictionRecord> SqlPredictionSink::search_blocks(const PredictionQuery& query, const std::optional<std::vector<std::int64_t>>& contexts) {
  const IdRange range = range_of(query.since_ms, query.until_ms, query.before);
  std::vector<PredictionRecord> found;
  auto newer = [](const PredictionRecord& a, const PredictionRecord& b) { return b.id < a.id; };
  // Keeps the newest `limit` rows; returns the oldest of them once there are that many.
  auto trim = [&]() -> std::optional<PredictionId> {
    if (found.size() < query.limit || query.limit == 0) return std::nullopt;
    std::nth_element(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(query.limit - 1), found.end(), newer);
    found.resize(query.limit);
    return std::min_element(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.id < b.id; })->id;
  };
  if (query.limit == 0) return {};
  // Blocks in descending order of their last id: once `limit` rows are found and the next block ends
  // before the oldest of them, no later block can hold a newer row.
  std::optional<PredictionId> cursor;
  BlockCache cache;
  // One query per context (or one for all): each reads its index in last-id order and stops at the
  // page size; a single query with "context IN (...)" would sort every block in the range first.
  std::vector<std::optional<std::int64_t>> per_context;
  if (contexts) {
    for (std::int64_t c : *contexts) per_context.emplace_back(c);
  } else {
    per_context.emplace_back(std::nullopt);
  }
  for (bool more = true; more;) {
    std::vector<std::pair<std::string, std::int64_t>> page;  // (last id, block), from every context
    more = false;
    for (const auto& context : per_context) {
      std::vector<SqlParam> params{id_param(range.lower), id_param(range.upper)};
      std::string sql = "SELECT block, last_id FROM prediction_blocks WHERE last_id >= ?1 AND first_id < ?2";
      if (context) {
        params.emplace_back(*context);
        sql += " AND context = ?" + std::to_string(params.size());
      }
      if (cursor) {
        params.push_back(id_param(*cursor));
        sql += " AND last_id < ?" + std::to_string(params.size());
      }
      const auto rows = db_->query(sql + " ORDER BY last_id DESC LIMIT " + std::to_string(kBlocksPerPage), params);
      if (rows.size() == kBlocksPerPage) more = true;
      for (const SqlRow& row : rows) page.emplace_back(decode_blob(db_->dialect(), text_of(row[1])), integer_of(row[0]));
    }
    // The newest kBlocksPerPage of them, in order; the rest come again below the cursor.
    std::sort(page.begin(), page.end(), std::greater<>());
    if (page.size() > kBlocksPerPage) {
      page.resize(kBlocksPerPage);
      more = true;
    }
    for (const auto& [last_raw, key] : page) {
      const auto last = PredictionId::from_raw(last_raw);
      if (!last) continue;
      cursor = *last;
      if (const auto oldest_kept = trim(); oldest_kept && *last < *oldest_kept) {
        more = false;
        break;
      }
      cache.clear();
      const LoadedBlock& block = load_block(key, cache);
      for (std::size_t i = 0; i < block.reader->count(); ++i) {
        const PredictionId id = block.reader->id(i);
        if (!range.holds(id)) continue;
        fill_record(block, i, found.emplace_back());
      }
    }
  }
  trim();
  std::sort(found.begin(), found.end(), newer);
  attach_labels(found);
  return found;
}

std::vector<PredictionRecord> SqlPredictionSink::search_labelled(const PredictionQuery& query, const std::optional<std::vector<std::int64_t>>& contexts) {
  // The labels table has each labelled row's context and outputs: it answers alone, in id order, and
  // blocks are opened only for the rows' inputs.
  const IdRange range = range_of(query.since_ms, query.until_ms, query.before);
  std::vector<PredictionRecord> found;
  PredictionId upper = range.upper;
  BlockCache cache;
  while (found.size() < query.limit) {
    std::vector<SqlParam> params{id_param(range.lower), id_param(upper)};
    std::string sql = "SELECT id, context, raw, outputs, label, received_ms, shadow_of FROM prediction_labels WHERE id >= ?1 AND id < ?2";
    sql += context_filter(contexts, params);
    const std::size_t page = std::min(kLabelsPerPage, query.limit - found.size());
    sql += " ORDER BY id DESC LIMIT " + std::to_string(page);
    const auto rows = db_->query(sql, params);
    for (const SqlRow& row : rows) {
      const auto id = PredictionId::from_raw(decode_blob(db_->dialect(), text_of(row[0])));
      if (!id) continue;
      upper = *id;
      PredictionRecord record;
      if (query.with_inputs) {
        const auto where = locate(*id, cache);
        if (!where) continue;  // removed by retention since it was labelled
        fill_record(cache.at(where->first), where->second, record);
      } else {
        record.id = *id;
        record.time_ms = id->unix_ms();
        if (const ContextInfo* c = context_info(integer_of(row[1]))) {
          record.endpoint = c->endpoint;
          record.model = c->model;
          record.version = c->version;
          record.artifact_sha256 = c->artifact_sha256;
          record.arm = c->arm;
        }
        record.raw = integer_of(row[2]) != 0;
        record.outputs = blob_doubles(decode_blob(db_->dialect(), text_of(row[3])));
        if (row[6]) record.shadow_of = PredictionId::from_raw(decode_blob(db_->dialect(), *row[6]));
      }
      record.label = number_of(row[4]);
      record.label_time_ms = integer_of(row[5]);
      found.push_back(std::move(record));
    }
    if (rows.size() < page) break;
  }
  return found;
}

void SqlPredictionSink::store_label(const LoadedBlock& block, std::size_t row, double label, std::int64_t received_ms) {
  PredictionRecord record;
  block.reader->fill(row, record);
  const SqlParam shadow_of = record.shadow_of ? SqlParam(id_param(*record.shadow_of)) : SqlParam(nullptr);
  db_->query("INSERT INTO prediction_labels (id, context, raw, outputs, label, received_ms, shadow_of) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
             "ON CONFLICT (id) DO UPDATE SET label = excluded.label, received_ms = excluded.received_ms",
             {id_param(record.id), block.context, std::int64_t{record.raw},
              SqlBlobView{record.outputs.data(), record.outputs.size() * sizeof(double)}, label, received_ms, shadow_of});
}

std::vector<bool> SqlPredictionSink::add_feedback(const std::vector<Feedback>& items) {
  std::lock_guard lock(mutex_);
  std::vector<bool> found(items.size(), false);
  const std::int64_t now = unix_ms_now();
  BlockCache cache, shadow_cache;
  // A shadow another replica added (PostgreSQL) is found within seconds; this process's own
  // contexts are known as soon as it writes them (context_id).
  if (postgres_ && now - contexts_read_ms_ > 5000) refresh_contexts();
  begin();
  try {
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto where = locate(items[i].id, cache);
      if (!where) continue;
      const LoadedBlock& block = cache.at(where->first);
      store_label(block, where->second, items[i].label, now);
      found[i] = true;
      if (!block.reader->has_origins()) label_shadows(block.context, items[i].id, items[i].label, now, shadow_cache);
    }
    db_->commit();
  } catch (...) {
    db_->rollback();
    throw;
  }
  return found;
}

void SqlPredictionSink::label_shadows(std::int64_t live_context, const PredictionId& live_id, double label, std::int64_t received_ms,
                                      BlockCache& cache) {
  // The shadows of the live row's endpoint, if it has any (most have none: no query then).
  const ContextInfo* live = context_info(live_context);
  if (!live) return;
  std::vector<std::int64_t> shadow_contexts;
  for (const auto& [id, c] : context_infos_) {
    if (c.endpoint == live->endpoint && c.arm.rfind("shadow:", 0) == 0) shadow_contexts.push_back(id);
  }
  if (shadow_contexts.empty()) return;
  // A shadow row is recorded after the live one, within kShadowWindowMs: its blocks end after the live
  // id and start before the window closes.
  // Every bound is given on both columns, so that whichever index the planner picks scans ~a minute.
  std::vector<SqlParam> params{id_param(live_id), id_param(id_of_ms(live_id.unix_ms() + kShadowWindowMs)),
                               id_param(id_of_ms(live_id.unix_ms() - kMaxBlockSpanMs)),
                               id_param(id_of_ms(live_id.unix_ms() + kShadowWindowMs + kMaxBlockSpanMs + 1))};
  const std::string sql = "SELECT block FROM prediction_blocks WHERE first_id >= ?3 AND first_id <= ?2 AND last_id > ?1 AND last_id < ?4" +
                          context_filter(std::optional<std::vector<std::int64_t>>(shadow_contexts), params);
  for (const SqlRow& row : db_->query(sql, params)) {
    const LoadedBlock& block = load_block(integer_of(row[0]), cache);
    if (const auto shadow_row = block.reader->find_origin(live_id)) store_label(block, *shadow_row, label, received_ms);
  }
}

std::vector<ArmTraffic> SqlPredictionSink::traffic(const std::string& endpoint, std::int64_t since_ms, std::int64_t until_ms) {
  std::lock_guard lock(mutex_);
  PredictionQuery of_endpoint;
  of_endpoint.endpoint = endpoint;
  const auto contexts = matching_contexts(of_endpoint);
  if (!contexts || contexts->empty()) return {};
  const IdRange range = range_of(since_ms, until_ms);
  struct Totals {
    std::uint64_t rows = 0;
    double latency_sum = 0;
  };
  std::map<std::int64_t, Totals> totals;
  // Blocks wholly inside the window count from their totals...
  {
    std::vector<SqlParam> params{id_param(range.lower), id_param(range.upper)};
    const std::string sql = "SELECT context, SUM(rows), SUM(latency_sum) FROM prediction_blocks WHERE first_id >= ?1 AND last_id >= ?1 "
                            "AND last_id < ?2" +
                            context_filter(contexts, params) + " GROUP BY context";
    for (const SqlRow& row : db_->query(sql, params)) {
      Totals& t = totals[integer_of(row[0])];
      t.rows += static_cast<std::uint64_t>(integer_of(row[1]));
      t.latency_sum += number_of(row[2]);
    }
  }
  // ...and those across either edge row by row (they start at most kMaxBlockSpanMs before it).
  BlockCache cache;
  std::set<std::int64_t> counted;  // a short window may have one block across both edges
  for (const PredictionId& edge : {range.lower, range.upper}) {
    std::vector<SqlParam> params{id_param(id_of_ms(edge.unix_ms() - kMaxBlockSpanMs)), id_param(edge), id_param(range.lower),
                                 id_param(range.upper), id_param(id_of_ms(edge.unix_ms() + kMaxBlockSpanMs + 1))};
    const std::string sql = "SELECT block FROM prediction_blocks WHERE first_id >= ?1 AND first_id < ?2 AND last_id >= ?2 AND "
                            "last_id < ?5 AND last_id >= ?3 AND first_id < ?4" + context_filter(contexts, params);
    for (const SqlRow& row : db_->query(sql, params)) {
      const std::int64_t key = integer_of(row[0]);
      if (!counted.insert(key).second) continue;
      const LoadedBlock& block = load_block(key, cache);
      Totals& t = totals[block.context];
      for (std::size_t i = 0; i < block.reader->count(); ++i) {
        if (!range.holds(block.reader->id(i))) continue;
        ++t.rows;
        t.latency_sum += block.reader->latency_us(i);
      }
    }
  }
  std::vector<ArmTraffic> out;
  for (const auto& [context, t] : totals) {  // in context id order: the order arms first answered
    const ContextInfo* c = context_info(context);
    if (!c || t.rows == 0) continue;
    ArmTraffic arm;
    arm.endpoint = endpoint;
    arm.model = c->model;
    arm.version = c->version;
    arm.arm = c->arm;
    arm.rows = t.rows;
    arm.mean_latency_us = t.latency_sum / static_cast<double>(t.rows);
    // The most recent rows' latencies, newest blocks first.
    std::optional<PredictionId> cursor;
    while (arm.recent_latencies_us.size() < kRecentLatencies) {
      std::vector<SqlParam> params{id_param(range.lower), id_param(range.upper), context};
      std::string sql = "SELECT block FROM prediction_blocks WHERE last_id >= ?1 AND first_id < ?2 AND context = ?3";
      if (cursor) {
        params.push_back(id_param(*cursor));
        sql += " AND last_id < ?4";
      }
      const auto blocks = db_->query(sql + " ORDER BY last_id DESC LIMIT 8", params);
      for (const SqlRow& row : blocks) {
        BlockCache one;
        const LoadedBlock& block = load_block(integer_of(row[0]), one);
        cursor = block.reader->id(block.reader->count() - 1);
        for (std::size_t i = block.reader->count(); i-- > 0 && arm.recent_latencies_us.size() < kRecentLatencies;) {
          if (range.holds(block.reader->id(i))) arm.recent_latencies_us.push_back(block.reader->latency_us(i));
        }
      }
      if (blocks.size() < 8) break;
    }
    out.push_back(std::move(arm));
  }
  return out;
}

std::int64_t SqlPredictionSink::size_bytes() {
  std::lock_guard lock(mutex_);
  if (postgres_) {
    // The data itself, not the relations' files: PostgreSQL's files do not shrink when old rows are
    // deleted (autovacuum makes their space reusable, at the start of the table, where retention
    // deletes), so pg_total_relation_size stayed over the limit and every check deleted again.
    // octet_length reads a TOASTed value's size from its header, without fetching it. Rows, TOAST
    // chunks and index entries add their own (measured on PostgreSQL 15 against
    // pg_total_relation_size of freshly written tables: 450 bytes and 4 % a block, 136 bytes a label).
    const auto rows = db_->query(
        "SELECT CAST((SELECT COALESCE(SUM(octet_length(ids) + octet_length(data)), 0) * 1.04 + COUNT(*) * 450 FROM prediction_blocks) + "
        "(SELECT COALESCE(SUM(octet_length(outputs)), 0) + COUNT(*) * 136 FROM prediction_labels) AS BIGINT)");
    return rows.empty() ? 0 : integer_of(rows[0][0]);
  }
  // Used pages only: deleted rows' pages go to the freelist and are reused, so this is what
  // retention can bring down (the file itself does not shrink without VACUUM).
  const auto pages = db_->query("PRAGMA page_count");
  const auto free_pages = db_->query("PRAGMA freelist_count");
  const auto page_size = db_->query("PRAGMA page_size");
  return (integer_of(pages[0][0]) - integer_of(free_pages[0][0])) * integer_of(page_size[0][0]);
}

std::uint64_t SqlPredictionSink::delete_blocks_through(const std::string& last_id, bool inclusive) {
  const char* compare = inclusive ? "<=" : "<";
  begin();
  try {
    const auto counted = db_->query(std::string("SELECT COALESCE(SUM(rows), 0) FROM prediction_blocks WHERE last_id ") + compare + " ?1",
                                    {SqlBlob{last_id}});
    db_->query(std::string("DELETE FROM prediction_blocks WHERE last_id ") + compare + " ?1", {SqlBlob{last_id}});
    // Labels go with their rows: those older than every row that is left.
    const auto oldest = db_->query("SELECT first_id FROM prediction_blocks ORDER BY first_id LIMIT 1");
    std::string label_cutoff = oldest.empty() || !oldest[0][0] ? std::string(id_of_ms((std::int64_t{1} << 48) - 1).raw())
                                                               : decode_blob(db_->dialect(), *oldest[0][0]);
    db_->query("DELETE FROM prediction_labels WHERE id < ?1", {SqlBlob{label_cutoff}});
    db_->commit();
    return static_cast<std::uint64_t>(integer_of(counted[0][0]));
  } catch (...) {
    db_->rollback();
    throw;
  }
}

std::uint64_t SqlPredictionSink::apply_retention(const RetentionPolicy& policy) {
  std::lock_guard lock(mutex_);
  std::uint64_t removed = 0;
  if (policy.max_age_ms) removed += delete_blocks_through(std::string(id_of_ms(unix_ms_now() - *policy.max_age_ms).raw()), false);
  // By size: remove the oldest share of rows that should bring the size under the limit, plus 5 % of
  // headroom so that retention does not run at every check; whole blocks, oldest first. Tables and
  // indexes take space of their own, so a round may fall short: the size is measured again.
  for (int round = 0; policy.max_bytes && round < 8; ++round) {
    const std::int64_t size = size_bytes();
    if (size <= *policy.max_bytes) break;
    const auto total_rows = integer_of(db_->query("SELECT COALESCE(SUM(rows), 0) FROM prediction_blocks")[0][0]);
    const double share = std::min(1.0, static_cast<double>(size - *policy.max_bytes) / static_cast<double>(size) + 0.05);
    const auto to_remove = std::max<std::int64_t>(1, static_cast<std::int64_t>(static_cast<double>(total_rows) * share));
    std::int64_t counted = 0;
    std::string through;
    for (std::int64_t offset = 0; counted < to_remove; offset += static_cast<std::int64_t>(kBlocksPerPage)) {
      const auto blocks = db_->query("SELECT last_id, rows FROM prediction_blocks ORDER BY last_id LIMIT ?1 OFFSET ?2",
                                     {static_cast<std::int64_t>(kBlocksPerPage), offset});
      for (const SqlRow& row : blocks) {
        if (counted >= to_remove) break;
        counted += integer_of(row[1]);
        through = decode_blob(db_->dialect(), text_of(row[0]));
      }
      if (blocks.size() < kBlocksPerPage) break;
    }
    if (through.empty()) break;  // nothing left to remove
    removed += delete_blocks_through(through, true);
  }
  return removed;
}

void SqlPredictionSink::convert_legacy_tables() {
  const auto exists = db_->query(postgres_ ? "SELECT 1 FROM information_schema.tables WHERE table_name = 'prediction_rows' AND table_schema = current_schema()"
                                           : "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'prediction_rows'");
  if (exists.empty()) return;
  const auto legacy_rows = integer_of(db_->query("SELECT COUNT(*) FROM prediction_rows")[0][0]);
  std::cerr << "orchard: converting the prediction log in " << db_->location() << " to blocks (" << legacy_rows
            << " records; about 5 s per million)\n";
  // Rows in id order, a chunk at a time, each written as an entry of its own: write() packs them into
  // blocks exactly as it would have. A conversion cut short starts over; the blocks it wrote then
  // conflict on their first id and are kept once.
  std::map<std::int64_t, std::shared_ptr<PredictionContext>> contexts;
  for (const SqlRow& row : db_->query("SELECT id, endpoint, model, version, artifact_sha256, arm FROM prediction_contexts")) {
    auto c = std::make_shared<PredictionContext>();
    c->endpoint = text_of(row[1]);
    c->model = text_of(row[2]);
    c->version = integer_of(row[3]);
    c->artifact_sha256 = text_of(row[4]);
    c->arm = text_of(row[5]);
    contexts[integer_of(row[0])] = std::move(c);
  }
  std::string after(16, '\0');
  for (;;) {
    const auto rows = db_->query("SELECT id, context, raw, inputs, outputs, latency_us, request_id, traceparent, caller FROM prediction_rows "
                                 "WHERE id > ?1 ORDER BY id LIMIT 4096",
                                 {SqlBlob{after}});
    if (rows.empty()) break;
    std::vector<PredictionEntry> entries;
    entries.reserve(rows.size());
    for (const SqlRow& row : rows) {
      after = decode_blob(db_->dialect(), text_of(row[0]));
      const auto id = PredictionId::from_raw(after);
      const auto context = contexts.find(integer_of(row[1]));
      if (!id || context == contexts.end()) continue;
      PredictionEntry& e = entries.emplace_back();
      e.context = context->second;
      e.ids = {*id};
      e.raw = integer_of(row[2]) != 0;
      e.rows = blob_doubles(decode_blob(db_->dialect(), text_of(row[3])));
      e.outputs = blob_doubles(decode_blob(db_->dialect(), text_of(row[4])));
      e.width = static_cast<int>(e.outputs.size());
      e.latency_us = number_of(row[5]);
      e.request_id = text_of(row[6]);
      e.traceparent = text_of(row[7]);
      e.caller = text_of(row[8]);
    }
    write(views_of(entries), false);
  }
  begin();
  try {
    BlockCache cache;
    for (const SqlRow& row : db_->query("SELECT id, label, received_ms FROM prediction_feedback")) {
      const auto id = PredictionId::from_raw(decode_blob(db_->dialect(), text_of(row[0])));
      if (!id) continue;
      const auto where = locate(*id, cache);
      if (!where) continue;
      const LoadedBlock& block = cache.at(where->first);
      PredictionRecord record;
      block.reader->fill(where->second, record);
      db_->query("INSERT INTO prediction_labels (id, context, raw, outputs, label, received_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                 "ON CONFLICT (id) DO NOTHING",
                 {id_param(*id), block.context, std::int64_t{record.raw},
                  SqlBlobView{record.outputs.data(), record.outputs.size() * sizeof(double)}, number_of(row[1]), integer_of(row[2])});
    }
    db_->query("DROP TABLE prediction_feedback");
    db_->query("DROP TABLE prediction_rows");
    db_->commit();
  } catch (...) {
    db_->rollback();
    throw;
  }
}

}  // namespace orchard
