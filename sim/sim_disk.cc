#include "sim/sim_disk.h"

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <set>
#include <string_view>
#include <utility>

namespace keel::sim {
namespace {

using InodeId = uint64_t;
constexpr InodeId kRootInode = 1;
// The simulator holds every byte in memory; a write past this is refused (EFBIG).
constexpr uint64_t kFileBytesMax = 1ULL << 32;

struct DataOp {
    bool is_truncate = false;
    uint64_t offset = 0;  // write: where it starts; truncate: the new size
    Bytes data;
};

// Directory entries by name; std::less<> lets a path component (a string_view) look up.
using Entries = std::map<std::string, InodeId, std::less<>>;

struct Inode {
    bool is_dir = false;
    // Files.
    Bytes current;
    Bytes durable;
    std::deque<DataOp> pending;
    uint64_t pending_bytes = 0;
    // Directories.
    Entries current_entries;
    Entries durable_entries;
    // References; the inode is freed when all are zero (the root never is).
    uint32_t current_links = 0;  // current entries naming it
    uint32_t durable_links = 0;  // durable entries (of live directories) naming it
    uint32_t pending_refs = 0;   // pending directory ops naming it (as entry or parent)
    uint32_t open_handles = 0;
    std::set<uint64_t> rot;  // offsets damaged by corrupt() and not rewritten since
};

enum class DirOpKind : uint8_t { create, mkdir, rename, remove };

// One namespace change. (parent, name) is the entry created, renamed to, or removed;
// a rename also names its source entry.
struct DirOp {
    DirOpKind kind;
    InodeId parent;
    std::string name;
    InodeId inode;
    InodeId from_parent = 0;
    std::string from_name;
};


enum class View : uint8_t { current, durable };

void apply_data_op(Bytes& bytes, const DataOp& op) {
    if (op.is_truncate) {
        bytes.resize(op.offset, 0);
        return;
    }
    uint64_t end = op.offset + op.data.size();
    if (bytes.size() < end) bytes.resize(end, 0);
    std::copy(op.data.begin(), op.data.end(), bytes.begin() + static_cast<ptrdiff_t>(op.offset));
}

uint64_t written_bytes(const DataOp& op) { return op.is_truncate ? 0 : op.data.size(); }

uint64_t content_hash(InodeId id, uint64_t offset, ByteView data) {
    uint64_t h = 0xcbf29ce484222325ULL ^ (id << 40) ^ offset;
    for (uint8_t b : data) {
        h ^= b;
        h *= 0x100000001b3ULL;
    }
    return h;
}

// Damaged offsets a data op overwrites (or cuts away) are healthy again.
void heal_rot(std::set<uint64_t>& rot, const DataOp& op) {
    if (rot.empty()) return;
    auto from = rot.lower_bound(op.offset);
    auto to = op.is_truncate ? rot.end() : rot.lower_bound(op.offset + op.data.size());
    rot.erase(from, to);
}

Error invalid(std::string message) { return Error{Errc::invalid_argument, std::move(message)}; }

// "a/b/c" -> {"a","b","c"}; "" -> {} (the root) when allowed. The parts view `path`.
Result<std::vector<std::string_view>> split_path(const std::string& path, bool allow_root) {
    std::vector<std::string_view> parts;
    if (path.empty()) {
        if (allow_root) return parts;
        return invalid("empty path");
    }
    size_t start = 0;
    while (true) {
        size_t slash = path.find('/', start);
        std::string_view part = std::string_view(path).substr(
            start, slash == std::string::npos ? std::string_view::npos : slash - start);
        if (part.empty() || part == "." || part == "..") return invalid("bad path '" + path + "'");
        parts.push_back(part);
        if (slash == std::string::npos) return parts;
        start = slash + 1;
    }
}

}  // namespace

class SimDisk::State {
public:
    explicit State(std::string node) : node_(std::move(node)) { reset(); }

    std::string node_;
    std::function<void(uint64_t)> content_sink_;
    std::function<void()> power_loss_;  // armed: called at the next fsync with pending writes
    DiskFaultOptions faults_;
    DiskCounters counters_;
    uint64_t generation_ = 0;

    // ---- Lookup -------------------------------------------------------------------

    Inode& inode(InodeId id) {
        KEEL_ASSERT(has_inode(id));
        return *by_id_[id];
    }
    const Inode& inode(InodeId id) const {
        KEEL_ASSERT(has_inode(id));
        return *by_id_[id];
    }
    bool has_inode(InodeId id) const { return id < by_id_.size() && by_id_[id] != nullptr; }

    static const Entries& entries(const Inode& dir, View v) {
        return v == View::current ? dir.current_entries : dir.durable_entries;
    }

