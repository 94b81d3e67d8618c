#include "core/protocol/api_keys.h"

#include <array>

#include "core/base/assert.h"

namespace keel::protocol {
namespace {

constexpr std::array<ApiInfo, 70> kApis = {{
    {ApiKey::produce, "Produce", 11, 9},
    {ApiKey::fetch, "Fetch", 17, 12},
    {ApiKey::list_offsets, "ListOffsets", 10, 6},
    {ApiKey::metadata, "Metadata", 12, 9},
    {ApiKey::leader_and_isr, "LeaderAndIsr", 7, 4},
    {ApiKey::stop_replica, "StopReplica", 4, 2},
    {ApiKey::update_metadata, "UpdateMetadata", 8, 6},
    {ApiKey::controlled_shutdown, "ControlledShutdown", 3, 3},
    {ApiKey::offset_commit, "OffsetCommit", 9, 8},
    {ApiKey::offset_fetch, "OffsetFetch", 9, 6},
    {ApiKey::find_coordinator, "FindCoordinator", 6, 3},
    {ApiKey::join_group, "JoinGroup", 9, 6},
    {ApiKey::heartbeat, "Heartbeat", 4, 4},
    {ApiKey::leave_group, "LeaveGroup", 5, 4},
    {ApiKey::sync_group, "SyncGroup", 5, 4},
    {ApiKey::describe_groups, "DescribeGroups", 5, 5},
    {ApiKey::list_groups, "ListGroups", 5, 3},
    {ApiKey::sasl_handshake, "SaslHandshake", 1, -1},
    {ApiKey::api_versions, "ApiVersions", 4, 3},
    {ApiKey::create_topics, "CreateTopics", 7, 5},
    {ApiKey::delete_topics, "DeleteTopics", 6, 4},
    {ApiKey::delete_records, "DeleteRecords", 2, 2},
    {ApiKey::init_producer_id, "InitProducerId", 5, 2},
    {ApiKey::offset_for_leader_epoch, "OffsetForLeaderEpoch", 4, 4},
    {ApiKey::add_partitions_to_txn, "AddPartitionsToTxn", 5, 3},
    {ApiKey::add_offsets_to_txn, "AddOffsetsToTxn", 4, 3},
    {ApiKey::end_txn, "EndTxn", 5, 3},
    {ApiKey::write_txn_markers, "WriteTxnMarkers", 1, 1},
    {ApiKey::txn_offset_commit, "TxnOffsetCommit", 4, 3},
    {ApiKey::describe_acls, "DescribeAcls", 3, 2},
    {ApiKey::create_acls, "CreateAcls", 3, 2},
    {ApiKey::delete_acls, "DeleteAcls", 3, 2},
    {ApiKey::describe_configs, "DescribeConfigs", 4, 4},
    {ApiKey::alter_configs, "AlterConfigs", 2, 2},
    {ApiKey::alter_replica_log_dirs, "AlterReplicaLogDirs", 2, 2},
    {ApiKey::describe_log_dirs, "DescribeLogDirs", 4, 2},
    {ApiKey::sasl_authenticate, "SaslAuthenticate", 2, 2},
    {ApiKey::create_partitions, "CreatePartitions", 3, 2},
    {ApiKey::create_delegation_token, "CreateDelegationToken", 3, 2},
    {ApiKey::renew_delegation_token, "RenewDelegationToken", 2, 2},
    {ApiKey::expire_delegation_token, "ExpireDelegationToken", 2, 2},
    {ApiKey::describe_delegation_token, "DescribeDelegationToken", 3, 2},
    {ApiKey::delete_groups, "DeleteGroups", 2, 2},
    {ApiKey::elect_leaders, "ElectLeaders", 2, 2},
    {ApiKey::incremental_alter_configs, "IncrementalAlterConfigs", 1, 1},
    {ApiKey::alter_partition_reassignments, "AlterPartitionReassignments", 0, 0},
    {ApiKey::list_partition_reassignments, "ListPartitionReassignments", 0, 0},
    {ApiKey::offset_delete, "OffsetDelete", 0, -1},
    {ApiKey::describe_client_quotas, "DescribeClientQuotas", 1, 1},
    {ApiKey::alter_client_quotas, "AlterClientQuotas", 1, 1},
    {ApiKey::describe_user_scram_credentials, "DescribeUserScramCredentials", 0, 0},
    {ApiKey::alter_user_scram_credentials, "AlterUserScramCredentials", 0, 0},
    {ApiKey::vote, "Vote", 2, 0},  // v2 adds PreVote (KIP-996)
    {ApiKey::begin_quorum_epoch, "BeginQuorumEpoch", 1, 1},
    {ApiKey::end_quorum_epoch, "EndQuorumEpoch", 1, 1},
    {ApiKey::describe_quorum, "DescribeQuorum", 2, 0},
    {ApiKey::alter_partition, "AlterPartition", 3, 0},
    {ApiKey::update_features, "UpdateFeatures", 2, 0},
    {ApiKey::envelope, "Envelope", 0, 0},
    {ApiKey::fetch_snapshot, "FetchSnapshot", 1, 0},
    {ApiKey::describe_cluster, "DescribeCluster", 1, 0},
    {ApiKey::describe_producers, "DescribeProducers", 0, 0},
    {ApiKey::broker_registration, "BrokerRegistration", 4, 0},
    {ApiKey::broker_heartbeat, "BrokerHeartbeat", 1, 0},
    {ApiKey::unregister_broker, "UnregisterBroker", 0, 0},
    {ApiKey::describe_transactions, "DescribeTransactions", 0, 0},
    {ApiKey::list_transactions, "ListTransactions", 1, 0},
    {ApiKey::allocate_producer_ids, "AllocateProducerIds", 0, 0},
    {ApiKey::consumer_group_heartbeat, "ConsumerGroupHeartbeat", 1, 0},
    {ApiKey::consumer_group_describe, "ConsumerGroupDescribe", 0, 0},
}};

// The table is indexed by key; keep it dense.
constexpr bool table_is_dense() {
    for (size_t i = 0; i < kApis.size(); i++) {
        if (static_cast<size_t>(kApis[i].key) != i) return false;
    }
    return true;
}
static_assert(table_is_dense());

}  // namespace

std::optional<ApiInfo> api_info(int16_t key) {
    if (key < 0 || static_cast<size_t>(key) >= kApis.size()) return std::nullopt;
    return kApis[static_cast<size_t>(key)];
}

std::string_view api_name(ApiKey key) {
    auto info = api_info(key);
    return info ? info->name : std::string_view("Unknown");
}

bool is_flexible(ApiKey key, int16_t version) {
    auto info = api_info(key);
    KEEL_ASSERT(info.has_value());
    return info->first_flexible_version >= 0 && version >= info->first_flexible_version;
}

int16_t request_header_version(ApiKey key, int16_t version) {
    return is_flexible(key, version) ? 2 : 1;
}

int16_t response_header_version(ApiKey key, int16_t version) {
    // ApiVersions answers with header v0 at every version: a client that does not yet
    // know our versions must be able to parse it.
    if (key == ApiKey::api_versions) return 0;
    return is_flexible(key, version) ? 1 : 0;
}

}  // namespace keel::protocol
