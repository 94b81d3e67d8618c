// RapidCheck generators for metadata records (any field values, any version's fields).
// Call only inside rc::check properties.
#pragma once

#include <rapidcheck.h>

#include <optional>
#include <string>
#include <vector>

#include "core/controller/metadata_records.h"

namespace keel::controller::testing {

inline std::string gen_string() {
    return *rc::gen::container<std::string>(*rc::gen::inRange<size_t>(0, 10),
                                            rc::gen::inRange('a', 'z'));
}
inline std::optional<std::string> gen_nullable_string() {
    if (*rc::gen::inRange(0, 4) == 0) return std::nullopt;
    return gen_string();
}
inline Uuid gen_uuid() { return Uuid{*rc::gen::arbitrary<uint64_t>(), *rc::gen::arbitrary<uint64_t>()}; }
inline NodeId gen_node() { return NodeId(*rc::gen::arbitrary<int32_t>()); }
template <typename T, typename F>
std::vector<T> gen_vec(F&& one, int max = 4) {
    std::vector<T> v(static_cast<size_t>(*rc::gen::inRange(0, max + 1)));
    for (T& e : v) e = one();
    return v;
}
inline std::vector<NodeId> gen_ids() { return gen_vec<NodeId>(gen_node); }
inline std::optional<std::vector<NodeId>> gen_nullable_ids() {
    if (*rc::gen::inRange(0, 3) == 0) return std::nullopt;
    return gen_ids();
}
inline int8_t gen_i8() { return *rc::gen::arbitrary<int8_t>(); }

inline RegisterBrokerRecord gen_register_broker() {
    RegisterBrokerRecord m;
    m.broker_id = gen_node();
    m.is_migrating_zk_broker = *rc::gen::arbitrary<bool>();
    m.incarnation_id = gen_uuid();
    m.broker_epoch = BrokerEpoch(*rc::gen::arbitrary<int64_t>());
    m.endpoints = gen_vec<BrokerEndpoint>([] {
        return BrokerEndpoint{gen_string(), gen_string(), *rc::gen::arbitrary<uint16_t>(),
                              *rc::gen::arbitrary<int16_t>()};
    });
    m.features = gen_vec<BrokerFeature>([] {
        return BrokerFeature{gen_string(), *rc::gen::arbitrary<int16_t>(), *rc::gen::arbitrary<int16_t>()};
    });
    m.rack = gen_nullable_string();
    m.fenced = *rc::gen::arbitrary<bool>();
    m.in_controlled_shutdown = *rc::gen::arbitrary<bool>();
    m.log_dirs = gen_vec<Uuid>(gen_uuid);
    return m;
}

inline PartitionRecord gen_partition() {
    PartitionRecord m;
    m.partition_id = PartitionIndex(*rc::gen::arbitrary<int32_t>());
    m.topic_id = gen_uuid();
    m.replicas = gen_ids();
    m.isr = gen_ids();
    m.removing_replicas = gen_ids();
    m.adding_replicas = gen_ids();
    m.leader = gen_node();
    m.leader_recovery_state = gen_i8();
    m.leader_epoch = LeaderEpoch(*rc::gen::arbitrary<int32_t>());
    m.partition_epoch = PartitionEpoch(*rc::gen::arbitrary<int32_t>());
    m.directories = gen_vec<Uuid>(gen_uuid);
    m.eligible_leader_replicas = gen_nullable_ids();
    m.last_known_elr = gen_nullable_ids();
    return m;
}

inline PartitionChangeRecord gen_partition_change() {
    PartitionChangeRecord m;
    m.partition_id = PartitionIndex(*rc::gen::arbitrary<int32_t>());
    m.topic_id = gen_uuid();
    m.isr = gen_nullable_ids();
    m.leader = gen_node();
    m.replicas = gen_nullable_ids();
    m.removing_replicas = gen_nullable_ids();
    m.adding_replicas = gen_nullable_ids();
    m.leader_recovery_state = gen_i8();
    m.eligible_leader_replicas = gen_nullable_ids();
    m.last_known_elr = gen_nullable_ids();
    if (*rc::gen::arbitrary<bool>()) m.directories = gen_vec<Uuid>(gen_uuid);
    return m;
}

inline MetadataRecord gen_record() {
    switch (*rc::gen::inRange(0, 11)) {
        case 0: return gen_register_broker();
        case 1: return TopicRecord{gen_string(), gen_uuid()};
        case 2: return gen_partition();
        case 3: return ConfigRecord{gen_i8(), gen_string(), gen_string(), gen_nullable_string()};
        case 4: return gen_partition_change();
        case 5: return FenceBrokerRecord{gen_node(), BrokerEpoch(*rc::gen::arbitrary<int64_t>())};
        case 6: return UnfenceBrokerRecord{gen_node(), BrokerEpoch(*rc::gen::arbitrary<int64_t>())};
        case 7:
            return BrokerRegistrationChangeRecord{gen_node(), BrokerEpoch(*rc::gen::arbitrary<int64_t>()),
                                                  gen_i8(), gen_i8(), gen_vec<Uuid>(gen_uuid)};
        case 8:
            return ProducerIdsRecord{gen_node(), BrokerEpoch(*rc::gen::arbitrary<int64_t>()),
                                     *rc::gen::arbitrary<int64_t>(), {}};
        case 9: return RemoveTopicRecord{gen_uuid(), {}};
        default: return NoOpRecord{};
    }
}

}  // namespace keel::controller::testing
