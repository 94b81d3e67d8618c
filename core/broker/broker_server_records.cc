// DeleteRecords (API 21, KIP-107): the leader of each partition moves its log start offset
// up to the requested offset (-1: its high watermark). Records below it are no longer
// served (a fetch or ListOffsets earliest sees the new start), segments wholly below it go
// at the next retention pass, and the followers move theirs up to it from the leader's
// fetch answers. As Kafka's DelayedDeleteRecords, the answer waits until the low watermark
// (the smallest log start of the leader and its ISR) has reached the offset, or timeout_ms.
#include "core/broker/broker_server.h"

#include <algorithm>

#include "core/protocol/error_codes.h"

namespace keel::broker {

using protocol::DeleteRecordsRequest;
using protocol::DeleteRecordsResponse;
using protocol::ErrorCode;

DeleteRecordsResponse BrokerServer::delete_records(const DeleteRecordsRequest& req) {
    Instant deadline = replicas_.env().now() + std::chrono::milliseconds(std::max(0, req.timeout_ms));
    DeleteRecordsResponse resp;
    for (const auto& t : req.topics) {
        DeleteRecordsResponse::DeleteRecordsTopicResult tr;
        tr.name = t.name;
        for (const auto& dp : t.partitions) tr.partitions.push_back(delete_records_partition(t.name, dp, deadline));
        resp.topics.push_back(std::move(tr));
    }
    return resp;
}

DeleteRecordsResponse::DeleteRecordsPartitionResult BrokerServer::delete_records_partition(
    const std::string& topic, const DeleteRecordsRequest::DeleteRecordsPartition& dp, Instant deadline) {
    DeleteRecordsResponse::DeleteRecordsPartitionResult r;
    r.partition_index = dp.partition_index;
    r.low_watermark = -1;
    std::shared_ptr<Partition> p = replicas_.partition_ref({topic, dp.partition_index.value()});
    if (p == nullptr) {
        r.error_code = replicas_.image().topic_by_name(topic) != nullptr ? ErrorCode::not_leader_or_follower
                                                                         : ErrorCode::unknown_topic_or_partition;
        return r;
    }
    if (Errc e = p->check_leader(-1); e != Errc{}) {
        r.error_code = protocol::to_error_code(e);
        return r;
    }
    const log::LogConfig& config = p->log().config();
    if (config.cleanup_compact && !config.cleanup_delete) {
        r.error_code = ErrorCode::policy_violation;  // Kafka: not on a compact-only topic
        return r;
    }
    Offset hw = p->high_watermark();
    Offset target = dp.offset == -1 ? hw : Offset(dp.offset);
    if (target.value() < 0 || target > hw) {
        r.error_code = ErrorCode::offset_out_of_range;
        return r;
    }
    LeaderEpoch epoch = p->leader_epoch();
    if (target > p->log_start()) {
        Status moved = p->log().advance_log_start_offset(target);
        if (!moved.ok()) {
            r.error_code = ErrorCode::kafka_storage_error;
            return r;
        }
        stats_.records_deleted_requests++;
        replicas_.changed(*p);
    }
    // The followers learn the new start from their next fetch answer.
    while (p->low_watermark() < target) {
        if (p->role() != ReplicaRole::leader || p->leader_epoch() != epoch) {
            r.error_code = ErrorCode::not_leader_or_follower;
            return r;
        }
        if (replicas_.env().now() >= deadline || p->wait_change(deadline) == env::WakeReason::dying) {
            r.error_code = ErrorCode::request_timed_out;
            r.low_watermark = p->low_watermark().value();
            return r;
        }
    }
    r.low_watermark = p->low_watermark().value();
    return r;
}

}  // namespace keel::broker
