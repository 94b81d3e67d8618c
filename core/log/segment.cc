#include "core/log/segment.h"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace keel::log {
namespace {

constexpr size_t kScanChunkBytes = size_t{1} << 20;

std::string at(const std::string& path, uint64_t position) {
    return path + " position " + std::to_string(position);
}

}  // namespace

std::string offset_file_stem(Offset base_offset) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%020lld", static_cast<long long>(base_offset.value()));
    return buf;
}

std::optional<Offset> parse_segment_file_name(const std::string& name, const std::string& suffix) {
    if (name.size() != 20 + suffix.size() || name.compare(20, suffix.size(), suffix) != 0) {
        return std::nullopt;
    }
    int64_t v = 0;
    for (size_t i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9') return std::nullopt;
        if (v > (std::numeric_limits<int64_t>::max() - (name[i] - '0')) / 10) return std::nullopt;
        v = v * 10 + (name[i] - '0');
    }
    return Offset(v);
}

std::optional<ScanStop> scan_batches(ByteView bytes, uint64_t base,
                                     const std::function<bool(const ScannedBatch&)>& visit) {
    size_t pos = 0;
    while (pos < bytes.size()) {
        auto h = read_batch(bytes.subspan(pos));
        if (!h.ok()) return ScanStop{base + pos, h.error()};
        ScannedBatch b{base + pos, *h, bytes.subspan(pos, h->size_bytes())};
        if (!visit(b)) return std::nullopt;
        pos += h->size_bytes();
    }
    return std::nullopt;
}

// ---- opening ----

Result<std::unique_ptr<Segment>> Segment::create(env::Disk& disk, const std::string& dir,
                                                 Offset base_offset, Instant now,
                                                 const std::string& extra_suffix) {
    std::unique_ptr<Segment> s(new Segment(base_offset, now));
    s->stem_ = env::join_path(dir, offset_file_stem(base_offset));
    s->log_path_ = s->path(kLogSuffix, extra_suffix);
    s->index_path_ = s->path(kIndexSuffix, extra_suffix);
    s->time_index_path_ = s->path(kTimeIndexSuffix, extra_suffix);
    KEEL_TRY_ASSIGN(s->log_, disk.open(s->log_path_, env::OpenMode::create));
    KEEL_TRY_ASSIGN(s->index_file_, disk.open(s->index_path_, env::OpenMode::create));
    KEEL_TRY_ASSIGN(s->time_index_file_, disk.open(s->time_index_path_, env::OpenMode::create));
    KEEL_TRY(s->log_->truncate(0));
    KEEL_TRY(s->index_file_->truncate(0));
    KEEL_TRY(s->time_index_file_->truncate(0));
    return s;
}

std::string Segment::path(const char* kind_suffix, const std::string& extra) const {
    return stem_ + kind_suffix + extra;
}

Result<std::unique_ptr<Segment>> Segment::open(env::Disk& disk, const std::string& dir,
                                               Offset base_offset, Instant now) {
    std::unique_ptr<Segment> s(new Segment(base_offset, now));
    s->stem_ = env::join_path(dir, offset_file_stem(base_offset));
    s->log_path_ = s->path(kLogSuffix);
    s->index_path_ = s->path(kIndexSuffix);
    s->time_index_path_ = s->path(kTimeIndexSuffix);
    KEEL_TRY_ASSIGN(s->log_, disk.open(s->log_path_, env::OpenMode::read_write));
    KEEL_TRY_ASSIGN(s->index_file_, disk.open(s->index_path_, env::OpenMode::create));
    KEEL_TRY_ASSIGN(s->time_index_file_, disk.open(s->time_index_path_, env::OpenMode::create));
    KEEL_TRY_ASSIGN(s->size_, s->log_->size());
    if (s->size_ > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
        return Error{Errc::corrupt, s->log_path_ + " is larger than 2 GiB"};
    }
    return s;
}

