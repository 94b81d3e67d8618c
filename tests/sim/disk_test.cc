// SimDisk: the durability contract of core/env/disk.h, and every injected fault.
// Most tests call the Disk from outside fibers (no latency); the latency test runs a
// fiber in virtual time.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "runtime/scheduler.h"
#include "sim/sim_disk.h"

namespace keel::sim {
namespace {

using env::OpenMode;

struct World {
    fiber::Scheduler s{fiber::SchedulerOptions{.virtual_time = true, .seed = 1}};
    fiber::GroupId g = s.create_group("n1");
    fiber::GroupExecutor ex{s, g};
    env::SeededRandom rng{42};
    SimDisk disk{"n1"};
    std::unique_ptr<env::Disk> d = disk.mount(ex, rng);

    ~World() { disk.check_invariants(); }

    // Power loss, then the node mounts its disk again.
    void crash_and_remount() {
        disk.check_invariants();
        disk.crash(rng);
        disk.check_invariants();
        d = disk.mount(ex, rng);
    }
    std::unique_ptr<env::File> open(const std::string& path, OpenMode mode = OpenMode::create) {
        auto f = d->open(path, mode);
        KEEL_ASSERT_MSG(f.ok(), f.error().message.c_str());
        return std::move(f).value();
    }
    // A file holding `content`, synced, with its directory entry synced too.
    void durable_file(const std::string& path, const std::string& content) {
        auto f = open(path);
        ASSERT_TRUE(f->write(0, as_bytes(content)).ok());
        ASSERT_TRUE(f->sync().ok());
        ASSERT_TRUE(d->sync_dir(env::parent_dir(path)).ok());
    }
    std::string content(const std::string& path) {
        auto b = disk.read_current(path);
        return b.ok() ? std::string(as_chars(*b)) : "<" + std::string(errc_name(b.code())) + ">";
    }
    bool exists(const std::string& path) { return d->exists(path).value(); }
};

std::string str(const Bytes& b) { return std::string(as_chars(b)); }

// ---- Durability -------------------------------------------------------------------

TEST(SimDisk, CrashLosesWritesSinceTheLastSync) {
    World w;
    w.durable_file("a.log", "one");
    auto f = w.open("a.log");
    ASSERT_TRUE(f->append(as_bytes("two")).ok());
    EXPECT_EQ(w.content("a.log"), "onetwo");
    w.crash_and_remount();
    EXPECT_EQ(w.content("a.log"), "one");
    EXPECT_EQ(w.disk.counters().unsynced_bytes_lost, 3u);
    EXPECT_EQ(w.disk.counters().crashes, 1u);
}

TEST(SimDisk, SyncMakesWritesAndTruncatesDurable) {
    World w;
    w.durable_file("a.log", "0123456789");
    auto f = w.open("a.log");
    ASSERT_TRUE(f->truncate(4).ok());
    ASSERT_TRUE(f->write(6, as_bytes("xy")).ok());  // the gap reads as zeros
    ASSERT_TRUE(f->sync().ok());
    w.crash_and_remount();
    EXPECT_EQ(w.content("a.log"), std::string("0123\0\0xy", 8));
}

TEST(SimDisk, SyncedDataOfAFileWhoseDirectoryWasNotSyncedIsLostOnCrash) {
    World w;
    ASSERT_TRUE(w.d->make_dirs("p").ok());
    ASSERT_TRUE(w.d->sync_dir("").ok());
    auto f = w.open("p/x.log");
    ASSERT_TRUE(f->append(as_bytes("data")).ok());
    ASSERT_TRUE(f->sync().ok());
    w.crash_and_remount();
    EXPECT_FALSE(w.exists("p/x.log"));
    EXPECT_TRUE(w.exists("p"));
    EXPECT_EQ(w.disk.used_bytes(), 0u);  // the orphaned inode was freed
}

TEST(SimDisk, FileSurvivesOnceItsDataAndItsDirectoryAreSynced) {
    World w;
    ASSERT_TRUE(w.d->make_dirs("p").ok());
    ASSERT_TRUE(w.d->sync_dir("").ok());
    w.durable_file("p/x.log", "data");
    w.crash_and_remount();
    EXPECT_EQ(w.content("p/x.log"), "data");
}

TEST(SimDisk, DirectoryCreatedWithoutSyncingItsParentIsLostWithItsFiles) {
    World w;
    ASSERT_TRUE(w.d->make_dirs("a/b").ok());
    ASSERT_TRUE(w.d->sync_dir("a").ok());  // "a/b" durable in a, but "a" not in the root
    w.durable_file("a/b/x", "data");
    w.crash_and_remount();
    EXPECT_FALSE(w.exists("a"));
    EXPECT_TRUE(w.disk.list_files().empty());
}

TEST(SimDisk, RenameWithoutDirectorySyncRevertsOnCrash) {
    World w;
    w.durable_file("x.tmp", "new");
    ASSERT_TRUE(w.d->rename("x.tmp", "x").ok());
    EXPECT_FALSE(w.exists("x.tmp"));
    w.crash_and_remount();
    EXPECT_EQ(w.content("x.tmp"), "new");
    EXPECT_FALSE(w.exists("x"));
    EXPECT_EQ(w.disk.counters().dir_ops_lost, 1u);

    ASSERT_TRUE(w.d->rename("x.tmp", "x").ok());
    ASSERT_TRUE(w.d->sync_dir("").ok());
    w.crash_and_remount();
    EXPECT_EQ(w.content("x"), "new");
    EXPECT_FALSE(w.exists("x.tmp"));
}

TEST(SimDisk, RenameOverAnExistingFileIsAtomicAcrossACrash) {
    World w;
    w.durable_file("cfg", "old");
    w.durable_file("cfg.tmp", "new");
    ASSERT_TRUE(w.d->rename("cfg.tmp", "cfg").ok());
    EXPECT_EQ(w.content("cfg"), "new");
    w.crash_and_remount();
    EXPECT_EQ(w.content("cfg"), "old");
    EXPECT_EQ(w.content("cfg.tmp"), "new");
}

TEST(SimDisk, RenameAcrossDirectoriesIsDurableWholeWhenOneParentIsSynced) {
    World w;
    ASSERT_TRUE(w.d->make_dirs("a").ok());
    ASSERT_TRUE(w.d->make_dirs("b").ok());
    ASSERT_TRUE(w.d->sync_dir("").ok());
    auto f = w.open("a/x");  // creation not synced on its own
    ASSERT_TRUE(f->append(as_bytes("data")).ok());
    ASSERT_TRUE(f->sync().ok());
    ASSERT_TRUE(w.d->rename("a/x", "b/x").ok());
    ASSERT_TRUE(w.d->sync_dir("b").ok());  // pulls in the creation: same entry a/x
    EXPECT_EQ(w.disk.pending_dir_ops(), 0u);
    f.reset();
    w.crash_and_remount();
    EXPECT_EQ(w.disk.list_files(), std::vector<std::string>{"b/x"});
    EXPECT_EQ(w.content("b/x"), "data");
}

TEST(SimDisk, SyncDirLeavesOtherDirectoriesPending) {
    World w;
    ASSERT_TRUE(w.d->make_dirs("a").ok());
    ASSERT_TRUE(w.d->make_dirs("b").ok());
    ASSERT_TRUE(w.d->sync_dir("").ok());
    w.durable_file("a/x", "ax");
    auto f = w.open("b/y");
    ASSERT_TRUE(f->sync().ok());
    f.reset();
    EXPECT_EQ(w.disk.pending_dir_ops(), 1u);
    w.crash_and_remount();
    EXPECT_EQ(w.disk.list_files(), std::vector<std::string>{"a/x"});
}

TEST(SimDisk, RemoveWithoutDirectorySyncRevertsOnCrash) {
    World w;
    w.durable_file("old.log", "kept");
    ASSERT_TRUE(w.d->remove("old.log").ok());
    EXPECT_FALSE(w.exists("old.log"));
    w.crash_and_remount();
    EXPECT_EQ(w.content("old.log"), "kept");
    ASSERT_TRUE(w.d->remove("old.log").ok());
    ASSERT_TRUE(w.d->sync_dir("").ok());
    w.crash_and_remount();
    EXPECT_FALSE(w.exists("old.log"));
}

TEST(SimDisk, HandleFollowsRenameAndKeepsARemovedFileReadable) {
    World w;
    auto f = w.open("a");
    ASSERT_TRUE(f->append(as_bytes("abc")).ok());
    ASSERT_TRUE(w.d->rename("a", "b").ok());
    ASSERT_TRUE(f->append(as_bytes("def")).ok());
    EXPECT_EQ(w.content("b"), "abcdef");
    ASSERT_TRUE(w.d->remove("b").ok());
    EXPECT_EQ(str(f->read(0, 100).value()), "abcdef");
    EXPECT_EQ(w.disk.used_bytes(), 6u);  // live until the last close
    f.reset();
    EXPECT_EQ(w.disk.used_bytes(), 0u);
}

// ---- Crash faults -----------------------------------------------------------------

TEST(SimDisk, CrashMayKeepAPrefixOfUnsyncedWrites) {
    std::set<std::string> outcomes;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        World w;
        w.rng = env::SeededRandom(seed);
        w.disk.faults().crash_keeps_unsynced_probability = 0.5;
        w.durable_file("f", "");
        auto f = w.open("f");
        for (const char* s : {"a", "b", "c"}) ASSERT_TRUE(f->append(as_bytes(s)).ok());
        w.crash_and_remount();
        outcomes.insert(w.content("f"));
    }
    // Never a gap ("ac"), never a reordering; every prefix is possible.
    EXPECT_EQ(outcomes, (std::set<std::string>{"", "a", "ab", "abc"}));
}

TEST(SimDisk, CrashMayKeepAPrefixOfDirectoryOps) {
    std::set<std::vector<std::string>> outcomes;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        World w;
        w.rng = env::SeededRandom(seed);
        w.disk.faults().crash_keeps_unsynced_probability = 0.5;
        w.open("a");
        w.open("b");
        ASSERT_TRUE(w.d->rename("a", "c").ok());
        w.crash_and_remount();
        outcomes.insert(w.disk.list_files());
    }
    using V = std::vector<std::string>;
    EXPECT_EQ(outcomes, (std::set<V>{V{}, V{"a"}, V{"a", "b"}, V{"b", "c"}}));
}

