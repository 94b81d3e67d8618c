// MetadataCache (see metadata.h).
#include "core/client/metadata.h"

#include "core/protocol/generated/metadata_request.h"
#include "core/protocol/generated/metadata_response.h"

namespace keel::client {

MetadataCache::MetadataCache(env::Env& env, ConnectionPool& pool, MetadataOptions options)
    : env_(env), pool_(pool), options_(std::move(options)), mutex_(env.executor()) {}

void MetadataCache::add_topic(const std::string& topic) {
    if (topics_wanted_.insert(topic).second) stale_ = true;
}

bool MetadataCache::needs_refresh() const {
    if (stale_ || !refreshed_at_) return true;
    if (env_.now() - *refreshed_at_ >= options_.max_age) return true;
    for (const std::string& t : topics_wanted_) {
        if (topic(t) == nullptr) return true;
    }
    return false;
}

Status MetadataCache::refresh_if_needed(Instant deadline) {
    if (!needs_refresh()) return ok_status();
    return refresh(deadline);
}

Status MetadataCache::refresh(Instant deadline) {
    uint64_t seen = generation_;
    env::LockGuard guard(mutex_);
    if (!guard.held()) return Status(Errc::cancelled, "the node is stopping");
    if (generation_ != seen) return ok_status();  // refreshed while we waited
    std::vector<env::Address> candidates = any_brokers();
    Status last(Errc::connection_refused, "no broker to ask for metadata");
    for (size_t i = 0; i < candidates.size(); i++) {
        const env::Address& a = candidates[(next_broker_ + i) % candidates.size()];
        Instant attempt_deadline = std::min(deadline, env_.now() + options_.request_timeout);
        last = refresh_from(a, attempt_deadline);
        if (last.ok()) return last;
        if (env_.now() >= deadline) break;
    }
    next_broker_++;
    return last;
}

Status MetadataCache::refresh_from(const env::Address& address, Instant deadline) {
    protocol::MetadataRequest req;
    req.topics.emplace();
    for (const std::string& t : topics_wanted_) {
        protocol::MetadataRequest::MetadataRequestTopic rt;
        rt.name = t;
        req.topics->push_back(std::move(rt));
    }
    req.allow_auto_topic_creation = options_.allow_auto_topic_creation;
    BrokerConnection& conn = pool_.get(address);
    KEEL_TRY_ASSIGN(protocol::MetadataResponse resp,
                    (conn.call<protocol::MetadataResponse>(req, kMetadataVersionMin, kMetadataVersionMax, deadline)));
    std::map<NodeId, env::Address> brokers;
    for (const auto& b : resp.brokers) {
        if (b.port <= 0 || b.port > 65535) continue;
        brokers[b.node_id] = env::Address{b.host, static_cast<uint16_t>(b.port)};
    }
    if (brokers.empty()) return Status(Errc::invalid_request, "metadata without brokers from " + address.to_string());
    std::map<std::string, TopicMetadata> topics;
    for (const auto& t : resp.topics) {
        if (!t.name) continue;
        TopicMetadata tm;
        tm.error = t.error_code;
        for (const auto& p : t.partitions) {
            PartitionMetadata pm =
                newest_known(*t.name, t.topic_id, {p.partition_index, p.error_code, p.leader_id, p.leader_epoch});
            if (pm.leader.value() >= 0 && brokers.count(pm.leader) == 0) pm.leader = NodeId(-1);
            tm.partitions.push_back(pm);
        }
        std::sort(tm.partitions.begin(), tm.partitions.end(),
                  [](const PartitionMetadata& a, const PartitionMetadata& b) { return a.partition < b.partition; });
        // A partition list with holes is not usable for partitioning: treat as unknown.
        for (size_t i = 0; i < tm.partitions.size(); i++) {
            if (tm.partitions[i].partition.value() != static_cast<int32_t>(i)) {
                tm.error = protocol::ErrorCode::leader_not_available;
            }
        }
        topics[*t.name] = std::move(tm);
    }
    brokers_ = std::move(brokers);
    topics_ = std::move(topics);
    refreshed_at_ = env_.now();
    stale_ = false;
    generation_++;
    return ok_status();
}

PartitionMetadata MetadataCache::newest_known(const std::string& topic, const protocol::Uuid& topic_id,
                                              const PartitionMetadata& fresh) {
    if (!topic_id.is_zero()) {
        auto [id, inserted] = topic_ids_.try_emplace(topic, topic_id);
        if (!inserted && id->second != topic_id) {
            id->second = topic_id;
            std::erase_if(last_seen_epochs_, [&](const auto& kv) { return kv.first.topic == topic; });
        }
    }
    if (fresh.leader_epoch.value() < 0 || fresh.error != protocol::ErrorCode::none) return fresh;
    TopicPartitionName tp{topic, fresh.partition};
    auto [seen, inserted] = last_seen_epochs_.try_emplace(tp, fresh.leader_epoch);
    if (inserted || fresh.leader_epoch >= seen->second) {
        seen->second = fresh.leader_epoch;
        return fresh;
    }
    // Older than what we know: keep the previous entry, or know no leader until a broker
    // that has caught up answers.
    auto it = topics_.find(topic);
    if (it != topics_.end()) {
        for (const PartitionMetadata& prev : it->second.partitions) {
            if (prev.partition == fresh.partition && prev.leader_epoch >= seen->second) return prev;
        }
    }
    return PartitionMetadata{fresh.partition, protocol::ErrorCode::none, NodeId(-1), LeaderEpoch(-1)};
}

const TopicMetadata* MetadataCache::topic(const std::string& name) const {
    auto it = topics_.find(name);
    if (it == topics_.end() || it->second.error != protocol::ErrorCode::none) return nullptr;
    if (it->second.partitions.empty()) return nullptr;
    return &it->second;
}

std::optional<PartitionMetadata> MetadataCache::partition(const TopicPartitionName& tp) const {
    const TopicMetadata* t = topic(tp.topic);
    if (t == nullptr || tp.partition.value() < 0 || tp.partition.value() >= t->partition_count()) {
        return std::nullopt;
    }
    const PartitionMetadata& p = t->partitions[static_cast<size_t>(tp.partition.value())];
    if (p.leader.value() < 0) return std::nullopt;
    return p;
}

std::optional<env::Address> MetadataCache::broker_address(NodeId id) const {
    auto it = brokers_.find(id);
    if (it == brokers_.end()) return std::nullopt;
    return it->second;
}

std::vector<env::Address> MetadataCache::any_brokers() const {
    std::vector<env::Address> out;
    for (const auto& [id, a] : brokers_) out.push_back(a);
    for (const env::Address& a : options_.bootstrap) {
        if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    }
    return out;
}

}  // namespace keel::client
