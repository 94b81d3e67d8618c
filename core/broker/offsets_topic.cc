#include "core/broker/offsets_topic.h"

#include "core/broker/batch_validation.h"
#include "core/group/offsets_records.h"
#include "core/log/record_batch.h"
#include "core/protocol/generated/produce_request.h"

namespace keel::broker {

namespace {

TopicPartitionName offsets_tp(int32_t partition) { return {std::string(group::kOffsetsTopic), partition}; }

}  // namespace

OffsetsTopic::OffsetsTopic(ReplicaManager& replicas, Duration tick)
    : replicas_(replicas), tick_(tick), stopped_(replicas.env().executor()) {}

std::shared_ptr<Partition> OffsetsTopic::leader_replica(int32_t partition, LeaderEpoch leader_epoch) {
    std::shared_ptr<Partition> p = replicas_.partition_ref(offsets_tp(partition));
    if (p == nullptr || p->role() != ReplicaRole::leader || p->leader_epoch() != leader_epoch) return nullptr;
    return p;
}

Status OffsetsTopic::append(int32_t partition, LeaderEpoch leader_epoch, std::vector<group::OffsetsRecord> records,
                            Instant deadline) {
    if (records.empty()) return ok_status();
    std::shared_ptr<Partition> p = leader_replica(partition, leader_epoch);
    if (p == nullptr) return Error{Errc::not_leader, offsets_tp(partition).to_string() + ": not the leader"};
    int32_t min_isr = replicas_.min_insync_replicas(std::string(group::kOffsetsTopic));
    if (static_cast<int32_t>(p->isr().size()) < min_isr) {
        return Error{Errc::not_enough_replicas, offsets_tp(partition).to_string() + ": ISR below min.insync.replicas"};
    }
    int64_t now_ms = replicas_.env().clock().wall_now().ms();
    log::RecordBatchBuilder builder;
    for (const group::OffsetsRecord& r : records) {
        std::optional<ByteView> value;
        if (r.value) value = ByteView(*r.value);
        builder.add(now_ms, ByteView(r.key), value);
    }
    Bytes batch = builder.build();
    ValidationConfig vc = validation_config(p->log().config(), now_ms, protocol::ProduceRequest::version_max, replicas_.codec());
    ProduceOutcome o = p->append_produce(batch, vc);
    if (o.error != protocol::ErrorCode::none) {
        if (p->log().offline()) replicas_.fail(Status(Errc::io_error, offsets_tp(partition).to_string() + ": log offline"));
        return Error{protocol::to_errc(o.error), offsets_tp(partition).to_string() + ": " + o.reason};
    }
    replicas_.changed(*p);
    return await_committed(partition, leader_epoch, o.last_offset, deadline);
}

// As the produce path's acks=all wait (BrokerServer::await_acks).
Status OffsetsTopic::await_committed(int32_t partition, LeaderEpoch leader_epoch, Offset last_offset,
                                     Instant deadline) {
    std::string name = offsets_tp(partition).to_string();
    while (true) {
        std::shared_ptr<Partition> p = leader_replica(partition, leader_epoch);
        if (p == nullptr) return Error{Errc::not_leader, name + ": leadership moved before the commit"};
        if (p->high_watermark() > last_offset) {
            if (static_cast<int32_t>(p->isr().size()) < replicas_.min_insync_replicas(std::string(group::kOffsetsTopic))) {
                return Error{Errc::not_enough_replicas_after_append, name + ": ISR fell below min.insync.replicas"};
            }
            return ok_status();
        }
        if (replicas_.env().now() >= deadline || replicas_.failed()) {
            return Error{Errc::timeout, name + ": not committed before the deadline"};
        }
        if (p->wait_change(deadline) == env::WakeReason::dying) return Error{Errc::closed, name + ": node stopping"};
    }
}

Status OffsetsTopic::read_committed(int32_t partition, LeaderEpoch leader_epoch,
                                    const std::function<void(const group::OffsetsRecord&)>& fn) {
    std::string name = offsets_tp(partition).to_string();
    std::shared_ptr<Partition> p = leader_replica(partition, leader_epoch);
    if (p == nullptr) return Error{Errc::not_leader, name + ": not the leader"};
    Offset next = p->log_start();
    while (next < p->log_end()) {
        KEEL_TRY_ASSIGN(log::ReadResult rr, p->log().read(next, 1 << 20));
        if (rr.batch_count == 0) break;
        ByteView rest(rr.records);
        while (!rest.empty()) {
            KEEL_TRY_ASSIGN(log::DecodedBatch b, log::decode_batch(rest, replicas_.codec()));
            rest = rest.subspan(b.header.size_bytes());
            if (b.header.is_control()) continue;
            for (const log::Record& r : b.records) {
                if (!r.key) continue;  // not a coordinator record
                group::OffsetsRecord rec{Bytes(r.key->begin(), r.key->end()), std::nullopt};
                if (r.value) rec.value = Bytes(r.value->begin(), r.value->end());
                fn(rec);
            }
        }
        next = rr.next_offset;
        if (leader_replica(partition, leader_epoch) == nullptr) {
            return Error{Errc::not_leader, name + ": leadership moved while loading"};
        }
    }
    return ok_status();
}

void OffsetsTopic::sync_leadership(group::GroupCoordinator& coordinator) {
    std::map<int32_t, LeaderEpoch> now;
    for (const auto& [tp, p] : replicas_.partitions()) {
        if (tp.topic != group::kOffsetsTopic || p->role() != ReplicaRole::leader) continue;
        now[tp.partition] = p->leader_epoch();
    }
    for (auto it = led_.begin(); it != led_.end();) {
        auto n = now.find(it->first);
        if (n == now.end() || n->second != it->second) {
            coordinator.on_resigned(it->first);
            it = led_.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto& [partition, epoch] : now) {
        if (led_.count(partition) != 0) continue;
        led_[partition] = epoch;
        coordinator.on_became_leader(partition, epoch);
    }
}

// Topics that left the image since the last look. Nothing is reported before the replica
// manager's first reconcile (the broker has caught up with the controller; no partition of
// __consumer_offsets is led here yet): a starting broker replaying its metadata log sees
// history (a topic deleted, then created again under its name), as Kafka's
// BrokerMetadataPublisher does not report its first image either.
void OffsetsTopic::sync_topics(group::GroupCoordinator& coordinator) {
    const controller::MetadataImage& image = replicas_.image();
    if (image_seen_ == image.end_offset()) return;
    image_seen_ = image.end_offset();
    std::vector<std::string> gone;
    for (const auto& [id, name] : topics_) {
        if (image.topic(id) == nullptr) gone.push_back(name);
    }
    topics_.clear();
    for (const auto& [id, t] : image.topics()) topics_.emplace(id, t.name);
    if (gone.empty() || replicas_.stats().reconciles == 0) return;
    if (replicas_.env().tracer().enabled()) {
        std::string names;
        for (const std::string& n : gone) names += (names.empty() ? "" : ",") + n;
        replicas_.env().tracer().log(env::Level::info, "topics deleted, purging their committed offsets: " + names);
    }
    coordinator.on_topics_deleted(gone);
}

void OffsetsTopic::watch(group::GroupCoordinator& coordinator) {
    while (!stopped_.is_set()) {
        sync_leadership(coordinator);  // first: a partition loading from now on purges once loaded
        sync_topics(coordinator);
        stopped_.wait(replicas_.env().now() + tick_);
    }
    for (const auto& [partition, epoch] : led_) coordinator.on_resigned(partition);
    led_.clear();
}

void OffsetsTopic::stop() { stopped_.set(); }

}  // namespace keel::broker
