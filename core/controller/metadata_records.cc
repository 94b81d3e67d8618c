#include "core/controller/metadata_records.h"

#include <cstdio>

namespace keel::controller {
using protocol::Reader;
using protocol::Writer;

namespace {

template <typename R>
R decode_as(Reader& r, int16_t version) {
    return R::decode(r, version);
}

}  // namespace

// ------------------------------------------------------------------------------- framing

std::string_view record_type_name(RecordType t) {
    switch (t) {
        case RecordType::register_broker: return "RegisterBrokerRecord";
        case RecordType::topic: return "TopicRecord";
        case RecordType::partition: return "PartitionRecord";
        case RecordType::config: return "ConfigRecord";
        case RecordType::partition_change: return "PartitionChangeRecord";
        case RecordType::fence_broker: return "FenceBrokerRecord";
        case RecordType::unfence_broker: return "UnfenceBrokerRecord";
        case RecordType::remove_topic: return "RemoveTopicRecord";
        case RecordType::broker_registration_change: return "BrokerRegistrationChangeRecord";
        case RecordType::no_op: return "NoOpRecord";
        case RecordType::producer_ids: return "ProducerIdsRecord";
    }
    return "UnknownRecord";
}

RecordType record_type(const MetadataRecord& r) {
    return std::visit([](const auto& m) { return static_cast<RecordType>(std::decay_t<decltype(m)>::api_key_value); }, r);
}

int16_t max_version(RecordType t) {
    switch (t) {
        case RecordType::register_broker: return RegisterBrokerRecord::version_max;
        case RecordType::partition: return PartitionRecord::version_max;
        case RecordType::partition_change: return PartitionChangeRecord::version_max;
        case RecordType::broker_registration_change: return BrokerRegistrationChangeRecord::version_max;
        default: return 0;
    }
}

int16_t written_version(RecordType t) {
    if (t == RecordType::partition || t == RecordType::partition_change) return 0;
    return max_version(t);
}

Bytes encode_record(const MetadataRecord& r) { return encode_record(r, written_version(record_type(r))); }

Bytes encode_record(const MetadataRecord& r, int16_t version) {
    RecordType t = record_type(r);
    KEEL_ASSERT(version >= 0 && version <= max_version(t));
    Writer w(true);
    w.uvarint(record_frame_version);
    w.uvarint(static_cast<uint64_t>(t));
    w.uvarint(static_cast<uint64_t>(version));
    std::visit([&](const auto& m) { m.encode(w, version); }, r);
    return w.take();
}

namespace {

// Decodes the body of a record of type `t` (a known type) at `version`.
MetadataRecord decode_body(Reader& r, RecordType t, int16_t version) {
    switch (t) {
        case RecordType::register_broker: return decode_as<RegisterBrokerRecord>(r, version);
        case RecordType::topic: return decode_as<TopicRecord>(r, version);
        case RecordType::partition: return decode_as<PartitionRecord>(r, version);
        case RecordType::config: return decode_as<ConfigRecord>(r, version);
        case RecordType::partition_change: return decode_as<PartitionChangeRecord>(r, version);
        case RecordType::fence_broker: return decode_as<FenceBrokerRecord>(r, version);
        case RecordType::unfence_broker: return decode_as<UnfenceBrokerRecord>(r, version);
        case RecordType::remove_topic: return decode_as<RemoveTopicRecord>(r, version);
        case RecordType::broker_registration_change:
            return decode_as<BrokerRegistrationChangeRecord>(r, version);
        case RecordType::no_op: return decode_as<NoOpRecord>(r, version);
        case RecordType::producer_ids: return decode_as<ProducerIdsRecord>(r, version);
    }
    KEEL_UNREACHABLE();
}

bool is_known_type(uint64_t t) {
    switch (t) {
        case 0: case 2: case 3: case 4: case 5: case 7: case 8: case 9: case 15: case 17: case 20: return true;
        default: return false;
    }
}

Error corrupt(std::string what) { return Error{Errc::corrupt, "metadata record: " + std::move(what)}; }

}  // namespace

Result<MetadataRecord> decode_record(ByteView framed) {
    Reader r(framed, true);
    uint64_t frame = r.uvarint();
    uint64_t type = r.uvarint();
    uint64_t version = r.uvarint();
    if (!r.ok()) return corrupt("truncated frame header: " + r.error());
    if (frame != record_frame_version) {
        return corrupt("unknown frame version " + std::to_string(frame) + " (only 1 is supported)");
    }
    if (!is_known_type(type)) return corrupt("unknown record type " + std::to_string(type));
    auto t = static_cast<RecordType>(type);
    if (version > static_cast<uint64_t>(max_version(t))) {
        return corrupt(std::string(record_type_name(t)) + " v" + std::to_string(version) +
                       " is not supported (max v" + std::to_string(max_version(t)) + ")");
    }
    auto v = static_cast<int16_t>(version);
    // Keel before the generated codec wrote NoOpRecord without its (empty) tagged-field
    // section: `01 14 00`. Kafka writes `01 14 00 00`; both are read.
    if (t == RecordType::no_op && r.remaining() == 0) return MetadataRecord{NoOpRecord{}};
    MetadataRecord m = decode_body(r, t, v);
    Status s = r.finish(std::string(record_type_name(t)) + " v" + std::to_string(v));
    if (!s.ok()) return corrupt(s.error().message);
    return m;
}

Bytes encode_batch(const std::vector<MetadataRecord>& records) {
    KEEL_ASSERT(!records.empty());
    ByteWriter w;
    w.uvarint(records.size());
    for (const auto& r : records) {
        Bytes b = encode_record(r);
        w.uvarint(b.size());
        w.raw(b);
    }
    return w.take();
}

Result<std::vector<MetadataRecord>> decode_batch(ByteView payload) {
    ByteReader r(payload);
    uint64_t count = r.uvarint();
    if (!r.ok()) return corrupt("batch: truncated record count");
    // Every record takes at least four bytes (length + frame header).
    if (count == 0 || count > r.remaining() / 4) {
        return corrupt("batch: record count " + std::to_string(count) + " does not fit in " +
                       std::to_string(r.remaining()) + " bytes");
    }
    std::vector<MetadataRecord> out;
    out.reserve(count);
    for (uint64_t i = 0; i < count; i++) {
        uint64_t n = r.uvarint();
        if (!r.ok() || n > r.remaining()) {
            return corrupt("batch: record " + std::to_string(i) + " length runs past the end");
        }
        auto rec = decode_record(r.raw(static_cast<size_t>(n)));
        if (!rec.ok()) return corrupt("batch: record " + std::to_string(i) + ": " + rec.error().message);
        out.push_back(std::move(rec).value());
    }
    if (!r.at_end()) return corrupt("batch: " + std::to_string(r.remaining()) + " trailing bytes");
    return out;
}

// ---------------------------------------------------------------------------- describing

std::string uuid_to_string(const Uuid& u) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(u.most),
                  static_cast<unsigned long long>(u.least));
    return buf;
}