    // The inode at parts[0..count) in view v.
    Result<InodeId> lookup(const std::vector<std::string_view>& parts, size_t count, View v) const {
        InodeId id = kRootInode;
        for (size_t i = 0; i < count; i++) {
            const Inode& dir = inode(id);
            if (!dir.is_dir) return invalid("'" + std::string(parts[i - 1]) + "' is not a directory");
            auto it = entries(dir, v).find(parts[i]);
            if (it == entries(dir, v).end()) return Error{Errc::not_found, std::string(parts[i]) + " not found"};
            id = it->second;
        }
        return id;
    }

    Result<InodeId> resolve(const std::string& path, View v, bool allow_root) const {
        KEEL_TRY_ASSIGN(auto parts, split_path(path, allow_root));
        auto id = lookup(parts, parts.size(), v);
        if (!id.ok()) return Error{id.code(), path + ": " + id.error().message};
        return id;
    }

    Result<InodeId> resolve_dir(const std::string& path) const {
        KEEL_TRY_ASSIGN(InodeId id, resolve(path, View::current, true));
        if (!inode(id).is_dir) return invalid(path + " is not a directory");
        return id;
    }

    struct EntryRef {
        InodeId parent;
        std::string_view name;                // views the path resolved, as parts do
        std::vector<std::string_view> parts;
    };
    // The (existing, current) parent directory of `path` and the last name.
    Result<EntryRef> resolve_parent(const std::string& path) const {
        KEEL_TRY_ASSIGN(auto parts, split_path(path, false));
        auto parent = lookup(parts, parts.size() - 1, View::current);
        if (!parent.ok()) return Error{parent.code(), path + ": " + parent.error().message};
        if (!inode(*parent).is_dir) return invalid(path + ": parent is not a directory");
        return EntryRef{*parent, parts.back(), std::move(parts)};
    }

    // Current entry (parent, name), or 0.
    InodeId entry(InodeId parent, std::string_view name) const {
        const auto& e = inode(parent).current_entries;
        auto it = e.find(name);
        return it == e.end() ? 0 : it->second;
    }

    // ---- Data ---------------------------------------------------------------------

    uint64_t available_bytes() const {
        return faults_.capacity_bytes > live_bytes_ ? faults_.capacity_bytes - live_bytes_ : 0;
    }

    // How many of `len` bytes at `offset` fit under the capacity (ending on a sector).
    uint64_t fitting_bytes(const Inode& f, uint64_t offset, uint64_t len) const {
        KEEL_ASSERT(faults_.sector_bytes > 0);
        uint64_t end = offset + len;
        uint64_t size = f.current.size();
        if (end <= size || end - size <= available_bytes()) return len;
        uint64_t limit = size + available_bytes();
        limit -= limit % faults_.sector_bytes;
        return limit > offset ? limit - offset : 0;
    }

    Status write(InodeId id, uint64_t offset, ByteView data) {
        if (offset > kFileBytesMax || data.size() > kFileBytesMax - offset) {
            return invalid("write past the simulated file size limit");
        }
        Inode& f = inode(id);
        uint64_t fit = fitting_bytes(f, offset, data.size());
        if (content_sink_) content_sink_(content_hash(id, offset, data.subspan(0, fit)));
        if (fit > 0) {
            record_data_op(f, DataOp{false, offset, Bytes(data.begin(), data.begin() + fit)});
        }
        counters_.bytes_written += fit;
        if (fit < data.size()) {
            counters_.enospc_errors++;
            return Error{Errc::disk_full, node_ + ": no space left on device"};
        }
        return ok_status();
    }

    Status truncate(InodeId id, uint64_t size) {
        if (size > kFileBytesMax) return invalid("truncate past the simulated file size limit");
        Inode& f = inode(id);
        if (size > f.current.size() && size - f.current.size() > available_bytes()) {
            counters_.enospc_errors++;
            return Error{Errc::disk_full, node_ + ": no space left on device"};
        }
        record_data_op(f, DataOp{true, size, {}});
        return ok_status();
    }

    void record_data_op(Inode& f, DataOp op) {
        KEEL_ASSERT(!f.is_dir && f.open_handles > 0);  // data changes only through handles
        update_live(f, [&] { apply_data_op(f.current, op); });
        heal_rot(f.rot, op);
        f.pending_bytes += written_bytes(op);
        f.pending.push_back(std::move(op));
        writeback_excess(f);
    }

    // The kernel writes dirty pages back on its own: past a limit the oldest op lands.
    void writeback_excess(Inode& f) {
        while (f.pending.size() > faults_.pending_ops_max ||
               f.pending_bytes > faults_.pending_bytes_max) {
            const DataOp& op = f.pending.front();
            apply_data_op(f.durable, op);
            f.pending_bytes -= written_bytes(op);
            f.pending.pop_front();
            counters_.background_writebacks++;
        }
    }

    void sync_file(InodeId id) {
        Inode& f = inode(id);
        for (const DataOp& op : f.pending) {
            apply_data_op(f.durable, op);
            counters_.bytes_synced += written_bytes(op);
        }
        f.pending.clear();
        f.pending_bytes = 0;
        counters_.syncs++;
    }

