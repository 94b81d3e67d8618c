// Property: whatever happens to the disk, a reopened partition log holds exactly a prefix
// of what was appended (byte for byte), and that prefix contains everything that was
// synced (below the recovery point when the crash came).
//
// A RapidCheck stateful test: random appends (every codec), flushes, reads, truncations,
// process restarts, power losses between and *during* operations (the op runs on a fiber
// with disk latency and the node dies at a random virtual instant), torn writes, lost or
// partly kept unsynced data, bit flips in unsynced bytes, failed fsyncs (fsyncgate), a
// full disk, DeleteRecords (the log start moves), size retention and compaction (also cut
// short by a power loss). The model is the list of batches appended (with the offsets and
// epoch the log must have stamped), the offset below which they were synced, the log
// start, the leader-epoch cache the log must hold, and, per offset, the record appended
// there. Until compaction removed a record, the log must hold the model's batches byte for
// byte from its start; after, every record it holds must be the model's at that offset,
// and a compaction must keep every key's latest record.
//
// Every case starts with a run of appends and draws its commands at full size (RapidCheck
// scales both with the size parameter, which starts at 0): the test measures in how many
// cases retention, DeleteRecords and compaction took effect and fails below a floor.
//
// Not injected: bit flips in synced bytes (that is data loss the log must *report*, tested
// in tests/log/recovery_test.cc) and flips in baseOffset / partitionLeaderEpoch, which
// Kafka's CRC does not cover (docs/log-format.md says what recovery can and cannot catch).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <cstdio>
#include <map>
#include <sstream>

#include "core/compression/batch.h"
#include "core/log/partition_log.h"
#include "runtime/scheduler.h"
#include "sim/sim_disk.h"
#include "tests/log/log_test_util.h"

namespace keel::log {
namespace {

struct RefBatch {
    Bytes stored;  // what the log must hold: the sent bytes with offset and epoch stamped
    Offset base, next;
    LeaderEpoch epoch;
    Offset segment;     // base offset of the segment it went to
    uint64_t position;  // in that segment
};

struct LogModel {};  // commands draw their parameters freely; the reference lives in the Sut

// Size-independent draws (see the header comment); they still shrink towards `lo`.
template <typename T>
T uniform(T lo, T hi) {  // [lo, hi)
    return *rc::gen::resize(rc::kNominalSize, rc::gen::inRange<T>(lo, hi));
}

// What the case reached (the property's efficacy, measured over the run).
struct Reach {
    int cases = 0;
    int retention = 0;       // cases where retention deleted a segment
    int delete_records = 0;  // ... DeleteRecords moved the log start
    int compaction = 0;      // ... compaction removed a record
    int compaction_cut = 0;  // ... a power loss cut a compaction short
    int power_loss = 0;
};
Reach& reach() {
    static Reach r;
    return r;
}

struct CaseReach {
    bool retention = false, delete_records = false, compaction = false, compaction_cut = false;
};

using testing::records_of;
using testing::Seen;

struct LogSut {
    fiber::Scheduler sched{fiber::SchedulerOptions{.virtual_time = true, .seed = 11}};
    fiber::GroupId group = sched.create_group("n1");
    std::unique_ptr<fiber::GroupExecutor> ex = std::make_unique<fiber::GroupExecutor>(sched, group);
    env::SeededRandom rng;
    sim::SimDisk disk{"n1"};
    std::unique_ptr<env::Disk> mount;
    testing::ManualClock clock;  // never advanced: it stands still
    LogConfig config;
    std::unique_ptr<PartitionLog> log;
    std::vector<RefBatch> ref;  // the batches from the one holding the log start on
    std::map<int64_t, Seen> records;  // offset → the record appended there (from the start)
    LeaderEpochCache epochs;          // what the log's cache must hold
    Offset start{0}, end_{0};
    Offset durable_end{0};
    LeaderEpoch epoch{0};
    bool compacted = false;  // compaction may have removed records: compare records, not bytes
    int next_record = 0;
    int power_losses = 0;
    CaseReach reached;

