#include "core/protocol/controller_messages.h"

namespace keel::protocol {
namespace {

void write_error(Writer& w, ErrorCode e) { w.i16(static_cast<int16_t>(e)); }
ErrorCode read_error(Reader& r) { return static_cast<ErrorCode>(r.i16()); }

void write_ids(Writer& w, const std::vector<NodeId>& ids) {
    w.array(ids, [&](NodeId n) { w.i32(n.value()); });
}
void read_ids(Reader& r, std::vector<NodeId>& ids) {
    r.array(ids, [&](NodeId& n) { n = NodeId(r.i32()); });
}

}  // namespace

// ------------------------------------------------------------------- AlterPartition

void AlterPartitionRequest::encode(Writer& w, int16_t version) const {
    w.i32(broker_id.value());
    w.i64(broker_epoch);
    w.array(topics, [&](const TopicData& t) {
        if (version <= 1) w.str(t.topic_name);
        if (version >= 2) w.uuid(t.topic_id);
        w.array(t.partitions, [&](const PartitionData& p) {
            w.i32(p.partition_index);
            w.i32(p.leader_epoch);
            if (version <= 2) write_ids(w, p.new_isr);
            if (version >= 3) {
                w.array(p.new_isr_with_epochs, [&](const BrokerState& b) {
                    w.i32(b.broker_id.value());
                    w.i64(b.broker_epoch);
                    w.empty_tagged_fields();
                });
            }
            if (version >= 1) w.i8(p.leader_recovery_state);
            w.i32(p.partition_epoch);
            w.empty_tagged_fields();
        });
        w.empty_tagged_fields();
    });
    w.empty_tagged_fields();
}

AlterPartitionRequest AlterPartitionRequest::decode(Reader& r, int16_t version) {
    AlterPartitionRequest m;
    m.broker_id = NodeId(r.i32());
    m.broker_epoch = r.i64();
    r.array(m.topics, [&](TopicData& t) {
        if (version <= 1) t.topic_name = r.str();
        if (version >= 2) t.topic_id = r.uuid();
        r.array(t.partitions, [&](PartitionData& p) {
            p.partition_index = r.i32();
            p.leader_epoch = r.i32();
            if (version <= 2) read_ids(r, p.new_isr);
            if (version >= 3) {
                r.array(p.new_isr_with_epochs, [&](BrokerState& b) {
                    b.broker_id = NodeId(r.i32());
                    b.broker_epoch = r.i64();
                    r.skip_tagged_fields();
                });
            }
            if (version >= 1) p.leader_recovery_state = r.i8();
            p.partition_epoch = r.i32();
            r.skip_tagged_fields();
        });
        r.skip_tagged_fields();
    });
    r.skip_tagged_fields();
    return m;
}

void AlterPartitionResponse::encode(Writer& w, int16_t version) const {
    w.i32(throttle_time_ms);
    write_error(w, error_code);
    w.array(topics, [&](const TopicData& t) {
        if (version <= 1) w.str(t.topic_name);
        if (version >= 2) w.uuid(t.topic_id);
        w.array(t.partitions, [&](const PartitionData& p) {
            w.i32(p.partition_index);
            write_error(w, p.error_code);
            w.i32(p.leader_id.value());
            w.i32(p.leader_epoch);
            write_ids(w, p.isr);
            if (version >= 1) w.i8(p.leader_recovery_state);
            w.i32(p.partition_epoch);
            w.empty_tagged_fields();
        });
        w.empty_tagged_fields();
    });
    w.empty_tagged_fields();
}

AlterPartitionResponse AlterPartitionResponse::decode(Reader& r, int16_t version) {
    AlterPartitionResponse m;
    m.throttle_time_ms = r.i32();
    m.error_code = read_error(r);
    r.array(m.topics, [&](TopicData& t) {
        if (version <= 1) t.topic_name = r.str();
        if (version >= 2) t.topic_id = r.uuid();
        r.array(t.partitions, [&](PartitionData& p) {
            p.partition_index = r.i32();
            p.error_code = read_error(r);
            p.leader_id = NodeId(r.i32());
            p.leader_epoch = r.i32();
            read_ids(r, p.isr);
            if (version >= 1) p.leader_recovery_state = r.i8();
            p.partition_epoch = r.i32();
            r.skip_tagged_fields();
        });
        r.skip_tagged_fields();
    });
    r.skip_tagged_fields();
    return m;
}

// --------------------------------------------------------------------- CreateTopics

void CreateTopicsRequest::encode(Writer& w, int16_t version) const {
    w.array(topics, [&](const Topic& t) {
        w.str(t.name);
        w.i32(t.num_partitions);
        w.i16(t.replication_factor);
        w.array(t.assignments, [&](const Assignment& a) {
            w.i32(a.partition_index);
            write_ids(w, a.broker_ids);
            w.empty_tagged_fields();
        });
        w.array(t.configs, [&](const Config& c) {
            w.str(c.name);
            w.nullable_str(c.value);
            w.empty_tagged_fields();
        });
        w.empty_tagged_fields();
    });
    w.i32(timeout_ms);
    if (version >= 1) w.boolean(validate_only);
    w.empty_tagged_fields();
}

CreateTopicsRequest CreateTopicsRequest::decode(Reader& r, int16_t version) {
    CreateTopicsRequest m;
    r.array(m.topics, [&](Topic& t) {
        t.name = r.str();
        t.num_partitions = r.i32();
        t.replication_factor = r.i16();
        r.array(t.assignments, [&](Assignment& a) {
            a.partition_index = r.i32();
            read_ids(r, a.broker_ids);
            r.skip_tagged_fields();
        });
        r.array(t.configs, [&](Config& c) {
            c.name = r.str();
            c.value = r.nullable_str();
            r.skip_tagged_fields();
        });
        r.skip_tagged_fields();
    });
    m.timeout_ms = r.i32();
    if (version >= 1) m.validate_only = r.boolean();
    r.skip_tagged_fields();
    return m;
}

void CreateTopicsResponse::encode(Writer& w, int16_t version) const {
    if (version >= 2) w.i32(throttle_time_ms);
    w.array(topics, [&](const Topic& t) {
        w.str(t.name);
        if (version >= 7) w.uuid(t.topic_id);
        write_error(w, t.error_code);
        if (version >= 1) w.nullable_str(t.error_message);
        if (version >= 5) {
            w.i32(t.num_partitions);
            w.i16(t.replication_factor);
            if (!t.configs) {
                w.null_array();
            } else {
                w.array(*t.configs, [&](const Config& c) {
                    w.str(c.name);
                    w.nullable_str(c.value);
                    w.boolean(c.read_only);
                    w.i8(c.config_source);
                    w.boolean(c.is_sensitive);
                    w.empty_tagged_fields();
                });
            }
        }
        std::vector<Writer::TaggedField> tags;
        if (version >= 5 && t.topic_config_error_code != ErrorCode::none) {
            tags.push_back(tagged(0, [&](Writer& x) { write_error(x, t.topic_config_error_code); }));
        }
        w.tagged_fields(tags);
    });
    w.empty_tagged_fields();
}

CreateTopicsResponse CreateTopicsResponse::decode(Reader& r, int16_t version) {
    CreateTopicsResponse m;
    if (version >= 2) m.throttle_time_ms = r.i32();
    r.array(m.topics, [&](Topic& t) {
        t.name = r.str();
        if (version >= 7) t.topic_id = r.uuid();
        t.error_code = read_error(r);
        if (version >= 1) t.error_message = r.nullable_str();
        if (version >= 5) {
            t.num_partitions = r.i32();
            t.replication_factor = r.i16();
            r.nullable_array(t.configs, [&](Config& c) {
                c.name = r.str();
                c.value = r.nullable_str();
                c.read_only = r.boolean();
                c.config_source = r.i8();
                c.is_sensitive = r.boolean();
                r.skip_tagged_fields();
            });
        }
        r.tagged_fields([&](uint32_t tag, Reader& x) {
            if (tag != 0 || version < 5) return false;
            t.topic_config_error_code = read_error(x);
            return true;
        });
    });
    r.skip_tagged_fields();
    return m;
}

}  // namespace keel::protocol