    // fsyncgate: the pages were marked clean although they never reached disk.
    void fail_sync(InodeId id) {
        Inode& f = inode(id);
        counters_.unsynced_bytes_lost += f.pending_bytes;
        f.pending.clear();
        f.pending_bytes = 0;
    }

    // ---- Namespace ----------------------------------------------------------------

    Result<InodeId> open(const std::string& path, env::OpenMode mode) {
        KEEL_TRY_ASSIGN(EntryRef e, resolve_parent(path));
        if (InodeId id = entry(e.parent, e.name); id != 0) {
            if (inode(id).is_dir) return invalid(path + " is a directory");
            if (mode == env::OpenMode::create_new) {
                return Error{Errc::already_exists, path + " already exists"};
            }
            update_live(inode(id), [&] { inode(id).open_handles++; });
            return id;
        }
        if (mode == env::OpenMode::read_only || mode == env::OpenMode::read_write) {
            return Error{Errc::not_found, path + " not found"};
        }
        InodeId id = allocate(false);
        update_live(inode(id), [&] { inode(id).open_handles++; });
        record_dir_op(DirOp{DirOpKind::create, e.parent, std::string(e.name), id, 0, {}});
        return id;
    }

    void close(InodeId id) {
        Inode& f = inode(id);
        KEEL_ASSERT(f.open_handles > 0);
        update_live(f, [&] { f.open_handles--; });
        maybe_free(id);
    }

    Status make_dirs(const std::string& path) {
        KEEL_TRY_ASSIGN(auto parts, split_path(path, true));
        InodeId dir = kRootInode;
        for (std::string_view name : parts) {
            InodeId id = entry(dir, name);
            if (id != 0 && !inode(id).is_dir) {
                return Error{Errc::already_exists, path + ": '" + std::string(name) + "' is a file"};
            }
            if (id == 0) {
                id = allocate(true);
                record_dir_op(DirOp{DirOpKind::mkdir, dir, std::string(name), id, 0, {}});
            }
            dir = id;
        }
        return ok_status();
    }

    Result<std::vector<std::string>> list(const std::string& dir) const {
        KEEL_TRY_ASSIGN(InodeId id, resolve_dir(dir));
        std::vector<std::string> names;
        for (const auto& [name, child] : inode(id).current_entries) names.push_back(name);
        return names;
    }

    Result<bool> exists(const std::string& path) const {
        KEEL_TRY(split_path(path, true));
        return resolve(path, View::current, true).ok();
    }

    Status remove(const std::string& path) {
        KEEL_TRY_ASSIGN(EntryRef e, resolve_parent(path));
        InodeId id = entry(e.parent, e.name);
        if (id == 0) return Error{Errc::not_found, path + " not found"};
        if (inode(id).is_dir && !inode(id).current_entries.empty()) {
            return invalid(path + " is a non-empty directory");
        }
        record_dir_op(DirOp{DirOpKind::remove, e.parent, std::string(e.name), id, 0, {}});
        return ok_status();
    }

    Status rename(const std::string& from, const std::string& to) {
        KEEL_TRY_ASSIGN(EntryRef src, resolve_parent(from));
        KEEL_TRY_ASSIGN(EntryRef dst, resolve_parent(to));
        InodeId id = entry(src.parent, src.name);
        if (id == 0) return Error{Errc::not_found, from + " not found"};
        if (src.parent == dst.parent && src.name == dst.name) return ok_status();
        KEEL_TRY(check_rename_target(id, dst, to));
        record_dir_op(DirOp{DirOpKind::rename, dst.parent, std::string(dst.name), id, src.parent,
                            std::string(src.name)});
        return ok_status();
    }

    // POSIX rules: no directory into itself, no file over a directory or the reverse,
    // no directory over a non-empty one.
    Status check_rename_target(InodeId id, const EntryRef& dst, const std::string& to) const {
        if (inode(id).is_dir) {
            for (size_t n = 0; n < dst.parts.size(); n++) {
                auto on_path = lookup(dst.parts, n, View::current);
                if (on_path.ok() && *on_path == id) return invalid(to + " is inside the source");
            }
        }
        InodeId old = entry(dst.parent, dst.name);
        if (old == 0) return ok_status();
        if (inode(old).is_dir != inode(id).is_dir) return invalid(to + " is of another kind");
        if (inode(old).is_dir && !inode(old).current_entries.empty()) {
            return invalid(to + " is a non-empty directory");
        }
        return ok_status();
    }

    Status sync_dir(const std::string& dir) {
        KEEL_TRY_ASSIGN(InodeId id, resolve_dir(dir));
        sync_dir_ops(id);
        counters_.syncs++;
        return ok_status();
    }

