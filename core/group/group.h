// The in-memory state of one classic consumer group (Kafka's GroupMetadata and
// MemberMetadata): its state, generation, protocol, leader, members and committed offsets.
// Pure data and the decisions that need no I/O (protocol vote, "has everyone rejoined",
// state names); the coordinator (group_coordinator.cc, coordinator_*.cc) drives the
// transitions, parks the request fibers and writes the log.
//
// Members' parked JoinGroup and SyncGroup requests are promises: the coordinator fulfils
// them when the phase completes (or fails them on removal, fencing, resignation); the
// parked request fiber only holds the future.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/types.h"
#include "core/env/sync.h"
#include "core/group/offsets_records.h"
#include "core/protocol/generated/join_group_response.h"
#include "core/protocol/generated/sync_group_response.h"

namespace keel::group {

enum class GroupState : uint8_t { empty, preparing_rebalance, completing_rebalance, stable, dead };

// Kafka's names, as DescribeGroups and ListGroups report them.
std::string_view state_name(GroupState s);

using JoinPromise = env::Promise<protocol::JoinGroupResponse>;
using SyncPromise = env::Promise<protocol::SyncGroupResponse>;

struct Member {
    std::string id;
    std::optional<std::string> instance_id;
    std::string client_id;
    std::string client_host;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = 0;
    std::string protocol_type;
    std::vector<std::pair<std::string, Bytes>> protocols;  // in the member's preference order
    Bytes assignment;
    Instant session_deadline{};
    std::unique_ptr<JoinPromise> join;  // a parked JoinGroup
    std::unique_ptr<SyncPromise> sync;  // a parked SyncGroup
    bool pending_sync = false;          // joined this generation, SyncGroup not seen yet

    bool awaiting_join() const { return join != nullptr; }
    const Bytes* metadata(const std::string& protocol) const;
    bool same_protocols(const std::vector<std::pair<std::string, Bytes>>& other) const;
};

struct TopicPartitionKey {
    std::string topic;
    int32_t partition = 0;
    auto operator<=>(const TopicPartitionKey&) const = default;
};

struct ConsumerGroupState;  // consumer_protocol.h

struct Group {
    std::string id;
    // Set for a KIP-848 group (type "consumer"): its members live there, not in `members`.
    std::shared_ptr<ConsumerGroupState> cg;
    int32_t partition = 0;  // of __consumer_offsets
    GroupState state = GroupState::empty;
    int32_t generation = 0;
    std::optional<std::string> protocol_type;
    std::optional<std::string> protocol;
    std::optional<std::string> leader;
    int64_t state_timestamp_ms = -1;  // wall clock of the last state change
    std::map<std::string, std::unique_ptr<Member>> members;
    std::map<std::string, std::string> instances;  // group.instance.id -> member id
    std::map<std::string, Instant> pending_members;  // MEMBER_ID_REQUIRED sent; expiry
    std::map<TopicPartitionKey, OffsetCommitValue> offsets;

    // PreparingRebalance: when the join phase ends at the latest; the initial delay of a
    // new group (InitialDelayedJoin) while `initial_delay` is set.
    Instant join_deadline{};
    bool initial_delay = false;
    bool new_member_added = false;
    Duration initial_delay_remaining{0};
    // CompletingRebalance: when members that did not sync are removed.
    Instant sync_deadline{};

    Member* member(const std::string& member_id);
    bool has(const std::string& member_id) const { return members.count(member_id) != 0; }
    // A static member whose instance maps to another member id is fenced.
    bool fenced(const std::optional<std::string>& instance_id, const std::string& member_id) const;
    bool all_joined() const;
    int32_t max_rebalance_timeout_ms() const;
    // Kafka's supportsProtocols: the group accepts a member of this type and protocols.
    bool supports(const std::string& type, const std::vector<std::pair<std::string, Bytes>>& protocols) const;
    // Kafka's selectProtocol: the most-voted among the protocols every member supports.
    std::optional<std::string> select_protocol() const;
    bool is_leader(const std::string& member_id) const { return leader && *leader == member_id; }

    GroupMetadataValue to_record() const;
};

}  // namespace keel::group
