// Kafka error codes, and THE one place that maps keel::Errc to and from them.
// Numbers are Kafka's (org.apache.kafka.common.protocol.Errors); names are Kafka's in
// lower case. Not every Kafka code has an Errc: unmapped codes read back as Errc::unknown.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/result.h"

namespace keel::protocol {

enum class ErrorCode : int16_t {
    unknown_server_error = -1,
    none = 0,
    offset_out_of_range = 1,
    corrupt_message = 2,
    unknown_topic_or_partition = 3,
    invalid_fetch_size = 4,
    leader_not_available = 5,
    not_leader_or_follower = 6,
    request_timed_out = 7,
    broker_not_available = 8,
    replica_not_available = 9,
    message_too_large = 10,
    stale_controller_epoch = 11,
    offset_metadata_too_large = 12,
    network_exception = 13,
    coordinator_load_in_progress = 14,
    coordinator_not_available = 15,
    not_coordinator = 16,
    invalid_topic_exception = 17,
    record_list_too_large = 18,
    not_enough_replicas = 19,
    not_enough_replicas_after_append = 20,
    invalid_required_acks = 21,
    illegal_generation = 22,
    inconsistent_group_protocol = 23,
    invalid_group_id = 24,
    unknown_member_id = 25,
    invalid_session_timeout = 26,
    rebalance_in_progress = 27,
    invalid_commit_offset_size = 28,
    invalid_timestamp = 32,
    unsupported_version = 35,
    topic_already_exists = 36,
    invalid_partitions = 37,
    invalid_replication_factor = 38,
    invalid_replica_assignment = 39,
    invalid_config = 40,
    not_controller = 41,
    invalid_request = 42,
    unsupported_for_message_format = 43,
    policy_violation = 44,
    out_of_order_sequence_number = 45,
    duplicate_sequence_number = 46,
    invalid_producer_epoch = 47,
    invalid_txn_state = 48,
    invalid_producer_id_mapping = 49,
    concurrent_transactions = 51,
    kafka_storage_error = 56,
    unknown_producer_id = 59,
    fenced_leader_epoch = 74,
    unknown_leader_epoch = 75,
    unsupported_compression_type = 76,
    stale_broker_epoch = 77,
    offset_not_available = 78,
    member_id_required = 79,
    group_max_size_reached = 81,
    fenced_instance_id = 82,
    eligible_leaders_not_available = 83,
    invalid_record = 87,
    throttling_quota_exceeded = 89,
    producer_fenced = 90,
    resource_not_found = 91,
    duplicate_resource = 92,
    inconsistent_voter_set = 94,
    invalid_update_version = 95,
    snapshot_not_found = 98,
    position_out_of_range = 99,
    unknown_topic_id = 100,
    duplicate_broker_registration = 101,
    broker_id_not_registered = 102,
    inconsistent_topic_id = 103,
    inconsistent_cluster_id = 104,
    ineligible_replica = 107,
    new_leader_elected = 108,
    invalid_voter_key = 125,
};

// Kafka's upper-case name ("NOT_LEADER_OR_FOLLOWER"), or "UNKNOWN_ERROR_CODE_<n>".
std::string error_code_name(ErrorCode code);

// The Kafka code to put on the wire for an Errc. Total: every Errc has one.
ErrorCode to_error_code(Errc e);

// The Errc a Kafka code means. Requires code != none. Unmapped codes give Errc::unknown.
Errc to_errc(ErrorCode code);

// OK for ErrorCode::none, otherwise an Error with to_errc(code) and a message naming the
// Kafka code and `context`.
Status status_from(ErrorCode code, std::string_view context = {});

}  // namespace keel::protocol