    // Makes durable the pending ops touching `dir`, with every earlier op on an entry
    // they touch (transitively), in their original order. Scanning backwards, `keys`
    // holds the entries of the ops already chosen, all of which come later.
    void sync_dir_ops(InodeId dir) {
        std::vector<bool> chosen(dir_pending_.size(), false);
        if (!choose_dir_ops(dir, chosen)) return;  // nothing to make durable
        std::deque<DirOp> pending = std::move(dir_pending_);
        dir_pending_.clear();
        for (size_t i = 0; i < pending.size(); i++) {
            if (chosen[i]) {
                apply_dir_op(pending[i], View::durable);
                release(pending[i]);
            } else {
                dir_pending_.push_back(std::move(pending[i]));
            }
        }
    }

    // Marks the ops sync_dir_ops(dir) makes durable; false if none. The keys view the
    // names of the pending ops (no copies), which stay put while this runs.
    bool choose_dir_ops(InodeId dir, std::vector<bool>& chosen) const {
        std::set<std::pair<InodeId, std::string_view>> keys;
        bool any = false;
        for (size_t i = dir_pending_.size(); i-- > 0;) {
            const DirOp& op = dir_pending_[i];
            bool is_rename = op.kind == DirOpKind::rename;
            std::pair<InodeId, std::string_view> to{op.parent, op.name};
            std::pair<InodeId, std::string_view> from{op.from_parent, op.from_name};
            bool touches = op.parent == dir || (is_rename && op.from_parent == dir) ||
                           keys.count(to) != 0 || (is_rename && keys.count(from) != 0);
            if (!touches) continue;
            chosen[i] = true;
            any = true;
            keys.insert(to);
            if (is_rename) keys.insert(from);
        }
        return any;
    }

    void record_dir_op(DirOp op) {
        retain(op);  // first, so that unlinking the current entry frees nothing it names
        apply_dir_op(op, View::current);
        dir_pending_.push_back(std::move(op));
        while (dir_pending_.size() > faults_.pending_ops_max) {
            DirOp oldest = std::move(dir_pending_.front());
            dir_pending_.pop_front();
            apply_dir_op(oldest, View::durable);
            release(oldest);
            counters_.background_writebacks++;
        }
    }

    void apply_dir_op(const DirOp& op, View v) {
        if (op.kind == DirOpKind::remove) {
            unlink(op.parent, op.name, op.inode, v);
            return;
        }
        link(op.parent, op.name, op.inode, v);
        if (op.kind == DirOpKind::rename) unlink(op.from_parent, op.from_name, op.inode, v);
    }

    // ---- References ---------------------------------------------------------------

    static Entries& entries(Inode& dir, View v) {
        return v == View::current ? dir.current_entries : dir.durable_entries;
    }
    static uint32_t& links(Inode& node, View v) {
        return v == View::current ? node.current_links : node.durable_links;
    }

    // Sets entry `name` of `dir` to `id` in view v (replacing what it named).
    void link(InodeId dir, const std::string& name, InodeId id, View v) {
        update_live(inode(id), [&] { links(inode(id), v)++; });
        auto [it, inserted] = entries(inode(dir), v).try_emplace(name, id);
        if (inserted) return;
        InodeId old = std::exchange(it->second, id);
        drop_link(old, v);
    }

    void unlink(InodeId dir, const std::string& name, InodeId id, View v) {
        auto& e = entries(inode(dir), v);
        auto it = e.find(name);
        // Invariant: ops reach disk in per-entry order, so the entry is still there.
        KEEL_ASSERT(it != e.end() && it->second == id);
        e.erase(it);
        drop_link(id, v);
    }

    void drop_link(InodeId id, View v) {
        Inode& node = inode(id);
        KEEL_ASSERT(links(node, v) > 0);
        update_live(node, [&] { links(node, v)--; });
        maybe_free(id);
    }

    void retain(const DirOp& op) {
        inode(op.inode).pending_refs++;
        inode(op.parent).pending_refs++;
        if (op.kind == DirOpKind::rename) inode(op.from_parent).pending_refs++;
    }

    void release(const DirOp& op) {
        InodeId from = op.kind == DirOpKind::rename ? op.from_parent : 0;
        for (InodeId id : {op.inode, op.parent, from}) {
            if (id == 0) continue;
            KEEL_ASSERT(inode(id).pending_refs > 0);
            inode(id).pending_refs--;
            maybe_free(id);
        }
    }

    // Frees an inode nothing refers to, and what only it referred to.
    void maybe_free(InodeId id) {
        const Inode& node = inode(id);
        if (id == kRootInode || node.current_links > 0 || node.durable_links > 0 ||
            node.pending_refs > 0 || node.open_handles > 0) {
            return;
        }
        auto it = inodes_.find(id);
        Inode gone = std::move(it->second);
        forget(it);
        for (const auto& [name, child] : gone.current_entries) drop_link(child, View::current);
        for (const auto& [name, child] : gone.durable_entries) drop_link(child, View::durable);
    }