Status Segment::load_indexes(Offset next_offset_hint) {
    KEEL_TRY_ASSIGN(uint64_t index_size, index_file_->size());
    KEEL_TRY_ASSIGN(uint64_t time_size, time_index_file_->size());
    KEEL_TRY_ASSIGN(Bytes index_bytes, index_file_->read(0, index_size));
    KEEL_TRY_ASSIGN(Bytes time_bytes, time_index_file_->read(0, time_size));
    auto index = OffsetIndex::decode(base_offset_, index_bytes, size_);
    if (!index.ok()) return Error{Errc::corrupt, index_path_ + ": " + index.error().message};
    auto time_index = TimeIndex::decode(base_offset_, time_bytes, next_offset_hint);
    if (!time_index.ok()) return Error{Errc::corrupt, time_index_path_ + ": " + time_index.error().message};
    // A sealed, non-empty segment always has a final time-index entry; its absence means the
    // index files are not the ones that were flushed with this segment.
    if (size_ > 0 && time_index->empty()) {
        return Error{Errc::corrupt, time_index_path_ + ": empty for a non-empty segment"};
    }
    index_ = std::move(index).value();
    time_index_ = std::move(time_index).value();
    index_entries_written_ = index_.size();
    time_entries_written_ = time_index_.size();
    next_offset_ = next_offset_hint;
    max_timestamp_ = time_index_.empty() ? batch_format::kNoTimestamp : time_index_.last()->timestamp_ms;
    bytes_since_index_entry_ = 0;
    return ok_status();
}

// ---- recovery ----

namespace {

// Sequential reader over a file that keeps a window of it in memory.
class Window {
public:
    Window(env::File& f, uint64_t file_size) : f_(f), file_size_(file_size) {}
    // Makes [pos, pos + n) available (n bounded by the file's end); returns its view.
    Result<ByteView> get(uint64_t pos, size_t n) {
        n = static_cast<size_t>(std::min<uint64_t>(n, file_size_ - pos));
        if (pos < start_ || pos + n > start_ + buf_.size()) {
            size_t want = std::max(n, static_cast<size_t>(std::min<uint64_t>(kScanChunkBytes, file_size_ - pos)));
            KEEL_TRY_ASSIGN(buf_, f_.read(pos, want));
            start_ = pos;
            if (buf_.size() < n) return Error{Errc::io_error, "short read of " + f_.path()};
        }
        return ByteView(buf_.data() + (pos - start_), n);
    }
    // The same, read from the file again whatever the window holds.
    Result<ByteView> reread(uint64_t pos, size_t n) {
        buf_.clear();
        start_ = 0;
        return get(pos, n);
    }
    // Whether a second read of [pos, pos + n), straight from the file, returns the bytes
    // the window holds (which get() made available).
    Result<bool> confirm(uint64_t pos, size_t n) {
        KEEL_TRY_ASSIGN(Bytes again, f_.read(pos, n));
        return again.size() == n && std::equal(again.begin(), again.end(), buf_.begin() + (pos - start_));
    }

private:
    env::File& f_;
    uint64_t file_size_;
    uint64_t start_ = 0;
    Bytes buf_;
};

}  // namespace

namespace {

// Whether a batch's offsets may follow `next` in the segment based at `base` (next >=
// base): at or after next, a non-negative last offset delta, and the last offset within
// int32 of the base (the indexes store offsets relative to it). No overflow on any input.
bool batch_offsets_fit(const BatchHeader& h, Offset next, Offset base) {
    if (h.base_offset < next || h.last_offset_delta < 0) return false;
    int64_t relative = h.base_offset.value() - base.value();
    return relative <= int64_t{std::numeric_limits<int32_t>::max()} - h.last_offset_delta;
}

}  // namespace

