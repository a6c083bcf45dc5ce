// concat_partial: reassembles the partial records Docker and containerd make of a line over
// 16 KiB (fields partial_message, partial_id, partial_ordinal, partial_last, as the fluentd
// log driver sends them over forward) into one record. Groups are keyed by tag, container_id
// and partial_id, so interleaved groups stay apart. Limits: max_bytes per reassembled `log`
// (beyond it the record is emitted in pieces), timeout for a group whose last part never
// comes, max_groups in progress (the oldest is emitted first).
//
// Acknowledgement: a batch whose parts are held is resolved only when the records made from
// those parts are, by splitting its finalizer (JoinState) between the batch passed on and
// every group holding its parts.
#include <string.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "ferry/codec/parsers.h"
#include "ferry/filter/filters.h"
#include "ferry/filter/record.h"
#include "ferry/obs/log.h"
#include "held_finalizers.h"

namespace ferry::filter {
namespace {

using config::OptionSpec;
using config::OptionType;
using Clock = std::chrono::steady_clock;

bool truthy(const Field* f, std::string& scratch) {
  std::string_view text;
  if (f == nullptr || !fieldText(*f, scratch, text)) return false;
  return text == "true" || text == "True" || text == "TRUE" || text == "1";
}

bool isPartialKey(std::string_view key) {
  return key == "partial_message" || key == "partial_id" || key == "partial_ordinal" ||
         key == "partial_last";
}

struct Group {
  std::string tag;
  int64_t timestamp_ns = 0;
  std::string head; // the first part's other fields, as raw msgpack pairs
  uint32_t head_count = 0;
  std::vector<std::pair<uint64_t, std::string>> pieces; // (ordinal, text)
  size_t bytes = 0;
  Clock::time_point deadline;
  uint64_t sequence = 0;                   // creation order, for max_groups
  std::vector<core::BatchFinalizer> parts; // held parts of earlier batches
  bool touched = false;                    // got a part from the batch being applied
};

class ConcatPartialFilter final : public core::Filter {
public:
  ConcatPartialFilter(std::string key, size_t max_bytes, std::chrono::milliseconds timeout,
                      size_t max_groups)
      : key_(std::move(key)), max_bytes_(max_bytes), timeout_(timeout), max_groups_(max_groups) {}

  core::BatchRef apply(core::BatchRef batch) override {
    // Fast path: a batch that cannot hold a partial record is passed on untouched.
    static constexpr std::string_view kMarker = "partial_message";
    const auto view = batch->buffer().view();
    const auto hint = batch->partialHint();
    if (batch->format() != core::RecordFormat::kMsgpackMap ||
        hint == core::Batch::PartialHint::kNone ||
        (hint == core::Batch::PartialHint::kUnknown &&
         memmem(view.data(), view.size(), kMarker.data(), kMarker.size()) == nullptr)) {
      return batch;
    }
    BatchRewriter rewriter(*batch, core::RecordFormat::kMsgpackMap);
    std::vector<core::BatchFinalizer> extra; // parts of earlier batches now resolved here
    const auto now = Clock::now();
    for (size_t i = 0; i < batch->size(); ++i) {
      const core::RecordView r = batch->record(i);
      if (!splitFields(batch->format(), r.data, fields_, stack_) ||
          !truthy(findField(fields_, "partial_message"), scratch_)) {
        rewriter.keep(i);
        continue;
      }
      std::string_view id, container, text;
      const Field* id_field = findField(fields_, "partial_id");
      const Field* log_field = findField(fields_, key_);
      if (id_field == nullptr || !fieldText(*id_field, scratch_, id) || log_field == nullptr ||
          !fieldText(*log_field, scratch2_, text)) {
        rewriter.keep(i); // not a part we can place: pass it on as it is
        continue;
      }
      group_key_.assign(batch->tag()).push_back('\0');
      if (const Field* c = findField(fields_, "container_id")) {
        if (fieldText(*c, scratch3_, container)) group_key_.append(container);
      }
      group_key_.push_back('\0');
      group_key_.append(id);
      const bool last = truthy(findField(fields_, "partial_last"), scratch3_);
      uint64_t ordinal = 0;
      if (const Field* o = findField(fields_, "partial_ordinal")) {
        std::string_view t;
        if (fieldText(*o, scratch3_, t)) {
          std::from_chars(t.data(), t.data() + t.size(), ordinal);
        }
      }
      rewriter.drop(i); // the part is held; records made from it are inserted here
      auto [it, fresh] = groups_.try_emplace(group_key_);
      Group& g = it->second;
      if (fresh) start(g, batch->tag(), r.timestamp_ns);
      if (g.bytes > 0 && g.bytes + text.size() > max_bytes_) {
        // Over the cap: what is assembled so far becomes a record of its own.
        emit(g, rewriter.insert());
        rewriter.commit(g.timestamp_ns);
        std::move(g.parts.begin(), g.parts.end(), std::back_inserter(extra));
        g.parts.clear();
        g.pieces.clear();
        g.bytes = 0;
      }
      if (g.pieces.empty()) setHead(g, r.timestamp_ns);
      if (ordinal == 0) ordinal = g.pieces.empty() ? 1 : g.pieces.back().first + 1;
      g.pieces.emplace_back(ordinal, std::string(text));
      g.bytes += text.size();
      g.deadline = now + timeout_;
      g.touched = true;
      if (last) {
        emit(g, rewriter.insert());
        rewriter.commit(g.timestamp_ns);
        std::move(g.parts.begin(), g.parts.end(), std::back_inserter(extra));
        groups_.erase(it);
      } else if (fresh && groups_.size() > max_groups_) {
        evictOldest(it->first);
      }
    }
    if (!rewriter.changed()) return batch;
    core::BatchRef out = rewriter.finish(batch);
    // The batch's finalizer: shared with every group still holding its parts.
    std::vector<std::vector<core::BatchFinalizer>*> holders;
    for (auto& [k, g] : groups_) {
      if (!std::exchange(g.touched, false)) continue;
      holders.push_back(&g.parts);
    }
    passFinalizer(*batch, *out, holders, std::move(extra));
    return out;
  }