// Sectors of `got` relative to old (all 'o') and new (all 'n') content: the new bytes form
// a prefix of whole sectors, then at most one mixed sector, then old bytes.
void expect_sector_prefix(const std::string& got, size_t sector) {
    size_t i = 0;
    while (i < got.size() && got[i] == 'n') i++;
    size_t mixed_end = std::min(got.size(), (i / sector + 1) * sector);
    for (size_t j = mixed_end; j < got.size(); j++) ASSERT_EQ(got[j], 'o') << "at " << j;
    for (size_t j = i; j < mixed_end; j++) ASSERT_TRUE(got[j] == 'o' || got[j] == 'n');
}

TEST(SimDisk, TornWriteKeepsOnlyAPrefixOfSectors) {
    std::set<size_t> new_prefixes;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        World w;
        w.rng = env::SeededRandom(seed);
        w.disk.faults().sector_bytes = 64;
        w.durable_file("seg", std::string(256, 'o'));
        w.disk.faults().torn_write_probability = 1.0;
        auto f = w.open("seg");
        ASSERT_TRUE(f->write(0, as_bytes(std::string(256, 'n'))).ok());
        w.crash_and_remount();
        std::string got = w.content("seg");
        ASSERT_EQ(got.size(), 256u);
        EXPECT_NE(got, std::string(256, 'n'));  // torn: never the whole write
        expect_sector_prefix(got, 64);
        new_prefixes.insert(got.find_first_not_of('n'));
        EXPECT_EQ(w.disk.counters().torn_writes, 1u);
        EXPECT_EQ(w.disk.counters().unsynced_writes_kept, 0u);
    }
    EXPECT_GE(new_prefixes.size(), 3u);  // the tear point varies with the seed
}

