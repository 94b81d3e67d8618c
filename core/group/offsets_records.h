// The records of the __consumer_offsets topic, byte for byte as Kafka writes them, so a
// dump of Keel's internal topic reads like Kafka's (kafka-semantics.md §1.4):
//
//   key version 0/1  OffsetCommitKey   {group: string, topic: string, partition: int32}
//   key version 2    GroupMetadataKey  {group: string}
//   OffsetCommitValue  versions 0-4 (Keel writes v3: offset, leaderEpoch, metadata,
//                      commitTimestamp; reads 0-4)
//   GroupMetadataValue versions 0-4 (Keel writes v3: protocolType, generation, protocol,
//                      leader, currentStateTimestamp, members[memberId, groupInstanceId,
//                      clientId, clientHost, rebalanceTimeout, sessionTimeout,
//                      subscription, assignment]; reads 0-4)
// A record with a null value is a tombstone: the offset (or the whole group) is deleted,
// and compaction later removes both.
//
// The partition of a group: abs(javaStringHashCode(group_id)) % partitions, with Kafka's
// Utils.abs (n == INT_MIN ? 0 : |n|; not the producer's n & 0x7fffffff), hashing the UTF-16 code units of the string as Java does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/base/types.h"

namespace keel::group {

inline constexpr std::string_view kOffsetsTopic = "__consumer_offsets";

// Java's String.hashCode over the UTF-16 encoding of a UTF-8 group id.
int32_t java_string_hash(std::string_view utf8);
int32_t partition_for_group(std::string_view group_id, int32_t partitions);

struct OffsetCommitKey {
    std::string group;
    std::string topic;
    int32_t partition = 0;
    bool operator==(const OffsetCommitKey&) const = default;
};
struct GroupMetadataKey {
    std::string group;
    bool operator==(const GroupMetadataKey&) const = default;
};
using OffsetsKey = std::variant<OffsetCommitKey, GroupMetadataKey>;

struct OffsetCommitValue {
    int64_t offset = -1;
    int32_t leader_epoch = -1;
    std::string metadata;
    int64_t commit_timestamp_ms = -1;
    int64_t expire_timestamp_ms = -1;  // only version 1; -1 elsewhere
    bool operator==(const OffsetCommitValue&) const = default;
};

struct GroupMemberRecord {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    int32_t rebalance_timeout_ms = 0;
    int32_t session_timeout_ms = 0;
    Bytes subscription;  // the member's metadata for the chosen protocol
    Bytes assignment;
    bool operator==(const GroupMemberRecord&) const = default;
};
struct GroupMetadataValue {
    std::string protocol_type;
    int32_t generation = 0;
    std::optional<std::string> protocol;
    std::optional<std::string> leader;
    int64_t current_state_timestamp_ms = -1;
    std::vector<GroupMemberRecord> members;
    bool operator==(const GroupMetadataValue&) const = default;
};

Bytes encode_key(const OffsetsKey& key);
Bytes encode_value(const OffsetCommitValue& v, int16_t version = 3);
Bytes encode_value(const GroupMetadataValue& v, int16_t version = 3);

// Errors: Errc::corrupt_record with what is wrong (unknown version, short or trailing
// bytes). Never a crash on any input.
Result<OffsetsKey> decode_key(ByteView bytes);
Result<OffsetCommitValue> decode_offset_value(ByteView bytes);
Result<GroupMetadataValue> decode_group_value(ByteView bytes);

}  // namespace keel::group
