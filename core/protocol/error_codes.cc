#include "core/protocol/error_codes.h"

#include <iterator>

namespace keel::protocol {

namespace {

// Kafka's error table. The `errc` column is the decoding half of the Errc <-> code mapping
// (to_errc); to_error_code below is the encoding half.
constexpr ErrorCodeInfo kErrors[] = {
    {ErrorCode::unknown_server_error, "UNKNOWN_SERVER_ERROR", false, Errc::unknown,
     "The server experienced an unexpected error when processing the request."},
    {ErrorCode::none, "NONE", false, Errc::unknown,
     ""},
    {ErrorCode::offset_out_of_range, "OFFSET_OUT_OF_RANGE", false, Errc::offset_out_of_range,
     "The requested offset is not within the range of offsets maintained by the server."},
    {ErrorCode::corrupt_message, "CORRUPT_MESSAGE", true, Errc::corrupt_record,
     "This message has failed its CRC checksum, exceeds the valid size, has a null key for a "
     "compacted topic, or is otherwise corrupt."},
    {ErrorCode::unknown_topic_or_partition, "UNKNOWN_TOPIC_OR_PARTITION",
     true, Errc::unknown_topic_or_partition,
     "This server does not host this topic-partition."},
    {ErrorCode::invalid_fetch_size, "INVALID_FETCH_SIZE", false, Errc::unknown,
     "The requested fetch size is invalid."},
    {ErrorCode::leader_not_available, "LEADER_NOT_AVAILABLE", true, Errc::not_leader,
     "There is no leader for this topic-partition as we are in the middle of a leadership "
     "election."},
    {ErrorCode::not_leader_or_follower, "NOT_LEADER_OR_FOLLOWER", true, Errc::not_leader,
     "For requests intended only for the leader, this error indicates that the broker is not "
     "the current leader. For requests intended for any replica, this error indicates that the"
     " broker is not a replica of the topic partition."},
    {ErrorCode::request_timed_out, "REQUEST_TIMED_OUT", true, Errc::timeout,
     "The request timed out."},
    {ErrorCode::broker_not_available, "BROKER_NOT_AVAILABLE", false, Errc::unknown,
     "The broker is not available."},
    {ErrorCode::replica_not_available, "REPLICA_NOT_AVAILABLE", true, Errc::unknown,
     "The replica is not available for the requested topic-partition. Produce/Fetch requests "
     "and other requests intended only for the leader or follower return "
     "NOT_LEADER_OR_FOLLOWER if the broker is not a replica of the topic-partition."},
    {ErrorCode::message_too_large, "MESSAGE_TOO_LARGE", false, Errc::message_too_large,
     "The request included a message larger than the max message size the server will accept."},
    {ErrorCode::stale_controller_epoch, "STALE_CONTROLLER_EPOCH", false, Errc::unknown,
     "The controller moved to another broker."},
    {ErrorCode::offset_metadata_too_large, "OFFSET_METADATA_TOO_LARGE", false, Errc::unknown,
     "The metadata field of the offset request was too large."},
    {ErrorCode::network_exception, "NETWORK_EXCEPTION", true, Errc::disconnected,
     "The server disconnected before a response was received."},
    {ErrorCode::coordinator_load_in_progress, "COORDINATOR_LOAD_IN_PROGRESS", true,
     Errc::coordinator_load_in_progress,
     "The coordinator is loading and hence can't process requests."},
    {ErrorCode::coordinator_not_available, "COORDINATOR_NOT_AVAILABLE", true, Errc::unknown,
     "The coordinator is not available."},
    {ErrorCode::not_coordinator, "NOT_COORDINATOR", true, Errc::unknown,
     "This is not the correct coordinator."},
    {ErrorCode::invalid_topic_exception, "INVALID_TOPIC_EXCEPTION", false, Errc::invalid_topic,
     "The request attempted to perform an operation on an invalid topic."},
    {ErrorCode::record_list_too_large, "RECORD_LIST_TOO_LARGE", false, Errc::message_too_large,
     "The request included message batch larger than the configured segment size on the "
     "server."},
    {ErrorCode::not_enough_replicas, "NOT_ENOUGH_REPLICAS", true, Errc::not_enough_replicas,
     "Messages are rejected since there are fewer in-sync replicas than required."},
    {ErrorCode::not_enough_replicas_after_append, "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
     true, Errc::not_enough_replicas_after_append,
     "Messages are written to the log, but to fewer in-sync replicas than required."},
    {ErrorCode::invalid_required_acks, "INVALID_REQUIRED_ACKS", false, Errc::unknown,
     "Produce request specified an invalid value for required acks."},
    {ErrorCode::illegal_generation, "ILLEGAL_GENERATION", false, Errc::unknown,
     "Specified group generation id is not valid."},
    {ErrorCode::inconsistent_group_protocol, "INCONSISTENT_GROUP_PROTOCOL", false, Errc::unknown,
     "The group member's supported protocols are incompatible with those of existing members "
     "or first group member tried to join with empty protocol type or empty protocol list."},
    {ErrorCode::invalid_group_id, "INVALID_GROUP_ID", false, Errc::unknown,
     "The configured groupId is invalid."},
    {ErrorCode::unknown_member_id, "UNKNOWN_MEMBER_ID", false, Errc::unknown,
     "The coordinator is not aware of this member."},
    {ErrorCode::invalid_session_timeout, "INVALID_SESSION_TIMEOUT", false, Errc::unknown,
     "The session timeout is not within the range allowed by the broker (as configured by "
     "group.min.session.timeout.ms and group.max.session.timeout.ms)."},
    {ErrorCode::rebalance_in_progress, "REBALANCE_IN_PROGRESS", false, Errc::unknown,
     "The group is rebalancing, so a rejoin is needed."},
    {ErrorCode::invalid_commit_offset_size, "INVALID_COMMIT_OFFSET_SIZE", false, Errc::unknown,
     "The committing offset data size is not valid."},
    {ErrorCode::topic_authorization_failed, "TOPIC_AUTHORIZATION_FAILED", false, Errc::unknown,
     "Topic authorization failed."},
    {ErrorCode::group_authorization_failed, "GROUP_AUTHORIZATION_FAILED", false, Errc::unknown,
     "Group authorization failed."},
    {ErrorCode::cluster_authorization_failed, "CLUSTER_AUTHORIZATION_FAILED", false, Errc::unknown,
     "Cluster authorization failed."},
    {ErrorCode::invalid_timestamp, "INVALID_TIMESTAMP", false, Errc::unknown,
     "The timestamp of the message is out of acceptable range."},
    {ErrorCode::unsupported_sasl_mechanism, "UNSUPPORTED_SASL_MECHANISM", false, Errc::unknown,
     "The broker does not support the requested SASL mechanism."},
    {ErrorCode::illegal_sasl_state, "ILLEGAL_SASL_STATE", false, Errc::unknown,
     "Request is not valid given the current SASL state."},
    {ErrorCode::unsupported_version, "UNSUPPORTED_VERSION", false, Errc::unsupported_version,
     "The version of API is not supported."},
    {ErrorCode::topic_already_exists, "TOPIC_ALREADY_EXISTS", false, Errc::topic_already_exists,
     "Topic with this name already exists."},
    {ErrorCode::invalid_partitions, "INVALID_PARTITIONS", false, Errc::invalid_partitions,
     "Number of partitions is below 1."},
    {ErrorCode::invalid_replication_factor, "INVALID_REPLICATION_FACTOR",
     false, Errc::invalid_replication_factor,
     "Replication factor is below 1 or larger than the number of available brokers."},
    {ErrorCode::invalid_replica_assignment, "INVALID_REPLICA_ASSIGNMENT",
     false, Errc::invalid_replica_assignment,
     "Replica assignment is invalid."},
    {ErrorCode::invalid_config, "INVALID_CONFIG", false, Errc::invalid_config,
     "Configuration is invalid."},
    {ErrorCode::not_controller, "NOT_CONTROLLER", true, Errc::not_controller,
     "This is not the correct controller for this cluster."},
    {ErrorCode::invalid_request, "INVALID_REQUEST", false, Errc::invalid_request,
     "This most likely occurs because of a request being malformed by the client library or "
     "the message was sent to an incompatible broker. See the broker logs for more details."},
    {ErrorCode::unsupported_for_message_format, "UNSUPPORTED_FOR_MESSAGE_FORMAT",
     false, Errc::unknown,
     "The message format version on the broker does not support the request."},
    {ErrorCode::policy_violation, "POLICY_VIOLATION", false, Errc::unknown,
     "Request parameters do not satisfy the configured policy."},
    {ErrorCode::out_of_order_sequence_number, "OUT_OF_ORDER_SEQUENCE_NUMBER", false, Errc::unknown,
     "The broker received an out of order sequence number."},
    {ErrorCode::duplicate_sequence_number, "DUPLICATE_SEQUENCE_NUMBER", false, Errc::unknown,
     "The broker received a duplicate sequence number."},
    {ErrorCode::invalid_producer_epoch, "INVALID_PRODUCER_EPOCH", false, Errc::unknown,
     "Producer attempted to produce with an old epoch."},
    {ErrorCode::invalid_txn_state, "INVALID_TXN_STATE", false, Errc::unknown,
     "The producer attempted a transactional operation in an invalid state."},
    {ErrorCode::invalid_producer_id_mapping, "INVALID_PRODUCER_ID_MAPPING", false, Errc::unknown,
     "The producer attempted to use a producer id which is not currently assigned to its "
     "transactional id."},
    {ErrorCode::invalid_transaction_timeout, "INVALID_TRANSACTION_TIMEOUT", false, Errc::unknown,
     "The transaction timeout is larger than the maximum value allowed by the broker (as "
     "configured by transaction.max.timeout.ms)."},
    {ErrorCode::concurrent_transactions, "CONCURRENT_TRANSACTIONS", true, Errc::unknown,
     "The producer attempted to update a transaction while another concurrent operation on the"
     " same transaction was ongoing."},
    {ErrorCode::transaction_coordinator_fenced, "TRANSACTION_COORDINATOR_FENCED",
     false, Errc::unknown,
     "Indicates that the transaction coordinator sending a WriteTxnMarker is no longer the "
     "current coordinator for a given producer."},
    {ErrorCode::transactional_id_authorization_failed, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
     false, Errc::unknown,
     "Transactional Id authorization failed."},
    {ErrorCode::security_disabled, "SECURITY_DISABLED", false, Errc::unknown,
     "Security features are disabled."},
    {ErrorCode::operation_not_attempted, "OPERATION_NOT_ATTEMPTED", false, Errc::unknown,
     "The broker did not attempt to execute this operation. This may happen for batched RPCs "
     "where some operations in the batch failed, causing the broker to respond without trying "
     "the rest."},
    {ErrorCode::kafka_storage_error, "KAFKA_STORAGE_ERROR", true, Errc::io_error,
     "Disk error when trying to access log file on the disk."},
    {ErrorCode::log_dir_not_found, "LOG_DIR_NOT_FOUND", false, Errc::unknown,
     "The user-specified log directory is not found in the broker config."},
    {ErrorCode::sasl_authentication_failed, "SASL_AUTHENTICATION_FAILED", false, Errc::unknown,
     "SASL Authentication failed."},
    {ErrorCode::unknown_producer_id, "UNKNOWN_PRODUCER_ID", false, Errc::unknown,
     "This exception is raised by the broker if it could not locate the producer metadata "
     "associated with the producerId in question. This could happen if, for instance, the "
     "producer's records were deleted because their retention time had elapsed. Once the last "
     "records of the producerId are removed, the producer's metadata is removed from the "
     "broker, and future appends by the producer will return this exception."},
    {ErrorCode::reassignment_in_progress, "REASSIGNMENT_IN_PROGRESS", false, Errc::unknown,
     "A partition reassignment is in progress."},
    {ErrorCode::delegation_token_auth_disabled, "DELEGATION_TOKEN_AUTH_DISABLED",
     false, Errc::unknown,
     "Delegation Token feature is not enabled."},
    {ErrorCode::delegation_token_not_found, "DELEGATION_TOKEN_NOT_FOUND", false, Errc::unknown,
     "Delegation Token is not found on server."},
    {ErrorCode::delegation_token_owner_mismatch, "DELEGATION_TOKEN_OWNER_MISMATCH",
     false, Errc::unknown,
     "Specified Principal is not valid Owner/Renewer."},
    {ErrorCode::delegation_token_request_not_allowed, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED",
     false, Errc::unknown,
     "Delegation Token requests are not allowed on PLAINTEXT/1-way SSL channels and on "
     "delegation token authenticated channels."},
    {ErrorCode::delegation_token_authorization_failed, "DELEGATION_TOKEN_AUTHORIZATION_FAILED",
     false, Errc::unknown,
     "Delegation Token authorization failed."},
    {ErrorCode::delegation_token_expired, "DELEGATION_TOKEN_EXPIRED", false, Errc::unknown,
     "Delegation Token is expired."},
    {ErrorCode::invalid_principal_type, "INVALID_PRINCIPAL_TYPE", false, Errc::unknown,
     "Supplied principalType is not supported."},
    {ErrorCode::non_empty_group, "NON_EMPTY_GROUP", false, Errc::unknown,
     "The group is not empty."},
    {ErrorCode::group_id_not_found, "GROUP_ID_NOT_FOUND", false, Errc::unknown,
     "The group id does not exist."},
    {ErrorCode::fetch_session_id_not_found, "FETCH_SESSION_ID_NOT_FOUND", true, Errc::unknown,
     "The fetch session ID was not found."},
    {ErrorCode::invalid_fetch_session_epoch, "INVALID_FETCH_SESSION_EPOCH", true, Errc::unknown,
     "The fetch session epoch is invalid."},
    {ErrorCode::listener_not_found, "LISTENER_NOT_FOUND", true, Errc::unknown,
     "There is no listener on the leader broker that matches the listener on which metadata "
     "request was processed."},
    {ErrorCode::topic_deletion_disabled, "TOPIC_DELETION_DISABLED", false, Errc::unknown,
     "Topic deletion is disabled."},
    {ErrorCode::fenced_leader_epoch, "FENCED_LEADER_EPOCH", true, Errc::fenced_leader_epoch,
     "The leader epoch in the request is older than the epoch on the broker."},
    {ErrorCode::unknown_leader_epoch, "UNKNOWN_LEADER_EPOCH", true, Errc::unknown_leader_epoch,
     "The leader epoch in the request is newer than the epoch on the broker."},
    {ErrorCode::unsupported_compression_type, "UNSUPPORTED_COMPRESSION_TYPE", false, Errc::unknown,
     "The requesting client does not support the compression type of given partition."},
    {ErrorCode::stale_broker_epoch, "STALE_BROKER_EPOCH", false, Errc::stale_broker_epoch,
     "Broker epoch has changed."},
    {ErrorCode::offset_not_available, "OFFSET_NOT_AVAILABLE", true, Errc::unknown,
     "The leader high watermark has not caught up from a recent leader election so the offsets"
     " cannot be guaranteed to be monotonically increasing."},
    {ErrorCode::member_id_required, "MEMBER_ID_REQUIRED", false, Errc::unknown,
     "The group member needs to have a valid member id before actually entering a consumer "
     "group."},
    {ErrorCode::preferred_leader_not_available, "PREFERRED_LEADER_NOT_AVAILABLE",
     true, Errc::unknown,
     "The preferred leader was not available."},
    {ErrorCode::group_max_size_reached, "GROUP_MAX_SIZE_REACHED", false, Errc::unknown,
     "The consumer group has reached its max size."},
    {ErrorCode::fenced_instance_id, "FENCED_INSTANCE_ID", false, Errc::unknown,
     "The broker rejected this static consumer since another consumer with the same "
     "group.instance.id has registered with a different member.id."},
    {ErrorCode::eligible_leaders_not_available, "ELIGIBLE_LEADERS_NOT_AVAILABLE",
     true, Errc::unknown,
     "Eligible topic partition leaders are not available."},
    {ErrorCode::election_not_needed, "ELECTION_NOT_NEEDED", true, Errc::unknown,
     "Leader election not needed for topic partition."},
    {ErrorCode::no_reassignment_in_progress, "NO_REASSIGNMENT_IN_PROGRESS", false, Errc::unknown,
     "No partition reassignment is in progress."},
    {ErrorCode::group_subscribed_to_topic, "GROUP_SUBSCRIBED_TO_TOPIC", false, Errc::unknown,
     "Deleting offsets of a topic is forbidden while the consumer group is actively subscribed"
     " to it."},
    {ErrorCode::invalid_record, "INVALID_RECORD", false, Errc::invalid_record,
     "This record has failed the validation on broker and hence will be rejected."},
    {ErrorCode::unstable_offset_commit, "UNSTABLE_OFFSET_COMMIT", true, Errc::unknown,
     "There are unstable offsets that need to be cleared."},
    {ErrorCode::throttling_quota_exceeded, "THROTTLING_QUOTA_EXCEEDED", true, Errc::unknown,
     "The throttling quota has been exceeded."},
    {ErrorCode::producer_fenced, "PRODUCER_FENCED", false, Errc::unknown,
     "There is a newer producer with the same transactionalId which fences the current one."},
    {ErrorCode::resource_not_found, "RESOURCE_NOT_FOUND", false, Errc::not_found,
     "A request illegally referred to a resource that does not exist."},
    {ErrorCode::duplicate_resource, "DUPLICATE_RESOURCE", false, Errc::already_exists,
     "A request illegally referred to the same resource twice."},
    {ErrorCode::unacceptable_credential, "UNACCEPTABLE_CREDENTIAL", false, Errc::unknown,
     "Requested credential would not meet criteria for acceptability."},
    {ErrorCode::inconsistent_voter_set, "INCONSISTENT_VOTER_SET", false, Errc::unknown,
     "Indicates that the either the sender or recipient of a voter-only request is not one of "
     "the expected voters."},
    {ErrorCode::invalid_update_version, "INVALID_UPDATE_VERSION",
     false, Errc::invalid_partition_epoch,
     "The given update version was invalid."},
    {ErrorCode::feature_update_failed, "FEATURE_UPDATE_FAILED", false, Errc::unknown,
     "Unable to update finalized features due to an unexpected server error."},
    {ErrorCode::principal_deserialization_failure, "PRINCIPAL_DESERIALIZATION_FAILURE",
     false, Errc::unknown,
     "Request principal deserialization failed during forwarding. This indicates an internal "
     "error on the broker cluster security setup."},
    {ErrorCode::snapshot_not_found, "SNAPSHOT_NOT_FOUND", false, Errc::unknown,
     "Requested snapshot was not found."},
    {ErrorCode::position_out_of_range, "POSITION_OUT_OF_RANGE", false, Errc::unknown,
     "Requested position is not greater than or equal to zero, and less than the size of the "
     "snapshot."},
    {ErrorCode::unknown_topic_id, "UNKNOWN_TOPIC_ID", true, Errc::unknown_topic_id,
     "This server does not host this topic ID."},
    {ErrorCode::duplicate_broker_registration, "DUPLICATE_BROKER_REGISTRATION",
     false, Errc::duplicate_broker_registration,
     "This broker ID is already in use."},
    {ErrorCode::broker_id_not_registered, "BROKER_ID_NOT_REGISTERED",
     false, Errc::broker_not_registered,
     "The given broker ID was not registered."},
    {ErrorCode::inconsistent_topic_id, "INCONSISTENT_TOPIC_ID", true, Errc::unknown,
     "The log's topic ID did not match the topic ID in the request."},
    {ErrorCode::inconsistent_cluster_id, "INCONSISTENT_CLUSTER_ID",
     false, Errc::inconsistent_cluster_id,
     "The clusterId in the request does not match that found on the server."},
    {ErrorCode::transactional_id_not_found, "TRANSACTIONAL_ID_NOT_FOUND", false, Errc::unknown,
     "The transactionalId could not be found."},
    {ErrorCode::fetch_session_topic_id_error, "FETCH_SESSION_TOPIC_ID_ERROR", true, Errc::unknown,
     "The fetch session encountered inconsistent topic ID usage."},
    {ErrorCode::ineligible_replica, "INELIGIBLE_REPLICA", false, Errc::ineligible_replica,
     "The new ISR contains at least one ineligible replica."},
    {ErrorCode::new_leader_elected, "NEW_LEADER_ELECTED", false, Errc::unknown,
     "The AlterPartition request successfully updated the partition state but the leader has "
     "changed."},
    {ErrorCode::offset_moved_to_tiered_storage, "OFFSET_MOVED_TO_TIERED_STORAGE",
     false, Errc::unknown,
     "The requested offset is moved to tiered storage."},
    {ErrorCode::fenced_member_epoch, "FENCED_MEMBER_EPOCH", false, Errc::unknown,
     "The member epoch is fenced by the group coordinator. The member must abandon all its "
     "partitions and rejoin."},
    {ErrorCode::unreleased_instance_id, "UNRELEASED_INSTANCE_ID", false, Errc::unknown,
     "The instance ID is still used by another member in the consumer group. That member must "
     "leave first."},
    {ErrorCode::unsupported_assignor, "UNSUPPORTED_ASSIGNOR", false, Errc::unknown,
     "The assignor or its version range is not supported by the consumer group."},
    {ErrorCode::stale_member_epoch, "STALE_MEMBER_EPOCH", false, Errc::unknown,
     "The member epoch is stale. The member must retry after receiving its updated member "
     "epoch via the ConsumerGroupHeartbeat API."},
    {ErrorCode::mismatched_endpoint_type, "MISMATCHED_ENDPOINT_TYPE", false, Errc::unknown,
     "The request was sent to an endpoint of the wrong type."},
    {ErrorCode::unsupported_endpoint_type, "UNSUPPORTED_ENDPOINT_TYPE", false, Errc::unknown,
     "This endpoint type is not supported yet."},
    {ErrorCode::unknown_controller_id, "UNKNOWN_CONTROLLER_ID", false, Errc::unknown,
     "This controller ID is not known."},
    {ErrorCode::unknown_subscription_id, "UNKNOWN_SUBSCRIPTION_ID", false, Errc::unknown,
     "Client sent a push telemetry request with an invalid or outdated subscription ID."},
    {ErrorCode::telemetry_too_large, "TELEMETRY_TOO_LARGE", false, Errc::unknown,
     "Client sent a push telemetry request larger than the maximum size the broker will "
     "accept."},
    {ErrorCode::invalid_registration, "INVALID_REGISTRATION", false, Errc::unknown,
     "The controller has considered the broker registration to be invalid."},
    {ErrorCode::transaction_abortable, "TRANSACTION_ABORTABLE", false, Errc::unknown,
     "The server encountered an error with the transaction. The client can abort the "
     "transaction to continue using this transactional ID."},
    {ErrorCode::invalid_record_state, "INVALID_RECORD_STATE", false, Errc::unknown,
     "The record state is invalid. The acknowledgement of delivery could not be completed."},
    {ErrorCode::share_session_not_found, "SHARE_SESSION_NOT_FOUND", true, Errc::unknown,
     "The share session was not found."},
    {ErrorCode::invalid_share_session_epoch, "INVALID_SHARE_SESSION_EPOCH", true, Errc::unknown,
     "The share session epoch is invalid."},
    {ErrorCode::fenced_state_epoch, "FENCED_STATE_EPOCH", false, Errc::unknown,
     "The share coordinator rejected the request because the share-group state epoch did not "
     "match."},
    {ErrorCode::invalid_voter_key, "INVALID_VOTER_KEY", false, Errc::unknown,
     "The voter key doesn't match the receiving replica's key."},
    {ErrorCode::duplicate_voter, "DUPLICATE_VOTER", false, Errc::unknown,
     "The voter is already part of the set of voters."},
    {ErrorCode::voter_not_found, "VOTER_NOT_FOUND", false, Errc::unknown,
     "The voter is not part of the set of voters."},
    {ErrorCode::invalid_regular_expression, "INVALID_REGULAR_EXPRESSION", false, Errc::unknown,
     "The regular expression is not valid."},
    {ErrorCode::rebootstrap_required, "REBOOTSTRAP_REQUIRED", false, Errc::unknown,
     "Client metadata is stale. The client should rebootstrap to obtain new metadata."},
    {ErrorCode::streams_invalid_topology, "STREAMS_INVALID_TOPOLOGY", false, Errc::unknown,
     "The supplied topology is invalid."},
    {ErrorCode::streams_invalid_topology_epoch, "STREAMS_INVALID_TOPOLOGY_EPOCH",
     false, Errc::unknown,
     "The supplied topology epoch is invalid."},
    {ErrorCode::streams_topology_fenced, "STREAMS_TOPOLOGY_FENCED", false, Errc::unknown,
     "The supplied topology epoch is outdated."},
    {ErrorCode::share_session_limit_reached, "SHARE_SESSION_LIMIT_REACHED", true, Errc::unknown,
     "The limit of share sessions has been reached."},
};

constexpr int16_t kFirstCode = -1;

// The table is indexed by code - kFirstCode; keep it dense and ascending.
constexpr bool table_is_dense() {
    for (size_t i = 0; i < std::size(kErrors); i++) {
        if (static_cast<int>(kErrors[i].code) != static_cast<int>(i) + kFirstCode) return false;
    }
    return true;
}
static_assert(table_is_dense());
static_assert(static_cast<int>(std::size(kErrors)) == 135);

}  // namespace

std::span<const ErrorCodeInfo> kafka_error_codes() { return kErrors; }

const ErrorCodeInfo* error_code_info(ErrorCode code) {
    int index = static_cast<int>(code) - kFirstCode;
    if (index < 0 || index >= static_cast<int>(std::size(kErrors))) return nullptr;
    return &kErrors[index];
}

bool is_retriable(ErrorCode code) {
    const ErrorCodeInfo* info = error_code_info(code);
    return info != nullptr && info->retriable;
}

std::string error_code_name(ErrorCode code) {
    const ErrorCodeInfo* info = error_code_info(code);
    if (info != nullptr) return std::string(info->name);
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
        case Errc::coordinator_load_in_progress: return ErrorCode::coordinator_load_in_progress;
        case Errc::unknown: return ErrorCode::unknown_server_error;
    }
    return ErrorCode::unknown_server_error;
}

Errc to_errc(ErrorCode code) {
    KEEL_ASSERT(code != ErrorCode::none);
    const ErrorCodeInfo* info = error_code_info(code);
    return info != nullptr ? info->errc : Errc::unknown;
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
