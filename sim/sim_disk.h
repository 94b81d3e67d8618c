// SimDisk: the simulated physical disk of one node. It implements env::Disk / env::File
// (core/env/disk.h) and keeps two views of everything, so that a crash can drop exactly
// what a real machine could drop — and, with faults switched on, a little more.
//
// Model
// -----
// Inodes. A file inode holds its *current* bytes (what reads see: the page cache) and its
// *durable* bytes (what survives power loss), plus the ordered list of *pending* data
// ops (write at offset, truncate) issued since they last reached disk. Invariant, unless
// a sync failed (see io_error below): current == durable with every pending op replayed.
// File::sync() replays the pending ops onto the durable bytes and clears the list; it
// makes the data durable, not the directory entry that names the file.
//
// Namespace. Directories are inodes too, each with *current* and *durable* entries
// (name -> inode). Every create, mkdir, rename and remove changes the current entries at
// once and is appended to one ordered list of pending directory ops. Disk::sync_dir(d)
// makes durable every pending op that touches an entry of d (a rename touches its source
// and its destination directory), together with every earlier pending op on the same
// entries (same parent, same name), applied in their original order — so the durable
// namespace is always one that the current history could have produced. A directory
// created by make_dirs is itself an entry of its parent: a file is durably reachable only
// when every directory on its path was made durable by a sync_dir of its parent.
//
// crash(rng) — power loss:
// - Per file inode (ascending inode id), the pending data ops are lost, except that
//   with crash_keeps_unsynced_probability a random non-empty prefix of them (in order)
//   reaches disk. With torn_write_probability the write in flight is torn: the kept
//   prefix is extended by one op (if any is left) and, if its last op is a write, only a
//   prefix of that write's sectors lands (possibly none), and the sector after them
//   holds a per-byte mix of old and new bytes (old bytes past the old end read as zero).
//   Sectors are aligned on file offsets (sector_bytes).
// - Pending directory ops are lost, except that with crash_keeps_unsynced_probability a
//   random non-empty prefix of them reaches disk.
// - Then current := durable everywhere, inodes reachable from the root through no
//   durable path are freed, and every handle of an earlier mount fails with
//   Errc::io_error ("stale handle").
// - A process crash that spares the machine (kill -9, the OS keeps its page cache) is not
//   a crash(): kill the node's fibers and mount() again; nothing is lost.
// - Background writeback: when an inode has more than pending_ops_max pending ops or
//   pending_bytes_max pending bytes (or the directory list more than pending_ops_max),
//   the oldest ones reach disk, as a kernel flushing dirty pages would. Tests that want
//   "nothing unsynced survives" stay below these limits.
//
// Faults (DiskFaultOptions, all off by default; decisions draw from the mount's rng,
// and no draw is made for a fault whose probability is 0):
// - io_error_probability: each op except size() and exists() fails with Errc::io_error
//   and changes nothing. A failed File::sync() is "fsyncgate": the inode's pending ops are
//   dropped from the durable future — reads keep seeing them, but no later sync writes
//   them, so a crash loses them even after a later sync succeeded (that later sync only
//   writes what was written after the failure). After a failed sync, current may differ
//   from durable + pending. A failed sync_dir leaves its ops pending.
// - sync_error_probability: only File::sync fails (EIO), with the same fsyncgate effect.
// - bit_flip_on_read_probability: a read returns one flipped bit; storage is unchanged.
// - corrupt(): persistent damage, flips one bit of the durable and current bytes; reads
//   that return a damaged byte (not rewritten since) count corrupt_bytes_read.
// - capacity_bytes: live bytes are the current sizes of files reachable from the current
//   namespace or held open (what `df` shows). A write, append or truncate that would grow
//   them beyond capacity writes only what fits, ending on a sector boundary (possibly
//   nothing), and returns Errc::disk_full (truncate writes nothing).
// - latency_min..latency_max: each op first sleeps a uniform latency on the mount's
//   executor, when called from a fiber and latency_max > 0; outside fibers nothing
//   sleeps, so tests may call the Disk directly. The op takes effect after the sleep.
// - slow_min..slow_max: a slow disk (the nemesis's disk-slow): extra latency added to the
//   above under the same rules; ops that sleep it count ops_slowed.
//
// Paths: relative, '/'-separated, no empty, "." or ".." components ("" is the root, only
// for list, sync_dir and make_dirs). list() returns sorted names of files and
// directories. remove() of a non-empty directory -> Errc::invalid_argument; a missing
// path -> Errc::not_found; a path through a file -> Errc::invalid_argument; writing
// through a read_only handle -> Errc::invalid_argument. rename() is POSIX-like: it
// replaces a file or an empty directory, never a directory by a file or the reverse, and
// never moves a directory inside itself. Handles address the inode, so they follow
// renames and keep a removed file readable (its space is live until the last close).
//
// Determinism: ordered containers only; the same ops, faults and rng give the same bytes.
// Lifetime: the state is shared, so mounts and files may outlive the SimDisk object
// (they then fail as stale handles); a mount and its files must not outlive the
// Executor and Random they were given.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/base/types.h"
#include "core/env/disk.h"
#include "core/env/executor.h"
#include "core/env/random.h"