std::string ids_text(const std::vector<NodeId>& ids) {
    std::string s = "[";
    for (size_t i = 0; i < ids.size(); i++) {
        if (i > 0) s += ",";
        s += std::to_string(ids[i].value());
    }
    return s + "]";
}

namespace {

std::string short_id(const Uuid& u) { return uuid_to_string(u).substr(0, 8); }

struct Describer {
    std::string operator()(const RegisterBrokerRecord& m) const {
        return "RegisterBroker(id=" + std::to_string(m.broker_id.value()) +
               ", epoch=" + std::to_string(m.broker_epoch.value()) +
               ", fenced=" + (m.fenced ? "true" : "false") + ")";
    }
    std::string operator()(const TopicRecord& m) const {
        return "Topic(" + m.name + ", id=" + short_id(m.topic_id) + ")";
    }
    std::string operator()(const PartitionRecord& m) const {
        return "Partition(t=" + short_id(m.topic_id) + ", p=" + std::to_string(m.partition_id.value()) +
               ", replicas=" + ids_text(m.replicas) + ", isr=" + ids_text(m.isr) +
               ", leader=" + std::to_string(m.leader.value()) +
               ", le=" + std::to_string(m.leader_epoch.value()) +
               ", pe=" + std::to_string(m.partition_epoch.value()) + ")";
    }
    std::string operator()(const ConfigRecord& m) const {
        return "Config(" + std::to_string(m.resource_type) + ":" + m.resource_name + ", " + m.name +
               "=" + m.value.value_or("<deleted>") + ")";
    }
    std::string operator()(const PartitionChangeRecord& m) const {
        std::string s = "PartitionChange(t=" + short_id(m.topic_id) +
                        ", p=" + std::to_string(m.partition_id.value());
        if (m.leader.value() != no_leader_change) s += ", leader=" + std::to_string(m.leader.value());
        if (m.isr) s += ", isr=" + ids_text(*m.isr);
        if (m.leader_recovery_state != -1) s += ", recovery=" + std::to_string(m.leader_recovery_state);
        return s + ")";
    }
    std::string operator()(const FenceBrokerRecord& m) const {
        return "FenceBroker(id=" + std::to_string(m.id.value()) + ", epoch=" + std::to_string(m.epoch.value()) + ")";
    }
    std::string operator()(const UnfenceBrokerRecord& m) const {
        return "UnfenceBroker(id=" + std::to_string(m.id.value()) + ", epoch=" + std::to_string(m.epoch.value()) + ")";
    }
    std::string operator()(const BrokerRegistrationChangeRecord& m) const {
        return "BrokerRegistrationChange(id=" + std::to_string(m.broker_id.value()) +
               ", epoch=" + std::to_string(m.broker_epoch.value()) +
               ", fenced=" + std::to_string(m.fenced) +
               ", controlled_shutdown=" + std::to_string(m.in_controlled_shutdown) + ")";
    }
    std::string operator()(const NoOpRecord&) const { return "NoOp"; }
    std::string operator()(const RemoveTopicRecord& m) const { return "RemoveTopic(id=" + short_id(m.topic_id) + ")"; }
    std::string operator()(const ProducerIdsRecord& m) const {
        return "ProducerIds(broker=" + std::to_string(m.broker_id.value()) +
               ", epoch=" + std::to_string(m.broker_epoch.value()) +
               ", next=" + std::to_string(m.next_producer_id) + ")";
    }
};

}  // namespace

std::string describe(const MetadataRecord& r) { return std::visit(Describer{}, r); }

Uuid random_uuid(env::Random& random) {
    for (;;) {
        Uuid u{random.next_u64(), random.next_u64()};
        u.most = (u.most & ~uint64_t{0xf000}) | uint64_t{0x4000};                 // version 4
        u.least = (u.least & ~(uint64_t{0xc} << 60)) | (uint64_t{0x8} << 60);  // IETF variant
        if (!u.is_zero() && u != protocol::metadata_topic_id) return u;
    }
}

}  // namespace keel::controller
