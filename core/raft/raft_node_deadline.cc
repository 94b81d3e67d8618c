// RaftNode::next_deadline: when tick() may next act, mirroring tick() role by role, so
// that a driver can sleep instead of polling. Waking early is harmless (tick does
// nothing); waking late is not, so every timer tick() reads is here.
#include "core/raft/raft_node.h"

namespace keel::raft {

Instant RaftNode::next_deadline() const {
    Instant d = Instant::max();
    auto at = [&](Instant t) { d = std::min(d, t); };
    for (const auto& [corr, out] : outstanding_) at(out.deadline);  // expire_outstanding
    switch (role_) {
        case Role::leader:
            for (const auto& [to, pf] : parked_) at(pf.deadline);
            // Check-quorum: the count of live voters drops when one's last fetch ages out.
            for (const auto& [v, p] : voter_progress_) {
                Instant ages_out = p.last_fetch + config_.check_quorum_timeout;
                if (v != id_ && ages_out > now_) at(ages_out);
            }
            at(begin_quorum_resend_at_);
            break;
        case Role::follower:
            at(fetch_deadline_);
            if (!fetch_in_flight_) at(next_fetch_at_);
            break;
        case Role::unattached:
            if (is_active_voter()) {
                at(election_deadline_);
            } else if (!fetch_in_flight_) {
                at(next_fetch_at_);
            }
            break;
        case Role::prospective:
        case Role::candidate: at(std::min(backoff_until_, election_deadline_)); break;
    }
    return d;
}

}  // namespace keel::raft