TEST(SimDisk, TornAppendLeavesAShorterFileWithATailOfZerosOrNewBytes) {
    World w;
    w.rng = env::SeededRandom(3);
    w.disk.faults().sector_bytes = 16;
    w.durable_file("seg", "");
    w.disk.faults().torn_write_probability = 1.0;
    auto f = w.open("seg");
    ASSERT_TRUE(f->append(as_bytes(std::string(100, 'n'))).ok());
    w.crash_and_remount();
    std::string got = w.content("seg");
    EXPECT_LT(got.size(), 100u);
    EXPECT_EQ(got.size() % 16 == 0 || got.size() == 100u, true) << got.size();
    for (char c : got) EXPECT_TRUE(c == 'n' || c == '\0');
}

TEST(SimDisk, SameSeedSameCrashOutcome) {
    auto run = [](uint64_t seed) {
        World w;
        w.rng = env::SeededRandom(seed);
        auto& faults = w.disk.faults();
        faults.sector_bytes = 8;
        faults.crash_keeps_unsynced_probability = 0.5;
        faults.torn_write_probability = 0.5;
        std::vector<std::unique_ptr<env::File>> files;
        for (int i = 0; i < 4; i++) files.push_back(w.open("f" + std::to_string(i)));
        for (int round = 0; round < 5; round++) {
            for (auto& f : files) {
                auto data = std::string(10 + round * 7, static_cast<char>('a' + round));
                EXPECT_TRUE(f->append(as_bytes(data)).ok());
            }
            if (round == 1) {
                EXPECT_TRUE(w.d->sync_dir("").ok());
            }
        }
        w.crash_and_remount();
        std::map<std::string, std::string> out;
        for (const auto& p : w.disk.list_files()) out[p] = w.content(p);
        out["#torn"] = std::to_string(w.disk.counters().torn_writes);
        out["#kept"] = std::to_string(w.disk.counters().unsynced_writes_kept);
        return out;
    };
    EXPECT_EQ(run(7), run(7));
    bool some_seed_differs = false;
    for (uint64_t seed = 8; seed < 20; seed++) some_seed_differs |= run(seed) != run(7);
    EXPECT_TRUE(some_seed_differs);
}