namespace {

// One batch as recovery reads it: the header, and the batch checked (CRC, and offsets that
// can follow `next` in the segment based at `base`).
struct CheckedBatch {
    Result<BatchHeader> header = Error{Errc::corrupt_record, "not read"};
    Result<BatchHeader> checked = Error{Errc::corrupt_record, "not read"};
    ByteView bytes;
};

Result<CheckedBatch> check_batch_at(Window& window, uint64_t pos, Offset next, Offset base, bool fresh) {
    CheckedBatch c;
    KEEL_TRY_ASSIGN(ByteView head, fresh ? window.reread(pos, batch_format::kHeaderSize)
                                          : window.get(pos, batch_format::kHeaderSize));
    c.header = parse_batch_header(head);
    if (!c.header.ok()) {
        c.checked = c.header.error();
        return c;
    }
    KEEL_TRY_ASSIGN(c.bytes, window.get(pos, c.header->size_bytes()));
    c.checked = read_batch(c.bytes);
    if (c.checked.ok() && !batch_offsets_fit(*c.checked, next, base)) {
        c.checked = Error{Errc::invalid_record, "batch offsets out of order"};
    }
    return c;
}

// check_batch_at, read again (kReadAttempts in all) while the batch fails its check or a
// second read of its header disagrees: the header's offsets, length and leader epoch are
// outside the CRC, so only a second read shows a bit flipped in them.
Result<CheckedBatch> check_batch_rereading(Window& window, uint64_t pos, Offset next, Offset base) {
    CheckedBatch c;
    for (int attempt = 0; attempt < kReadAttempts; attempt++) {
        KEEL_TRY_ASSIGN(c, check_batch_at(window, pos, next, base, attempt > 0));
        if (!c.checked.ok()) continue;
        KEEL_TRY_ASSIGN(bool same, window.confirm(pos, batch_format::kHeaderSize));
        if (same) return c;
        c.checked = Error{Errc::corrupt_record, "two reads of the batch header differ"};
    }
    return c;
}

}  // namespace

Result<std::optional<ScanStop>> Segment::recover(uint32_t index_interval_bytes,
                                                 const RecoverHooks& hooks) {
    KEEL_TRY_ASSIGN(uint64_t file_size, log_->size());
    file_size = std::min<uint64_t>(file_size, std::numeric_limits<int32_t>::max());
    index_ = OffsetIndex(base_offset_);
    time_index_ = TimeIndex(base_offset_);
    next_offset_ = base_offset_;
    max_timestamp_ = batch_format::kNoTimestamp;
    bytes_since_index_entry_ = 0;
    Window window(*log_, file_size);
    uint64_t pos = 0;
    std::optional<ScanStop> stop;
    while (pos < file_size) {
        KEEL_TRY_ASSIGN(CheckedBatch c, check_batch_rereading(window, pos, next_offset_, base_offset_));
        if (!c.header.ok()) {
            stop = ScanStop{pos, c.header.error()};
            break;
        }
        const BatchHeader& header = *c.header;
        if (!c.checked.ok()) {
            ScanStop bad{pos, c.checked.error()};
            // Its offsets (not covered by the CRC) must still fit, or the index could not
            // hold them: such a batch ends the scan like any other damage.
            bool skip = c.checked.code() == Errc::corrupt_record &&
                        batch_offsets_fit(header, next_offset_, base_offset_) && hooks.skip_bad_crc &&
                        hooks.skip_bad_crc(bad, header);
            if (!skip) {
                stop = std::move(bad);
                break;
            }
            // Kept in place but never served: every read checks the CRC again.
        } else if (hooks.on_batch) {
            hooks.on_batch(ScannedBatch{pos, *c.checked, c.bytes});
        }
        index_batch(pos, BatchSummary{header.last_offset(), header.max_timestamp,
                                      static_cast<uint32_t>(header.size_bytes())},
                    index_interval_bytes);
        pos += header.size_bytes();
    }
    size_ = pos;
    KEEL_TRY(write_index_files(/*rewrite=*/true));
    return stop;
}

// ---- appending ----