    // Live bytes: current sizes of files named by a current entry or held open.
    static uint64_t live_size(const Inode& n) {
        bool live = !n.is_dir && (n.current_links > 0 || n.open_handles > 0);
        return live ? n.current.size() : 0;
    }
    template <typename Fn>
    void update_live(Inode& node, Fn&& change) {
        uint64_t before = live_size(node);
        change();
        live_bytes_ = live_bytes_ - before + live_size(node);
    }

    InodeId allocate(bool is_dir) {
        InodeId id = next_inode_++;
        index(id).is_dir = is_dir;
        return id;
    }

    // ---- Crash, wipe, space -------------------------------------------------------

    void crash(env::Random& rng) {
        counters_.crashes++;
        generation_++;
        for (auto& [id, node] : inodes_) {
            if (!node.is_dir) crash_file(node, rng);
        }
        crash_dir_ops(rng);
        // What survives is what the durable namespace reaches from the root.
        std::set<InodeId> kept = reachable(View::durable);
        for (auto it = inodes_.begin(); it != inodes_.end();) {
            it = kept.count(it->first) != 0 ? std::next(it) : forget(it);
        }
        for (auto& [id, node] : inodes_) {
            node.current_entries = node.durable_entries;
            node.open_handles = 0;
        }
        recount();
    }

    // Recomputes every link count and the live bytes from the entries (after a crash;
    // and to check the incremental bookkeeping). Pending ops and handles stay as they are.
    void recount() {
        for (auto& [id, node] : inodes_) node.current_links = node.durable_links = 0;
        for (auto& [id, node] : inodes_) {
            for (const auto& [name, child] : node.current_entries) inode(child).current_links++;
            for (const auto& [name, child] : node.durable_entries) inode(child).durable_links++;
        }
        live_bytes_ = 0;
        for (const auto& [id, node] : inodes_) live_bytes_ += live_size(node);
    }

    void crash_file(Inode& f, env::Random& rng) {
        size_t n = f.pending.size();
        size_t keep = 0;
        double keep_p = faults_.crash_keeps_unsynced_probability;
        double torn_p = faults_.torn_write_probability;
        if (n > 0 && keep_p > 0 && rng.chance(keep_p)) keep = rng.uniform(1, n);
        bool torn = n > 0 && torn_p > 0 && rng.chance(torn_p);
        if (torn && keep < n) keep++;  // the write in flight when the power went
        for (size_t i = 0; i < n; i++) {
            const DataOp& op = f.pending[i];
            if (i >= keep) {
                counters_.unsynced_bytes_lost += written_bytes(op);
            } else if (torn && i + 1 == keep && !op.is_truncate) {
                tear_write(f.durable, op, rng);
            } else {
                apply_data_op(f.durable, op);
                if (!op.is_truncate) counters_.unsynced_writes_kept++;
            }
        }
        f.pending.clear();
        f.pending_bytes = 0;
        f.current = f.durable;
        f.rot.erase(f.rot.lower_bound(f.durable.size()), f.rot.end());
    }

    // Lands whole sectors [first, first + landed) of the write, then one sector of mixed
    // old and new bytes; nothing after it.
    void tear_write(Bytes& bytes, const DataOp& op, env::Random& rng) {
        const uint64_t sector = faults_.sector_bytes;
        KEEL_ASSERT(sector > 0);
        const uint64_t end = op.offset + op.data.size();
        KEEL_ASSERT(end > op.offset);
        uint64_t first = op.offset / sector;
        uint64_t landed = rng.uniform(0, (end - 1) / sector - first);
        uint64_t mixed_begin = std::max(op.offset, (first + landed) * sector);
        uint64_t mixed_end = std::min(end, (first + landed + 1) * sector);
        if (bytes.size() < mixed_end) bytes.resize(mixed_end, 0);
        uint64_t bits = 0;
        for (uint64_t i = op.offset; i < mixed_end; i++) {
            if (i >= mixed_begin && (i - mixed_begin) % 64 == 0) bits = rng.next_u64();
            bool take_new = i < mixed_begin || ((bits >> ((i - mixed_begin) % 64)) & 1) != 0;
            if (take_new) bytes[i] = op.data[i - op.offset];
        }
        counters_.torn_writes++;
        counters_.unsynced_bytes_lost += end - mixed_begin;
    }

    // Applies op to the durable entries alone: crash() recounts the references after.
    void apply_entries(const DirOp& op) {
        auto& to = inode(op.parent).durable_entries;
        if (op.kind == DirOpKind::remove) {
            KEEL_ASSERT(to.count(op.name) != 0 && to.at(op.name) == op.inode);
            to.erase(op.name);
            return;
        }
        to[op.name] = op.inode;
        if (op.kind != DirOpKind::rename) return;
        auto& from = inode(op.from_parent).durable_entries;
        KEEL_ASSERT(from.count(op.from_name) != 0 && from.at(op.from_name) == op.inode);
        from.erase(op.from_name);
    }

