// RaftNode: Vote (with KIP-996 pre-vote), BeginQuorumEpoch, EndQuorumEpoch.
#include "core/raft/raft_node.h"
#include "core/raft/rpc_util.h"

namespace keel::raft {

using namespace keel::protocol;

namespace {

// (last epoch, end offset) of a candidate compared with ours: at least as up to date?
bool log_at_least_as_up_to_date(const VoteRequest::PartitionData& p, const RaftLog& log) {
    if (p.last_offset_epoch != log.last_epoch()) return p.last_offset_epoch > log.last_epoch();
    return p.last_offset >= log.end();
}

// Kafka's strictExponentialElectionBackoffMs: the first preferred candidate starts at
// once, later ones wait exponentially longer, capped at the backoff maximum.
Duration end_epoch_backoff(int position, int count, Duration max) {
    if (position == 0) return Duration(0);
    if (position < 0 || position >= count) return max;
    int64_t base = max.count() >> (count - 1);
    int64_t delay = base << (position - 1);
    return Duration(std::min(delay, max.count()));
}

}  // namespace

void RaftNode::send_vote_requests(bool pre_vote) {
    VoteRequest::PartitionData p;
    p.partition_index = metadata_partition;
    // A pre-vote asks about the epoch we would campaign in, without moving to it.
    p.candidate_epoch = pre_vote ? qs_.epoch + 1 : qs_.epoch;
    p.candidate_id = id_;
    p.last_offset_epoch = log_.last_epoch();
    p.last_offset = log_.end();
    p.pre_vote = pre_vote;
    for (NodeId v : config_.voters) {
        if (v == id_) continue;
        VoteRequest req;
        req.cluster_id = config_.cluster_id;
        req.voter_id = v;
        req.topics.push_back({std::string(metadata_topic_name), {p}});
        send_request(v, std::move(req), Outstanding{ApiKey::vote, v, qs_.epoch, pre_vote});
    }
}

void RaftNode::on_vote_request(const Message& m, const VoteRequest& req) {
    auto respond = [&](ErrorCode top, ErrorCode part, bool granted) {
        VoteResponse resp;
        resp.error_code = top;
        if (top == ErrorCode::none) {
            resp.topics.push_back({std::string(metadata_topic_name),
                                   {{metadata_partition, part, qs_.leader_id.value_or(NodeId(-1)),
                                     qs_.epoch, granted}}});
        }
        send_response(m.from, m.correlation_id, std::move(resp));
    };
    if (auto e = check_cluster_id(req.cluster_id)) return respond(*e, ErrorCode::none, false);
    const auto* p = single_partition(req.topics);
    if (p == nullptr) return respond(ErrorCode::invalid_request, ErrorCode::none, false);
    if (p->last_offset.value() < 0 || p->last_offset_epoch.value() < 0 ||
        p->last_offset_epoch >= p->candidate_epoch) {
        return respond(ErrorCode::none, ErrorCode::invalid_request, false);
    }
    if (!is_voter(p->candidate_id) || p->candidate_id != m.from) {
        return respond(ErrorCode::none, ErrorCode::inconsistent_voter_set, false);
    }
    if (p->candidate_epoch < qs_.epoch) {
        return respond(ErrorCode::none, ErrorCode::fenced_leader_epoch, false);
    }
    // The requester's own epoch: the candidate's, or the one a prospective is in (it asks
    // about the next). A later epoch always wins, as in any RPC. For a prospective this is
    // what lets a node stranded in a higher epoch (it passed a pre-vote round, then its
    // vote requests were lost while the others elected a leader in a lower epoch) bring
    // the quorum up to its epoch instead of asking in vain forever.
    QuorumEpoch requester_epoch = p->pre_vote ? p->candidate_epoch - 1 : p->candidate_epoch;
    if (requester_epoch > qs_.epoch) become_unattached(requester_epoch, std::nullopt);
    // A pre-vote changes nothing else and persists nothing.
    bool granted = p->pre_vote ? grant_pre_vote(*p) : grant_vote(*p);
    respond(ErrorCode::none, ErrorCode::none, granted);
}

bool RaftNode::grant_pre_vote(const VoteRequest::PartitionData& p) const {
    // KIP-996: refuse while a leader is known to be alive, so that a node returning from a
    // partition cannot depose a healthy leader.
    return is_active_voter() && !heard_from_leader_recently() && p.candidate_epoch > qs_.epoch &&
           log_at_least_as_up_to_date(p, log_);
}

bool RaftNode::grant_vote(const VoteRequest::PartitionData& p) {
    if (!is_active_voter() || p.candidate_epoch != qs_.epoch || qs_.leader_id) return false;
    // Invariant: at most one vote per epoch, persisted before the response leaves.
    if (qs_.voted_for) return *qs_.voted_for == p.candidate_id;
    if (!log_at_least_as_up_to_date(p, log_)) return false;
    qs_.voted_for = p.candidate_id;
    persist();
    election_deadline_ = now_ + random_election_timeout();
    return true;
}

void RaftNode::on_vote_response(const Outstanding& out, NodeId from, const VoteResponse& resp) {
    if (resp.error_code != ErrorCode::none) return;
    const auto* p = single_partition(resp.topics);
    if (p == nullptr) return;
    if (on_leader_hint(p->leader_id, p->leader_epoch)) return;
    Role expected = out.pre_vote ? Role::prospective : Role::candidate;
    if (role_ != expected || out.epoch != qs_.epoch) return;  // a previous round's answer
    count_vote(from, p->error_code == ErrorCode::none && p->vote_granted);
}

void RaftNode::count_vote(NodeId from, bool granted) {
    if (granted) {
        granted_.insert(from);
        rejected_.erase(from);
    } else if (!granted_.contains(from)) {
        rejected_.insert(from);
    }
    if (granted_.size() >= majority()) {
        if (role_ == Role::prospective) {
            become_candidate();
        } else {
            become_leader();
        }
        return;
    }
    // Lost: wait a random backoff rather than the full election timeout (Kafka does the
    // same), so that split votes resolve quickly.
    bool lost = rejected_.size() > config_.voters.size() - majority();
    if (lost && role_ == Role::prospective && qs_.leader_id) {
        // The others still follow our old leader: try fetching from it again (KIP-996).
        return become_follower(qs_.epoch, *qs_.leader_id);
    }
    if (lost && backoff_until_ == Instant::max()) {
        backoff_until_ = now_ + random_backoff();
        election_deadline_ = Instant::max();
    }
}

bool RaftNode::on_leader_hint(NodeId leader, QuorumEpoch epoch) {
    bool known = leader.value() >= 0 && leader != id_ && is_voter(leader);
    if (epoch > qs_.epoch) {
        if (known) {
            become_follower(epoch, leader);
        } else {
            become_unattached(epoch, std::nullopt);
        }
        return true;
    }
    if (epoch == qs_.epoch && known && role_ != Role::leader && role_ != Role::follower) {
        // A prospective that timed out on its leader keeps it (KIP-996) and does not go
        // back to it on hearsay: others may still be within their own fetch timeout.
        if (qs_.leader_id) return false;
        become_follower(epoch, leader);
        return true;
    }
    return false;
}

void RaftNode::on_begin_quorum_epoch(const Message& m, const BeginQuorumEpochRequest& req) {
    auto respond = [&](ErrorCode top, ErrorCode part) {
        BeginQuorumEpochResponse resp;
        resp.error_code = top;
        if (top == ErrorCode::none) {
            resp.topics.push_back({std::string(metadata_topic_name),
                                   {{metadata_partition, part, qs_.leader_id.value_or(NodeId(-1)),
                                     qs_.epoch}}});
        }
        send_response(m.from, m.correlation_id, std::move(resp));
    };
    if (auto e = check_cluster_id(req.cluster_id)) return respond(*e, ErrorCode::none);
    const auto* p = single_partition(req.topics);
    if (p == nullptr) return respond(ErrorCode::invalid_request, ErrorCode::none);
    if (p->leader_epoch < qs_.epoch) return respond(ErrorCode::none, ErrorCode::fenced_leader_epoch);
    if (!is_voter(p->leader_id) || p->leader_id != m.from || p->leader_id == id_) {
        return respond(ErrorCode::none, ErrorCode::inconsistent_voter_set);
    }
    bool same = p->leader_epoch == qs_.epoch;
    if (same && role_ == Role::leader) return respond(ErrorCode::none, ErrorCode::invalid_request);
    if (!same || !(role_ == Role::follower && qs_.leader_id == p->leader_id)) {
        become_follower(p->leader_epoch, p->leader_id);
    }
    last_leader_contact_ = now_;
    respond(ErrorCode::none, ErrorCode::none);
}

void RaftNode::on_end_quorum_epoch(const Message& m, const EndQuorumEpochRequest& req) {
    auto respond = [&](ErrorCode top, ErrorCode part) {
        EndQuorumEpochResponse resp;
        resp.error_code = top;
        if (top == ErrorCode::none) {
            resp.topics.push_back({std::string(metadata_topic_name),
                                   {{metadata_partition, part, qs_.leader_id.value_or(NodeId(-1)),
                                     qs_.epoch}}});
        }
        send_response(m.from, m.correlation_id, std::move(resp));
    };
    if (auto e = check_cluster_id(req.cluster_id)) return respond(*e, ErrorCode::none);
    const auto* p = single_partition(req.topics);
    if (p == nullptr) return respond(ErrorCode::invalid_request, ErrorCode::none);
    if (p->leader_epoch < qs_.epoch) return respond(ErrorCode::none, ErrorCode::fenced_leader_epoch);
    if (!is_voter(p->leader_id) || p->leader_id != m.from) {
        return respond(ErrorCode::none, ErrorCode::inconsistent_voter_set);
    }
    // Our leader resigning (we may already know it left, from a NOT_LEADER fetch answer).
    bool ours = p->leader_epoch == qs_.epoch && role_ != Role::leader && role_ != Role::candidate &&
                (!qs_.leader_id || qs_.leader_id == p->leader_id);
    if (p->leader_epoch > qs_.epoch || ours) {
        become_unattached(p->leader_epoch, std::nullopt);
        int position = -1;
        int count = 0;
        for (const auto& c : p->preferred_candidates) {
            if (c.candidate_id == id_) position = count;
            count++;
        }
        for (NodeId s : p->preferred_successors) {
            if (s == id_) position = count;
            count++;
        }
        election_deadline_ = now_ + end_epoch_backoff(position, count, config_.election_backoff_max);
    }
    respond(ErrorCode::none, ErrorCode::none);
}

}  // namespace keel::raft