    explicit LogSut(uint64_t seed) : rng(seed) {
        mount = disk.mount(*ex, rng);
        config.segment_bytes = uniform<int64_t>(300, 4000);
        config.flush_messages = *rc::gen::element<int64_t>(1, 4, kNever);
        config.index_interval_bytes = *rc::gen::element<int32_t>(0, 100, 4096);
        config.retention_bytes = *rc::gen::element<int64_t>(-1, 500, 1500, 4000);
        config.cleanup_compact = *rc::gen::arbitrary<bool>();
        config.cleanup_delete = !config.cleanup_compact || *rc::gen::arbitrary<bool>();
        config.min_cleanable_dirty_ratio = *rc::gen::element(0.01, 0.5);
        reopen();
    }

    PartitionLogOptions options() {
        PartitionLogOptions o;
        o.disk = mount.get();
        o.clock = &clock;
        o.codec = &compression::batch_codec();
        o.dir = "data/topic-0";
        o.topic = "topic";
        o.partition = 0;
        o.config = config;
        return o;
    }
    void reopen() {
        auto opened = PartitionLog::open(options());
        RC_ASSERT(opened.ok());
        log = std::move(opened).value();
    }
    Offset end() const { return end_; }

    Bytes next_batch(int records_n, int value_len, Compression codec) {
        RecordBatchBuilder b;
        for (int i = 0; i < records_n; i++) {
            std::string key = "key" + std::to_string(next_record % 13);
            std::string value = std::to_string(next_record) + std::string(static_cast<size_t>(value_len), 'v');
            b.add(1'700'000'000'000LL + next_record, as_bytes(key), as_bytes(value));
            next_record++;
        }
        return compression::build_batch(b, codec).value();
    }
    RefBatch expected(const Bytes& sent) const {
        RefBatch r;
        r.stored = sent;
        r.base = end();
        set_base_offset(r.stored, r.base);
        set_partition_leader_epoch(r.stored, epoch);
        r.next = read_batch(r.stored)->next_offset();
        r.epoch = epoch;
        return r;
    }
    // The model takes a batch the log accepted.
    void take(RefBatch r) {
        for (const Seen& rec : records_of(r.stored)) records[rec.offset] = rec;
        if (auto latest = epochs.latest(); !latest || r.epoch > latest->epoch) epochs.assign(r.epoch, r.base);
        end_ = r.next;
        ref.push_back(std::move(r));
    }
    // Where an append of r would land (the active segment's end, or a new segment if it
    // rolls by size); the clock stands still, so no roll by age.
    void predict_position(RefBatch& r) const {
        SegmentInfo active = log->segments().back();
        bool rolls = active.size > 0 && active.size + r.stored.size() > static_cast<uint64_t>(config.segment_bytes);
        r.segment = rolls ? r.base : active.base_offset;
        r.position = rolls ? 0 : active.size;
    }
    void record_position(RefBatch& r) const {
        SegmentInfo active = log->segments().back();
        r.segment = active.base_offset;
        r.position = active.size - r.stored.size();
    }

    // The log start moved to `to` (DeleteRecords, retention): the model forgets below it.
    void start_at(Offset to) {
        if (to <= start) return;
        start = to;
        epochs.truncate_from_start(to);
        size_t drop = 0;
        while (drop < ref.size() && ref[drop].next <= to) drop++;
        ref.erase(ref.begin(), ref.begin() + static_cast<std::ptrdiff_t>(drop));
        records.erase(records.begin(), records.lower_bound(to.value()));
    }
    // The log now ends at `leo` (truncation, recovery): the model forgets from there on.
    void end_at(Offset leo) {
        while (!ref.empty() && ref.back().next > leo) ref.pop_back();  // whole batches go
        records.erase(records.lower_bound(leo.value()), records.end());
        epochs.truncate_from_end(leo);
        end_ = leo;
        durable_end = std::min(durable_end, leo);
    }