    void crash_dir_ops(env::Random& rng) {
        size_t n = dir_pending_.size();
        size_t keep = 0;
        double keep_p = faults_.crash_keeps_unsynced_probability;
        if (n > 0 && keep_p > 0 && rng.chance(keep_p)) keep = rng.uniform(1, n);
        // Link counts and references are recounted by crash(); only the entries matter here.
        for (size_t i = 0; i < keep; i++) apply_entries(dir_pending_[i]);
        counters_.dir_ops_lost += n - keep;
        dir_pending_.clear();
        for (auto& [id, node] : inodes_) node.pending_refs = 0;
    }

    void wipe() {
        counters_.wipes++;
        generation_++;
        reset();
    }

    void reset() {
        inodes_.clear();
        by_id_.assign(by_id_.size(), nullptr);
        index(kRootInode).is_dir = true;
        dir_pending_.clear();
        live_bytes_ = 0;
    }

    // Inodes reachable from the root in view v.
    std::set<InodeId> reachable(View v) const {
        std::vector<InodeId> stack{kRootInode};
        std::set<InodeId> seen;
        while (!stack.empty()) {
            InodeId id = stack.back();
            stack.pop_back();
            if (!seen.insert(id).second) continue;
            for (const auto& [name, child] : entries(inode(id), v)) stack.push_back(child);
        }
        return seen;
    }

    // Recomputes the reference counts and live bytes from scratch and asserts that the
    // incremental bookkeeping agrees, and that nothing unreferenced is kept.
    void check_invariants() const {
        std::map<InodeId, std::array<uint32_t, 3>> refs;  // current, durable, pending
        for (const auto& [id, node] : inodes_) {
            for (const auto& [name, child] : node.current_entries) refs[child][0]++;
            for (const auto& [name, child] : node.durable_entries) refs[child][1]++;
        }
        for (const DirOp& op : dir_pending_) {
            refs[op.inode][2]++;
            refs[op.parent][2]++;
            if (op.kind == DirOpKind::rename) refs[op.from_parent][2]++;
        }
        uint64_t live = 0;
        for (const auto& [id, node] : inodes_) {
            const auto& r = refs[id];
            KEEL_ASSERT(node.current_links == r[0] && node.durable_links == r[1]);
            KEEL_ASSERT(node.pending_refs == r[2]);
            KEEL_ASSERT(id == kRootInode || r[0] + r[1] + r[2] + node.open_handles > 0);
            live += live_size(node);
        }
        for (const auto& [id, r] : refs) KEEL_ASSERT(inodes_.count(id) != 0);
        KEEL_ASSERT(live == live_bytes_);
    }

    void list_files(View v, InodeId dir, const std::string& prefix,
                    std::vector<std::string>& out) const {
        for (const auto& [name, child] : entries(inode(dir), v)) {
            std::string path = env::join_path(prefix, name);
            if (inode(child).is_dir) {
                list_files(v, child, path, out);
            } else {
                out.push_back(path);
            }
        }
    }

    Result<Bytes> read_file(const std::string& path, View v) const {
        KEEL_TRY_ASSIGN(InodeId id, resolve(path, v, false));
        const Inode& f = inode(id);
        if (f.is_dir) return invalid(path + " is a directory");
        return v == View::current ? f.current : f.durable;
    }

    Status corrupt(const std::string& path, uint64_t offset, int bit) {
        if (bit < 0 || bit > 7) return invalid("bit must be in 0..7");
        KEEL_TRY_ASSIGN(InodeId id, resolve(path, View::current, false));
        Inode& f = inode(id);
        if (f.is_dir) return invalid(path + " is a directory");
        if (offset >= f.current.size() && offset >= f.durable.size()) {
            return invalid(path + ": offset past the end");
        }
        auto mask = static_cast<uint8_t>(1u << bit);
        if (offset < f.durable.size()) f.durable[offset] ^= mask;
        if (offset < f.current.size()) {
            f.current[offset] ^= mask;
            f.rot.insert(offset);
        }
        counters_.corruptions_injected++;
        return ok_status();
    }

    uint64_t live_bytes() const { return live_bytes_; }
    size_t pending_dir_ops() const { return dir_pending_.size(); }

private:
    // A new inode, in inodes_ and in the by-id index.
    Inode& index(InodeId id) {
        Inode& node = inodes_[id];
        if (by_id_.size() <= id) by_id_.resize(id + 1, nullptr);
        by_id_[id] = &node;
        return node;
    }
    std::map<InodeId, Inode>::iterator forget(std::map<InodeId, Inode>::iterator it) {
        by_id_[it->first] = nullptr;
        return inodes_.erase(it);
    }

    std::map<InodeId, Inode> inodes_;  // ordered: crash() and listings walk it by id
    std::vector<Inode*> by_id_;        // inodes_ by id (ids are never reused): O(1) lookup
    std::deque<DirOp> dir_pending_;
    InodeId next_inode_ = kRootInode + 1;
    uint64_t live_bytes_ = 0;
};

namespace {

using State = SimDisk::State;

// What every handle of one mount shares.
struct Mount {
    std::shared_ptr<State> state;
    uint64_t generation;
    env::Executor* ex;
    env::Random* rng;

