#include "core/protocol/describe_quorum.h"

namespace keel::protocol {
namespace {

using Response = DescribeQuorumResponse;

void write_replica_state(Writer& w, const Response::ReplicaState& s, int16_t version) {
    w.i32(s.replica_id.value());
    if (version >= 2) w.uuid(s.replica_directory_id);
    w.i64(s.log_end_offset.value());
    if (version >= 1) {
        w.i64(s.last_fetch_timestamp);
        w.i64(s.last_caught_up_timestamp);
    }
    w.empty_tagged_fields();
}

void read_replica_state(Reader& r, Response::ReplicaState& s, int16_t version) {
    s.replica_id = NodeId(r.i32());
    if (version >= 2) s.replica_directory_id = r.uuid();
    s.log_end_offset = Offset(r.i64());
    if (version >= 1) {
        s.last_fetch_timestamp = r.i64();
        s.last_caught_up_timestamp = r.i64();
    }
    r.skip_tagged_fields();
}

void write_partition(Writer& w, const Response::PartitionData& p, int16_t version) {
    w.i32(p.partition_index);
    w.i16(static_cast<int16_t>(p.error_code));
    if (version >= 2) w.nullable_str(p.error_message);
    w.i32(p.leader_id.value());
    w.i32(p.leader_epoch.value());
    w.i64(p.high_watermark.value());
    auto replica = [&](const Response::ReplicaState& s) { write_replica_state(w, s, version); };
    w.array(p.current_voters, replica);
    w.array(p.observers, replica);
    w.empty_tagged_fields();
}

void read_partition(Reader& r, Response::PartitionData& p, int16_t version) {
    p.partition_index = r.i32();
    p.error_code = static_cast<ErrorCode>(r.i16());
    if (version >= 2) p.error_message = r.nullable_str();
    p.leader_id = NodeId(r.i32());
    p.leader_epoch = QuorumEpoch(r.i32());
    p.high_watermark = Offset(r.i64());
    auto replica = [&](Response::ReplicaState& s) { read_replica_state(r, s, version); };
    r.array(p.current_voters, replica);
    r.array(p.observers, replica);
    r.skip_tagged_fields();
}

void write_nodes(Writer& w, const std::vector<Response::Node>& nodes) {
    w.array(nodes, [&](const Response::Node& n) {
        w.i32(n.node_id.value());
        w.array(n.listeners, [&](const Response::Listener& l) {
            w.str(l.name);
            w.str(l.host);
            w.u16(l.port);
            w.empty_tagged_fields();
        });
        w.empty_tagged_fields();
    });
}

void read_nodes(Reader& r, std::vector<Response::Node>& nodes) {
    r.array(nodes, [&](Response::Node& n) {
        n.node_id = NodeId(r.i32());
        r.array(n.listeners, [&](Response::Listener& l) {
            l.name = r.str();
            l.host = r.str();
            l.port = r.u16();
            r.skip_tagged_fields();
        });
        r.skip_tagged_fields();
    });
}

}  // namespace

void DescribeQuorumRequest::encode(Writer& w, int16_t /*version*/) const {
    w.array(topics, [&](const TopicData& t) {
        w.str(t.topic_name);
        w.array(t.partitions, [&](const PartitionData& p) {
            w.i32(p.partition_index);
            w.empty_tagged_fields();
        });
        w.empty_tagged_fields();
    });
    w.empty_tagged_fields();
}

DescribeQuorumRequest DescribeQuorumRequest::decode(Reader& r, int16_t /*version*/) {
    DescribeQuorumRequest m;
    r.array(m.topics, [&](TopicData& t) {
        t.topic_name = r.str();
        r.array(t.partitions, [&](PartitionData& p) {
            p.partition_index = r.i32();
            r.skip_tagged_fields();
        });
        r.skip_tagged_fields();
    });
    r.skip_tagged_fields();
    return m;
}

void DescribeQuorumResponse::encode(Writer& w, int16_t version) const {
    w.i16(static_cast<int16_t>(error_code));
    if (version >= 2) w.nullable_str(error_message);
    w.array(topics, [&](const TopicData& t) {
        w.str(t.topic_name);
        w.array(t.partitions, [&](const PartitionData& p) { write_partition(w, p, version); });
        w.empty_tagged_fields();
    });
    if (version >= 2) write_nodes(w, nodes);
    w.empty_tagged_fields();
}

DescribeQuorumResponse DescribeQuorumResponse::decode(Reader& r, int16_t version) {
    DescribeQuorumResponse m;
    m.error_code = static_cast<ErrorCode>(r.i16());
    if (version >= 2) m.error_message = r.nullable_str();
    r.array(m.topics, [&](TopicData& t) {
        t.topic_name = r.str();
        r.array(t.partitions, [&](PartitionData& p) { read_partition(r, p, version); });
        r.skip_tagged_fields();
    });
    if (version >= 2) read_nodes(r, m.nodes);
    r.skip_tagged_fields();
    return m;
}

}  // namespace keel::protocol