    // Every stored byte, from the log start to the log end.
    Bytes stored_bytes() {
        Bytes all;
        Offset at = log->log_start_offset();
        while (at < log->log_end_offset()) {
            auto r = log->read(at, 1 << 20);
            if (!r.ok() || r->batch_count == 0) RC_LOG() << "reading at " << at.value() << ": " << layout();
            RC_ASSERT(r.ok());
            // Compaction may empty the tail of the log's offsets (a cleaned segment keeps its
            // range): nothing to read there. Otherwise every offset below the end is in a batch.
            if (compacted && r->batch_count == 0) break;
            RC_ASSERT(r->batch_count > 0u);
            all.insert(all.end(), r->records.begin(), r->records.end());
            at = r->next_offset;
        }
        return all;
    }
    std::string layout() const {
        std::ostringstream os;
        os << "log [" << log->log_start_offset().value() << ", " << log->log_end_offset().value() << ") segments";
        for (const SegmentInfo& s : log->segments()) {
            os << " [" << s.base_offset.value() << ", " << s.next_offset.value() << ") " << s.size << "B";
        }
        return os.str();
    }
    std::vector<Seen> stored_records() {
        std::vector<Seen> out;
        for (const Seen& rec : records_of(stored_bytes())) {
            if (rec.offset >= log->log_start_offset().value()) out.push_back(rec);
        }
        return out;
    }
    // Every record the log holds is the one the model appended at that offset.
    void check_records_are_the_models() {
        int64_t previous = -1;
        for (const Seen& rec : stored_records()) {
            RC_ASSERT(rec.offset > previous);
            previous = rec.offset;
            auto it = records.find(rec.offset);
            RC_ASSERT(it != records.end());
            RC_ASSERT(it->second == rec);
        }
    }
    // Everything the model has: byte for byte until compaction, record by record after.
    void check_contents() {
        RC_ASSERT(log->log_start_offset() == start);
        RC_ASSERT(log->log_end_offset() == end());
        if (compacted) return check_records_are_the_models();
        Bytes want;
        for (const RefBatch& b : ref) want.insert(want.end(), b.stored.begin(), b.stored.end());
        RC_ASSERT(stored_bytes() == want);
    }

    // After a restart: the log is a prefix of the model containing everything synced.
    void check_recovered(bool power_loss) {
        Offset leo = log->log_end_offset();
        RC_ASSERT(log->log_start_offset() == start);  // its checkpoint is written first
        RC_ASSERT(leo >= durable_end);                 // nothing synced was lost
        RC_ASSERT(leo <= end());
        if (!power_loss) RC_ASSERT(leo == end());      // a process crash loses nothing
        if (!compacted) {
            bool on_boundary = leo == start || leo == end();
            for (const RefBatch& b : ref) on_boundary |= b.next == leo;
            RC_ASSERT(on_boundary);
        }
        RC_ASSERT(log->recovery_report().corruption.empty());
        end_at(leo);
        check_contents();
        RC_ASSERT(log->recovery_point() == leo);
        durable_end = leo;
        RC_ASSERT(log->leader_epochs().entries() == epochs.entries());
    }

    // Flips one bit of the unsynced part of the active segment, avoiding the header fields
    // the CRC does not cover.
    void flip_unsynced_bit(Offset active_base, uint64_t selector, int bit) {
        uint64_t synced_pos = UINT64_MAX;
        std::vector<uint64_t> headers;
        for (const RefBatch& b : ref) {
            if (b.segment != active_base || b.base < durable_end) continue;
            synced_pos = std::min(synced_pos, b.position);
            headers.push_back(b.position);
        }
        std::string path = "data/topic-0/" + offset_file_stem(active_base) + ".log";
        auto current = disk.read_current(path);
        if (synced_pos == UINT64_MAX || !current.ok() || current->size() <= synced_pos) return;
        uint64_t span = current->size() - synced_pos;
        for (int attempt = 0; attempt < 20; attempt++, selector = selector * 6364136223846793005ULL + 1) {
            uint64_t pos = synced_pos + selector % span;
            bool uncovered = false;
            for (uint64_t h : headers) uncovered |= (pos >= h && pos < h + 8) || (pos >= h + 12 && pos < h + 16);
            if (uncovered) continue;
            RC_ASSERT(disk.corrupt(path, pos, bit).ok());
            return;
        }
    }

    struct PowerLoss {
        double keep_unsynced;
        double torn;
        bool flip;
        uint64_t flip_selector;
        int bit;
    };
    void power_loss(const PowerLoss& p) {
        Offset active = log->segments().back().base_offset;
        // An operation cut short may still have synced something (a roll flushes).
        durable_end = std::max(durable_end, log->recovery_point());
        log.reset();
        disk.faults().crash_keeps_unsynced_probability = p.keep_unsynced;
        disk.faults().torn_write_probability = p.torn;
        disk.crash(rng);
        disk.faults() = sim::DiskFaultOptions{};
        mount = disk.mount(*ex, rng);
        // A compaction cut short may have rewritten segments: flipped bits there would hit
        // synced bytes (data loss the log must report, not this property's subject).
        if (p.flip && !compacted) flip_unsynced_bit(active, p.flip_selector, p.bit);
        power_losses++;
        reopen();
        check_recovered(true);
    }