TEST(SimDisk, WipeReturnsAnEmptyDisk) {
    World w;
    ASSERT_TRUE(w.d->make_dirs("p").ok());
    ASSERT_TRUE(w.d->sync_dir("").ok());
    w.durable_file("p/x", "data");
    w.disk.wipe();
    auto d = w.disk.mount(w.ex, w.rng);
    EXPECT_TRUE(d->list("").value().empty());
    EXPECT_TRUE(w.disk.list_files().empty());
    EXPECT_EQ(w.disk.used_bytes(), 0u);
    EXPECT_EQ(w.disk.counters().wipes, 1u);
    EXPECT_EQ(w.d->exists("p").code(), Errc::io_error);  // the old mount is stale
}

TEST(SimDisk, StaleHandleFailsAfterCrash) {
    World w;
    w.durable_file("a", "abc");
    auto f = w.open("a");
    auto old_disk = std::move(w.d);
    w.crash_and_remount();
    EXPECT_EQ(f->read(0, 3).code(), Errc::io_error);
    EXPECT_EQ(f->append(as_bytes("x")).code(), Errc::io_error);
    EXPECT_EQ(f->sync().code(), Errc::io_error);
    EXPECT_EQ(old_disk->open("a", OpenMode::read_only).code(), Errc::io_error);
    auto g = w.open("a", OpenMode::read_only);  // the new mount works
    EXPECT_EQ(str(g->read(0, 3).value()), "abc");
}

TEST(SimDisk, BackgroundWritebackLandsTheOldestOpsBeyondTheLimit) {
    World w;
    w.disk.faults().pending_ops_max = 2;
    w.durable_file("f", "");
    auto f = w.open("f");
    for (const char* s : {"a", "b", "c", "d"}) ASSERT_TRUE(f->append(as_bytes(s)).ok());
    EXPECT_EQ(str(w.disk.read_durable("f").value()), "ab");
    EXPECT_EQ(w.disk.counters().background_writebacks, 2u);
    w.crash_and_remount();
    EXPECT_EQ(w.content("f"), "ab");
}

// ---- Space ------------------------------------------------------------------------

TEST(SimDisk, FullDiskReturnsDiskFullAndWritesOnlyWhatFits) {
    World w;
    w.disk.faults().capacity_bytes = 1300;
    auto f = w.open("seg");
    ASSERT_TRUE(f->append(as_bytes(std::string(700, 'a'))).ok());
    auto r = f->append(as_bytes(std::string(700, 'b')));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::disk_full);
    // 1300 bytes would fit, but only whole sectors are written: up to offset 1024.
    EXPECT_EQ(f->size().value(), 1024u);
    EXPECT_EQ(w.content("seg"), std::string(700, 'a') + std::string(324, 'b'));
    EXPECT_EQ(w.disk.used_bytes(), 1024u);
    EXPECT_EQ(w.disk.counters().enospc_errors, 1u);
    EXPECT_EQ(f->truncate(4096).code(), Errc::disk_full);
    ASSERT_TRUE(f->write(0, as_bytes(std::string(1024, 'c'))).ok());  // overwrite: no growth
    ASSERT_TRUE(f->truncate(700).ok());  // the caller restores its invariant
    ASSERT_TRUE(f->append(as_bytes(std::string(600, 'd'))).ok());
}

