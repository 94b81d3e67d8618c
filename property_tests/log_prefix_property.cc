// Property: whatever happens to the disk, a reopened partition log holds exactly a prefix
// of what was appended (byte for byte), and that prefix contains everything that was
// synced (below the recovery point when the crash came).
//
// A RapidCheck stateful test: random appends (every codec), flushes, reads, truncations,
// process restarts, power losses between and *during* operations (the op runs on a fiber
// with disk latency and the node dies at a random virtual instant), torn writes, lost or
// partly kept unsynced data, bit flips in unsynced bytes, failed fsyncs (fsyncgate) and a
// full disk. The model is the list of batches appended (with the offsets and epoch the log
// must have stamped), and the offset below which they were synced.
//
// Not injected: bit flips in synced bytes (that is data loss the log must *report*, tested
// in tests/log/recovery_test.cc) and flips in baseOffset / partitionLeaderEpoch, which
// Kafka's CRC does not cover (docs/log-format.md says what recovery can and cannot catch).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>

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
    std::vector<RefBatch> ref;
    Offset durable_end{0};
    LeaderEpoch epoch{0};
    int next_record = 0;
    int power_losses = 0;

    explicit LogSut(uint64_t seed) : rng(seed) {
        mount = disk.mount(*ex, rng);
        config.segment_bytes = *rc::gen::inRange<int64_t>(300, 4000);
        config.flush_messages = *rc::gen::element<int64_t>(1, 4, kNever);
        config.index_interval_bytes = *rc::gen::element<int32_t>(0, 100, 4096);
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
    Offset end() const { return ref.empty() ? Offset(0) : ref.back().next; }

    Bytes next_batch(int records, int value_len, Compression codec) {
        RecordBatchBuilder b;
        for (int i = 0; i < records; i++) {
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

    // Every stored byte, from the log start to the log end.
    Bytes stored_bytes() {
        Bytes all;
        Offset at = log->log_start_offset();
        while (at < log->log_end_offset()) {
            auto r = log->read(at, 1 << 20);
            RC_ASSERT(r.ok());
            RC_ASSERT(r->batch_count > 0u);
            all.insert(all.end(), r->records.begin(), r->records.end());
            at = r->next_offset;
        }
        return all;
    }

    // After a restart: the log is a prefix of the reference containing everything synced.
    void check_recovered(bool power_loss) {
        Offset leo = log->log_end_offset();
        size_t k = 0;
        while (k < ref.size() && ref[k].next <= leo) k++;
        RC_ASSERT((k == 0 ? Offset(0) : ref[k - 1].next) == leo);  // ends on a batch boundary
        RC_ASSERT(leo >= durable_end);                               // nothing synced was lost
        if (!power_loss) RC_ASSERT(k == ref.size());                 // a process crash loses nothing
        Bytes want;
        for (size_t i = 0; i < k; i++) want.insert(want.end(), ref[i].stored.begin(), ref[i].stored.end());
        RC_ASSERT(stored_bytes() == want);
        RC_ASSERT(log->recovery_report().corruption.empty());
        ref.resize(k);
        RC_ASSERT(log->recovery_point() == leo);
        durable_end = leo;
        std::vector<EpochEntry> epochs;
        for (const RefBatch& b : ref) {
            if (epochs.empty() || epochs.back().epoch != b.epoch) epochs.push_back({b.epoch, b.base});
        }
        RC_ASSERT(log->leader_epochs().entries() == epochs);
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
        if (p.flip) flip_unsynced_bit(active, p.flip_selector, p.bit);
        power_losses++;
        reopen();
        check_recovered(true);
    }
};

using LogCommand = rc::state::Command<LogModel, LogSut>;

Compression any_codec() {
    return *rc::gen::element(Compression::none, Compression::none, Compression::gzip, Compression::snappy,
                             Compression::lz4, Compression::zstd);
}

LogSut::PowerLoss any_power_loss() {
    return {*rc::gen::element(0.0, 0.5, 1.0), *rc::gen::element(0.0, 1.0), *rc::gen::arbitrary<bool>(),
            *rc::gen::arbitrary<uint64_t>(), *rc::gen::inRange(0, 8)};
}

struct Append : LogCommand {
    int records = *rc::gen::inRange(1, 6);
    int value_len = *rc::gen::inRange(0, 150);
    Compression codec = any_codec();
    bool new_epoch = *rc::gen::weightedElement<bool>({{1, true}, {5, false}});
    void run(const LogModel&, LogSut& s) const override {
        if (new_epoch) s.epoch = LeaderEpoch(s.epoch.value() + 1);
        RefBatch r = s.expected(s.next_batch(records, value_len, codec));
        auto a = s.log->append(r.stored, s.epoch);
        RC_ASSERT(a.ok());
        RC_ASSERT(a->base_offset == r.base);
        s.record_position(r);
        s.ref.push_back(std::move(r));
        s.durable_end = s.log->recovery_point();
        RC_ASSERT(s.log->log_end_offset() == s.end());
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
    size_t max_bytes = *rc::gen::inRange<size_t>(1, 3000);
    void run(const LogModel&, LogSut& s) const override {
        Offset from(static_cast<int64_t>(selector % static_cast<uint64_t>(s.end().value() + 1)));
        auto r = s.log->read(from, max_bytes);
        RC_ASSERT(r.ok());
        if (from == s.end()) {
            RC_ASSERT(r->records.empty());
            return;
        }
        size_t i = 0;
        while (s.ref[i].next <= from) i++;
        Bytes want;
        for (size_t n = 0; n < r->batch_count; n++) {
            RC_ASSERT(i + n < s.ref.size());
            want.insert(want.end(), s.ref[i + n].stored.begin(), s.ref[i + n].stored.end());
        }
        RC_ASSERT(r->batch_count >= 1u);
        RC_ASSERT(r->records == want);
    }
    void show(std::ostream& os) const override { os << "Read(selector " << selector << ", " << max_bytes << " bytes)"; }
};

struct Truncate : LogCommand {
    uint64_t selector = *rc::gen::arbitrary<uint64_t>();
    void run(const LogModel&, LogSut& s) const override {
        Offset to(static_cast<int64_t>(selector % static_cast<uint64_t>(s.end().value() + 1)));
        RC_ASSERT(s.log->truncate_to(to).ok());
        while (!s.ref.empty() && s.ref.back().next > to) s.ref.pop_back();
        RC_ASSERT(s.log->log_end_offset() == s.end());
        s.durable_end = std::min(s.durable_end, s.end());
        RC_ASSERT(s.log->recovery_point() <= s.end());
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
    int kind = *rc::gen::inRange(0, 3);  // 0 append, 1 append + flush, 2 flush
    int records = *rc::gen::inRange(1, 6);
    Compression codec = any_codec();
    int64_t at_us = *rc::gen::inRange<int64_t>(0, 3000);
    LogSut::PowerLoss p = any_power_loss();
    void run(const LogModel&, LogSut& s) const override {
        bool flushed = false;
        if (kind != 2) {
            RefBatch r = s.expected(s.next_batch(records, 40, codec));
            s.predict_position(r);
            s.ref.push_back(r);  // it may or may not survive: the check accepts both
        }
        Bytes bytes = s.ref.empty() ? Bytes{} : s.ref.back().stored;
        s.disk.faults().latency_min = 20us;
        s.disk.faults().latency_max = 200us;
        s.ex->spawn("op", [&s, &flushed, bytes, k = kind] {
            if (k != 2 && !s.log->append(bytes, s.epoch).ok()) return;
            if (k != 0 && s.log->flush().ok()) flushed = true;
        });
        s.sched.run_until(s.sched.now() + std::chrono::microseconds(at_us));
        if (flushed) s.durable_end = s.end();
        s.sched.kill_group(s.group);  // the node dies with its fibers
        s.group = s.sched.create_group("n1");
        s.ex = std::make_unique<fiber::GroupExecutor>(s.sched, s.group);
        s.power_loss(p);
    }
    void show(std::ostream& os) const override {
        static const char* kinds[] = {"append", "append+flush", "flush"};
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
    uint64_t room = *rc::gen::inRange<uint64_t>(0, 1500);
    int records = *rc::gen::inRange(1, 8);
    void run(const LogModel&, LogSut& s) const override {
        s.disk.faults().capacity_bytes = s.disk.used_bytes() + room;
        RefBatch r = s.expected(s.next_batch(records, 100, Compression::none));
        auto a = s.log->append(r.stored, s.epoch);
        s.disk.faults().capacity_bytes = UINT64_MAX;
        if (a.ok()) {
            s.record_position(r);
            s.ref.push_back(std::move(r));
            s.durable_end = s.log->recovery_point();
        } else {
            RC_ASSERT(a.code() == Errc::disk_full);
            RC_ASSERT(!s.log->offline());
        }
        RC_ASSERT(s.log->log_end_offset() == s.end());
    }
    void show(std::ostream& os) const override { os << "AppendToAFullDisk(room " << room << ")"; }
};

TEST(LogPrefixProperty, AfterAnyCrashTheLogIsAPrefixOfWhatWasAppendedHoldingAllThatWasSynced) {
    bool ok = rc::check("reopened log == prefix of appends, containing every synced batch", [] {
        LogSut sut(*rc::gen::arbitrary<uint64_t>());
        rc::state::check(LogModel{}, sut,
                         rc::state::gen::execOneOfWithArgs<Append, Append, Append, Flush, Read, Truncate,
                                                           Restart, PowerLossBetweenOps, PowerLossDuringOp,
                                                           PowerLossDuringOp, FailingSync, AppendToAFullDisk>());
        RC_TAG(sut.power_losses > 0 ? "with power loss" : "no power loss");
    });
    EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace keel::log