    bool stale() const { return generation != state->generation_; }

    // Counts the op, sleeps its latency, and refuses handles of an earlier incarnation.
    Status enter() {
        if (stale()) return stale_handle();
        State& s = *state;
        s.counters_.ops++;
        if ((s.faults_.latency_max.count() > 0 || s.faults_.slow_max.count() > 0) && ex->current() != 0) {
            Duration d{0};
            if (s.faults_.latency_max.count() > 0) d += rng->uniform(s.faults_.latency_min, s.faults_.latency_max);
            if (s.faults_.slow_max.count() > 0) {
                d += rng->uniform(s.faults_.slow_min, s.faults_.slow_max);
                s.counters_.ops_slowed++;
            }
            ex->sleep_for(d);
            if (stale()) return stale_handle();
        }
        return ok_status();
    }

    // Draws an injected EIO for this op.
    bool io_error() {
        double p = state->faults_.io_error_probability;
        if (p <= 0 || !rng->chance(p)) return false;
        state->counters_.io_errors++;
        return true;
    }

    // Draws an injected fsync failure (sync_error_probability).
    bool sync_error() {
        double p = state->faults_.sync_error_probability;
        if (p <= 0 || !rng->chance(p)) return false;
        state->counters_.io_errors++;
        return true;
    }

    Status enter_fallible() {
        KEEL_TRY(enter());
        if (io_error()) return eio();
        return ok_status();
    }

    Error stale_handle() const { return Error{Errc::io_error, state->node_ + ": stale handle"}; }
    Error eio() const { return Error{Errc::io_error, state->node_ + ": input/output error"}; }
};

class SimFile final : public env::File {
public:
    SimFile(Mount m, InodeId id, std::string path, bool writable)
        : m_(std::move(m)), id_(id), path_(std::move(path)), writable_(writable) {}

    ~SimFile() override {
        if (!m_.stale()) m_.state->close(id_);
    }

    Result<Bytes> read(uint64_t offset, size_t n) override {
        KEEL_TRY(m_.enter_fallible());
        const Bytes& b = m_.state->inode(id_).current;
        uint64_t begin = std::min<uint64_t>(offset, b.size());
        uint64_t end = begin + std::min<uint64_t>(n, b.size() - begin);
        Bytes out(b.begin() + static_cast<ptrdiff_t>(begin),
                  b.begin() + static_cast<ptrdiff_t>(end));
        count_rot(begin, end);
        maybe_flip_bit(out);
        return out;
    }

    Status write(uint64_t offset, ByteView data) override {
        if (!writable_) return invalid(path_ + " is open read-only");
        KEEL_TRY(m_.enter_fallible());
        if (data.empty()) return ok_status();
        return m_.state->write(id_, offset, data);
    }

    Result<uint64_t> append(ByteView data) override {
        if (!writable_) return invalid(path_ + " is open read-only");
        KEEL_TRY(m_.enter_fallible());
        uint64_t offset = m_.state->inode(id_).current.size();
        if (!data.empty()) KEEL_TRY(m_.state->write(id_, offset, data));
        return offset;
    }

    Status sync() override {
        KEEL_TRY(m_.enter());
        if (m_.state->power_loss_ && m_.ex->current() != 0 && !m_.state->inode(id_).pending.empty()) {
            // Power goes while this fsync's writes are in flight: the hook schedules the
            // crash; this fiber waits for it (it is unwound here).
            auto hook = std::move(m_.state->power_loss_);
            m_.state->power_loss_ = nullptr;
            hook();
            while (!m_.stale()) m_.ex->sleep_for(std::chrono::milliseconds(1));
            return m_.stale_handle();
        }
        if (m_.io_error() || m_.sync_error()) {
            m_.state->counters_.sync_failures++;
            m_.state->fail_sync(id_);
            return m_.eio();
        }
        m_.state->sync_file(id_);
        return ok_status();
    }

    Status truncate(uint64_t size) override {
        if (!writable_) return invalid(path_ + " is open read-only");
        KEEL_TRY(m_.enter_fallible());
        return m_.state->truncate(id_, size);
    }

    Result<uint64_t> size() override {
        KEEL_TRY(m_.enter());
        return static_cast<uint64_t>(m_.state->inode(id_).current.size());
    }

    const std::string& path() const override { return path_; }

private:
    void count_rot(uint64_t begin, uint64_t end) {
        const auto& rot = m_.state->inode(id_).rot;
        if (rot.empty()) return;
        auto n = std::distance(rot.lower_bound(begin), rot.lower_bound(end));
        m_.state->counters_.corrupt_bytes_read += static_cast<uint64_t>(n);
    }