TEST(SimDisk, RemovingAFileFreesItsSpace) {
    World w;
    w.disk.faults().capacity_bytes = 1024;
    w.open("a")->append(as_bytes(std::string(1024, 'a'))).value();
    EXPECT_EQ(w.open("b")->append(as_bytes("x")).code(), Errc::disk_full);
    ASSERT_TRUE(w.d->remove("a").ok());
    EXPECT_EQ(w.disk.used_bytes(), 0u);
    EXPECT_TRUE(w.open("b")->append(as_bytes("x")).ok());
}

// ---- Read and I/O faults ----------------------------------------------------------

TEST(SimDisk, BitFlipOnReadDoesNotChangeStoredBytes) {
    World w;
    w.durable_file("a", "hello world");
    w.disk.faults().bit_flip_on_read_probability = 1.0;
    auto f = w.open("a", OpenMode::read_only);
    Bytes got = f->read(0, 11).value();
    Bytes want = to_bytes("hello world");
    int differing_bits = 0;
    for (size_t i = 0; i < got.size(); i++) differing_bits += __builtin_popcount(got[i] ^ want[i]);
    EXPECT_EQ(differing_bits, 1);
    EXPECT_EQ(w.content("a"), "hello world");
    EXPECT_EQ(str(w.disk.read_durable("a").value()), "hello world");
    EXPECT_EQ(w.disk.counters().bit_flips_on_read, 1u);
}

TEST(SimDisk, CorruptDamagesStoredBytesAcrossCrashes) {
    World w;
    w.durable_file("a", "AAAA");
    ASSERT_TRUE(w.disk.corrupt("a", 2, 0).ok());  // 'A' ^ 1 == '@'
    EXPECT_EQ(w.content("a"), "AA@A");
    w.crash_and_remount();
    EXPECT_EQ(w.content("a"), "AA@A");
    EXPECT_EQ(w.disk.counters().corruptions_injected, 1u);
    EXPECT_EQ(w.disk.corrupt("a", 4, 0).code(), Errc::invalid_argument);
    EXPECT_EQ(w.disk.corrupt("a", 0, 8).code(), Errc::invalid_argument);
    EXPECT_EQ(w.disk.corrupt("nope", 0, 0).code(), Errc::not_found);
}

TEST(SimDisk, IoErrorFailsTheOpAndChangesNothing) {
    World w;
    w.durable_file("a", "abc");
    auto f = w.open("a");
    w.disk.faults().io_error_probability = 1.0;
    EXPECT_EQ(f->write(0, as_bytes("xyz")).code(), Errc::io_error);
    EXPECT_EQ(f->read(0, 3).code(), Errc::io_error);
    EXPECT_EQ(w.d->rename("a", "b").code(), Errc::io_error);
    EXPECT_EQ(w.d->open("c", OpenMode::create).code(), Errc::io_error);
    EXPECT_EQ(w.content("a"), "abc");
    EXPECT_EQ(w.disk.list_files(), std::vector<std::string>{"a"});
    EXPECT_EQ(w.disk.counters().io_errors, 4u);
}

TEST(SimDisk, FailedSyncLosesItsWritesEvenAfterALaterSyncSucceeds) {
    World w;
    w.durable_file("a", "");
    auto f = w.open("a");
    ASSERT_TRUE(f->append(as_bytes("lost")).ok());
    w.disk.faults().io_error_probability = 1.0;
    EXPECT_EQ(f->sync().code(), Errc::io_error);
    w.disk.faults().io_error_probability = 0.0;
    ASSERT_TRUE(f->append(as_bytes("kept")).ok());
    ASSERT_TRUE(f->sync().ok());
    EXPECT_EQ(w.content("a"), "lostkept");  // the page cache still shows them
    w.crash_and_remount();
    EXPECT_EQ(w.content("a"), std::string("\0\0\0\0kept", 8));
    EXPECT_EQ(w.disk.counters().unsynced_bytes_lost, 4u);
}

