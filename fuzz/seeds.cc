// keel_fuzz_seeds OUTDIR: writes a seed corpus per fuzz target under OUTDIR/<target>/,
// built with Keel's own encoders the way the unit tests build their inputs: every request
// and response body at every version, metadata records, Raft entries, record batches under
// every codec, compressed blobs, and whole partition-log and Raft-storage directories
// (written by PartitionLog and RaftStorage on an in-memory disk, then archived).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/compression/batch.h"
#include "core/compression/codec.h"
#include "core/controller/metadata_records.h"
#include "core/log/partition_log.h"
#include "core/raft/entry_codec.h"
#include "core/raft/raft_storage.h"
#include "core/raft/raft_wire.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/mem_disk.h"
#include "fuzz/message_types.h"
#include "fuzz/recovery_options.h"

namespace keel::fuzz {
namespace {

namespace fs = std::filesystem;

class Corpus {
public:
    Corpus(fs::path root, const std::string& target) : dir_(std::move(root) / target) {
        fs::create_directories(dir_);
    }
    void add(ByteView bytes) {
        std::ofstream f(dir_ / ("seed-" + std::to_string(count_++)), std::ios::binary);
        f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
    void add(uint8_t a, uint8_t b, ByteView rest) {
        Bytes x{a, b};
        x.insert(x.end(), rest.begin(), rest.end());
        add(x);
    }
    size_t count() const { return count_; }

private:
    fs::path dir_;
    size_t count_ = 0;
};

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

void metadata_seeds(Corpus& bodies) {
    std::vector<controller::MetadataRecord> all;
    auto each = [&]<typename... T>(std::variant<T...>*) { (all.push_back(T{}), ...); };
    each(static_cast<controller::MetadataRecord*>(nullptr));
    for (const auto& r : all) {
        for (int16_t v = 0; v <= controller::max_version(controller::record_type(r)); v++) {
            bodies.add(21, 0, controller::encode_record(r, v));
        }
    }
    bodies.add(22, 0, controller::encode_batch(all));
}

void raft_response_seeds(Corpus& bodies) {
    auto one = [&]<typename B>(uint8_t sel) {
        int16_t v = raft::wire_version(B::api_key);
        bodies.add(sel, 0, protocol::encode_response(9, v, B{}));
    };
    one.template operator()<protocol::VoteResponse>(25);
    one.template operator()<protocol::BeginQuorumEpochResponse>(26);
    one.template operator()<protocol::EndQuorumEpochResponse>(27);
    one.template operator()<protocol::FetchResponse>(28);
    one.template operator()<protocol::FetchSnapshotResponse>(29);
}

void protocol_seeds(const fs::path& out) {
    Corpus frames(out, "fuzz_request_frame"), bodies(out, "fuzz_messages");
    for (size_t i = 0; i < kBodyTypes; i++) {
        with_body_type(true, i, [&]<typename B>() {
            for (int16_t v = B::version_min; v <= B::version_max; v++) {
                protocol::RequestHeader h{B::api_key, v, 7 + v, std::string("seed-client")};
                frames.add(protocol::encode_request(h, B{}));
                bodies.add(static_cast<uint8_t>(i), static_cast<uint8_t>(v), protocol::encode_body(B{}, v));
            }
        });
        with_body_type(false, i, [&]<typename B>() {
            for (int16_t v = B::version_min; v <= B::version_max; v++) {
                bodies.add(static_cast<uint8_t>(kBodyTypes + i), static_cast<uint8_t>(v),
                           protocol::encode_body(B{}, v));
            }
        });
    }
    protocol::LeaderChangeMessage lc;
    lc.leader_id = NodeId(1);
    lc.voters = {{NodeId(1)}, {NodeId(2)}};
    lc.granting_voters = {{NodeId(1)}};
    bodies.add(20, 0, lc.encode_to_bytes(0));
    metadata_seeds(bodies);
    raft_response_seeds(bodies);
    raft::LogEntry e{Offset(5), QuorumEpoch(2), raft::EntryKind::data, text("payload")};
    raft::LogEntry change{Offset(6), QuorumEpoch(3), raft::EntryKind::leader_change, lc.encode_to_bytes(0)};
    bodies.add(23, 0, raft::encode_entry_batch(e, 1000));
    bodies.add(23, 0, raft::encode_entry_batch(change, 1000));
    std::vector<raft::LogEntry> run{e, change};
    bodies.add(24, 0, raft::encode_entries(run));
    std::printf("fuzz_request_frame: %zu seeds, fuzz_messages: %zu seeds\n", frames.count(), bodies.count());
}

// Batches as a producer writes them: keys, nulls, headers, control and transactional.
std::vector<log::RecordBatchBuilder> sample_builders() {
    std::vector<log::RecordBatchBuilder> out;
    Bytes k1 = text("key-1"), v1 = text("value one, a little longer than the key"), hv = text("h");
    log::RecordBatchBuilder plain;
    plain.add(1'700'000'000'000, ByteView(k1), ByteView(v1));
    plain.add(1'700'000'000'005, std::nullopt, ByteView(v1));
    log::RecordBatchBuilder::HeaderInput headers[] = {{"trace", ByteView(hv)}, {"null", std::nullopt}};
    plain.add(1'700'000'000'009, ByteView(k1), std::nullopt, headers);
    out.push_back(plain);
    log::RecordBatchBuilder::Fields txn;
    txn.transactional = true;
    txn.producer_id = 42;
    txn.producer_epoch = 1;
    txn.base_sequence = 0;
    txn.partition_leader_epoch = LeaderEpoch(3);
    log::RecordBatchBuilder t(txn);
    t.add(1'700'000'000'000, ByteView(k1), ByteView(v1));
    out.push_back(t);
    return out;
}

void batch_seeds(const fs::path& out) {
    Corpus batches(out, "fuzz_record_batch");
    static constexpr log::Compression kCodecs[] = {log::Compression::none, log::Compression::gzip,
                                                   log::Compression::snappy, log::Compression::lz4,
                                                   log::Compression::zstd};
    Bytes all;
    for (const auto& b : sample_builders()) {
        for (log::Compression c : kCodecs) {
            auto built = compression::build_batch(b, c);
            FUZZ_CHECK(built.ok(), "build_batch");
            batches.add(*built);
            all.insert(all.end(), built->begin(), built->end());
        }
    }
    batches.add(all);
    auto builders = sample_builders();
    Bytes section(builders[0].records().begin(), builders[0].records().end());
    Bytes long_text = text(std::string(3000, 'x') + "the quick brown fox jumps over the lazy dog");
    for (const char* name : {"gzip", "snappy", "lz4", "zstd"}) {
        Corpus blobs(out, std::string("fuzz_decompress_") + name);
        log::Compression c = name[0] == 'g' ? log::Compression::gzip
                             : name[0] == 's' ? log::Compression::snappy
                             : name[0] == 'l' ? log::Compression::lz4
                                              : log::Compression::zstd;
        for (ByteView plain : {ByteView(section), ByteView(long_text), ByteView()}) {
            auto z = compression::compress(c, plain);
            FUZZ_CHECK(z.ok(), "compress");
            blobs.add(*z);
        }
        if (c == log::Compression::snappy) blobs.add(*compression::snappy_compress_raw(section));
    }
    std::printf("fuzz_record_batch: %zu seeds\n", batches.count());
}

// A partition log written by PartitionLog: batches under every codec across epochs 0-2,
// closed cleanly or left with an unflushed tail.
Bytes log_seed(uint8_t flags, bool close, bool advance_start) {
    MemDisk disk;
    FixedClock clock;
    auto log = log::PartitionLog::open(log_options(disk, clock, flags));
    FUZZ_CHECK(log.ok(), "open");
    static constexpr log::Compression kCodecs[] = {log::Compression::none, log::Compression::gzip,
                                                   log::Compression::snappy, log::Compression::lz4,
                                                   log::Compression::zstd};
    for (int epoch = 0; epoch < 3; epoch++) {
        FUZZ_CHECK((*log)->assign_epoch_start_offset(LeaderEpoch(epoch)).ok(), "epoch");
        for (log::Compression c : kCodecs) {
            auto b = compression::build_batch(sample_builders()[(flags & 1) ? 1 : 0], c);
            auto a = (*log)->append(*b, LeaderEpoch(epoch));
            FUZZ_CHECK(a.ok(), a.error().to_string());
        }
        if (epoch == 1) FUZZ_CHECK((*log)->flush().ok(), "flush");
    }
    if (advance_start) FUZZ_CHECK((*log)->advance_log_start_offset(Offset(4)).ok(), "advance");
    if (flags & 1) {
        for (int i = 0; i < 8; i++) (void)(*log)->clean_step();
    }
    if (close) FUZZ_CHECK((*log)->close().ok(), "close");
    return archive_dir(disk, kLogDir, flags);
}

// A Raft storage written by RaftStorage: formatted, a vote, entries, maybe a snapshot.
Bytes raft_seed(uint8_t flags, bool snapshot) {
    MemDisk disk;
    FixedClock clock;
    FUZZ_CHECK(raft::format_storage(disk, "", {NodeId(1), "cluster-seed"}).ok(), "format");
    auto s = raft::RaftStorage::open(raft_options(disk, clock, flags));
    FUZZ_CHECK(s.ok(), "open");
    raft::QuorumState qs;
    qs.epoch = QuorumEpoch(2);
    qs.voted_for = NodeId(1);
    qs.leader_id = NodeId(1);
    FUZZ_CHECK((*s)->save_quorum_state(qs).ok(), "quorum state");
    std::vector<raft::LogEntry> entries;
    for (int i = 0; i < 12; i++) {
        entries.push_back({Offset(i), QuorumEpoch(1 + i / 6), raft::EntryKind::data, text("entry " + std::to_string(i))});
    }
    FUZZ_CHECK((*s)->append(entries).ok(), "append");
    if (snapshot) {
        FUZZ_CHECK((*s)->save_snapshot({{Offset(6), QuorumEpoch(1)}, text("state at 6")}).ok(), "snapshot");
        FUZZ_CHECK((*s)->delete_before(Offset(6)).ok(), "delete_before");
    }
    Bytes out = archive_dir(disk, kRaftDir, flags);
    auto meta = disk.files().find(raft::kMetaPropertiesFile);
    if (meta != disk.files().end()) append_archive_entry(out, std::string("@") + raft::kMetaPropertiesFile, *meta->second);
    return out;
}

void disk_seeds(const fs::path& out) {
    Corpus logs(out, "fuzz_log_recovery"), rafts(out, "fuzz_raft_storage");
    for (uint8_t flags : {0x00, 0x06, 0x0b, 0x0e}) {
        logs.add(log_seed(flags, true, false));
        logs.add(log_seed(flags, false, false));
        logs.add(log_seed(flags, true, true));
    }
    for (uint8_t flags : {0x00, 0x02, 0x07}) {
        rafts.add(raft_seed(flags, false));
        rafts.add(raft_seed(flags, true));
    }
    std::printf("fuzz_log_recovery: %zu seeds, fuzz_raft_storage: %zu seeds\n", logs.count(), rafts.count());
}

}  // namespace
}  // namespace keel::fuzz

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: keel_fuzz_seeds OUTDIR\n");
        return 2;
    }
    keel::fuzz::protocol_seeds(argv[1]);
    keel::fuzz::batch_seeds(argv[1]);
    keel::fuzz::disk_seeds(argv[1]);
    return 0;
}
