// SimDisk properties (RapidCheck): whatever the ops, syncs and crash faults, a crash leaves
// exactly what the durability contract allows — the durable state extended by a prefix
// of the pending ops (the last one possibly torn), never anything else.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <map>
#include <set>

#include "runtime/scheduler.h"
#include "sim/sim_disk.h"

namespace keel::sim {
namespace {

using env::OpenMode;

struct Node {
    fiber::Scheduler s{fiber::SchedulerOptions{.virtual_time = true, .seed = 1}};
    fiber::GroupId g = s.create_group("n1");
    fiber::GroupExecutor ex{s, g};
    env::SeededRandom rng;
    SimDisk disk{"n1"};
    std::unique_ptr<env::Disk> d;

    explicit Node(uint64_t seed) : rng(seed), d(disk.mount(ex, rng)) {}
    std::unique_ptr<env::File> open(const std::string& path) {
        auto f = d->open(path, OpenMode::create);
        RC_ASSERT(f.ok());
        return std::move(f).value();
    }
    std::string current(const std::string& path) {
        auto b = disk.read_current(path);
        RC_ASSERT(b.ok());
        return std::string(as_chars(*b));
    }
};

// ---- File data --------------------------------------------------------------------

struct DataOp {
    bool truncate = false;
    uint64_t offset = 0;  // truncate: the new size
    std::string data;
};

std::string apply(std::string s, const DataOp& op) {
    if (op.truncate) {
        s.resize(op.offset, '\0');
        return s;
    }
    if (s.size() < op.offset + op.data.size()) s.resize(op.offset + op.data.size(), '\0');
    s.replace(op.offset, op.data.size(), op.data);
    return s;
}

// `got` is `base` with a torn `op` on top: only bytes of op's range may be new, the new
// ones fill whole sectors up to one mixed sector, and the file grew at most to op's end.
bool is_torn(const std::string& base, const DataOp& op, const std::string& got, size_t sector) {
    if (op.truncate) return false;
    const size_t end = op.offset + op.data.size();
    if (got.size() < base.size() || got.size() > std::max(base.size(), end)) return false;
    if (got.size() > base.size() && got.size() != end && got.size() % sector != 0) return false;
    size_t first_old_sector = SIZE_MAX;  // the sector holding the first op byte not new
    for (size_t i = 0; i < got.size(); i++) {
        char old_byte = i < base.size() ? base[i] : '\0';
        bool in_op = i >= op.offset && i < end;
        char new_byte = in_op ? op.data[i - op.offset] : old_byte;
        if (got[i] != old_byte && got[i] != new_byte) return false;
        if (!in_op || new_byte == old_byte) continue;
        if (got[i] == old_byte) {
            first_old_sector = std::min(first_old_sector, i / sector);
        } else if (i / sector > first_old_sector) {
            return false;  // a new byte in a sector after the torn one
        }
    }
    return true;
}

bool is_prefix_outcome(const std::string& durable, const std::vector<DataOp>& pending,
                       const std::string& got, size_t sector) {
    std::string state = durable;
    for (size_t k = 0; k <= pending.size(); k++) {
        if (got == state) return true;
        if (k == pending.size()) break;
        if (is_torn(state, pending[k], got, sector)) return true;
        state = apply(state, pending[k]);
    }
    return false;
}

struct ModelFile {
    std::string durable;
    std::vector<DataOp> pending;
    std::string current() const {
        std::string s = durable;
        for (const auto& op : pending) s = apply(s, op);
        return s;
    }
};

// "durable=... got=... pending: W<offset>:<data> T<size> ..." with NUL shown as '_'.
std::string describe(const ModelFile& m, const std::string& got) {
    std::string msg = "durable=" + m.durable + " got=" + got + " pending:";
    for (const auto& op : m.pending) {
        msg += (op.truncate ? " T" : " W") + std::to_string(op.offset) + ":" + op.data;
    }
    std::replace(msg.begin(), msg.end(), '\0', '_');
    return msg;
}

DataOp random_data_op(const ModelFile& m, char fill) {
    int kind = *rc::gen::inRange(0, 8);
    if (kind == 0) return DataOp{true, *rc::gen::inRange<uint64_t>(0, 80), {}};
    auto len = *rc::gen::inRange<size_t>(1, 40);
    uint64_t offset = kind <= 2 ? m.current().size() : *rc::gen::inRange<uint64_t>(0, 64);
    return DataOp{false, offset, std::string(len, fill)};
}

TEST(SimDiskProperty, CrashLeavesDurableContentExtendedByAPrefixOfPendingOps) {
    EXPECT_TRUE(rc::check([] {
        Node n(*rc::gen::arbitrary<uint64_t>());
        auto& faults = n.disk.faults();
        faults.sector_bytes = 8;
        faults.crash_keeps_unsynced_probability = *rc::gen::element(0.0, 0.5, 1.0);
        faults.torn_write_probability = *rc::gen::element(0.0, 0.5, 1.0);
        const std::vector<std::string> paths{"f0", "f1", "f2"};
        std::vector<std::unique_ptr<env::File>> files;
        for (const auto& p : paths) files.push_back(n.open(p));
        RC_ASSERT(n.d->sync_dir("").ok());
        std::vector<ModelFile> model(paths.size());
        const int ops = *rc::gen::inRange(0, 40);
        for (int i = 0; i < ops; i++) {
            auto f = *rc::gen::inRange<size_t>(0, paths.size());
            if (*rc::gen::inRange(0, 5) == 0) {
                RC_ASSERT(files[f]->sync().ok());
                model[f] = ModelFile{model[f].current(), {}};
                continue;
            }
            DataOp op = random_data_op(model[f], static_cast<char>('a' + i % 26));
            RC_ASSERT((op.truncate ? files[f]->truncate(op.offset)
                                   : files[f]->write(op.offset, as_bytes(op.data)))
                          .ok());
            model[f].pending.push_back(op);
            n.disk.check_invariants();
        }
        for (size_t f = 0; f < paths.size(); f++) {
            RC_ASSERT(n.current(paths[f]) == model[f].current());
            RC_ASSERT(std::string(as_chars(n.disk.read_durable(paths[f]).value())) ==
                      model[f].durable);
        }
        n.disk.check_invariants();
        n.disk.crash(n.rng);
        n.disk.check_invariants();
        for (size_t f = 0; f < paths.size(); f++) {
            std::string got = n.current(paths[f]);
            if (!is_prefix_outcome(model[f].durable, model[f].pending, got, 8)) {
                RC_FAIL(describe(model[f], got));
            }
            if (faults.crash_keeps_unsynced_probability == 0 &&
                faults.torn_write_probability == 0) {
                RC_ASSERT(got == model[f].durable);
            }
        }
    }));
}

// The checker above must be able to fail: a gap, a reordering, or a byte from nowhere.
TEST(SimDiskProperty, PrefixCheckerRejectsOutcomesACrashCannotProduce) {
    std::vector<DataOp> pending{{false, 0, "aaaa"}, {false, 4, "bbbb"}, {false, 8, "cccc"}};
    EXPECT_TRUE(is_prefix_outcome("", pending, "aaaabbbb", 4));
    EXPECT_TRUE(is_prefix_outcome("", pending, std::string("aaaab\0b\0", 8), 4));
    EXPECT_FALSE(is_prefix_outcome("", pending, std::string("aaaa\0\0\0\0cccc", 12), 4));
    EXPECT_FALSE(is_prefix_outcome("", pending, "bbbb", 4));
    EXPECT_FALSE(is_prefix_outcome("", pending, "aaaax", 4));
    std::vector<DataOp> wide{{false, 0, "nnnnnnnn"}};
    EXPECT_FALSE(is_prefix_outcome("oooooooo", wide, "oooonnnn", 4));  // new after old
    EXPECT_TRUE(is_prefix_outcome("oooooooo", wide, "nnnnonoo", 4));
}

// ---- Namespace --------------------------------------------------------------------

using Listing = std::map<std::string, std::string>;  // path -> content

Listing listing(Node& n) {
    Listing out;
    for (const auto& p : n.disk.list_files()) out[p] = n.current(p);
    return out;
}

// One random namespace op on the files of `dirs`; each file's content is unique.
void random_dir_op(Node& n, Listing& model, const std::vector<std::string>& dirs, int i) {
    auto path = [&] {
        std::string name = "n" + std::to_string(*rc::gen::inRange(0, 3));
        return env::join_path(*rc::gen::elementOf(dirs), name);
    };
    std::string a = path();
    switch (*rc::gen::inRange(0, 3)) {
        case 0: {
            if (model.count(a) != 0) return;
            auto f = n.open(a);
            std::string content = "c" + std::to_string(i);
            RC_ASSERT(f->append(as_bytes(content)).ok());
            RC_ASSERT(f->sync().ok());
            model[a] = content;
            return;
        }
        case 1:
            if (model.count(a) == 0) return;
            RC_ASSERT(n.d->remove(a).ok());
            model.erase(a);
            return;
        default: {
            std::string b = path();
            if (model.count(a) == 0 || a == b) return;
            RC_ASSERT(n.d->rename(a, b).ok());
            model[b] = model[a];
            model.erase(a);
        }
    }
}

TEST(SimDiskProperty, CrashLeavesTheSyncedNamespaceExtendedByAPrefixOfPendingOps) {
    EXPECT_TRUE(rc::check([] {
        Node n(*rc::gen::arbitrary<uint64_t>());
        n.disk.faults().crash_keeps_unsynced_probability = *rc::gen::element(0.0, 0.5, 1.0);
        RC_ASSERT(n.d->make_dirs("d").ok());
        RC_ASSERT(n.d->sync_dir("").ok());
        Listing model;
        std::vector<Listing> since_sync{model};  // states since the last sync_dir("d")
        const int ops = *rc::gen::inRange(0, 30);
        for (int i = 0; i < ops; i++) {
            if (*rc::gen::inRange(0, 5) == 0) {
                RC_ASSERT(n.d->sync_dir("d").ok());
                since_sync = {model};
                continue;
            }
            Listing before = model;
            random_dir_op(n, model, {"d"}, i);
            n.disk.check_invariants();
            if (model != before) since_sync.push_back(model);
        }
        RC_ASSERT(listing(n) == model);
        n.disk.check_invariants();
        n.disk.crash(n.rng);
        n.disk.check_invariants();
        Listing got = listing(n);
        bool is_prefix = false;
        for (const auto& state : since_sync) is_prefix |= got == state;
        RC_ASSERT(is_prefix);
        if (n.disk.faults().crash_keeps_unsynced_probability == 0) {
            RC_ASSERT(got == since_sync.front());
        }
    }));
}

// Across two directories synced separately: a rename never duplicates or invents a file,
// and once both directories are synced the crash loses nothing.
TEST(SimDiskProperty, CrossDirectoryRenamesNeverDuplicateOrInventFiles) {
    EXPECT_TRUE(rc::check([] {
        Node n(*rc::gen::arbitrary<uint64_t>());
        n.disk.faults().crash_keeps_unsynced_probability = *rc::gen::element(0.0, 0.5);
        RC_ASSERT(n.d->make_dirs("d").ok());
        RC_ASSERT(n.d->make_dirs("e").ok());
        RC_ASSERT(n.d->sync_dir("").ok());
        Listing model;
        std::set<std::pair<std::string, std::string>> ever{};  // (path, content) ever seen
        const int ops = *rc::gen::inRange(0, 30);
        for (int i = 0; i < ops; i++) {
            if (*rc::gen::inRange(0, 4) == 0) {
                std::string dir = *rc::gen::element(std::string("d"), std::string("e"));
                RC_ASSERT(n.d->sync_dir(dir).ok());
                continue;
            }
            random_dir_op(n, model, {"d", "e"}, i);
            n.disk.check_invariants();
            for (const auto& [p, c] : model) ever.insert({p, c});
        }
        const bool sync_all = *rc::gen::arbitrary<bool>();
        if (sync_all) {
            RC_ASSERT(n.d->sync_dir("d").ok());
            RC_ASSERT(n.d->sync_dir("e").ok());
            RC_ASSERT(n.disk.pending_dir_ops() == 0u);
        }
        n.disk.check_invariants();
        n.disk.crash(n.rng);
        n.disk.check_invariants();
        Listing got = listing(n);
        std::set<std::string> contents;
        for (const auto& [p, c] : got) {
            RC_ASSERT(contents.insert(c).second);  // no file in two places
            RC_ASSERT(ever.count({p, c}) != 0);    // only where it once was
        }
        if (sync_all) RC_ASSERT(got == model);
    }));
}

}  // namespace
}  // namespace keel::sim