    void check_latest_per_key();
    // Runs clean steps until the cleaner has nothing to do; the records it removed.
    size_t clean_fully() {
        size_t removed = 0;
        for (int step = 0; step < 200; step++) {
            auto p = log->clean_step();
            RC_ASSERT(p.ok());
            removed += p->records_removed;
            if (!p->did_work) break;
        }
        return removed;
    }
};

using LogCommand = rc::state::Command<LogModel, LogSut>;

Compression any_codec() {
    return *rc::gen::element(Compression::none, Compression::none, Compression::gzip, Compression::snappy,
                             Compression::lz4, Compression::zstd);
}

LogSut::PowerLoss any_power_loss() {
    return {*rc::gen::element(0.0, 0.5, 1.0), *rc::gen::element(0.0, 1.0), *rc::gen::arbitrary<bool>(),
            *rc::gen::arbitrary<uint64_t>(), uniform(0, 8)};
}

struct Append : LogCommand {
    int records = uniform(1, 6);
    int value_len = uniform(0, 150);
    Compression codec = any_codec();
    bool new_epoch = *rc::gen::weightedElement<bool>({{1, true}, {5, false}});
    void run(const LogModel&, LogSut& s) const override {
        if (new_epoch) s.epoch = LeaderEpoch(s.epoch.value() + 1);
        RefBatch r = s.expected(s.next_batch(records, value_len, codec));
        auto a = s.log->append(r.stored, s.epoch);
        RC_ASSERT(a.ok());
        RC_ASSERT(a->base_offset == r.base);
        s.record_position(r);
        s.take(std::move(r));
        s.durable_end = s.log->recovery_point();
        RC_ASSERT(s.log->log_end_offset() == s.end());
        RC_ASSERT(s.log->leader_epochs().entries() == s.epochs.entries());
    }
    void show(std::ostream& os) const override {
        os << "Append(" << records << " records, " << value_len << "-byte values, "
           << compression_name(codec) << (new_epoch ? ", new epoch)" : ")");
    }
};

struct Flush : LogCommand {
    void run(const LogModel&, LogSut& s) const override {
        RC_ASSERT(s.log->flush().ok());
        RC_ASSERT(s.log->recovery_point() == s.end());
        s.durable_end = s.end();
    }
    void show(std::ostream& os) const override { os << "Flush"; }
};

struct Read : LogCommand {
    uint64_t selector = *rc::gen::arbitrary<uint64_t>();
    size_t max_bytes = uniform<size_t>(1, 3000);
    void run(const LogModel&, LogSut& s) const override {
        if (s.start.value() > 0 && selector % 8 == 0) {  // below the log start: refused
            auto below = s.log->read(Offset(static_cast<int64_t>(selector % static_cast<uint64_t>(s.start.value()))),
                                     max_bytes);
            RC_ASSERT(!below.ok());
            RC_ASSERT(below.code() == Errc::offset_out_of_range);
            return;
        }
        uint64_t span = static_cast<uint64_t>(s.end().value() - s.start.value() + 1);
        Offset from = s.start + static_cast<int64_t>(selector % span);
        auto r = s.log->read(from, max_bytes);
        RC_ASSERT(r.ok());
        if (from == s.end()) {
            RC_ASSERT(r->records.empty());
            return;
        }
        if (s.compacted) {  // a compacted-away tail reads as nothing
            for (const Seen& rec : records_of(r->records)) {
                if (rec.offset < s.start.value()) continue;  // the batch holding the start begins below it
                auto it = s.records.find(rec.offset);
                RC_ASSERT(it != s.records.end());
                RC_ASSERT(it->second == rec);
            }
            return;
        }
        RC_ASSERT(r->batch_count >= 1u);
        size_t i = 0;
        while (s.ref[i].next <= from) i++;
        Bytes want;
        for (size_t n = 0; n < r->batch_count; n++) {
            RC_ASSERT(i + n < s.ref.size());
            want.insert(want.end(), s.ref[i + n].stored.begin(), s.ref[i + n].stored.end());
        }
        RC_ASSERT(r->records == want);
    }
    void show(std::ostream& os) const override { os << "Read(selector " << selector << ", " << max_bytes << " bytes)"; }
};

struct Truncate : LogCommand {
    uint64_t selector = *rc::gen::arbitrary<uint64_t>();
    void run(const LogModel&, LogSut& s) const override {
        Offset to(static_cast<int64_t>(selector % static_cast<uint64_t>(s.end().value() + 1)));
        std::vector<Seen> before = s.stored_records();
        RC_ASSERT(s.log->truncate_to(to).ok());
        Offset leo = s.log->log_end_offset();
        RC_ASSERT(leo <= std::max(to, s.log->log_start_offset()));
        if (to < s.start) {  // below the start: emptied and restarted at `to`
            RC_ASSERT(s.log->log_start_offset() == to && leo == to);
            s.ref.clear();
            s.records.clear();
            s.epochs.clear();
            s.start = s.end_ = to;
            s.durable_end = std::min(s.durable_end, to);
        } else {
            RC_ASSERT(leo >= s.start);
            // What stays is exactly what the log held below its new end.
            std::vector<Seen> kept;
            for (const Seen& rec : before) {
                if (rec.offset < leo.value()) kept.push_back(rec);
            }
            RC_ASSERT(s.stored_records() == kept);
            s.end_at(leo);
        }
        if (!s.compacted) {
            bool on_boundary = leo == s.start;
            for (const RefBatch& b : s.ref) on_boundary |= b.next == leo;
            RC_ASSERT(on_boundary);
        }
        s.check_contents();
        RC_ASSERT(s.log->recovery_point() <= s.end());
        RC_ASSERT(s.log->leader_epochs().entries() == s.epochs.entries());
    }
    void show(std::ostream& os) const override { os << "Truncate(selector " << selector << ")"; }
};
struct Restart : LogCommand {  // the process dies; the machine (and its page cache) does not
    void run(const LogModel&, LogSut& s) const override {
        s.log.reset();
        s.reopen();
        s.check_recovered(false);
    }
    void show(std::ostream& os) const override { os << "Restart"; }
};

struct PowerLossBetweenOps : LogCommand {
    LogSut::PowerLoss p = any_power_loss();
    void run(const LogModel&, LogSut& s) const override { s.power_loss(p); }
    void show(std::ostream& os) const override {
        os << "PowerLoss(keep " << p.keep_unsynced << ", torn " << p.torn << ", flip " << p.flip << ")";
    }
};

// The operation runs on a fiber with disk latency; power fails at a random instant of it.
struct PowerLossDuringOp : LogCommand {
    int kind = uniform(0, 4);  // 0 append, 1 append + flush, 2 flush, 3 compaction
    int records = uniform(1, 6);
    Compression codec = any_codec();
    int64_t at_us = uniform<int64_t>(0, 3000);
    LogSut::PowerLoss p = any_power_loss();
    void run(const LogModel&, LogSut& s) const override {
        bool flushed = false, cleaned = false;
        if (kind < 2) {
            RefBatch r = s.expected(s.next_batch(records, 40, codec));
            s.predict_position(r);
            s.take(r);  // it may or may not survive: the check accepts both
        }
        if (kind == 3 && s.config.cleanup_compact) s.compacted = true;  // records may go from here on
        Bytes bytes = s.ref.empty() ? Bytes{} : s.ref.back().stored;
        s.disk.faults().latency_min = 20us;
        s.disk.faults().latency_max = 200us;
        s.ex->spawn("op", [&s, &flushed, &cleaned, bytes, k = kind] {
            if (k == 3) {
                while (true) {
                    auto step = s.log->clean_step();
                    if (!step.ok() || !step->did_work) return;
                    cleaned = true;
                }
            }
            if (k != 2 && !s.log->append(bytes, s.epoch).ok()) return;
            if (k != 0 && s.log->flush().ok()) flushed = true;
        });
        s.sched.run_until(s.sched.now() + std::chrono::microseconds(at_us));
        if (flushed) s.durable_end = s.end();
        s.reached.compaction_cut |= cleaned;
        s.sched.kill_group(s.group);  // the node dies with its fibers
        s.group = s.sched.create_group("n1");
        s.ex = std::make_unique<fiber::GroupExecutor>(s.sched, s.group);
        s.power_loss(p);
        if (kind == 3) s.check_latest_per_key();
    }
    void show(std::ostream& os) const override {
        static const char* kinds[] = {"append", "append+flush", "flush", "compaction"};
        os << "PowerLossDuring(" << kinds[kind] << ", at " << at_us << "us, keep " << p.keep_unsynced
           << ", torn " << p.torn << ", flip " << p.flip << ")";
    }
};

struct FailingSync : LogCommand {  // fsyncgate: some I/O fails, then the process restarts
    void run(const LogModel&, LogSut& s) const override {
        s.disk.faults().io_error_probability = 0.5;
        Status st = s.log->flush();
        s.disk.faults().io_error_probability = 0.0;
        if (st.ok()) {
            s.durable_end = s.end();
            return;
        }
        RC_ASSERT(st.code() == Errc::io_error);
        s.log.reset();
        s.reopen();
        s.check_recovered(false);
    }
    void show(std::ostream& os) const override { os << "FailingSync"; }
};

struct AppendToAFullDisk : LogCommand {
    uint64_t room = uniform<uint64_t>(0, 1500);
    int records = uniform(1, 8);
    bool new_epoch = *rc::gen::arbitrary<bool>();
    void run(const LogModel&, LogSut& s) const override {
        LeaderEpoch e = new_epoch ? LeaderEpoch(s.epoch.value() + 1) : s.epoch;
        s.disk.faults().capacity_bytes = s.disk.used_bytes() + room;
        LeaderEpoch saved = s.epoch;
        s.epoch = e;
        RefBatch r = s.expected(s.next_batch(records, 100, Compression::none));
        s.epoch = saved;
        auto a = s.log->append(r.stored, e);
        s.disk.faults().capacity_bytes = UINT64_MAX;
        if (a.ok()) {
            s.epoch = e;
            s.record_position(r);
            s.take(std::move(r));
            s.durable_end = s.log->recovery_point();
        } else {
            RC_ASSERT(a.code() == Errc::disk_full);
            RC_ASSERT(!s.log->offline());
        }
        RC_ASSERT(s.log->log_end_offset() == s.end());
        // A failed append leaves no epoch behind (it would fence the old epoch's leader).
        RC_ASSERT(s.log->leader_epochs().entries() == s.epochs.entries());
    }
    void show(std::ostream& os) const override {
        os << "AppendToAFullDisk(room " << room << (new_epoch ? ", new epoch)" : ")");
    }
};

// DeleteRecords: the log start moves up to an offset in [start, end].
struct DeleteRecords : LogCommand {
    uint64_t selector = *rc::gen::arbitrary<uint64_t>();
    void run(const LogModel&, LogSut& s) const override {
        uint64_t span = static_cast<uint64_t>(s.end().value() - s.start.value() + 1);
        Offset to = s.start + static_cast<int64_t>(selector % span);
        RC_ASSERT(s.log->advance_log_start_offset(to).ok());
        s.reached.delete_records |= to > s.start;
        s.start_at(to);
        s.check_contents();
        RC_ASSERT(s.log->leader_epochs().entries() == s.epochs.entries());
        // Past the end is refused.
        RC_ASSERT(s.log->advance_log_start_offset(s.end() + 1).code() == Errc::offset_out_of_range);
    }
    void show(std::ostream& os) const override { os << "DeleteRecords(selector " << selector << ")"; }
};

// Retention: whole segments go by size (retention.bytes) or for lying below the start.
struct Retention : LogCommand {
    bool with_high_watermark = *rc::gen::weightedElement<bool>({{1, true}, {3, false}});
    uint64_t selector = *rc::gen::arbitrary<uint64_t>();
    void run(const LogModel&, LogSut& s) const override {
        std::optional<Offset> hw;
        if (with_high_watermark) {
            hw = s.start + static_cast<int64_t>(selector % static_cast<uint64_t>(s.end().value() - s.start.value() + 1));
        }
        auto r = s.log->apply_retention(hw);
        RC_ASSERT(r.ok());
        Offset now_start = s.log->log_start_offset();
        RC_ASSERT(now_start >= s.start && now_start <= s.end());
        if (hw) RC_ASSERT(now_start <= std::max(s.start, *hw));  // nothing at or above it went
        s.reached.retention |= r->segments_deleted > 0;
        s.start_at(now_start);
        s.check_contents();
        RC_ASSERT(s.log->leader_epochs().entries() == s.epochs.entries());
        std::vector<SegmentInfo> segs = s.log->segments();
        if (hw || segs.size() < 2) return;
        RC_ASSERT(segs[1].base_offset > s.start);  // none lies wholly below the start
        if (s.config.cleanup_delete && s.config.retention_bytes >= 0) {  // one more would be too many
            RC_ASSERT(static_cast<int64_t>(s.log->size_bytes() - segs[0].size) < s.config.retention_bytes);
        }
    }
    void show(std::ostream& os) const override {
        os << "Retention(" << (with_high_watermark ? "high watermark selector " + std::to_string(selector) : "") << ")";
    }
};

// Compaction until the cleaner has nothing to do: every record left is the model's, and
// every key's latest record is among them.
struct Compact : LogCommand {
    void run(const LogModel&, LogSut& s) const override {
        size_t removed = s.clean_fully();
        if (removed > 0) {
            s.compacted = true;
            s.reached.compaction = true;
        }
        RC_ASSERT(s.log->log_end_offset() == s.end());
        s.check_contents();
        s.check_latest_per_key();
    }
    void show(std::ostream& os) const override { os << "Compact"; }
};

void LogSut::check_latest_per_key() {
    std::map<std::optional<std::string>, int64_t> latest;
    for (const auto& [offset, rec] : records) latest[rec.key] = offset;
    std::map<int64_t, Seen> present;
    for (const Seen& rec : stored_records()) present[rec.offset] = rec;
    for (const auto& [key, offset] : latest) RC_ASSERT(present.count(offset) == 1u);
    records = std::move(present);  // what compaction removed is gone for good
}

void run_case() {
    LogSut sut(*rc::gen::arbitrary<uint64_t>());
    int warm_up = uniform(10, 40);  // enough data for several segments
    for (int i = 0; i < warm_up; i++) {
        Append a;
        a.run(LogModel{}, sut);
    }
    auto commands = *rc::gen::resize(
        60, rc::state::gen::commands(
                 LogModel{}, rc::state::gen::execOneOfWithArgs<Append, Append, Append, Flush, Read, Truncate, Restart,
                                                               PowerLossBetweenOps, PowerLossDuringOp, PowerLossDuringOp,
                                                               FailingSync, AppendToAFullDisk, DeleteRecords, Retention,
                                                               Retention, Compact>()));
    rc::state::runAll(commands, LogModel{}, sut);
    RC_TAG(sut.power_losses > 0 ? "with power loss" : "no power loss");
    Reach& r = reach();
    r.cases++;
    r.retention += sut.reached.retention ? 1 : 0;
    r.delete_records += sut.reached.delete_records ? 1 : 0;
    r.compaction += sut.reached.compaction ? 1 : 0;
    r.compaction_cut += sut.reached.compaction_cut ? 1 : 0;
    r.power_loss += sut.power_losses > 0 ? 1 : 0;
}

TEST(LogPrefixProperty, AfterAnyCrashTheLogIsAPrefixOfWhatWasAppendedHoldingAllThatWasSynced) {
    reach() = Reach{};
    ASSERT_TRUE(rc::check("reopened log == prefix of appends, containing every synced batch", run_case));
    const Reach& r = reach();
    std::printf("reach over %d cases: retention %d, delete-records %d, compaction %d, compaction cut by power loss "
                "%d, power loss %d\n",
                r.cases, r.retention, r.delete_records, r.compaction, r.compaction_cut, r.power_loss);
    // Floors well under what the generators give (see the printed figures), so that a
    // change that stops a command from taking effect fails here.
    EXPECT_GE(r.retention * 5, r.cases) << "retention deleted segments in under a fifth of the cases";
    EXPECT_GE(r.delete_records * 2, r.cases);
    EXPECT_GE(r.compaction * 7, r.cases) << "compaction removed records in under a seventh of the cases";
    EXPECT_GE(r.power_loss * 10, r.cases * 7);
}

}  // namespace
}  // namespace keel::log
