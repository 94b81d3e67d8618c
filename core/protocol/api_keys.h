// Kafka's API keys and, for each, the first flexible version (from Kafka's message
// schemas, clients/src/main/resources/common/message/*.json). The first flexible version
// decides the header versions: request header v2 / response header v1 at or above it,
// request header v1 / response header v0 below it — except ApiVersions, whose response
// header is always v0 (kafka-wire.md §3.3).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace keel::protocol {

enum class ApiKey : int16_t {
    produce = 0,
    fetch = 1,
    list_offsets = 2,
    metadata = 3,
    leader_and_isr = 4,
    stop_replica = 5,
    update_metadata = 6,
    controlled_shutdown = 7,
    offset_commit = 8,
    offset_fetch = 9,
    find_coordinator = 10,
    join_group = 11,
    heartbeat = 12,
    leave_group = 13,
    sync_group = 14,
    describe_groups = 15,
    list_groups = 16,
    sasl_handshake = 17,
    api_versions = 18,
    create_topics = 19,
    delete_topics = 20,
    delete_records = 21,
    init_producer_id = 22,
    offset_for_leader_epoch = 23,
    add_partitions_to_txn = 24,
    add_offsets_to_txn = 25,
    end_txn = 26,
    write_txn_markers = 27,
    txn_offset_commit = 28,
    describe_acls = 29,
    create_acls = 30,
    delete_acls = 31,
    describe_configs = 32,
    alter_configs = 33,
    alter_replica_log_dirs = 34,
    describe_log_dirs = 35,
    sasl_authenticate = 36,
    create_partitions = 37,
    create_delegation_token = 38,
    renew_delegation_token = 39,
    expire_delegation_token = 40,
    describe_delegation_token = 41,
    delete_groups = 42,
    elect_leaders = 43,
    incremental_alter_configs = 44,
    alter_partition_reassignments = 45,
    list_partition_reassignments = 46,
    offset_delete = 47,
    describe_client_quotas = 48,
    alter_client_quotas = 49,
    describe_user_scram_credentials = 50,
    alter_user_scram_credentials = 51,
    vote = 52,
    begin_quorum_epoch = 53,
    end_quorum_epoch = 54,
    describe_quorum = 55,
    alter_partition = 56,
    update_features = 57,
    envelope = 58,
    fetch_snapshot = 59,
    describe_cluster = 60,
    describe_producers = 61,
    broker_registration = 62,
    broker_heartbeat = 63,
    unregister_broker = 64,
    describe_transactions = 65,
    list_transactions = 66,
    allocate_producer_ids = 67,
    consumer_group_heartbeat = 68,  // KIP-848
    consumer_group_describe = 69,   // KIP-848
};

// What Kafka's schema says about one API.
struct ApiInfo {
    ApiKey key;
    std::string_view name;          // Kafka's name, e.g. "BeginQuorumEpoch"
    int16_t kafka_version_max;      // newest version in Kafka's schemas we know of
    int16_t first_flexible_version; // -1: never flexible
};

// nullopt for a key this table does not know (the caller answers unsupported_version).
std::optional<ApiInfo> api_info(int16_t key);
inline std::optional<ApiInfo> api_info(ApiKey key) { return api_info(static_cast<int16_t>(key)); }

// "Vote", "Fetch", ... or "Unknown".
std::string_view api_name(ApiKey key);

// Whether (key, version) uses flexible encoding. Requires a known key.
bool is_flexible(ApiKey key, int16_t version);

// Request header version (1 or 2) and response header version (0 or 1) for (key, version).
int16_t request_header_version(ApiKey key, int16_t version);
int16_t response_header_version(ApiKey key, int16_t version);

}  // namespace keel::protocol