  std::vector<core::BatchRef> release(Clock::time_point now, bool all) override {
    std::vector<core::BatchRef> out = std::move(ready_);
    ready_.clear();
    for (auto it = groups_.begin(); it != groups_.end();) {
      if (all || it->second.deadline <= now) {
        if (!all) {
          FERRY_LOG_DEBUG("concat_partial", "partial record group timed out after {} parts",
                          it->second.pieces.size());
        }
        out.push_back(single(it->second));
        it = groups_.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }

private:
  void start(Group& g, const std::string& tag, int64_t ts) {
    g.tag = tag;
    g.timestamp_ns = ts;
    g.sequence = sequence_++;
  }

  // The fields every record of the group carries: the first part's, without the partial_*
  // markers and the concatenated key.
  void setHead(Group& g, int64_t ts) {
    g.timestamp_ns = ts;
    head_buffer_.clear();
    g.head_count = 0;
    for (const Field& f : fields_) {
      if (f.key == key_ || isPartialKey(f.key)) continue;
      codec::MsgpackAppender::string(head_buffer_, f.key);
      if (f.text) {
        codec::MsgpackAppender::string(head_buffer_, f.value);
      } else {
        head_buffer_.append(f.value);
      }
      ++g.head_count;
    }
    g.head.assign(head_buffer_.view());
  }

  void emit(Group& g, core::ByteBuffer& out) {
    if (!std::is_sorted(g.pieces.begin(), g.pieces.end(),
                        [](const auto& a, const auto& b) { return a.first < b.first; })) {
      std::stable_sort(g.pieces.begin(), g.pieces.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    codec::MsgpackAppender::mapHeader(out, g.head_count + 1);
    out.append(g.head);
    codec::MsgpackAppender::string(out, key_);
    codec::MsgpackAppender::stringHeader(out, static_cast<uint32_t>(g.bytes));
    for (const auto& [ordinal, piece] : g.pieces)
      out.append(piece);
  }

  // A one-record batch for a group emitted outside apply (timeout, eviction, shutdown).
  core::BatchRef single(Group& g) {
    core::BatchRef b = core::Batch::create(g.tag, core::RecordFormat::kMsgpackMap,
                                           g.bytes + g.head.size() + 64, 1);
    core::ByteBuffer& buf = b->buffer();
    emit(g, buf);
    b->addEntry(g.timestamp_ns, 0, static_cast<uint32_t>(buf.size()));
    if (!g.parts.empty()) b->setFinalizer(combine(std::move(g.parts)));
    return b;
  }

  void evictOldest(const std::string& except) {
    auto oldest = groups_.end();
    for (auto it = groups_.begin(); it != groups_.end(); ++it) {
      if (it->first == except) continue;
      if (oldest == groups_.end() || it->second.sequence < oldest->second.sequence) oldest = it;
    }
    if (oldest == groups_.end()) return;
    FERRY_LOG_WARN("concat_partial",
                   "more than {} partial record groups in progress: the oldest "
                   "is emitted incomplete",
                   max_groups_);
    // Its parts of the batch being applied (touched) are resolved with the record made here.
    oldest->second.touched = false;
    ready_.push_back(single(oldest->second));
    groups_.erase(oldest);
  }

  std::string key_;
  size_t max_bytes_;
  std::chrono::milliseconds timeout_;
  size_t max_groups_;
  uint64_t sequence_ = 0;
  std::unordered_map<std::string, Group> groups_;
  std::vector<core::BatchRef> ready_;
  std::vector<Field> fields_;
  std::vector<uint64_t> stack_;
  std::string scratch_, scratch2_, scratch3_, group_key_;
  core::ByteBuffer head_buffer_;
};

} // namespace

const config::OptionTable& concatPartialOptions() {
  static const config::OptionTable table = {
      OptionSpec{.name = "enabled",
                 .type = OptionType::kBool,
                 .default_value = "true",
                 .doc = "false turns reassembly off, including the concat_partial ferry adds "
                        "by itself when there is a forward input."},
      OptionSpec{.name = "key",
                 .type = OptionType::kString,
                 .default_value = "log",
                 .doc = "The field whose parts are concatenated."},
      OptionSpec{.name = "max_bytes",
                 .type = OptionType::kSize,
                 .default_value = "1MiB",
                 .min_value = 1024,
                 .max_value = int64_t{64} * 1024 * 1024,
                 .doc = "Largest reassembled field; a longer message is emitted as several "
                        "records of at most this size."},
      OptionSpec{.name = "timeout",
                 .type = OptionType::kDuration,
                 .default_value = "5s",
                 .min_value = 1,
                 .max_value = int64_t{3600} * 1000,
                 .doc = "A group whose last part has not come this long after its latest part "
                        "is emitted as it is."},
      OptionSpec{.name = "max_groups",
                 .type = OptionType::kInt,
                 .default_value = "1024",
                 .min_value = 1,
                 .max_value = 1'000'000,
                 .doc = "Groups in progress at once; beyond it the oldest is emitted as it is."},
  };
  return table;
}

FilterPtr makeConcatPartial(const config::Section& s) {
  if (s.has("enabled") && !s.getBool("enabled")) {
    // Disabled: a pass-through (cheaper than special-casing the router).
    struct PassThrough final : core::Filter {
      core::BatchRef apply(core::BatchRef batch) override { return batch; }
    };
    return std::make_unique<PassThrough>();
  }
  return makePartialMessageJoin(s.has("key") ? s.getString("key") : "log",
                                static_cast<size_t>(s.getIntOr("max_bytes", 1024 * 1024)),
                                std::chrono::milliseconds(s.getIntOr("timeout", 5000)),
                                static_cast<size_t>(s.getIntOr("max_groups", 1024)));
}

FilterPtr makePartialMessageJoin(std::string key, size_t max_bytes,
                                 std::chrono::milliseconds timeout, size_t max_groups) {
  return std::make_unique<ConcatPartialFilter>(std::move(key), max_bytes, timeout, max_groups);
}

std::vector<config::Section> effectiveFilters(const config::Config& config) {
  std::vector<config::Section> out;
  const bool has_forward = std::any_of(config.inputs.begin(), config.inputs.end(),
                                       [](const auto& s) { return s.type == "forward"; });
  const bool declared =
      std::any_of(config.filters.begin(), config.filters.end(), [](const auto& s) {
        return s.type == "concat_partial" ||
               (s.type == "multiline" && s.getString("mode") == "partial_message");
      });
  if (has_forward && !declared) {
    config::Section s;
    s.kind = "filter";
    s.type = "concat_partial";
    s.name = "concat_partial";
    s.match = "*";
    s.table = &concatPartialOptions();
    out.push_back(std::move(s)); // every option at its default
  }
  out.insert(out.end(), config.filters.begin(), config.filters.end());
  return out;
}

} // namespace ferry::filter