void Segment::index_batch(uint64_t position, const BatchSummary& s, uint32_t index_interval_bytes) {
    if (bytes_since_index_entry_ > index_interval_bytes &&
        index_.accepts(s.last_offset, static_cast<uint32_t>(position))) {
        index_.append(s.last_offset, static_cast<uint32_t>(position));
        int64_t ts = std::max(max_timestamp_, s.max_timestamp);
        time_index_.maybe_append(ts, s.last_offset);
        bytes_since_index_entry_ = 0;
    }
    bytes_since_index_entry_ += s.size;
    max_timestamp_ = std::max(max_timestamp_, s.max_timestamp);
    next_offset_ = s.last_offset + 1;
}

Status Segment::append(ByteView batches, std::span<const BatchSummary> summaries,
                       uint32_t index_interval_bytes, size_t split) {
    KEEL_ASSERT(!summaries.empty());
    KEEL_ASSERT(summaries.back().last_offset - base_offset_ <= std::numeric_limits<int32_t>::max());
    KEEL_ASSERT(size_ + batches.size() <= static_cast<uint64_t>(std::numeric_limits<int32_t>::max()));
    Status written = ok_status();
    if (split > 0 && split < batches.size()) {
        written = log_->write(size_, batches.subspan(0, split));
        if (written.ok()) written = log_->write(size_ + split, batches.subspan(split));
    } else {
        written = log_->write(size_, batches);
    }
    if (!written.ok()) {
        // Partly applied writes are cut off where possible; if that fails too, the next
        // append overwrites them and recovery would find them torn past the recovery point.
        (void)log_->truncate(size_);
        return Error{written.code(), log_path_ + ": " + written.error().message};
    }
    uint64_t pos = size_;
    for (const BatchSummary& s : summaries) {
        index_batch(pos, s, index_interval_bytes);
        pos += s.size;
    }
    KEEL_ASSERT(pos == size_ + batches.size());
    size_ = pos;
    return ok_status();
}

// ---- reading ----

Result<Bytes> Segment::read(uint64_t position, size_t n) {
    if (position >= size_) return Bytes{};
    size_t len = static_cast<size_t>(std::min<uint64_t>(n, size_ - position));
    KEEL_TRY_ASSIGN(Bytes b, log_->read(position, len));
    if (b.size() != len) {
        return Error{Errc::io_error, at(log_path_, position) + ": short read of " +
                                         std::to_string(b.size()) + " of " + std::to_string(len)};
    }
    return b;
}

Result<Bytes> Segment::read_batches(uint64_t position, size_t max_bytes) {
    if (position >= size_) return Bytes{};
    KEEL_TRY_ASSIGN(Bytes buf, read(position, std::max(max_bytes, batch_format::kHeaderSize)));
    size_t used = 0;
    while (used < buf.size()) {
        ByteView rest(buf.data() + used, buf.size() - used);
        auto h = parse_batch_header(rest);
        if (!h.ok() && rest.size() < batch_format::kHeaderSize && used > 0) break;
        if (!h.ok() || position + used + h->size_bytes() > size_) {
            return Error{Errc::corrupt, at(log_path_, position + used) + ": unreadable batch header" +
                                            (h.ok() ? std::string(" (runs past the end)") : ": " + h.error().message)};
        }
        if (h->size_bytes() > rest.size()) {
            if (used > 0) break;
            KEEL_TRY_ASSIGN(buf, read(position, h->size_bytes()));  // one batch above max_bytes
            return buf;
        }
        used += h->size_bytes();
    }
    buf.resize(used);
    return buf;
}

Status Segment::scan_headers(uint64_t position,
                             const std::function<bool(const ScannedBatch&)>& visit) {
    uint64_t pos = position;
    while (pos < size_) {
        KEEL_TRY_ASSIGN(Bytes raw, read(pos, batch_format::kHeaderSize));
        auto h = parse_batch_header(raw);
        if (!h.ok() || pos + h->size_bytes() > size_) {
            return Error{Errc::corrupt, at(log_path_, pos) + ": unreadable batch header" +
                                            (h.ok() ? std::string(" (runs past the end)")
                                                    : ": " + h.error().message)};
        }
        if (!visit(ScannedBatch{pos, *h, ByteView(raw.data(), raw.size())})) return ok_status();
        pos += h->size_bytes();
    }
    return ok_status();
}

