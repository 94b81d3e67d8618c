#include "core/protocol/error_codes.h"

namespace keel::protocol {

std::string error_code_name(ErrorCode code) {
    switch (code) {
#define KEEL_EC(name, upper) \
    case ErrorCode::name: return upper;
        KEEL_EC(unknown_server_error, "UNKNOWN_SERVER_ERROR")
        KEEL_EC(none, "NONE")
        KEEL_EC(offset_out_of_range, "OFFSET_OUT_OF_RANGE")
        KEEL_EC(corrupt_message, "CORRUPT_MESSAGE")
        KEEL_EC(unknown_topic_or_partition, "UNKNOWN_TOPIC_OR_PARTITION")
        KEEL_EC(invalid_fetch_size, "INVALID_FETCH_SIZE")
        KEEL_EC(leader_not_available, "LEADER_NOT_AVAILABLE")
        KEEL_EC(not_leader_or_follower, "NOT_LEADER_OR_FOLLOWER")
        KEEL_EC(request_timed_out, "REQUEST_TIMED_OUT")
        KEEL_EC(broker_not_available, "BROKER_NOT_AVAILABLE")
        KEEL_EC(replica_not_available, "REPLICA_NOT_AVAILABLE")
        KEEL_EC(message_too_large, "MESSAGE_TOO_LARGE")
        KEEL_EC(stale_controller_epoch, "STALE_CONTROLLER_EPOCH")
        KEEL_EC(offset_metadata_too_large, "OFFSET_METADATA_TOO_LARGE")
        KEEL_EC(network_exception, "NETWORK_EXCEPTION")
        KEEL_EC(coordinator_load_in_progress, "COORDINATOR_LOAD_IN_PROGRESS")
        KEEL_EC(coordinator_not_available, "COORDINATOR_NOT_AVAILABLE")
        KEEL_EC(not_coordinator, "NOT_COORDINATOR")
        KEEL_EC(invalid_topic_exception, "INVALID_TOPIC_EXCEPTION")
        KEEL_EC(record_list_too_large, "RECORD_LIST_TOO_LARGE")
        KEEL_EC(not_enough_replicas, "NOT_ENOUGH_REPLICAS")
        KEEL_EC(not_enough_replicas_after_append, "NOT_ENOUGH_REPLICAS_AFTER_APPEND")
        KEEL_EC(invalid_required_acks, "INVALID_REQUIRED_ACKS")
        KEEL_EC(illegal_generation, "ILLEGAL_GENERATION")
        KEEL_EC(inconsistent_group_protocol, "INCONSISTENT_GROUP_PROTOCOL")
        KEEL_EC(invalid_group_id, "INVALID_GROUP_ID")
        KEEL_EC(unknown_member_id, "UNKNOWN_MEMBER_ID")
        KEEL_EC(invalid_session_timeout, "INVALID_SESSION_TIMEOUT")
        KEEL_EC(rebalance_in_progress, "REBALANCE_IN_PROGRESS")
        KEEL_EC(invalid_commit_offset_size, "INVALID_COMMIT_OFFSET_SIZE")
        KEEL_EC(invalid_timestamp, "INVALID_TIMESTAMP")
        KEEL_EC(unsupported_version, "UNSUPPORTED_VERSION")
        KEEL_EC(topic_already_exists, "TOPIC_ALREADY_EXISTS")
        KEEL_EC(invalid_partitions, "INVALID_PARTITIONS")
        KEEL_EC(invalid_replication_factor, "INVALID_REPLICATION_FACTOR")
        KEEL_EC(invalid_replica_assignment, "INVALID_REPLICA_ASSIGNMENT")
        KEEL_EC(invalid_config, "INVALID_CONFIG")
        KEEL_EC(not_controller, "NOT_CONTROLLER")
        KEEL_EC(invalid_request, "INVALID_REQUEST")
        KEEL_EC(unsupported_for_message_format, "UNSUPPORTED_FOR_MESSAGE_FORMAT")
        KEEL_EC(policy_violation, "POLICY_VIOLATION")
        KEEL_EC(out_of_order_sequence_number, "OUT_OF_ORDER_SEQUENCE_NUMBER")
        KEEL_EC(duplicate_sequence_number, "DUPLICATE_SEQUENCE_NUMBER")
        KEEL_EC(invalid_producer_epoch, "INVALID_PRODUCER_EPOCH")
        KEEL_EC(invalid_txn_state, "INVALID_TXN_STATE")
        KEEL_EC(invalid_producer_id_mapping, "INVALID_PRODUCER_ID_MAPPING")
        KEEL_EC(concurrent_transactions, "CONCURRENT_TRANSACTIONS")
        KEEL_EC(kafka_storage_error, "KAFKA_STORAGE_ERROR")
        KEEL_EC(unknown_producer_id, "UNKNOWN_PRODUCER_ID")
        KEEL_EC(fenced_leader_epoch, "FENCED_LEADER_EPOCH")
        KEEL_EC(unknown_leader_epoch, "UNKNOWN_LEADER_EPOCH")
        KEEL_EC(unsupported_compression_type, "UNSUPPORTED_COMPRESSION_TYPE")
        KEEL_EC(stale_broker_epoch, "STALE_BROKER_EPOCH")
        KEEL_EC(offset_not_available, "OFFSET_NOT_AVAILABLE")
        KEEL_EC(member_id_required, "MEMBER_ID_REQUIRED")
        KEEL_EC(group_max_size_reached, "GROUP_MAX_SIZE_REACHED")
        KEEL_EC(fenced_instance_id, "FENCED_INSTANCE_ID")
        KEEL_EC(eligible_leaders_not_available, "ELIGIBLE_LEADERS_NOT_AVAILABLE")
        KEEL_EC(invalid_record, "INVALID_RECORD")
        KEEL_EC(throttling_quota_exceeded, "THROTTLING_QUOTA_EXCEEDED")
        KEEL_EC(producer_fenced, "PRODUCER_FENCED")
        KEEL_EC(resource_not_found, "RESOURCE_NOT_FOUND")
        KEEL_EC(duplicate_resource, "DUPLICATE_RESOURCE")
        KEEL_EC(inconsistent_voter_set, "INCONSISTENT_VOTER_SET")
        KEEL_EC(invalid_update_version, "INVALID_UPDATE_VERSION")
        KEEL_EC(snapshot_not_found, "SNAPSHOT_NOT_FOUND")
        KEEL_EC(position_out_of_range, "POSITION_OUT_OF_RANGE")
        KEEL_EC(unknown_topic_id, "UNKNOWN_TOPIC_ID")
        KEEL_EC(duplicate_broker_registration, "DUPLICATE_BROKER_REGISTRATION")
        KEEL_EC(broker_id_not_registered, "BROKER_ID_NOT_REGISTERED")
        KEEL_EC(inconsistent_topic_id, "INCONSISTENT_TOPIC_ID")
        KEEL_EC(inconsistent_cluster_id, "INCONSISTENT_CLUSTER_ID")
        KEEL_EC(ineligible_replica, "INELIGIBLE_REPLICA")
        KEEL_EC(new_leader_elected, "NEW_LEADER_ELECTED")
        KEEL_EC(invalid_voter_key, "INVALID_VOTER_KEY")
#undef KEEL_EC
    }
    return "UNKNOWN_ERROR_CODE_" + std::to_string(static_cast<int16_t>(code));
}

ErrorCode to_error_code(Errc e) {
    switch (e) {
        // Environment failures reach a peer only as "try again".
        case Errc::timeout: return ErrorCode::request_timed_out;
        case Errc::disconnected: return ErrorCode::network_exception;
        case Errc::connection_refused: return ErrorCode::network_exception;
        case Errc::closed: return ErrorCode::network_exception;
        case Errc::address_in_use: return ErrorCode::unknown_server_error;
        case Errc::cancelled: return ErrorCode::unknown_server_error;
        case Errc::not_found: return ErrorCode::resource_not_found;
        case Errc::already_exists: return ErrorCode::duplicate_resource;
        // A local disk problem is Kafka's storage error (the client retries elsewhere).
        case Errc::io_error: return ErrorCode::kafka_storage_error;
        case Errc::disk_full: return ErrorCode::kafka_storage_error;
        case Errc::corrupt: return ErrorCode::kafka_storage_error;
        // Data
        case Errc::corrupt_record: return ErrorCode::corrupt_message;
        case Errc::invalid_record: return ErrorCode::invalid_record;
        case Errc::message_too_large: return ErrorCode::message_too_large;
        case Errc::invalid_argument: return ErrorCode::invalid_request;
        case Errc::invalid_request: return ErrorCode::invalid_request;
        case Errc::unsupported_version: return ErrorCode::unsupported_version;
        // Log and replication
        case Errc::offset_out_of_range: return ErrorCode::offset_out_of_range;
        case Errc::not_leader: return ErrorCode::not_leader_or_follower;
        case Errc::fenced_leader_epoch: return ErrorCode::fenced_leader_epoch;
        case Errc::unknown_leader_epoch: return ErrorCode::unknown_leader_epoch;
        case Errc::not_enough_replicas: return ErrorCode::not_enough_replicas;
        case Errc::not_enough_replicas_after_append:
            return ErrorCode::not_enough_replicas_after_append;
        case Errc::unknown_topic_or_partition: return ErrorCode::unknown_topic_or_partition;
        case Errc::topic_already_exists: return ErrorCode::topic_already_exists;
        case Errc::invalid_replication_factor: return ErrorCode::invalid_replication_factor;
        case Errc::not_controller: return ErrorCode::not_controller;
        case Errc::stale_broker_epoch: return ErrorCode::stale_broker_epoch;
        // Kafka has no "fenced broker" error; a controller rejects an ISR holding a fenced
        // broker with INELIGIBLE_REPLICA (KIP-903).
        case Errc::broker_fenced: return ErrorCode::ineligible_replica;
        // The partition epoch is AlterPartition's optimistic-concurrency version.
        case Errc::invalid_partition_epoch: return ErrorCode::invalid_update_version;
        case Errc::ineligible_replica: return ErrorCode::ineligible_replica;
        // Controller
        case Errc::invalid_partitions: return ErrorCode::invalid_partitions;
        case Errc::invalid_topic: return ErrorCode::invalid_topic_exception;
        case Errc::invalid_replica_assignment: return ErrorCode::invalid_replica_assignment;
        case Errc::invalid_config: return ErrorCode::invalid_config;
        case Errc::unknown_topic_id: return ErrorCode::unknown_topic_id;
        case Errc::duplicate_broker_registration: return ErrorCode::duplicate_broker_registration;
        case Errc::broker_not_registered: return ErrorCode::broker_id_not_registered;
        case Errc::inconsistent_cluster_id: return ErrorCode::inconsistent_cluster_id;
        case Errc::unknown: return ErrorCode::unknown_server_error;
    }
    return ErrorCode::unknown_server_error;
}

Errc to_errc(ErrorCode code) {
    KEEL_ASSERT(code != ErrorCode::none);
    switch (code) {
        case ErrorCode::request_timed_out: return Errc::timeout;
        case ErrorCode::network_exception: return Errc::disconnected;
        case ErrorCode::resource_not_found: return Errc::not_found;
        case ErrorCode::duplicate_resource: return Errc::already_exists;
        case ErrorCode::kafka_storage_error: return Errc::io_error;
        case ErrorCode::corrupt_message: return Errc::corrupt_record;
        case ErrorCode::invalid_record: return Errc::invalid_record;
        case ErrorCode::message_too_large: return Errc::message_too_large;
        case ErrorCode::record_list_too_large: return Errc::message_too_large;
        case ErrorCode::invalid_request: return Errc::invalid_request;
        case ErrorCode::unsupported_version: return Errc::unsupported_version;
        case ErrorCode::offset_out_of_range: return Errc::offset_out_of_range;
        case ErrorCode::not_leader_or_follower: return Errc::not_leader;
        case ErrorCode::leader_not_available: return Errc::not_leader;
        case ErrorCode::fenced_leader_epoch: return Errc::fenced_leader_epoch;
        case ErrorCode::unknown_leader_epoch: return Errc::unknown_leader_epoch;
        case ErrorCode::not_enough_replicas: return Errc::not_enough_replicas;
        case ErrorCode::not_enough_replicas_after_append:
            return Errc::not_enough_replicas_after_append;
        case ErrorCode::unknown_topic_or_partition: return Errc::unknown_topic_or_partition;
        case ErrorCode::topic_already_exists: return Errc::topic_already_exists;
        case ErrorCode::invalid_replication_factor: return Errc::invalid_replication_factor;
        case ErrorCode::not_controller: return Errc::not_controller;
        case ErrorCode::stale_broker_epoch: return Errc::stale_broker_epoch;
        case ErrorCode::broker_id_not_registered: return Errc::broker_not_registered;
        case ErrorCode::invalid_partitions: return Errc::invalid_partitions;
        case ErrorCode::invalid_topic_exception: return Errc::invalid_topic;
        case ErrorCode::invalid_replica_assignment: return Errc::invalid_replica_assignment;
        case ErrorCode::invalid_config: return Errc::invalid_config;
        case ErrorCode::unknown_topic_id: return Errc::unknown_topic_id;
        case ErrorCode::duplicate_broker_registration: return Errc::duplicate_broker_registration;
        case ErrorCode::inconsistent_cluster_id: return Errc::inconsistent_cluster_id;
        case ErrorCode::invalid_update_version: return Errc::invalid_partition_epoch;
        case ErrorCode::ineligible_replica: return Errc::ineligible_replica;
        default: return Errc::unknown;
    }
}

Status status_from(ErrorCode code, std::string_view context) {
    if (code == ErrorCode::none) return ok_status();
    std::string message = error_code_name(code);
    if (!context.empty()) {
        message += ": ";
        message += context;
    }
    return Status(to_errc(code), std::move(message));
}

}  // namespace keel::protocol
