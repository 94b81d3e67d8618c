#include "core/controller/metadata_records.h"

#include <cstdio>

namespace keel::controller {
namespace {

using protocol::Reader;
using protocol::Writer;

void write_ids(Writer& w, const std::vector<NodeId>& ids) {
    w.array(ids, [&](NodeId n) { w.i32(n.value()); });
}
void read_ids(Reader& r, std::vector<NodeId>& ids) {
    r.array(ids, [&](NodeId& n) { n = NodeId(r.i32()); });
}
void write_nullable_ids(Writer& w, const std::optional<std::vector<NodeId>>& ids) {
    if (!ids) return w.null_array();
    write_ids(w, *ids);
}
void read_nullable_ids(Reader& r, std::optional<std::vector<NodeId>>& ids) {
    r.nullable_array(ids, [&](NodeId& n) { n = NodeId(r.i32()); });
}
void write_uuids(Writer& w, const std::vector<Uuid>& ids) {
    w.array(ids, [&](const Uuid& u) { w.uuid(u); });
}
void read_uuids(Reader& r, std::vector<Uuid>& ids) {
    r.array(ids, [&](Uuid& u) { u = r.uuid(); });
}

// Appends one tagged field whose payload is written by `fill`.
template <typename F>
void add_tag(std::vector<Writer::TaggedField>& tags, uint32_t tag, F&& fill) {
    tags.push_back(protocol::tagged(tag, fill));
}

template <typename R>
R decode_as(Reader& r, int16_t version) {
    return R::decode(r, version);
}

}  // namespace

// ------------------------------------------------------------------ RegisterBrokerRecord

void RegisterBrokerRecord::encode(Writer& w, int16_t version) const {
    w.i32(broker_id.value());
    if (version >= 2) w.boolean(is_migrating_zk_broker);
    w.uuid(incarnation_id);
    w.i64(broker_epoch.value());
    w.array(endpoints, [&](const BrokerEndpoint& e) {
        w.str(e.name);
        w.str(e.host);
        w.u16(e.port);
        w.i16(e.security_protocol);
        w.empty_tagged_fields();
    });
    w.array(features, [&](const BrokerFeature& f) {
        w.str(f.name);
        w.i16(f.min_supported_version);
        w.i16(f.max_supported_version);
        w.empty_tagged_fields();
    });
    w.nullable_str(rack);
    w.boolean(fenced);
    if (version >= 1) w.boolean(in_controlled_shutdown);
    std::vector<Writer::TaggedField> tags;
    if (version >= 3 && !log_dirs.empty()) add_tag(tags, 0, [&](Writer& t) { write_uuids(t, log_dirs); });
    w.tagged_fields(tags);
}

RegisterBrokerRecord RegisterBrokerRecord::decode(Reader& r, int16_t version) {
    RegisterBrokerRecord m;
    m.broker_id = NodeId(r.i32());
    if (version >= 2) m.is_migrating_zk_broker = r.boolean();
    m.incarnation_id = r.uuid();
    m.broker_epoch = BrokerEpoch(r.i64());
    r.array(m.endpoints, [&](BrokerEndpoint& e) {
        e.name = r.str();
        e.host = r.str();
        e.port = r.u16();
        e.security_protocol = r.i16();
        r.skip_tagged_fields();
    });
    r.array(m.features, [&](BrokerFeature& f) {
        f.name = r.str();
        f.min_supported_version = r.i16();
        f.max_supported_version = r.i16();
        r.skip_tagged_fields();
    });
    m.rack = r.nullable_str();
    m.fenced = r.boolean();
    if (version >= 1) m.in_controlled_shutdown = r.boolean();
    r.tagged_fields([&](uint32_t tag, Reader& t) {
        if (tag != 0 || version < 3) return false;
        read_uuids(t, m.log_dirs);
        return true;
    });
    return m;
}

// ---------------------------------------------------------------------------- TopicRecord

void TopicRecord::encode(Writer& w, int16_t) const {
    w.str(name);
    w.uuid(topic_id);
    w.empty_tagged_fields();
}

TopicRecord TopicRecord::decode(Reader& r, int16_t) {
    TopicRecord m;
    m.name = r.str();
    m.topic_id = r.uuid();
    r.skip_tagged_fields();
    return m;
}

// ------------------------------------------------------------------------ PartitionRecord

void PartitionRecord::encode(Writer& w, int16_t version) const {
    w.i32(partition_id.value());
    w.uuid(topic_id);
    write_ids(w, replicas);
    write_ids(w, isr);
    write_ids(w, removing_replicas);
    write_ids(w, adding_replicas);
    w.i32(leader.value());
    w.i32(leader_epoch.value());
    w.i32(partition_epoch.value());
    if (version >= 1) write_uuids(w, directories);
    std::vector<Writer::TaggedField> tags;
    if (leader_recovery_state != leader_recovered) {
        add_tag(tags, 0, [&](Writer& t) { t.i8(leader_recovery_state); });
    }
    if (version >= 2 && eligible_leader_replicas) {
        add_tag(tags, 1, [&](Writer& t) { write_nullable_ids(t, eligible_leader_replicas); });
    }
    if (version >= 2 && last_known_elr) {
        add_tag(tags, 2, [&](Writer& t) { write_nullable_ids(t, last_known_elr); });
    }
    w.tagged_fields(tags);
}

PartitionRecord PartitionRecord::decode(Reader& r, int16_t version) {
    PartitionRecord m;
    m.partition_id = PartitionIndex(r.i32());
    m.topic_id = r.uuid();
    read_ids(r, m.replicas);
    read_ids(r, m.isr);
    read_ids(r, m.removing_replicas);
    read_ids(r, m.adding_replicas);
    m.leader = NodeId(r.i32());
    m.leader_epoch = LeaderEpoch(r.i32());
    m.partition_epoch = PartitionEpoch(r.i32());
    if (version >= 1) read_uuids(r, m.directories);
    r.tagged_fields([&](uint32_t tag, Reader& t) {
        if (tag == 0) {
            m.leader_recovery_state = t.i8();
        } else if (tag == 1 && version >= 2) {
            read_nullable_ids(t, m.eligible_leader_replicas);
        } else if (tag == 2 && version >= 2) {
            read_nullable_ids(t, m.last_known_elr);
        } else {
            return false;
        }
        return true;
    });
    return m;
}

// --------------------------------------------------------------------------- ConfigRecord

void ConfigRecord::encode(Writer& w, int16_t) const {
    w.i8(resource_type);
    w.str(resource_name);
    w.str(name);
    w.nullable_str(value);
    w.empty_tagged_fields();
}

ConfigRecord ConfigRecord::decode(Reader& r, int16_t) {
    ConfigRecord m;
    m.resource_type = r.i8();
    m.resource_name = r.str();
    m.name = r.str();
    m.value = r.nullable_str();
    r.skip_tagged_fields();
    return m;
}

// ------------------------------------------------------------------ PartitionChangeRecord

void PartitionChangeRecord::encode(Writer& w, int16_t version) const {
    w.i32(partition_id.value());
    w.uuid(topic_id);
    std::vector<Writer::TaggedField> tags;
    auto ids_tag = [&](uint32_t tag, const std::optional<std::vector<NodeId>>& ids) {
        if (ids) add_tag(tags, tag, [&](Writer& t) { write_nullable_ids(t, ids); });
    };
    ids_tag(0, isr);
    if (leader.value() != no_leader_change) add_tag(tags, 1, [&](Writer& t) { t.i32(leader.value()); });
    ids_tag(2, replicas);
    ids_tag(3, removing_replicas);
    ids_tag(4, adding_replicas);
    if (leader_recovery_state != -1) add_tag(tags, 5, [&](Writer& t) { t.i8(leader_recovery_state); });
    if (version >= 2) {
        ids_tag(6, eligible_leader_replicas);
        ids_tag(7, last_known_elr);
    }
    if (version >= 1 && directories) {
        add_tag(tags, 8, [&](Writer& t) { write_uuids(t, *directories); });
    }
    w.tagged_fields(tags);
}

PartitionChangeRecord PartitionChangeRecord::decode(Reader& r, int16_t version) {
    PartitionChangeRecord m;
    m.partition_id = PartitionIndex(r.i32());
    m.topic_id = r.uuid();
    r.tagged_fields([&](uint32_t tag, Reader& t) {
        switch (tag) {
            case 0: read_nullable_ids(t, m.isr); return true;
            case 1: m.leader = NodeId(t.i32()); return true;
            case 2: read_nullable_ids(t, m.replicas); return true;
            case 3: read_nullable_ids(t, m.removing_replicas); return true;
            case 4: read_nullable_ids(t, m.adding_replicas); return true;
            case 5: m.leader_recovery_state = t.i8(); return true;
            case 6:
                if (version < 2) return false;
                read_nullable_ids(t, m.eligible_leader_replicas);
                return true;
            case 7:
                if (version < 2) return false;
                read_nullable_ids(t, m.last_known_elr);
                return true;
            case 8:
                if (version < 1) return false;
                m.directories.emplace();
                read_uuids(t, *m.directories);
                return true;
            default: return false;
        }
    });
    return m;
}

// ------------------------------------------------------------- Fence/UnfenceBrokerRecord

void FenceBrokerRecord::encode(Writer& w, int16_t) const {
    w.i32(id.value());
    w.i64(epoch.value());
    w.empty_tagged_fields();
}

FenceBrokerRecord FenceBrokerRecord::decode(Reader& r, int16_t) {
    FenceBrokerRecord m;
    m.id = NodeId(r.i32());
    m.epoch = BrokerEpoch(r.i64());
    r.skip_tagged_fields();
    return m;
}

void UnfenceBrokerRecord::encode(Writer& w, int16_t) const {
    w.i32(id.value());
    w.i64(epoch.value());
    w.empty_tagged_fields();
}

UnfenceBrokerRecord UnfenceBrokerRecord::decode(Reader& r, int16_t) {
    UnfenceBrokerRecord m;
    m.id = NodeId(r.i32());
    m.epoch = BrokerEpoch(r.i64());
    r.skip_tagged_fields();
    return m;
}

// --------------------------------------------------------- BrokerRegistrationChangeRecord

void BrokerRegistrationChangeRecord::encode(Writer& w, int16_t version) const {
    w.i32(broker_id.value());
    w.i64(broker_epoch.value());
    std::vector<Writer::TaggedField> tags;
    if (fenced != 0) add_tag(tags, 0, [&](Writer& t) { t.i8(fenced); });
    if (version >= 1 && in_controlled_shutdown != 0) {
        add_tag(tags, 1, [&](Writer& t) { t.i8(in_controlled_shutdown); });
    }
    if (version >= 2 && !log_dirs.empty()) add_tag(tags, 2, [&](Writer& t) { write_uuids(t, log_dirs); });
    w.tagged_fields(tags);
}

BrokerRegistrationChangeRecord BrokerRegistrationChangeRecord::decode(Reader& r, int16_t version) {
    BrokerRegistrationChangeRecord m;
    m.broker_id = NodeId(r.i32());
    m.broker_epoch = BrokerEpoch(r.i64());
    r.tagged_fields([&](uint32_t tag, Reader& t) {
        if (tag == 0) {
            m.fenced = t.i8();
        } else if (tag == 1 && version >= 1) {
            m.in_controlled_shutdown = t.i8();
        } else if (tag == 2 && version >= 2) {
            read_uuids(t, m.log_dirs);
        } else {
            return false;
        }
        return true;
    });
    return m;
}

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
        case RecordType::broker_registration_change: return "BrokerRegistrationChangeRecord";
        case RecordType::no_op: return "NoOpRecord";
    }
    return "UnknownRecord";
}

RecordType record_type(const MetadataRecord& r) {
    return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::type; }, r);
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
        case RecordType::broker_registration_change:
            return decode_as<BrokerRegistrationChangeRecord>(r, version);
        case RecordType::no_op: return decode_as<NoOpRecord>(r, version);
    }
    KEEL_UNREACHABLE();
}

bool is_known_type(uint64_t t) {
    switch (t) {
        case 0: case 2: case 3: case 4: case 5: case 7: case 8: case 17: case 20: return true;
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
