#include "core/protocol/kraft_messages.h"

namespace keel::protocol {
namespace {

void write_error(Writer& w, ErrorCode e) { w.i16(static_cast<int16_t>(e)); }
ErrorCode read_error(Reader& r) { return static_cast<ErrorCode>(r.i16()); }

void write_node_endpoints_tag(Writer& w, const std::vector<NodeEndpoint>& eps, int16_t version) {
    std::vector<Writer::TaggedField> tags;
    if (version >= 1 && !eps.empty()) {
        tags.push_back(tagged(0, [&](Writer& t) {
            t.array(eps, [&](const NodeEndpoint& e) {
                t.i32(e.node_id.value());
                t.str(e.host);
                t.u16(e.port);
                t.empty_tagged_fields();
            });
        }));
    }
    w.tagged_fields(tags);
}

// Reads the top-level tagged section whose only known field is NodeEndpoints (tag 0, v1+).
void read_node_endpoints_tag(Reader& r, std::vector<NodeEndpoint>& eps, int16_t version) {
    r.tagged_fields([&](uint32_t tag, Reader& t) {
        if (tag != 0 || version < 1) return false;
        t.array(eps, [&](NodeEndpoint& e) {
            e.node_id = NodeId(t.i32());
            e.host = t.str();
            e.port = t.u16();
            t.skip_tagged_fields();
        });
        return true;
    });
}

void write_leader_endpoints(Writer& w, const std::vector<LeaderEndpoint>& eps) {
    w.array(eps, [&](const LeaderEndpoint& e) {
        w.str(e.name);
        w.str(e.host);
        w.u16(e.port);
        w.empty_tagged_fields();
    });
}

void read_leader_endpoints(Reader& r, std::vector<LeaderEndpoint>& eps) {
    r.array(eps, [&](LeaderEndpoint& e) {
        e.name = r.str();
        e.host = r.str();
        e.port = r.u16();
        r.skip_tagged_fields();
    });
}

}  // namespace

// ------------------------------------------------------------------------------ Vote

void VoteRequest::encode(Writer& w, int16_t version) const {
    w.nullable_str(cluster_id);
    if (version >= 1) w.i32(voter_id.value());
    w.array(topics, [&](const TopicData& t) {
        w.str(t.topic_name);
        w.array(t.partitions, [&](const PartitionData& p) {
            w.i32(p.partition_index);
            w.i32(p.candidate_epoch.value());
            w.i32(p.candidate_id.value());
            if (version >= 1) {
                w.uuid(p.candidate_directory_id);
                w.uuid(p.voter_directory_id);
            }
            w.i32(p.last_offset_epoch.value());
            w.i64(p.last_offset.value());
            if (version >= 2) w.boolean(p.pre_vote);
            w.empty_tagged_fields();
        });
        w.empty_tagged_fields();
    });
    w.empty_tagged_fields();
}

VoteRequest VoteRequest::decode(Reader& r, int16_t version) {
    VoteRequest m;
    m.cluster_id = r.nullable_str();
    if (version >= 1) m.voter_id = NodeId(r.i32());
    r.array(m.topics, [&](TopicData& t) {
        t.topic_name = r.str();
        r.array(t.partitions, [&](PartitionData& p) {
            p.partition_index = r.i32();
            p.candidate_epoch = QuorumEpoch(r.i32());
            p.candidate_id = NodeId(r.i32());
            if (version >= 1) {
                p.candidate_directory_id = r.uuid();
                p.voter_directory_id = r.uuid();
            }
            p.last_offset_epoch = QuorumEpoch(r.i32());
            p.last_offset = Offset(r.i64());
            if (version >= 2) p.pre_vote = r.boolean();
            r.skip_tagged_fields();
        });
        r.skip_tagged_fields();
    });
    r.skip_tagged_fields();
    return m;
}

void VoteResponse::encode(Writer& w, int16_t version) const {
    write_error(w, error_code);
    w.array(topics, [&](const TopicData& t) {
        w.str(t.topic_name);
        w.array(t.partitions, [&](const PartitionData& p) {
            w.i32(p.partition_index);
            write_error(w, p.error_code);
            w.i32(p.leader_id.value());
            w.i32(p.leader_epoch.value());
            w.boolean(p.vote_granted);
            w.empty_tagged_fields();
        });
        w.empty_tagged_fields();
    });
    write_node_endpoints_tag(w, node_endpoints, version);
}

VoteResponse VoteResponse::decode(Reader& r, int16_t version) {
    VoteResponse m;
    m.error_code = read_error(r);
    r.array(m.topics, [&](TopicData& t) {
        t.topic_name = r.str();
        r.array(t.partitions, [&](PartitionData& p) {
            p.partition_index = r.i32();
            p.error_code = read_error(r);
            p.leader_id = NodeId(r.i32());
            p.leader_epoch = QuorumEpoch(r.i32());
            p.vote_granted = r.boolean();
            r.skip_tagged_fields();
        });
        r.skip_tagged_fields();
    });
    read_node_endpoints_tag(r, m.node_endpoints, version);
    return m;
}

// ------------------------------------------------------------------ BeginQuorumEpoch

void BeginQuorumEpochRequest::encode(Writer& w, int16_t version) const {
    w.nullable_str(cluster_id);
    if (version >= 1) w.i32(voter_id.value());
    w.array(topics, [&](const TopicData& t) {
        w.str(t.topic_name);
        w.array(t.partitions, [&](const PartitionData& p) {
            w.i32(p.partition_index);
            if (version >= 1) w.uuid(p.voter_directory_id);
            w.i32(p.leader_id.value());
            w.i32(p.leader_epoch.value());
            w.empty_tagged_fields();
        });
        w.empty_tagged_fields();
    });
    if (version >= 1) write_leader_endpoints(w, leader_endpoints);
    w.empty_tagged_fields();
}

BeginQuorumEpochRequest BeginQuorumEpochRequest::decode(Reader& r, int16_t version) {
    BeginQuorumEpochRequest m;
    m.cluster_id = r.nullable_str();
    if (version >= 1) m.voter_id = NodeId(r.i32());
    r.array(m.topics, [&](TopicData& t) {
        t.topic_name = r.str();
        r.array(t.partitions, [&](PartitionData& p) {
            p.partition_index = r.i32();
            if (version >= 1) p.voter_directory_id = r.uuid();
            p.leader_id = NodeId(r.i32());
            p.leader_epoch = QuorumEpoch(r.i32());
            r.skip_tagged_fields();
        });
        r.skip_tagged_fields();
    });
    if (version >= 1) read_leader_endpoints(r, m.leader_endpoints);
    r.skip_tagged_fields();
    return m;
}

void QuorumEpochResponseData::encode_fields(Writer& w, int16_t version) const {
    write_error(w, error_code);
    w.array(topics, [&](const TopicData& t) {
        w.str(t.topic_name);
        w.array(t.partitions, [&](const PartitionData& p) {
            w.i32(p.partition_index);
            write_error(w, p.error_code);
            w.i32(p.leader_id.value());
            w.i32(p.leader_epoch.value());
            w.empty_tagged_fields();
        });
        w.empty_tagged_fields();
    });
    write_node_endpoints_tag(w, node_endpoints, version);
}

void QuorumEpochResponseData::decode_fields(Reader& r, int16_t version) {
    error_code = read_error(r);
    r.array(topics, [&](TopicData& t) {
        t.topic_name = r.str();
        r.array(t.partitions, [&](PartitionData& p) {
            p.partition_index = r.i32();
            p.error_code = read_error(r);
            p.leader_id = NodeId(r.i32());
            p.leader_epoch = QuorumEpoch(r.i32());
            r.skip_tagged_fields();
        });
        r.skip_tagged_fields();
    });
    read_node_endpoints_tag(r, node_endpoints, version);
}

// -------------------------------------------------------------------- EndQuorumEpoch

void EndQuorumEpochRequest::encode(Writer& w, int16_t version) const {
    w.nullable_str(cluster_id);
    w.array(topics, [&](const TopicData& t) {
        w.str(t.topic_name);
        w.array(t.partitions, [&](const PartitionData& p) {
            w.i32(p.partition_index);
            w.i32(p.leader_id.value());
            w.i32(p.leader_epoch.value());
            if (version == 0) {
                w.array(p.preferred_successors, [&](NodeId id) { w.i32(id.value()); });
            } else {
                w.array(p.preferred_candidates, [&](const ReplicaInfo& c) {
                    w.i32(c.candidate_id.value());
                    w.uuid(c.candidate_directory_id);
                    w.empty_tagged_fields();
                });
            }
            w.empty_tagged_fields();
        });
        w.empty_tagged_fields();
    });
    if (version >= 1) write_leader_endpoints(w, leader_endpoints);
    w.empty_tagged_fields();
}

EndQuorumEpochRequest EndQuorumEpochRequest::decode(Reader& r, int16_t version) {
    EndQuorumEpochRequest m;
    m.cluster_id = r.nullable_str();
    r.array(m.topics, [&](TopicData& t) {
        t.topic_name = r.str();
        r.array(t.partitions, [&](PartitionData& p) {
            p.partition_index = r.i32();
            p.leader_id = NodeId(r.i32());
            p.leader_epoch = QuorumEpoch(r.i32());
            if (version == 0) {
                r.array(p.preferred_successors, [&](NodeId& id) { id = NodeId(r.i32()); });
            } else {
                r.array(p.preferred_candidates, [&](ReplicaInfo& c) {
                    c.candidate_id = NodeId(r.i32());
                    c.candidate_directory_id = r.uuid();
                    r.skip_tagged_fields();
                });
            }
            r.skip_tagged_fields();
        });
        r.skip_tagged_fields();
    });
    if (version >= 1) read_leader_endpoints(r, m.leader_endpoints);
    r.skip_tagged_fields();
    return m;
}

// --------------------------------------------------------------------- FetchSnapshot

namespace {

void write_snapshot_id(Writer& w, const SnapshotIdData& s) {
    w.i64(s.end_offset.value());
    w.i32(s.epoch.value());
    w.empty_tagged_fields();
}

SnapshotIdData read_snapshot_id(Reader& r) {
    SnapshotIdData s;
    s.end_offset = Offset(r.i64());
    s.epoch = QuorumEpoch(r.i32());
    r.skip_tagged_fields();
    return s;
}

}  // namespace

void FetchSnapshotRequest::encode(Writer& w, int16_t version) const {
    w.i32(replica_id.value());
    w.i32(max_bytes);
    w.array(topics, [&](const TopicSnapshot& t) {
        w.str(t.name);
        w.array(t.partitions, [&](const PartitionSnapshot& p) {
            w.i32(p.partition);
            w.i32(p.current_leader_epoch.value());
            write_snapshot_id(w, p.snapshot_id);
            w.i64(p.position);
            std::vector<Writer::TaggedField> tags;
            if (version >= 1 && !p.replica_directory_id.is_zero()) {
                tags.push_back(tagged(0, [&](Writer& t2) { t2.uuid(p.replica_directory_id); }));
            }
            w.tagged_fields(tags);
        });
        w.empty_tagged_fields();
    });
    std::vector<Writer::TaggedField> tags;
    if (cluster_id) {
        tags.push_back(tagged(0, [&](Writer& t) { t.nullable_str(cluster_id); }));
    }
    w.tagged_fields(tags);
}

FetchSnapshotRequest FetchSnapshotRequest::decode(Reader& r, int16_t version) {
    FetchSnapshotRequest m;
    m.replica_id = NodeId(r.i32());
    m.max_bytes = r.i32();
    r.array(m.topics, [&](TopicSnapshot& t) {
        t.name = r.str();
        r.array(t.partitions, [&](PartitionSnapshot& p) {
            p.partition = r.i32();
            p.current_leader_epoch = QuorumEpoch(r.i32());
            p.snapshot_id = read_snapshot_id(r);
            p.position = r.i64();
            r.tagged_fields([&](uint32_t tag, Reader& t2) {
                if (tag != 0 || version < 1) return false;
                p.replica_directory_id = t2.uuid();
                return true;
            });
        });
        r.skip_tagged_fields();
    });
    r.tagged_fields([&](uint32_t tag, Reader& t) {
        if (tag != 0) return false;
        m.cluster_id = t.nullable_str();
        return true;
    });
    return m;
}

void FetchSnapshotResponse::encode(Writer& w, int16_t version) const {
    w.i32(throttle_time_ms);
    write_error(w, error_code);
    w.array(topics, [&](const TopicSnapshot& t) {
        w.str(t.name);
        w.array(t.partitions, [&](const PartitionSnapshot& p) {
            w.i32(p.index);
            write_error(w, p.error_code);
            write_snapshot_id(w, p.snapshot_id);
            w.i64(p.size);
            w.i64(p.position);
            w.bytes(p.unaligned_records);
            w.tagged_fields({tagged(0, [&](Writer& t2) {
                t2.i32(p.current_leader.leader_id.value());
                t2.i32(p.current_leader.leader_epoch.value());
                t2.empty_tagged_fields();
            })});
        });
        w.empty_tagged_fields();
    });
    write_node_endpoints_tag(w, node_endpoints, version);
}

FetchSnapshotResponse FetchSnapshotResponse::decode(Reader& r, int16_t version) {
    FetchSnapshotResponse m;
    m.throttle_time_ms = r.i32();
    m.error_code = read_error(r);
    r.array(m.topics, [&](TopicSnapshot& t) {
        t.name = r.str();
        r.array(t.partitions, [&](PartitionSnapshot& p) {
            p.index = r.i32();
            p.error_code = read_error(r);
            p.snapshot_id = read_snapshot_id(r);
            p.size = r.i64();
            p.position = r.i64();
            p.unaligned_records = r.bytes();
            r.tagged_fields([&](uint32_t tag, Reader& t2) {
                if (tag != 0) return false;
                p.current_leader.leader_id = NodeId(t2.i32());
                p.current_leader.leader_epoch = QuorumEpoch(t2.i32());
                t2.skip_tagged_fields();
                return true;
            });
        });
        r.skip_tagged_fields();
    });
    read_node_endpoints_tag(r, m.node_endpoints, version);
    return m;
}

// ---------------------------------------------------------------- LeaderChangeMessage

Bytes LeaderChangeMessage::encode() const {
    Writer w(true);
    w.i16(version);
    w.i32(leader_id.value());
    auto voter = [&](const Voter& v) {
        w.i32(v.voter_id.value());
        w.empty_tagged_fields();
    };
    w.array(voters, voter);
    w.array(granting_voters, voter);
    w.empty_tagged_fields();
    return w.take();
}

Result<LeaderChangeMessage> LeaderChangeMessage::decode(ByteView b) {
    Reader r(b, true);
    LeaderChangeMessage m;
    m.version = r.i16();
    m.leader_id = NodeId(r.i32());
    auto voter = [&](Voter& v) {
        v.voter_id = NodeId(r.i32());
        r.skip_tagged_fields();
    };
    r.array(m.voters, voter);
    r.array(m.granting_voters, voter);
    r.skip_tagged_fields();
    KEEL_TRY(r.finish("LeaderChangeMessage"));
    return m;
}

}  // namespace keel::protocol
