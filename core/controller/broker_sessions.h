// BrokerSessions: the active controller's soft state about broker liveness (Kafka's
// BrokerHeartbeatManager). Not in the metadata log: it is rebuilt, with a fresh session for
// every registered broker, whenever a controller becomes active — so a failover gives each
// broker a full session timeout again, as in Kafka.
//
// A broker's session is live while now < last contact + session timeout. An unfenced broker
// whose session lapsed is `expired` and must be fenced.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "core/base/types.h"
#include "core/controller/metadata_image.h"

namespace keel::controller {

class BrokerSessions {
public:
    explicit BrokerSessions(Duration session_timeout) : timeout_(session_timeout) {}

    // A registration or heartbeat from `b` arrived at `now`.
    void touch(NodeId b, Instant now);
    // Becoming active: every registered broker gets a fresh session from `now`.
    void reset(const MetadataImage& image, Instant now);
    bool has_live_session(NodeId b, Instant now) const;
    std::optional<Instant> last_contact(NodeId b) const;

    // Unfenced brokers of `image` whose session lapsed before `now`, by id. A broker never
    // seen (registered through another controller since reset) starts its session now.
    std::vector<NodeId> expired(const MetadataImage& image, Instant now);
    // When the next unfenced broker's session lapses (Instant::max() if none).
    Instant next_expiry(const MetadataImage& image) const;

    Duration session_timeout() const { return timeout_; }

private:
    Duration timeout_;
    std::map<NodeId, Instant> last_contact_;
};

}  // namespace keel::controller
