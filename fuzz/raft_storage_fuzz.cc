// Raft storage recovery under a hostile disk: arbitrary quorum-state, snapshot, log,
// index and checkpoint files (an archive, see mem_disk.h; a name starting with '@' lands
// in the data root, e.g. "@meta.properties", the rest in __cluster_metadata-0/), then
// RaftStorage::open and recover(). Recovery must refuse or repair without a crash, and a
// state it accepts must hold together:
// - the log continues the snapshot (first entry at its end offset), contiguous;
// - a quorum state it reports re-encodes to the file's bytes;
// - appending one entry and reopening recovers the same state plus that entry.
// Flags byte: bits 0-1 segment size, bit 2 one read attempt instead of three.
#include <cstddef>
#include <cstdint>

#include "core/raft/raft_storage.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/mem_disk.h"
#include "fuzz/recovery_options.h"

namespace keel::fuzz {
namespace {

void check_restored(const raft::Restored& r) {
    Offset next = r.snapshot ? r.snapshot->id.end_offset : Offset(0);
    for (const raft::LogEntry& e : r.log) {
        FUZZ_CHECK(e.offset == next, "log entries not contiguous from the snapshot end");
        ++next;
    }
}

struct Opened {
    std::unique_ptr<raft::RaftStorage> storage;
    raft::Restored restored;
};

std::optional<Opened> open_and_recover(MemDisk& disk, env::Clock& clock, uint8_t flags) {
    auto s = raft::RaftStorage::open(raft_options(disk, clock, flags));
    if (!s.ok()) return std::nullopt;
    raft::RecoveryInfo info;
    auto r = (*s)->recover(info);
    if (!r.ok()) return std::nullopt;
    check_restored(*r);
    if (r->quorum_state) {
        auto file = disk.files().find(env::join_path(kRaftDir, raft::kQuorumStateFile));
        FUZZ_CHECK(file != disk.files().end(), "a quorum state without its file");
        FUZZ_CHECK(as_chars(*file->second) == raft::encode_quorum_state(*r->quorum_state),
                   "the recovered quorum state is not the file's");
    }
    return Opened{std::move(s).value(), std::move(r).value()};
}

void run(ByteView in) {
    if (in.empty()) return;
    uint8_t flags = in[0];
    MemDisk disk;
    (void)disk.make_dirs(kRaftDir);
    for (const ArchiveEntry& f : parse_archive(in.subspan(1))) {
        bool root = f.name[0] == '@';
        if (root && f.name.size() == 1) continue;
        std::string path = root ? f.name.substr(1) : env::join_path(kRaftDir, f.name);
        if (path == kRaftDir) continue;
        disk.put(path, Bytes(f.contents.begin(), f.contents.end()));
    }
    FixedClock clock;
    auto first = open_and_recover(disk, clock, flags);
    if (!first) return;  // refused: fine
    QuorumEpoch epoch = first->restored.quorum_state ? first->restored.quorum_state->epoch : QuorumEpoch(0);
    if (!first->restored.log.empty()) epoch = std::max(epoch, first->restored.log.back().epoch);
    raft::LogEntry e;
    e.offset = first->storage->log_end();
    e.epoch = epoch;
    e.payload = {1, 2, 3};
    Status appended = first->storage->append({e});
    FUZZ_CHECK(appended.ok(), "append after recovery failed: " + appended.error().to_string());
    raft::Restored before = std::move(first->restored);
    first.reset();
    auto second = open_and_recover(disk, clock, flags);
    FUZZ_CHECK(second.has_value(), "recovery refuses what it accepted plus one append");
    const raft::Restored& after = second->restored;
    FUZZ_CHECK(after.quorum_state == before.quorum_state, "quorum state changed across a reopen");
    FUZZ_CHECK(after.snapshot.has_value() == before.snapshot.has_value() &&
                   (!after.snapshot || after.snapshot->id == before.snapshot->id),
               "snapshot changed across a reopen");
    FUZZ_CHECK(after.log.size() == before.log.size() + 1 && after.log.back() == e,
               "the log after a reopen is not the recovered log plus the appended entry");
    FUZZ_CHECK(std::equal(before.log.begin(), before.log.end(), after.log.begin()),
               "recovered entries changed across a reopen");
}

}  // namespace
}  // namespace keel::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    keel::fuzz::run(keel::fuzz::input(data, size));
    return 0;
}
