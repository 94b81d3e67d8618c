// GroupAdmin: what Kafka's kafka-consumer-groups.sh shows, over the wire protocol — the
// groups of a cluster, a group's state and members with their assignments, and its lag:
// per partition, the high watermark minus the group's committed offset.
//
//   client::GroupAdmin admin(env, {{"localhost", 9092}});
//   auto groups = admin.list_groups();                 // ListGroups to every broker
//   auto d = admin.describe("billing");                // FindCoordinator + DescribeGroups
//   auto lag = admin.lag("billing");                   // OffsetFetch (all) + ListOffsets latest
//   auto plan = admin.reset_offsets("billing", {"orders", ResetTo::earliest}, /*execute=*/true);
//
// Member assignments are decoded when the group's protocol type is "consumer" (Kafka's
// ConsumerProtocolAssignment, assignor.h); other groups keep them empty. Lag is per
// partition with a committed offset; a partition whose high watermark cannot be read has
// no lag (log_end -1). Errors: no broker answered, the coordinator's (COORDINATOR_NOT_AVAILABLE
// after retries within the timeout, GROUP_ID_NOT_FOUND for describe of an unknown group is
// a state "Dead" as Kafka answers it).
//
// reset_offsets is kafka-consumer-groups.sh --reset-offsets: the new committed offset of
// every partition of one topic (earliest, latest, or a given offset clamped to the
// partition's [earliest, latest]); with execute, committed by an OffsetCommit outside any
// generation (generation -1, no member id), which a coordinator accepts only for a group
// without members. A group with members is refused (Errc::invalid_request) before anything
// is committed.
//
// Threading: calls from fibers of the env's node, one at a time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/client/connection.h"
#include "core/client/metadata.h"
#include "core/client/types.h"
#include "core/env/env.h"

namespace keel::client {

struct GroupListing {
    std::string group_id;
    std::string protocol_type;  // "consumer" for consumer groups
    std::string state;          // ListGroups v4+; "" from older brokers
};

struct GroupMemberDescription {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    std::vector<TopicPartitionName> assignment;
};

struct GroupDescription {
    std::string group_id;
    std::string state;  // Empty, PreparingRebalance, CompletingRebalance, Stable, Dead
    std::string protocol_type;
    std::string protocol;  // the assignor the group chose
    NodeId coordinator{-1};
    std::vector<GroupMemberDescription> members;
};

struct PartitionLag {
    TopicPartitionName partition;
    Offset committed{-1};
    Offset log_end{-1};  // the high watermark (ListOffsets latest); -1 if unknown
    int64_t lag = -1;    // log_end - committed; -1 if unknown
    std::string owner;   // the member id assigned the partition, "" if none
};

enum class ResetTo : uint8_t { earliest, latest, offset };

struct OffsetResetSpec {
    std::string topic;
    ResetTo to = ResetTo::earliest;
    int64_t offset = 0;  // ResetTo::offset only
};

struct OffsetResetPlan {
    TopicPartitionName partition;
    Offset current{-1};  // the committed offset now; -1 if none
    Offset target{-1};   // the offset to commit
};

class GroupAdmin {
public:
    GroupAdmin(env::Env& env, std::vector<env::Address> bootstrap, Duration timeout = ms(30'000));
    ~GroupAdmin();
    GroupAdmin(const GroupAdmin&) = delete;
    GroupAdmin& operator=(const GroupAdmin&) = delete;

    Result<std::vector<GroupListing>> list_groups();
    Result<GroupDescription> describe(const std::string& group);
    // Committed offsets, high watermarks and lag of every partition the group committed,
    // sorted by topic and partition; owners from describe().
    Result<std::vector<PartitionLag>> lag(const std::string& group);
    // The plan, sorted by partition; committed when execute is true.
    Result<std::vector<OffsetResetPlan>> reset_offsets(const std::string& group, const OffsetResetSpec& spec,
                                                       bool execute);

private:
    Result<std::pair<NodeId, env::Address>> coordinator(const std::string& group, Instant deadline);
    Result<std::vector<PartitionLag>> committed(const std::string& group, const env::Address& coord,
                                                Instant deadline);
    void fill_log_ends(std::vector<PartitionLag>& lags, Instant deadline);
    // ListOffsets of one partition at `timestamp` (-1 latest, -2 earliest) from its leader.
    Result<int64_t> list_offset(const TopicPartitionName& tp, int64_t timestamp, Instant deadline);
    Result<std::vector<OffsetResetPlan>> plan_reset(const std::string& group, const env::Address& coord,
                                                    const OffsetResetSpec& spec, Instant deadline);
    Status commit_plan(const std::string& group, const env::Address& coord, const std::vector<OffsetResetPlan>& plan,
                       Instant deadline);

    env::Env& env_;
    Duration timeout_;
    ConnectionPool pool_;
    MetadataCache metadata_;
};

}  // namespace keel::client