TEST(SimDisk, FailedSyncDirLeavesItsOpsPending) {
    World w;
    w.open("a");
    w.disk.faults().io_error_probability = 1.0;
    EXPECT_EQ(w.d->sync_dir("").code(), Errc::io_error);
    EXPECT_EQ(w.disk.pending_dir_ops(), 1u);
    w.disk.faults().io_error_probability = 0.0;
    ASSERT_TRUE(w.d->sync_dir("").ok());
    w.crash_and_remount();
    EXPECT_TRUE(w.exists("a"));
}

// ---- Latency ----------------------------------------------------------------------

TEST(SimDisk, LatencyIsSleptInVirtualTime) {
    World w;
    w.disk.faults().latency_min = 5ms;
    w.disk.faults().latency_max = 5ms;
    Instant done{};
    std::string seen;
    w.ex.spawn("io", [&] {
        auto f = w.d->open("a", OpenMode::create).value();  // 5 ms
        EXPECT_TRUE(f->append(as_bytes("x")).ok());          // 10 ms
        EXPECT_TRUE(f->sync().ok());                         // 15 ms
        done = w.ex.now();
    });
    w.ex.spawn("reader", [&] {
        w.ex.sleep_for(7ms);  // after the open, before the append lands
        seen = w.content("a");
    });
    w.s.run_while([] { return true; });
    EXPECT_EQ(done.ns, Duration(15ms).count());
    EXPECT_EQ(seen, "");
    EXPECT_TRUE(w.d->open("b", OpenMode::create).ok());  // outside fibers: no sleep
    EXPECT_EQ(w.s.now().ns, Duration(15ms).count());
}

TEST(SimDisk, OpInFlightDuringACrashNeverLands) {
    World w;
    w.durable_file("a", "old");
    w.disk.faults().latency_min = 10ms;
    w.disk.faults().latency_max = 10ms;
    auto f = w.open("a");  // outside fibers: no sleep
    Status write_status;
    w.ex.spawn("writer", [&] { write_status = f->write(0, as_bytes("new")); });
    w.ex.spawn("power", [&] {
        w.ex.sleep_for(5ms);
        w.disk.crash(w.rng);
    });
    w.s.run_while([] { return true; });
    EXPECT_EQ(write_status.code(), Errc::io_error);
    EXPECT_EQ(w.content("a"), "old");
    EXPECT_EQ(w.disk.counters().bytes_written, 3u);  // only durable_file's write
}

TEST(SimDisk, LatencyIsDrawnBetweenItsBounds) {
    World w;
    w.disk.faults().latency_min = 1ms;
    w.disk.faults().latency_max = 9ms;
    std::set<int64_t> took;
    w.ex.spawn("io", [&] {
        for (int i = 0; i < 20; i++) {
            Instant before = w.ex.now();
            EXPECT_TRUE(w.d->exists("x").ok());
            took.insert(to_ms(w.ex.now() - before));
        }
    });
    w.s.run_while([] { return true; });
    EXPECT_GE(*took.begin(), 1);
    EXPECT_LE(*took.rbegin(), 9);
    EXPECT_GE(took.size(), 3u);
}

// ---- Paths and modes --------------------------------------------------------------

TEST(SimDisk, OpenModesFollowTheContract) {
    World w;
    EXPECT_EQ(w.d->open("a", OpenMode::read_only).code(), Errc::not_found);
    EXPECT_EQ(w.d->open("a", OpenMode::read_write).code(), Errc::not_found);
    EXPECT_TRUE(w.d->open("a", OpenMode::create_new).ok());
    EXPECT_EQ(w.d->open("a", OpenMode::create_new).code(), Errc::already_exists);
    EXPECT_TRUE(w.d->open("a", OpenMode::create).ok());
    auto ro = w.open("a", OpenMode::read_only);
    EXPECT_EQ(ro->write(0, as_bytes("x")).code(), Errc::invalid_argument);
    EXPECT_EQ(ro->append(as_bytes("x")).code(), Errc::invalid_argument);
    EXPECT_EQ(ro->truncate(0).code(), Errc::invalid_argument);
    EXPECT_EQ(w.d->open("missing/a", OpenMode::create).code(), Errc::not_found);
    ASSERT_TRUE(w.d->make_dirs("dir").ok());
    EXPECT_EQ(w.d->open("dir", OpenMode::create).code(), Errc::invalid_argument);
}