namespace keel::sim {

struct DiskFaultOptions {  // all off by default; the simulator/nemesis turns them on
    size_t sector_bytes = 512;
    double torn_write_probability = 0.0;            // on crash: the write in flight is torn
    double crash_keeps_unsynced_probability = 0.0;  // on crash: a prefix of pending ops lands
    double bit_flip_on_read_probability = 0.0;      // transient: one bit of a read flipped
    double io_error_probability = 0.0;              // per op: Errc::io_error (see fsyncgate)
    double sync_error_probability = 0.0;            // per File::sync only: fsyncgate failure
    uint64_t capacity_bytes = UINT64_MAX;           // Errc::disk_full beyond this many live bytes
    Duration latency_min{0}, latency_max{0};        // per op, slept by the calling fiber
    Duration slow_min{0}, slow_max{0};              // a slow disk: extra latency on top
    size_t pending_ops_max = 4096;                  // background writeback beyond this (per list)
    uint64_t pending_bytes_max = 64ULL << 20;       // background writeback beyond this (per file)
};

struct DiskCounters {
    uint64_t ops = 0;
    uint64_t bytes_written = 0;         // accepted by write/append (into the page cache)
    uint64_t bytes_synced = 0;          // written bytes made durable by File::sync
    uint64_t syncs = 0;                 // successful File::sync and Disk::sync_dir
    uint64_t unsynced_bytes_lost = 0;   // written bytes that never landed (crash, failed sync)
    uint64_t unsynced_writes_kept = 0;  // pending writes that reached disk whole in a crash
    uint64_t torn_writes = 0;
    uint64_t bit_flips_on_read = 0;
    uint64_t corruptions_injected = 0;
    uint64_t enospc_errors = 0;
    uint64_t io_errors = 0;             // every injected EIO, failed syncs included
    uint64_t sync_failures = 0;         // File::sync calls that returned an error (fsyncgate)
    uint64_t ops_slowed = 0;            // ops that slept a slow disk's extra latency
    uint64_t corrupt_bytes_read = 0;    // bytes damaged by corrupt() that a read returned
    uint64_t dir_ops_lost = 0;
    uint64_t wipes = 0;
    uint64_t crashes = 0;
    uint64_t background_writebacks = 0;  // pending ops written back because a limit was hit
};

class SimDisk {
public:
    explicit SimDisk(std::string node_name);
    ~SimDisk();
    SimDisk(const SimDisk&) = delete;
    SimDisk& operator=(const SimDisk&) = delete;

    // A Disk view for one incarnation of the node. Operations sleep a latency on ex (only
    // when called from a fiber and latency_max > 0). Fault decisions draw from rng.
    std::unique_ptr<env::Disk> mount(env::Executor& ex, env::Random& rng);
    // Power loss (see the model above). Handles from older mounts then fail with
    // Errc::io_error ("stale handle").
    void crash(env::Random& rng);
    // Whole-disk loss: the node comes back empty with the same id. Older handles go stale.
    void wipe();
    // Persistent bit rot / targeted damage: flips bit `bit` (0..7) of byte `offset` of the
    // file at `path` (current namespace) in its durable bytes and in its current bytes,
    // wherever each is long enough. A pending write over that byte, synced later, replaces
    // the damaged durable byte as a real rewrite would. Errc::not_found, or
    // Errc::invalid_argument if the offset is past both or bit is out of range.
    Status corrupt(const std::string& path, uint64_t offset, int bit);

    // Persistent damage to a byte that is durable: picks a durable file with durable bytes
    // (from rng), a byte of its synced prefix, a bit, and corrupt()s it. Returns the
    // "path@offset" it damaged, or Errc::not_found if nothing durable exists.
    Result<std::string> corrupt_synced_byte(env::Random& rng);
    // Receives a hash of every accepted write's content (the World folds it into the
    // trace hash, so a nondeterministic payload of the same size is caught).
    void set_content_hash_sink(std::function<void(uint64_t)> sink);
    // Power loss at an I/O point (as TigerBeetle's VOPR crashes at a write): the next
    // File::sync, from a fiber, of a file with pending writes calls `crash` (which must
    // schedule the node's crash, not run it) and waits, so the crash lands with that
    // fsync's writes in flight (torn or kept as the disk faults say). Disarmed once fired.
    void arm_power_loss(std::function<void()> crash);
    bool power_loss_armed() const;

    DiskFaultOptions& faults();
    const DiskCounters& counters() const;
    const std::string& node_name() const;

    // Inspection for tests and checkers (no latency, no faults, no counters).
    // read_current resolves `path` in the current namespace and returns current bytes;
    // read_durable resolves it in the durable namespace and returns durable bytes.
    Result<Bytes> read_current(const std::string& path) const;
    Result<Bytes> read_durable(const std::string& path) const;
    std::vector<std::string> list_files() const;          // every current file path, sorted
    std::vector<std::string> list_durable_files() const;  // every durable file path, sorted
    uint64_t used_bytes() const;                          // live bytes (see capacity_bytes)
    size_t pending_dir_ops() const;
    // Increments at every crash and wipe; a mount belongs to one generation.
    uint64_t generation() const;
    // Recomputes the internal bookkeeping (reference counts, live bytes) from scratch and
    // KEEL_ASSERTs that it matches. O(inodes); for tests.
    void check_invariants() const;

    class State;  // the shared state behind mounts and files (sim_disk.cc)

private:
    std::shared_ptr<State> state_;
};

}  // namespace keel::sim