Result<std::optional<uint64_t>> Segment::find_position(Offset target) {
    uint64_t start = 0;
    if (auto e = index_.lookup(target)) start = e->position;
    std::optional<uint64_t> found;
    KEEL_TRY(scan_headers(start, [&](const ScannedBatch& b) {
        if (b.header.last_offset() >= target) {
            found = b.position;
            return false;
        }
        return true;
    }));
    return found;
}

// ---- durability and shape ----

Status Segment::write_index_files(bool rewrite) {
    if (rewrite) {
        KEEL_TRY(index_file_->truncate(0));
        KEEL_TRY(time_index_file_->truncate(0));
        index_entries_written_ = 0;
        time_entries_written_ = 0;
    }
    if (index_entries_written_ < index_.size()) {
        Bytes b = index_.encode(index_entries_written_);
        KEEL_TRY(index_file_->write(index_entries_written_ * OffsetIndex::kEntryBytes, b));
        index_entries_written_ = index_.size();
    }
    if (time_entries_written_ < time_index_.size()) {
        Bytes b = time_index_.encode(time_entries_written_);
        KEEL_TRY(time_index_file_->write(time_entries_written_ * TimeIndex::kEntryBytes, b));
        time_entries_written_ = time_index_.size();
    }
    return ok_status();
}

Status Segment::rewrite_from(uint64_t position) {
    // Batch by batch, each checked again as read: what goes back to disk must be what
    // recovery validated, never a buffer with a bit flipped in the read. A batch that
    // fails on every read (damage recovery kept below the recovery point) stays as stored.
    Window window(*log_, size_);
    for (uint64_t pos = position; pos < size_;) {
        KEEL_TRY_ASSIGN(CheckedBatch c, check_batch_rereading(window, pos, base_offset_, base_offset_));
        if (!c.header.ok()) break;  // the scan read it, this read cannot: nothing more to trust
        if (c.checked.ok()) KEEL_TRY(log_->write(pos, c.bytes));
        pos += c.header->size_bytes();
    }
    return ok_status();
}

Status Segment::write_indexes() { return write_index_files(false); }

Status Segment::sync() {
    KEEL_TRY(log_->sync());
    KEEL_TRY(index_file_->sync());
    KEEL_TRY(time_index_file_->sync());
    return ok_status();
}

Status Segment::flush() {
    KEEL_TRY(write_indexes());
    return sync();
}

void Segment::seal() {
    if (!empty()) time_index_.maybe_append(max_timestamp_, next_offset_ - 1);
}

Status Segment::truncate_to_position(uint64_t position, uint32_t index_interval_bytes) {
    KEEL_ASSERT(position <= size_);
    KEEL_TRY(log_->truncate(position));
    KEEL_TRY(log_->sync());
    // Recompute offsets, timestamps and indexes from what remains.
    size_ = position;
    KEEL_TRY_ASSIGN(auto stop, recover(index_interval_bytes, {}));
    if (stop) {
        return Error{Errc::corrupt, at(log_path_, stop->position) + ": " + stop->error.message};
    }
    KEEL_TRY(index_file_->sync());
    KEEL_TRY(time_index_file_->sync());
    return ok_status();
}

Status Segment::remove_files(env::Disk& disk) {
    KEEL_TRY(disk.remove(log_path_));
    // Index files may be missing after a crash between removals; a later open drops orphans.
    auto r1 = disk.remove(index_path_);
    auto r2 = disk.remove(time_index_path_);
    if (!r1.ok() && r1.code() != Errc::not_found) return r1;
    if (!r2.ok() && r2.code() != Errc::not_found) return r2;
    return ok_status();
}

}  // namespace keel::log