TEST(SimDisk, ReadReturnsFewerBytesOnlyAtTheEnd) {
    World w;
    auto f = w.open("a");
    ASSERT_TRUE(f->append(as_bytes("abcdef")).ok());
    EXPECT_EQ(str(f->read(2, 3).value()), "cde");
    EXPECT_EQ(str(f->read(4, 10).value()), "ef");
    EXPECT_TRUE(f->read(6, 10).value().empty());
    EXPECT_TRUE(f->read(100, 10).value().empty());
    EXPECT_EQ(f->append(as_bytes("g")).value(), 6u);
}

TEST(SimDisk, MakeDirsCreatesParentsAndListReturnsSortedChildren) {
    World w;
    ASSERT_TRUE(w.d->make_dirs("t/p-1").ok());
    ASSERT_TRUE(w.d->make_dirs("t/p-1").ok());  // already there: fine
    w.open("t/z.log");
    w.open("t/a.log");
    EXPECT_EQ(w.d->list("t").value(), (std::vector<std::string>{"a.log", "p-1", "z.log"}));
    EXPECT_EQ(w.d->list("").value(), std::vector<std::string>{"t"});
    EXPECT_EQ(w.d->list("nope").code(), Errc::not_found);
    EXPECT_EQ(w.d->list("t/a.log").code(), Errc::invalid_argument);
    EXPECT_EQ(w.d->make_dirs("t/a.log/x").code(), Errc::already_exists);
    EXPECT_EQ(w.disk.list_files(), (std::vector<std::string>{"t/a.log", "t/z.log"}));
}

TEST(SimDisk, RemoveRefusesNonEmptyDirectoriesAndMissingPaths) {
    World w;
    ASSERT_TRUE(w.d->make_dirs("d").ok());
    w.open("d/f");
    EXPECT_EQ(w.d->remove("d").code(), Errc::invalid_argument);
    EXPECT_EQ(w.d->remove("nope").code(), Errc::not_found);
    ASSERT_TRUE(w.d->remove("d/f").ok());
    ASSERT_TRUE(w.d->remove("d").ok());
    EXPECT_FALSE(w.exists("d"));
}

TEST(SimDisk, BadPathsAreInvalidArguments) {
    World w;
    for (const char* p : {"", "/a", "a/", "a//b", "./a", "a/../b"}) {
        EXPECT_EQ(w.d->open(p, OpenMode::create).code(), Errc::invalid_argument) << p;
        EXPECT_EQ(w.d->exists(p).ok(), std::string(p).empty()) << p;
    }
}

TEST(SimDisk, RenameMovesADirectoryWithItsChildren) {
    World w;
    ASSERT_TRUE(w.d->make_dirs("t-0").ok());
    w.durable_file("t-0/00.log", "seg");
    ASSERT_TRUE(w.d->sync_dir("").ok());
    ASSERT_TRUE(w.d->rename("t-0", "t-0.deleted").ok());
    EXPECT_EQ(w.content("t-0.deleted/00.log"), "seg");
    EXPECT_EQ(w.d->rename("t-0.deleted", "t-0.deleted/x").code(), Errc::invalid_argument);
    ASSERT_TRUE(w.d->sync_dir("").ok());
    w.crash_and_remount();
    EXPECT_EQ(w.disk.list_files(), std::vector<std::string>{"t-0.deleted/00.log"});
}

TEST(SimDisk, RenameRefusesToMixFilesAndDirectories) {
    World w;
    ASSERT_TRUE(w.d->make_dirs("d/e").ok());
    w.open("f");
    EXPECT_EQ(w.d->rename("f", "d").code(), Errc::invalid_argument);
    EXPECT_EQ(w.d->rename("d", "f").code(), Errc::invalid_argument);
    EXPECT_EQ(w.d->rename("nope", "g").code(), Errc::not_found);
    EXPECT_EQ(w.d->rename("f", "nope/g").code(), Errc::not_found);
    ASSERT_TRUE(w.d->make_dirs("empty").ok());
    EXPECT_TRUE(w.d->rename("d", "empty").ok());  // over an empty directory
    EXPECT_TRUE(w.exists("empty/e"));
}

}  // namespace
}  // namespace keel::sim
