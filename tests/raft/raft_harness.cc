#include "tests/raft/raft_harness.h"

#include <algorithm>
#include <stdexcept>

#include "core/protocol/codec.h"
#include "core/raft/raft_wire.h"

namespace keel::raft::testing {

namespace {

[[noreturn]] void violated(const std::string& what) { throw std::runtime_error("SAFETY: " + what); }

std::string entry_text(const LogEntry& e) {
    return "{offset " + std::to_string(e.offset.value()) + ", epoch " +
           std::to_string(e.epoch.value()) + ", " + std::string(as_chars(e.payload)).substr(0, 20) + "}";
}

}  // namespace

// ------------------------------------------------------------------ StateMachine

Bytes StateMachine::serialize() const {
    protocol::Writer w(false);
    w.i64(next.value());
    w.i32(static_cast<int32_t>(applied.size()));
    for (const LogEntry& e : applied) {
        w.i64(e.offset.value());
        w.i32(e.epoch.value());
        w.i8(static_cast<int8_t>(e.kind));
        w.bytes(e.payload);
    }
    return w.take();
}

std::optional<StateMachine> StateMachine::load(const Snapshot& s) {
    protocol::Reader r(s.data, false);
    StateMachine sm;
    sm.next = Offset(r.i64());
    int32_t n = r.i32();
    for (int32_t i = 0; i < n && r.ok(); i++) {
        LogEntry e;
        e.offset = Offset(r.i64());
        e.epoch = QuorumEpoch(r.i32());
        e.kind = static_cast<EntryKind>(r.i8());
        e.payload = r.bytes();
        sm.applied.push_back(std::move(e));
    }
    if (!r.finish("snapshot").ok() || sm.next != s.id.end_offset) return std::nullopt;
    return sm;
}

std::vector<std::string> StateMachine::data() const {
    std::vector<std::string> out;
    for (const LogEntry& e : applied) {
        if (e.kind == EntryKind::data) out.emplace_back(as_chars(e.payload));
    }
    return out;
}

// ---------------------------------------------------------------------- Cluster

Cluster::Cluster(ClusterOptions options) : options_(std::move(options)), seed_state_(options_.seed) {
    for (int i = 1; i <= options_.voters; i++) voters_.push_back(NodeId(i));
    options_.config.voters = voters_;
    int total = options_.voters + options_.observers;
    for (int i = 1; i <= total; i++) {
        SimNode& n = nodes_[NodeId(i)];
        n.id = NodeId(i);
        n.config = options_.config;
        if (options_.tweak) options_.tweak(n.id, n.config);
        restart(NodeId(i), options_.empty_disk);
    }
}

uint64_t Cluster::next_seed() {
    uint64_t z = (seed_state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    return z ^ (z >> 27);
}

RaftNode& Cluster::raft(NodeId id) {
    SimNode& n = nodes_.at(id);
    if (!n.up || !n.raft) throw std::runtime_error("node " + std::to_string(id.value()) + " is down");
    return *n.raft;
}

std::vector<NodeId> Cluster::ids() const {
    std::vector<NodeId> out;
    for (const auto& [id, n] : nodes_) out.push_back(id);
    return out;
}

void Cluster::crash(NodeId id) {
    SimNode& n = nodes_.at(id);
    n.up = false;
    n.raft.reset();
    // Connections reset: nothing in flight to or from it arrives.
    std::erase_if(network_, [&](const Message& m) { return m.to == id || m.from == id; });
}

void Cluster::restart(NodeId id, EmptyDisk empty_disk) {
    SimNode& n = nodes_.at(id);
    if (n.up) crash(id);
    Restored restored{n.disk.quorum_state, n.disk.snapshot, n.disk.log};
    n.paused = false;
    auto node = RaftNode::create(id, n.config, std::move(restored), empty_disk, next_seed(), now_);
    if (!node.ok()) throw std::runtime_error("restart failed: " + node.error().to_string());
    n.raft.emplace(std::move(node).value());
    n.up = true;
    n.incarnation++;
    n.sm = StateMachine{};
    if (n.disk.snapshot) {
        auto sm = StateMachine::load(*n.disk.snapshot);
        if (!sm) violated("unreadable snapshot on node " + std::to_string(id.value()));
        n.sm = *sm;
    }
    n.last_role = n.raft->role();
    process_ready(n);
}

void Cluster::wipe_and_restart(NodeId id, EmptyDisk empty_disk) {
    crash(id);
    nodes_.at(id).disk = Disk{};
    restart(id, empty_disk);
}

void Cluster::start_with(NodeId id, Disk disk) {
    crash(id);
    nodes_.at(id).disk = std::move(disk);
    restart(id);
}

// ------------------------------------------------------------------------ Ready

void Cluster::process_ready(SimNode& n) {
    for (int guard = 0; n.up && n.raft->has_ready(); guard++) {
        if (guard > 1000) violated("has_ready() never became false");
        apply_ready(n, n.raft->take_ready());
    }
    check_node(n);
}

void Cluster::apply_ready(SimNode& n, Ready r) {
    Disk& d = n.disk;
    if (r.quorum_state) d.quorum_state = r.quorum_state;
    if (r.install_snapshot) {
        d.snapshot = r.install_snapshot;
        d.log.clear();
        auto sm = StateMachine::load(*r.install_snapshot);
        if (!sm) violated("installed an unreadable snapshot");
        for (const LogEntry& e : sm->applied) {
            auto it = committed_.find(e.offset);
            if (it != committed_.end() && it->second != e) violated("snapshot disagrees at " + entry_text(e));
        }
        n.sm = *sm;
    }
    if (r.truncate_to) {
        std::erase_if(d.log, [&](const LogEntry& e) { return e.offset >= *r.truncate_to; });
    }
    for (LogEntry& e : r.append) {
        Offset expected = d.log.empty() ? (d.snapshot ? d.snapshot->id.end_offset : Offset(0))
                                        : d.log.back().offset + 1;
        if (e.offset != expected) violated("non-contiguous append at " + entry_text(e));
        d.log.push_back(e);
    }
    if (r.log_start) {
        std::erase_if(d.log, [&](const LogEntry& e) { return e.offset < *r.log_start; });
    }
    for (Message& m : r.messages) network_.push_back(std::move(m));
    apply_committed(n, r.committed);
}

void Cluster::apply_committed(SimNode& n, const std::vector<LogEntry>& entries) {
    for (const LogEntry& e : entries) {
        if (e.offset != n.sm.next) violated("state machine got " + entry_text(e) + " out of order");
        auto [it, inserted] = committed_.emplace(e.offset, e);
        // State-machine safety: one entry per offset, ever.
        if (!inserted && it->second != e) {
            violated("two different entries committed at offset " + std::to_string(e.offset.value()) +
                     ": " + entry_text(it->second) + " and " + entry_text(e));
        }
        n.sm.applied.push_back(e);
        n.sm.next = e.offset + 1;
    }
}

void Cluster::check_node(SimNode& n) {
    if (!n.up) return;
    RaftNode& r = *n.raft;
    if (r.role() == Role::leader) {
        // Election safety: one leader per epoch.
        auto [it, inserted] = leaders_.emplace(r.epoch(), n.id);
        if (!inserted && it->second != n.id) {
            violated("two leaders in epoch " + std::to_string(r.epoch().value()) + ": nodes " +
                     std::to_string(it->second.value()) + " and " + std::to_string(n.id.value()));
        }
        if (n.last_role != Role::leader) {
            // Leader completeness: a new leader holds every committed entry.
            for (const auto& [off, e] : committed_) {
                if (off < r.log().start()) continue;  // inside its snapshot
                if (off >= r.log().end() || r.log().at(off) != e) {
                    violated("new leader " + std::to_string(n.id.value()) + " of epoch " +
                             std::to_string(r.epoch().value()) + " lacks committed " + entry_text(e));
                }
            }
        }
    }
    if (!r.is_listed_voter() && (r.role() == Role::candidate || r.role() == Role::prospective ||
                                 r.role() == Role::leader)) {
        violated("observer " + std::to_string(n.id.value()) + " campaigned");
    }
    if (r.applied_offset() > r.high_watermark()) violated("applied beyond the high watermark");
    n.last_role = r.role();
}

void Cluster::check_invariants() {
    for (auto& [id, n] : nodes_) check_node(n);
    // Log matching: same (offset, epoch) → same entries up to there.
    std::vector<SimNode*> up;
    for (auto& [id, n] : nodes_) {
        if (n.up) up.push_back(&n);
    }
    for (size_t i = 0; i < up.size(); i++) {
        for (size_t j = i + 1; j < up.size(); j++) {
            const RaftLog& a = up[i]->raft->log();
            const RaftLog& b = up[j]->raft->log();
            Offset lo = std::max(a.start(), b.start());
            Offset hi = std::min(a.end(), b.end());
            std::optional<Offset> last_match;
            for (Offset o = lo; o < hi; ++o) {
                if (a.at(o).epoch == b.at(o).epoch) last_match = o;
            }
            for (Offset o = lo; last_match && o <= *last_match; ++o) {
                if (a.at(o) != b.at(o)) {
                    violated("log matching broken between nodes " + std::to_string(up[i]->id.value()) +
                             " and " + std::to_string(up[j]->id.value()) + " at " + entry_text(a.at(o)));
                }
            }
        }
    }
}

std::string Cluster::dump() const {
    std::string out;
    for (const auto& [id, n] : nodes_) {
        out += "node " + std::to_string(id.value());
        if (!n.up) {
            out += " down\n";
            continue;
        }
        const RaftNode& r = *n.raft;
        out += " " + std::string(role_name(r.role())) + " epoch " + std::to_string(r.epoch().value()) +
               " leader " + (r.leader() ? std::to_string(r.leader()->value()) : "-") + " voted " +
               (r.voted_for() ? std::to_string(r.voted_for()->value()) : "-") + " log [" +
               std::to_string(r.log().start().value()) + "," + std::to_string(r.log().end().value()) +
               ") hw " + std::to_string(r.high_watermark().value()) +
               (r.quorum_state().catching_up ? " catching-up" : "") + "\n";
    }
    return out;
}

void Cluster::expect_state_machines_agree_up_to(Offset end) const {
    for (const auto& [id, n] : nodes_) {
        if (!n.up) continue;
        if (n.sm.next < end) {
            violated("node " + std::to_string(id.value()) + " applied only up to " +
                     std::to_string(n.sm.next.value()) + ", expected " + std::to_string(end.value()));
        }
        for (const LogEntry& e : n.sm.applied) {
            if (committed_.at(e.offset) != e) violated("state machine diverges at " + entry_text(e));
        }
    }
}

// ------------------------------------------------------------------- network

Message Cluster::through_the_wire(const Message& m) const {
    Bytes frame = encode_message(m, std::string("raft-") + std::to_string(m.from.value()));
    Result<Message> back = is_request(m.body)
                               ? decode_request_message(m.from, m.to, frame)
                               : decode_response_message(m.from, m.to, api_key_of(m.body), frame);
    if (!back.ok()) violated("wire round trip failed for " + describe(m) + ": " + back.error().to_string());
    return std::move(back).value();
}

void Cluster::resume(NodeId id) {
    SimNode& n = nodes_.at(id);
    n.paused = false;
    if (!n.up) return;
    n.raft->tick(now_);
    process_ready(n);
}

void Cluster::deliver(size_t index) {
    Message m = network_[index];
    network_.erase(network_.begin() + static_cast<std::ptrdiff_t>(index));
    if (drop_filter_ && drop_filter_(m)) return;
    if (!linked(m.from, m.to)) return;
    auto it = nodes_.find(m.to);
    if (it == nodes_.end() || !it->second.up) return;
    if (it->second.paused) {
        network_.push_back(std::move(m));  // waits until the node resumes
        return;
    }
    it->second.raft->step(through_the_wire(m));
    process_ready(it->second);
}

void Cluster::deliver_all(size_t max_steps) {
    // Messages to paused nodes wait; everything else goes in send order.
    for (size_t i = 0; i < max_steps; i++) {
        auto it = std::find_if(network_.begin(), network_.end(), [&](const Message& m) {
            auto n = nodes_.find(m.to);
            return n == nodes_.end() || !n->second.paused;
        });
        if (it == network_.end()) return;
        deliver(static_cast<size_t>(it - network_.begin()));
    }
    // Without time passing, traffic must die down (fetches park, elections wait for
    // timers): endless ping-pong is a livelock.
    std::string tail;
    for (size_t i = 0; i < std::min<size_t>(network_.size(), 6); i++) tail += describe(network_[i]) + "; ";
    violated("message storm: " + std::to_string(max_steps) + " deliveries without quiescence; next: " +
             tail + "\n" + dump());
}

bool Cluster::deliver_until(const std::function<bool()>& done, size_t max_steps) {
    for (size_t i = 0; i < max_steps; i++) {
        if (done()) return true;
        if (network_.empty()) return false;
        deliver(0);
    }
    return done();
}

void Cluster::inject(const Message& m) {
    SimNode& n = nodes_.at(m.to);
    n.raft->step(through_the_wire(m));
    process_ready(n);
}

void Cluster::isolate(NodeId id) {
    for (const auto& [other, n] : nodes_) {
        if (other != id) cut(id, other);
    }
}

void Cluster::cut(NodeId a, NodeId b) {
    cuts_.insert({a, b});
    cuts_.insert({b, a});
}

void Cluster::heal() { cuts_.clear(); }

bool Cluster::linked(NodeId a, NodeId b) const { return !cuts_.contains({a, b}); }

// ---------------------------------------------------------------------- time

void Cluster::run_for(Duration d) {
    Instant end = now_ + d;
    while (now_ < end) {
        now_ = std::min(end, now_ + options_.tick_step);
        for (auto& [id, n] : nodes_) {
            if (!n.up || n.paused) continue;
            n.raft->tick(now_);
            process_ready(n);
        }
        deliver_all();
    }
    check_invariants();
}

void Cluster::advance(Duration d) {
    now_ = now_ + d;
    for (auto& [id, n] : nodes_) {
        if (!n.up || n.paused) continue;
        n.raft->tick(now_);
        process_ready(n);
    }
}

void Cluster::tick_node(NodeId id, Duration d) {
    now_ = now_ + d;
    raft(id).tick(now_);
    process_ready(nodes_.at(id));
}

// ------------------------------------------------------------------- clients

std::optional<NodeId> Cluster::leader() const {
    std::optional<NodeId> best;
    QuorumEpoch best_epoch{-1};
    for (const auto& [id, n] : nodes_) {
        if (n.up && n.raft->role() == Role::leader && n.raft->epoch() > best_epoch) {
            best = id;
            best_epoch = n.raft->epoch();
        }
    }
    return best;
}

Result<Offset> Cluster::propose(NodeId on, std::string data) {
    SimNode& n = nodes_.at(on);
    if (!n.up) return Error{Errc::not_leader, "down"};
    auto r = n.raft->propose(to_bytes(data));
    process_ready(n);
    return r;
}

Status Cluster::take_snapshot(NodeId id) {
    SimNode& n = nodes_.at(id);
    RaftNode& r = raft(id);
    if (n.sm.next <= r.log().start()) return Status(Errc::invalid_argument, "nothing new to snapshot");
    SnapshotId sid{n.sm.next, r.log().epoch_at(n.sm.next - 1)};
    Bytes data = n.sm.serialize();
    Status s = r.snapshot_taken(sid, data);
    if (s.ok()) n.disk.snapshot = Snapshot{sid, std::move(data)};
    process_ready(n);
    return s;
}

}  // namespace keel::raft::testing
