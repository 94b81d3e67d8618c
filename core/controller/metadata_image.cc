#include "core/controller/metadata_image.h"

#include <algorithm>
#include <set>

namespace keel::controller {
namespace {

Error invalid(std::string what) { return Error{Errc::invalid_record, std::move(what)}; }

std::string n(NodeId id) { return std::to_string(id.value()); }

bool has_duplicates(const std::vector<NodeId>& v) {
    std::set<NodeId> seen(v.begin(), v.end());
    return seen.size() != v.size();
}

bool contains(const std::vector<NodeId>& v, NodeId x) { return std::find(v.begin(), v.end(), x) != v.end(); }

std::string partition_name(const TopicState& t, PartitionIndex p) {
    return t.name + "-" + std::to_string(p.value());
}

}  // namespace

bool PartitionState::in_isr(NodeId b) const { return contains(isr, b); }
bool PartitionState::is_replica(NodeId b) const { return contains(replicas, b); }

PartitionState merge(const PartitionState& p, const PartitionChangeRecord& change) {
    PartitionState next = p;
    if (change.isr) next.isr = *change.isr;
    if (change.replicas) next.replicas = *change.replicas;
    if (change.leader.value() != no_leader_change) {
        next.leader = change.leader;
        next.leader_epoch = p.leader_epoch + 1;
    }
    if (change.leader_recovery_state != -1) next.leader_recovery_state = change.leader_recovery_state;
    next.partition_epoch = p.partition_epoch + 1;
    return next;
}

std::string describe(const PartitionState& p) {
    return "replicas=" + ids_text(p.replicas) + " isr=" + ids_text(p.isr) + " leader=" + n(p.leader) +
           " leader_epoch=" + std::to_string(p.leader_epoch.value()) +
           " partition_epoch=" + std::to_string(p.partition_epoch.value()) +
           (p.leader_recovery_state == leader_recovering ? " RECOVERING" : "");
}

// ------------------------------------------------------------------------ StateMachine

void MetadataImage::apply(Offset offset, QuorumEpoch, ByteView record) {
    auto batch = decode_batch(record);
    KEEL_ASSERT_MSG(batch.ok(), ("committed metadata entry at offset " + std::to_string(offset.value()) +
                                 " does not decode: " + (batch.ok() ? "" : batch.error().message))
                                    .c_str());
    apply_batch(offset, *batch);
}

void MetadataImage::apply_batch(Offset offset, const std::vector<MetadataRecord>& records) {
    KEEL_ASSERT_MSG(offset >= end_offset_, "metadata entries must be applied in offset order");
    for (const auto& r : records) apply_record(r);
    end_offset_ = offset + 1;
    if (observer_.fn) observer_.fn(*this, false);
}

void MetadataImage::apply_record(const MetadataRecord& r) {
    Status s = trust_log_ ? ok_status() : check_record(r);
    if (!s.ok()) {
        std::string what = "metadata record does not apply cleanly (a controller bug; the log is "
                           "the truth): " + controller::describe(r) + ": " + s.error().message;
        KEEL_ASSERT_MSG(false, what.c_str());
    }
    std::visit([&](const auto& m) { put(m); }, r);
}

Status MetadataImage::check_record(const MetadataRecord& r) const {
    return std::visit([&](const auto& m) { return check(m); }, r);
}

Bytes MetadataImage::take_snapshot(Offset end_offset) {
    KEEL_ASSERT(end_offset >= end_offset_);
    // Entries between the last data entry and end_offset were control entries: applied too.
    end_offset_ = end_offset;
    std::vector<MetadataRecord> records = to_records();
    if (records.empty()) records.push_back(NoOpRecord{});
    return encode_batch(records);
}

Status MetadataImage::restore_snapshot(Offset end_offset, ByteView data) {
    auto batch = decode_batch(data);
    if (!batch.ok()) return Status(Errc::corrupt, "metadata snapshot: " + batch.error().message);
    MetadataImage fresh;
    fresh.bug_skip_partition_epoch_bump_ = bug_skip_partition_epoch_bump_;  // test-only switches stay
    fresh.trust_log_ = trust_log_;
    for (size_t i = 0; i < batch->size(); i++) {
        const MetadataRecord& r = (*batch)[i];
        Status s = trust_log_ ? ok_status() : fresh.check_record(r);
        if (!s.ok()) {
            return Status(Errc::corrupt, "metadata snapshot: record " + std::to_string(i) + " (" +
                                             controller::describe(r) + "): " + s.error().message);
        }
        std::visit([&](const auto& m) { fresh.put(m); }, r);
    }
    fresh.end_offset_ = end_offset;
    Observer keep = std::move(observer_.fn);
    *this = std::move(fresh);
    observer_.fn = std::move(keep);
    if (observer_.fn) observer_.fn(*this, true);
    return ok_status();
}

std::vector<MetadataRecord> MetadataImage::to_records() const {
    std::vector<MetadataRecord> out;
    for (const auto& [resource, entries] : configs_) {
        for (const auto& [name, value] : entries) {
            out.push_back(ConfigRecord{resource.first, resource.second, name, value});
        }
    }
    for (const auto& [id, b] : brokers_) {
        RegisterBrokerRecord r;
        r.broker_id = id;
        r.incarnation_id = b.incarnation_id;
        r.broker_epoch = b.epoch;
        r.endpoints = b.endpoints;
        r.features = b.features;
        r.rack = b.rack;
        r.fenced = b.fenced;
        r.in_controlled_shutdown = b.in_controlled_shutdown;
        out.push_back(std::move(r));
    }
    for (const auto& [id, t] : topics_) {
        out.push_back(TopicRecord{t.name, id});
        for (const auto& [index, p] : t.partitions) {
            PartitionRecord r;
            r.partition_id = index;
            r.topic_id = id;
            r.replicas = p.replicas;
            r.isr = p.isr;
            r.leader = p.leader;
            r.leader_recovery_state = p.leader_recovery_state;
            r.leader_epoch = p.leader_epoch;
            r.partition_epoch = p.partition_epoch;
            out.push_back(std::move(r));
        }
    }
    if (next_producer_id_ > 0) {
        // Kafka's ProducerIdsImage writes the same: no broker, only the next id.
        out.push_back(ProducerIdsRecord{NodeId(-1), BrokerEpoch(-1), next_producer_id_, {}});
    }
    return out;
}

// ------------------------------------------------------------------------------ checks

Status MetadataImage::check_epoch(NodeId id, BrokerEpoch epoch) const {
    const BrokerRegistration* b = broker(id);
    if (b == nullptr) return invalid("broker " + n(id) + " is not registered");
    if (b->epoch != epoch) {
        return invalid("broker " + n(id) + " has epoch " + std::to_string(b->epoch.value()) + ", not " +
                       std::to_string(epoch.value()));
    }
    return ok_status();
}

// An inactive broker may stay only as the last member of a leaderless ISR.
Status MetadataImage::check_inactive_broker(NodeId b) const {
    for (const auto& [id, t] : topics_) {
        for (const auto& [index, p] : t.partitions) {
            if (p.leader == b) return invalid("broker " + n(b) + " still leads " + partition_name(t, index));
            if (p.in_isr(b) && p.isr.size() > 1) {
                return invalid("broker " + n(b) + " is still in the ISR " + ids_text(p.isr) + " of " +
                               partition_name(t, index));
            }
        }
    }
    return ok_status();
}

Status MetadataImage::check_partition_state(const PartitionState& p) const {
    if (p.replicas.empty()) return invalid("no replicas");
    if (has_duplicates(p.replicas)) return invalid("duplicate replicas " + ids_text(p.replicas));
    for (NodeId r : p.replicas) {
        if (broker(r) == nullptr) return invalid("replica " + n(r) + " is not a registered broker");
    }
    if (p.isr.empty()) return invalid("empty ISR");
    if (has_duplicates(p.isr)) return invalid("duplicate ISR members " + ids_text(p.isr));
    for (NodeId m : p.isr) {
        if (!p.is_replica(m)) return invalid("ISR member " + n(m) + " is not a replica");
        if (!is_active(m) && !(p.isr.size() == 1 && !p.has_leader())) {
            return invalid("inactive broker " + n(m) + " in the ISR " + ids_text(p.isr) +
                           " (allowed only as the last member of a leaderless ISR)");
        }
    }
    if (p.leader.value() < no_leader) return invalid("leader " + n(p.leader));
    if (p.has_leader()) {
        if (!p.in_isr(p.leader)) return invalid("leader " + n(p.leader) + " is not in the ISR " + ids_text(p.isr));
        if (!is_active(p.leader)) return invalid("leader " + n(p.leader) + " is fenced or shutting down");
    }
    if (p.leader_recovery_state != leader_recovered && p.leader_recovery_state != leader_recovering) {
        return invalid("leader recovery state " + std::to_string(p.leader_recovery_state));
    }
    if (p.leader_epoch.value() < 0 || p.partition_epoch.value() < 0) return invalid("negative epoch");
    return ok_status();
}

Status MetadataImage::check(const RegisterBrokerRecord& r) const {
    if (r.broker_id.value() < 0) return invalid("negative broker id");
    if (r.broker_epoch.value() < 0) return invalid("negative broker epoch");
    if (r.is_migrating_zk_broker) return invalid("ZooKeeper brokers are not supported");
    if (const BrokerRegistration* old = broker(r.broker_id); old != nullptr && r.broker_epoch <= old->epoch) {
        return invalid("broker epoch " + std::to_string(r.broker_epoch.value()) + " does not exceed " +
                       std::to_string(old->epoch.value()));
    }
    if (r.fenced || r.in_controlled_shutdown) return check_inactive_broker(r.broker_id);
    return ok_status();
}

Status MetadataImage::check(const TopicRecord& r) const {
    if (r.name.empty()) return invalid("empty topic name");
    if (r.topic_id.is_zero() || r.topic_id == protocol::metadata_topic_id) return invalid("reserved topic id");
    if (topic(r.topic_id) != nullptr) return invalid("topic id " + uuid_to_string(r.topic_id) + " exists");
    if (topic_by_name(r.name) != nullptr) return invalid("topic " + r.name + " exists");
    return ok_status();
}

Status MetadataImage::check(const RemoveTopicRecord& r) const {
    if (topic(r.topic_id) == nullptr) return invalid("unknown topic id " + uuid_to_string(r.topic_id));
    return ok_status();
}

Status MetadataImage::check(const PartitionRecord& r) const {
    const TopicState* t = topic(r.topic_id);
    if (t == nullptr) return invalid("unknown topic id " + uuid_to_string(r.topic_id));
    if (r.partition_id.value() < 0) return invalid("negative partition id");
    if (t->partitions.count(r.partition_id) != 0) return invalid(partition_name(*t, r.partition_id) + " exists");
    if (!r.removing_replicas.empty() || !r.adding_replicas.empty()) return invalid("reassignment is not supported");
    if (r.eligible_leader_replicas || r.last_known_elr) return invalid("ELR is not supported");
    PartitionState p{r.replicas, r.isr, r.leader, r.leader_recovery_state, r.leader_epoch, r.partition_epoch};
    Status s = check_partition_state(p);
    if (!s.ok()) return invalid(partition_name(*t, r.partition_id) + ": " + s.error().message);
    return ok_status();
}

Status MetadataImage::check(const ConfigRecord& r) const {
    if (r.resource_type != config_resource_topic && r.resource_type != config_resource_broker) {
        return invalid("unsupported config resource type " + std::to_string(r.resource_type));
    }
    if (r.name.empty()) return invalid("empty config name");
    if (r.resource_type == config_resource_topic && r.resource_name.empty()) return invalid("empty topic name");
    return ok_status();
}

Status MetadataImage::check(const PartitionChangeRecord& r) const {
    const TopicState* t = topic(r.topic_id);
    if (t == nullptr) return invalid("unknown topic id " + uuid_to_string(r.topic_id));
    const PartitionState* p = partition(r.topic_id, r.partition_id);
    if (p == nullptr) return invalid("unknown partition " + partition_name(*t, r.partition_id));
    if (r.replicas || r.removing_replicas || r.adding_replicas) return invalid("reassignment is not supported");
    if (r.eligible_leader_replicas || r.last_known_elr) return invalid("ELR is not supported");
    if (r.leader.value() < no_leader_change) return invalid("leader " + n(r.leader));
    if (r.leader_recovery_state < -1 || r.leader_recovery_state > leader_recovering) {
        return invalid("leader recovery state " + std::to_string(r.leader_recovery_state));
    }
    Status s = check_partition_state(merge(*p, r));
    if (!s.ok()) return invalid(partition_name(*t, r.partition_id) + ": " + s.error().message);
    return ok_status();
}

Status MetadataImage::check(const FenceBrokerRecord& r) const {
    KEEL_TRY(check_epoch(r.id, r.epoch));
    if (broker(r.id)->fenced) return invalid("broker " + n(r.id) + " is already fenced");
    return check_inactive_broker(r.id);
}

Status MetadataImage::check(const UnfenceBrokerRecord& r) const {
    KEEL_TRY(check_epoch(r.id, r.epoch));
    if (!broker(r.id)->fenced) return invalid("broker " + n(r.id) + " is not fenced");
    return ok_status();
}

Status MetadataImage::check(const BrokerRegistrationChangeRecord& r) const {
    KEEL_TRY(check_epoch(r.broker_id, r.broker_epoch));
    const BrokerRegistration& b = *broker(r.broker_id);
    if (r.fenced < -1 || r.fenced > 1) return invalid("fenced change " + std::to_string(r.fenced));
    if (r.in_controlled_shutdown < 0 || r.in_controlled_shutdown > 1) {
        return invalid("controlled shutdown change " + std::to_string(r.in_controlled_shutdown));
    }
    if (r.fenced == 1 && b.fenced) return invalid("broker " + n(r.broker_id) + " is already fenced");
    if (r.fenced == -1 && !b.fenced) return invalid("broker " + n(r.broker_id) + " is not fenced");
    bool fenced = r.fenced == 0 ? b.fenced : r.fenced == 1;
    bool shutting_down = b.in_controlled_shutdown || r.in_controlled_shutdown == 1;
    if (fenced || shutting_down) return check_inactive_broker(r.broker_id);
    return ok_status();
}

Status MetadataImage::check(const ProducerIdsRecord& r) const {
    // Invariant: the next producer id only increases, so no block is handed out twice.
    if (r.next_producer_id <= next_producer_id_) {
        return invalid("next producer id " + std::to_string(r.next_producer_id) + " does not exceed " +
                       std::to_string(next_producer_id_));
    }
    // Broker id -1: a snapshot's record. Otherwise the controller checked the broker's
    // epoch on the image this record is applied to (one decision at a time).
    if (r.broker_id.value() != -1) return check_epoch(r.broker_id, r.broker_epoch);
    return ok_status();
}

std::vector<std::string> MetadataImage::invariant_violations() const {
    std::vector<std::string> out;
    for (const auto& [id, t] : topics_) {
        auto named = topic_ids_.find(t.name);
        if (named == topic_ids_.end() || named->second != id) out.push_back("topic " + t.name + " is not indexed");
        for (const auto& [index, p] : t.partitions) {
            Status s = check_partition_state(p);
            if (!s.ok()) out.push_back(partition_name(t, index) + ": " + s.error().message);
        }
    }
    if (topic_ids_.size() != topics_.size()) out.push_back("the topic name index has stale entries");
    return out;
}

// ------------------------------------------------------------------------------ apply

void MetadataImage::put(const RegisterBrokerRecord& r) {
    brokers_[r.broker_id] = BrokerRegistration{r.broker_id, r.incarnation_id, r.broker_epoch, r.endpoints,
                                               r.features, r.rack, r.fenced, r.in_controlled_shutdown};
}

void MetadataImage::put(const TopicRecord& r) {
    topics_[r.topic_id] = TopicState{r.name, r.topic_id, {}};
    topic_ids_[r.name] = r.topic_id;
}

void MetadataImage::put(const RemoveTopicRecord& r) {
    auto it = topics_.find(r.topic_id);
    if (it == topics_.end()) return;  // trust_log_: nothing to remove
    configs_.erase(ConfigResource{config_resource_topic, it->second.name});
    auto named = topic_ids_.find(it->second.name);
    if (named != topic_ids_.end() && named->second == r.topic_id) topic_ids_.erase(named);
    topics_.erase(it);
}

void MetadataImage::put(const PartitionRecord& r) {
    topics_[r.topic_id].partitions[r.partition_id] =
        PartitionState{r.replicas, r.isr, r.leader, r.leader_recovery_state, r.leader_epoch, r.partition_epoch};
}

void MetadataImage::put(const ConfigRecord& r) {
    ConfigResource key{r.resource_type, r.resource_name};
    if (r.value) {
        configs_[key][r.name] = *r.value;
        return;
    }
    auto it = configs_.find(key);
    if (it == configs_.end()) return;
    it->second.erase(r.name);
    if (it->second.empty()) configs_.erase(it);
}

void MetadataImage::put(const PartitionChangeRecord& r) {
    PartitionState& p = topics_[r.topic_id].partitions[r.partition_id];
    PartitionEpoch before = p.partition_epoch;
    p = merge(p, r);
    if (bug_skip_partition_epoch_bump_ && r.leader.value() == no_leader_change) p.partition_epoch = before;
}

void MetadataImage::put(const FenceBrokerRecord& r) { brokers_[r.id].fenced = true; }

void MetadataImage::put(const UnfenceBrokerRecord& r) { brokers_[r.id].fenced = false; }

void MetadataImage::put(const BrokerRegistrationChangeRecord& r) {
    BrokerRegistration& b = brokers_[r.broker_id];
    if (r.fenced != 0) b.fenced = r.fenced == 1;
    if (r.in_controlled_shutdown == 1) b.in_controlled_shutdown = true;
}

// ----------------------------------------------------------------------------- queries

const BrokerRegistration* MetadataImage::broker(NodeId id) const {
    auto it = brokers_.find(id);
    return it == brokers_.end() ? nullptr : &it->second;
}

bool MetadataImage::is_active(NodeId id) const {
    const BrokerRegistration* b = broker(id);
    return b != nullptr && b->active();
}

const TopicState* MetadataImage::topic(const Uuid& id) const {
    auto it = topics_.find(id);
    return it == topics_.end() ? nullptr : &it->second;
}

const TopicState* MetadataImage::topic_by_name(std::string_view name) const {
    auto it = topic_ids_.find(name);
    return it == topic_ids_.end() ? nullptr : topic(it->second);
}

const PartitionState* MetadataImage::partition(const Uuid& topic_id, PartitionIndex p) const {
    const TopicState* t = topic(topic_id);
    if (t == nullptr) return nullptr;
    auto it = t->partitions.find(p);
    return it == t->partitions.end() ? nullptr : &it->second;
}

std::optional<std::string> MetadataImage::config(int8_t resource_type, const std::string& resource_name,
                                                 std::string_view name) const {
    auto it = configs_.find(ConfigResource{resource_type, resource_name});
    if (it == configs_.end()) return std::nullopt;
    auto e = it->second.find(std::string(name));
    if (e == it->second.end()) return std::nullopt;
    return e->second;
}

bool MetadataImage::unclean_leader_election_enabled(const std::string& topic_name) const {
    auto v = config(config_resource_topic, topic_name, unclean_leader_election_config);
    if (!v) v = config(config_resource_broker, "", unclean_leader_election_config);
    return v && *v == "true";
}

namespace {
template <typename Pred>
std::vector<TopicPartition> select(const std::map<Uuid, TopicState>& topics, Pred pred) {
    std::vector<TopicPartition> out;
    for (const auto& [id, t] : topics) {
        for (const auto& [index, p] : t.partitions) {
            if (pred(p)) out.push_back(TopicPartition{id, index});
        }
    }
    return out;
}
}  // namespace

std::vector<TopicPartition> MetadataImage::partitions_led_by(NodeId b) const {
    return select(topics_, [&](const PartitionState& p) { return p.leader == b; });
}

std::vector<TopicPartition> MetadataImage::partitions_with_isr_member(NodeId b) const {
    return select(topics_, [&](const PartitionState& p) { return p.in_isr(b); });
}

std::vector<TopicPartition> MetadataImage::leaderless_partitions() const {
    return select(topics_, [&](const PartitionState& p) { return !p.has_leader(); });
}

size_t MetadataImage::partition_count() const {
    size_t count = 0;
    for (const auto& [id, t] : topics_) count += t.partitions.size();
    return count;
}

std::string MetadataImage::describe() const {
    std::string s = "end_offset=" + std::to_string(end_offset_.value()) + "\n";
    for (const auto& [id, b] : brokers_) {
        s += "  broker " + n(id) + " epoch=" + std::to_string(b.epoch.value()) +
             (b.fenced ? " fenced" : " unfenced") + (b.in_controlled_shutdown ? " shutting-down" : "") + "\n";
    }
    for (const auto& [id, t] : topics_) {
        s += "  topic " + t.name + " " + uuid_to_string(id) + "\n";
        for (const auto& [index, p] : t.partitions) {
            s += "    " + std::to_string(index.value()) + ": " + controller::describe(p) + "\n";
        }
    }
    if (next_producer_id_ > 0) s += "  next producer id " + std::to_string(next_producer_id_) + "\n";
    for (const auto& [resource, entries] : configs_) {
        for (const auto& [name, value] : entries) {
            s += "  config " + std::to_string(resource.first) + ":" + resource.second + " " + name + "=" + value + "\n";
        }
    }
    return s;
}

}  // namespace keel::controller