    void maybe_flip_bit(Bytes& out) {
        double p = m_.state->faults_.bit_flip_on_read_probability;
        if (out.empty() || p <= 0 || !m_.rng->chance(p)) return;
        uint64_t bit = m_.rng->uniform(0, out.size() * 8 - 1);
        out[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
        m_.state->counters_.bit_flips_on_read++;
    }

    Mount m_;
    InodeId id_;
    std::string path_;
    bool writable_;
};

class SimDiskView final : public env::Disk {
public:
    explicit SimDiskView(Mount m) : m_(std::move(m)) {}

    Result<std::unique_ptr<env::File>> open(const std::string& path, env::OpenMode mode) override {
        KEEL_TRY(m_.enter_fallible());
        KEEL_TRY_ASSIGN(InodeId id, m_.state->open(path, mode));
        bool writable = mode != env::OpenMode::read_only;
        return std::unique_ptr<env::File>(std::make_unique<SimFile>(m_, id, path, writable));
    }
    Status make_dirs(const std::string& path) override {
        KEEL_TRY(m_.enter_fallible());
        return m_.state->make_dirs(path);
    }
    Result<std::vector<std::string>> list(const std::string& dir) override {
        KEEL_TRY(m_.enter_fallible());
        return m_.state->list(dir);
    }
    Result<bool> exists(const std::string& path) override {
        KEEL_TRY(m_.enter());
        return m_.state->exists(path);
    }
    Status remove(const std::string& path) override {
        KEEL_TRY(m_.enter_fallible());
        return m_.state->remove(path);
    }
    Status rename(const std::string& from, const std::string& to) override {
        KEEL_TRY(m_.enter_fallible());
        return m_.state->rename(from, to);
    }
    Status sync_dir(const std::string& dir) override {
        KEEL_TRY(m_.enter_fallible());
        return m_.state->sync_dir(dir);
    }

private:
    Mount m_;
};

}  // namespace

SimDisk::SimDisk(std::string node_name) : state_(std::make_shared<State>(std::move(node_name))) {}

SimDisk::~SimDisk() {
    // Mounts and files that outlive the disk see a stale handle.
    state_->generation_++;
}

std::unique_ptr<env::Disk> SimDisk::mount(env::Executor& ex, env::Random& rng) {
    return std::make_unique<SimDiskView>(Mount{state_, state_->generation_, &ex, &rng});
}

void SimDisk::crash(env::Random& rng) { state_->crash(rng); }
void SimDisk::wipe() { state_->wipe(); }
Status SimDisk::corrupt(const std::string& path, uint64_t offset, int bit) {
    return state_->corrupt(path, offset, bit);
}
Result<std::string> SimDisk::corrupt_synced_byte(env::Random& rng) {
    std::vector<std::pair<std::string, uint64_t>> candidates;  // path, synced bytes
    for (const auto& path : list_durable_files()) {
        auto cur = state_->read_file(path, View::current);
        auto dur = state_->read_file(path, View::durable);
        if (!cur.ok() || !dur.ok()) continue;  // renamed or removed since its last sync
        uint64_t n = std::min(cur->size(), dur->size());
        if (n > 0) candidates.emplace_back(path, n);
    }
    if (candidates.empty()) return Error{Errc::not_found, state_->node_ + ": no synced bytes to corrupt"};
    const auto& [path, n] = candidates[rng.uniform(0, candidates.size() - 1)];
    uint64_t offset = rng.uniform(0, n - 1);
    KEEL_TRY(corrupt(path, offset, static_cast<int>(rng.uniform(0, 7))));
    return path + "@" + std::to_string(offset);
}

void SimDisk::arm_power_loss(std::function<void()> crash) { state_->power_loss_ = std::move(crash); }
bool SimDisk::power_loss_armed() const { return state_->power_loss_ != nullptr; }

void SimDisk::set_content_hash_sink(std::function<void(uint64_t)> sink) {
    state_->content_sink_ = std::move(sink);
}

DiskFaultOptions& SimDisk::faults() { return state_->faults_; }
const DiskCounters& SimDisk::counters() const { return state_->counters_; }
const std::string& SimDisk::node_name() const { return state_->node_; }

Result<Bytes> SimDisk::read_current(const std::string& path) const {
    return state_->read_file(path, View::current);
}
Result<Bytes> SimDisk::read_durable(const std::string& path) const {
    return state_->read_file(path, View::durable);
}

std::vector<std::string> SimDisk::list_files() const {
    std::vector<std::string> out;
    state_->list_files(View::current, kRootInode, "", out);
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> SimDisk::list_durable_files() const {
    std::vector<std::string> out;
    state_->list_files(View::durable, kRootInode, "", out);
    std::sort(out.begin(), out.end());
    return out;
}

uint64_t SimDisk::used_bytes() const { return state_->live_bytes(); }
size_t SimDisk::pending_dir_ops() const { return state_->pending_dir_ops(); }
uint64_t SimDisk::generation() const { return state_->generation_; }
void SimDisk::check_invariants() const { state_->check_invariants(); }

}  // namespace keel::sim
