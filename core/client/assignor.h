// Client-side partition assignment for Kafka's classic consumer protocol
// (protocol_type "consumer"): the bytes members put in JoinGroup/SyncGroup, and the
// assignors the group leader runs, under the names the real clients use so mixed groups
// work:
//
//   "range"               per topic, partitions split in contiguous ranges over the members
//                         subscribed to it, sorted by member id (Kafka's RangeAssignor)
//   "roundrobin"          all partitions of all subscribed topics, sorted, dealt in turn to
//                         members sorted by id, skipping members not subscribed to a topic
//   "cooperative-sticky"  KIP-429: balanced (counts differ by at most one among members
//                         with the same subscription), sticky (a member keeps what it owned
//                         where balance allows), and cooperative: a partition that moves
//                         from one member to another is first left unassigned (its owner
//                         revokes it; the next rebalance gives it to its new owner)
//
// ConsumerProtocolSubscription (versions 0-3): topics, user data, owned partitions (v1+),
// generation id (v2+), rack id (v3+). ConsumerProtocolAssignment (versions 0-3):
// assigned partitions, user data. Keel writes the highest version it knows; it reads
// every version (and ignores trailing bytes of a newer one, as Kafka does).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/client/types.h"

namespace keel::client {

struct Subscription {
    std::vector<std::string> topics;
    std::optional<Bytes> user_data;
    std::vector<TopicPartitionName> owned_partitions;  // v1+
    int32_t generation_id = -1;                        // v2+
    std::optional<std::string> rack_id;                // v3+
    bool operator==(const Subscription&) const = default;
};

struct Assignment {
    std::vector<TopicPartitionName> partitions;
    std::optional<Bytes> user_data;
    bool operator==(const Assignment&) const = default;
};

Bytes encode_subscription(const Subscription& s, int16_t version = 3);
Bytes encode_assignment(const Assignment& a, int16_t version = 3);
// Errc::corrupt_record on malformed bytes (never a crash).
Result<Subscription> decode_subscription(ByteView bytes);
Result<Assignment> decode_assignment(ByteView bytes);

enum class RebalanceProtocol : uint8_t { eager, cooperative };

class Assignor {
public:
    virtual ~Assignor() = default;
    virtual std::string_view name() const = 0;  // the protocol name in JoinGroup
    virtual RebalanceProtocol protocol() const = 0;
    // members: member id → its subscription. partitions_per_topic: the partition count of
    // every topic any member subscribed to (topics missing from it are not assigned).
    // Returns an assignment for every member (possibly empty).
    virtual std::map<std::string, Assignment> assign(
        const std::map<std::string, int32_t>& partitions_per_topic,
        const std::map<std::string, Subscription>& members) const = 0;
};

// "range", "roundrobin", "cooperative-sticky"; nullptr for an unknown name.
std::unique_ptr<Assignor> make_assignor(std::string_view name);
// The "cooperative-sticky" assignor (sticky_assignor.cc); make_assignor uses it.
std::unique_ptr<Assignor> make_cooperative_sticky_assignor();

}  // namespace keel::client
