#include "core/base/result.h"

namespace keel {

std::string_view errc_name(Errc e) {
    switch (e) {
        case Errc::timeout: return "timeout";
        case Errc::disconnected: return "disconnected";
        case Errc::connection_refused: return "connection_refused";
        case Errc::address_in_use: return "address_in_use";
        case Errc::closed: return "closed";
        case Errc::cancelled: return "cancelled";
        case Errc::not_found: return "not_found";
        case Errc::already_exists: return "already_exists";
        case Errc::io_error: return "io_error";
        case Errc::disk_full: return "disk_full";
        case Errc::corrupt: return "corrupt";
        case Errc::corrupt_record: return "corrupt_record";
        case Errc::invalid_record: return "invalid_record";
        case Errc::message_too_large: return "message_too_large";
        case Errc::invalid_argument: return "invalid_argument";
        case Errc::invalid_request: return "invalid_request";
        case Errc::unsupported_version: return "unsupported_version";
        case Errc::offset_out_of_range: return "offset_out_of_range";
        case Errc::not_leader: return "not_leader";
        case Errc::fenced_leader_epoch: return "fenced_leader_epoch";
        case Errc::unknown_leader_epoch: return "unknown_leader_epoch";
        case Errc::not_enough_replicas: return "not_enough_replicas";
        case Errc::not_enough_replicas_after_append: return "not_enough_replicas_after_append";
        case Errc::unknown_topic_or_partition: return "unknown_topic_or_partition";
        case Errc::topic_already_exists: return "topic_already_exists";
        case Errc::invalid_replication_factor: return "invalid_replication_factor";
        case Errc::not_controller: return "not_controller";
        case Errc::stale_broker_epoch: return "stale_broker_epoch";
        case Errc::broker_fenced: return "broker_fenced";
        case Errc::invalid_partition_epoch: return "invalid_partition_epoch";
        case Errc::ineligible_replica: return "ineligible_replica";
        case Errc::invalid_partitions: return "invalid_partitions";
        case Errc::invalid_topic: return "invalid_topic";
        case Errc::invalid_replica_assignment: return "invalid_replica_assignment";
        case Errc::invalid_config: return "invalid_config";
        case Errc::unknown_topic_id: return "unknown_topic_id";
        case Errc::duplicate_broker_registration: return "duplicate_broker_registration";
        case Errc::broker_not_registered: return "broker_not_registered";
        case Errc::inconsistent_cluster_id: return "inconsistent_cluster_id";
        case Errc::coordinator_load_in_progress: return "coordinator_load_in_progress";
        case Errc::unknown: return "unknown";
    }
    return "unknown";
}

std::string Error::to_string() const {
    std::string s(errc_name(code));
    if (!message.empty()) {
        s += ": ";
        s += message;
    }
    return s;
}

}  // namespace keel
