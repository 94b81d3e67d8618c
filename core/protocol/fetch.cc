#include "core/protocol/fetch.h"

namespace keel::protocol {

// ---------------------------------------------------------------------- request

namespace {

void write_fetch_partition(Writer& w, const FetchRequest::FetchPartition& p, int16_t version) {
    w.i32(p.partition);
    if (version >= 9) w.i32(p.current_leader_epoch);
    w.i64(p.fetch_offset.value());
    if (version >= 12) w.i32(p.last_fetched_epoch);
    if (version >= 5) w.i64(p.log_start_offset.value());
    w.i32(p.partition_max_bytes);
    std::vector<Writer::TaggedField> tags;
    if (version >= 17 && !p.replica_directory_id.is_zero()) {
        tags.push_back(tagged(0, [&](Writer& t) { t.uuid(p.replica_directory_id); }));
    }
    w.tagged_fields(tags);
}

void read_fetch_partition(Reader& r, FetchRequest::FetchPartition& p, int16_t version) {
    p.partition = r.i32();
    if (version >= 9) p.current_leader_epoch = r.i32();
    p.fetch_offset = Offset(r.i64());
    if (version >= 12) p.last_fetched_epoch = r.i32();
    if (version >= 5) p.log_start_offset = Offset(r.i64());
    p.partition_max_bytes = r.i32();
    r.tagged_fields([&](uint32_t tag, Reader& t) {
        if (tag != 0 || version < 17) return false;
        p.replica_directory_id = t.uuid();
        return true;
    });
}

}  // namespace

void FetchRequest::encode(Writer& w, int16_t version) const {
    if (version <= 14) w.i32(replica_id.value());
    w.i32(max_wait_ms);
    w.i32(min_bytes);
    w.i32(max_bytes);
    w.i8(isolation_level);
    if (version >= 7) {
        w.i32(session_id);
        w.i32(session_epoch);
    }
    w.array(topics, [&](const FetchTopic& t) {
        if (version <= 12) {
            w.str(t.topic);
        } else {
            w.uuid(t.topic_id);
        }
        w.array(t.partitions, [&](const FetchPartition& p) { write_fetch_partition(w, p, version); });
        w.empty_tagged_fields();
    });
    if (version >= 7) {
        w.array(forgotten_topics_data, [&](const ForgottenTopic& t) {
            if (version <= 12) {
                w.str(t.topic);
            } else {
                w.uuid(t.topic_id);
            }
            w.array(t.partitions, [&](int32_t p) { w.i32(p); });
            w.empty_tagged_fields();
        });
    }
    if (version >= 11) w.str(rack_id);
    std::vector<Writer::TaggedField> tags;
    if (version >= 12 && cluster_id) {
        tags.push_back(tagged(0, [&](Writer& t) { t.nullable_str(cluster_id); }));
    }
    if (version >= 15 && (replica_id.value() != -1 || replica_epoch != -1)) {
        tags.push_back(tagged(1, [&](Writer& t) {
            t.i32(replica_id.value());
            t.i64(replica_epoch);
            t.empty_tagged_fields();
        }));
    }
    w.tagged_fields(tags);
}

FetchRequest FetchRequest::decode(Reader& r, int16_t version) {
    FetchRequest m;
    if (version <= 14) m.replica_id = NodeId(r.i32());
    m.max_wait_ms = r.i32();
    m.min_bytes = r.i32();
    m.max_bytes = r.i32();
    m.isolation_level = r.i8();
    if (version >= 7) {
        m.session_id = r.i32();
        m.session_epoch = r.i32();
    }
    r.array(m.topics, [&](FetchTopic& t) {
        if (version <= 12) {
            t.topic = r.str();
        } else {
            t.topic_id = r.uuid();
        }
        r.array(t.partitions, [&](FetchPartition& p) { read_fetch_partition(r, p, version); });
        r.skip_tagged_fields();
    });
    if (version >= 7) {
        r.array(m.forgotten_topics_data, [&](ForgottenTopic& t) {
            if (version <= 12) {
                t.topic = r.str();
            } else {
                t.topic_id = r.uuid();
            }
            r.array(t.partitions, [&](int32_t& p) { p = r.i32(); });
            r.skip_tagged_fields();
        });
    }
    if (version >= 11) m.rack_id = r.str();
    r.tagged_fields([&](uint32_t tag, Reader& t) {
        if (tag == 0 && version >= 12) {
            m.cluster_id = t.nullable_str();
            return true;
        }
        if (tag == 1 && version >= 15) {
            m.replica_id = NodeId(t.i32());
            m.replica_epoch = t.i64();
            t.skip_tagged_fields();
            return true;
        }
        return false;
    });
    return m;
}

// --------------------------------------------------------------------- response

namespace {

std::vector<Writer::TaggedField> partition_tags(const FetchResponse::PartitionData& p,
                                                int16_t version) {
    std::vector<Writer::TaggedField> tags;
    if (version < 12) return tags;
    if (p.diverging_epoch.present()) {
        tags.push_back(tagged(0, [&](Writer& t) {
            t.i32(p.diverging_epoch.epoch);
            t.i64(p.diverging_epoch.end_offset.value());
            t.empty_tagged_fields();
        }));
    }
    if (p.current_leader.present()) {
        tags.push_back(tagged(1, [&](Writer& t) {
            t.i32(p.current_leader.leader_id.value());
            t.i32(p.current_leader.leader_epoch);
            t.empty_tagged_fields();
        }));
    }
    if (p.snapshot_id.present()) {
        tags.push_back(tagged(2, [&](Writer& t) {
            t.i64(p.snapshot_id.end_offset.value());
            t.i32(p.snapshot_id.epoch);
            t.empty_tagged_fields();
        }));
    }
    return tags;
}

void write_partition_data(Writer& w, const FetchResponse::PartitionData& p, int16_t version) {
    w.i32(p.partition_index);
    w.i16(static_cast<int16_t>(p.error_code));
    w.i64(p.high_watermark.value());
    w.i64(p.last_stable_offset.value());
    if (version >= 5) w.i64(p.log_start_offset.value());
    if (p.aborted_transactions) {
        w.array(*p.aborted_transactions, [&](const FetchResponse::AbortedTransaction& a) {
            w.i64(a.producer_id);
            w.i64(a.first_offset.value());
            w.empty_tagged_fields();
        });
    } else {
        w.null_array();
    }
    if (version >= 11) w.i32(p.preferred_read_replica.value());
    w.bytes(p.records);
    w.tagged_fields(partition_tags(p, version));
}

bool read_partition_tag(uint32_t tag, Reader& t, FetchResponse::PartitionData& p) {
    switch (tag) {
        case 0:
            p.diverging_epoch.epoch = t.i32();
            p.diverging_epoch.end_offset = Offset(t.i64());
            break;
        case 1:
            p.current_leader.leader_id = NodeId(t.i32());
            p.current_leader.leader_epoch = t.i32();
            break;
        case 2:
            p.snapshot_id.end_offset = Offset(t.i64());
            p.snapshot_id.epoch = t.i32();
            break;
        default: return false;
    }
    t.skip_tagged_fields();
    return true;
}

void read_partition_data(Reader& r, FetchResponse::PartitionData& p, int16_t version) {
    p.partition_index = r.i32();
    p.error_code = static_cast<ErrorCode>(r.i16());
    p.high_watermark = Offset(r.i64());
    p.last_stable_offset = Offset(r.i64());
    if (version >= 5) p.log_start_offset = Offset(r.i64());
    r.nullable_array(p.aborted_transactions, [&](FetchResponse::AbortedTransaction& a) {
        a.producer_id = r.i64();
        a.first_offset = Offset(r.i64());
        r.skip_tagged_fields();
    });
    if (version >= 11) p.preferred_read_replica = NodeId(r.i32());
    p.records = r.nullable_bytes().value_or(Bytes());
    r.tagged_fields([&](uint32_t tag, Reader& t) {
        return version >= 12 && read_partition_tag(tag, t, p);
    });
}

}  // namespace

void FetchResponse::encode(Writer& w, int16_t version) const {
    w.i32(throttle_time_ms);
    if (version >= 7) {
        w.i16(static_cast<int16_t>(error_code));
        w.i32(session_id);
    }
    w.array(responses, [&](const FetchableTopicResponse& t) {
        if (version <= 12) {
            w.str(t.topic);
        } else {
            w.uuid(t.topic_id);
        }
        w.array(t.partitions, [&](const PartitionData& p) { write_partition_data(w, p, version); });
        w.empty_tagged_fields();
    });
    std::vector<Writer::TaggedField> tags;
    if (version >= 16 && !node_endpoints.empty()) {
        tags.push_back(tagged(0, [&](Writer& t) {
            t.array(node_endpoints, [&](const NodeEndpoint& e) {
                t.i32(e.node_id.value());
                t.str(e.host);
                t.i32(e.port);
                t.nullable_str(e.rack);
                t.empty_tagged_fields();
            });
        }));
    }
    w.tagged_fields(tags);
}

FetchResponse FetchResponse::decode(Reader& r, int16_t version) {
    FetchResponse m;
    m.throttle_time_ms = r.i32();
    if (version >= 7) {
        m.error_code = static_cast<ErrorCode>(r.i16());
        m.session_id = r.i32();
    }
    r.array(m.responses, [&](FetchableTopicResponse& t) {
        if (version <= 12) {
            t.topic = r.str();
        } else {
            t.topic_id = r.uuid();
        }
        r.array(t.partitions, [&](PartitionData& p) { read_partition_data(r, p, version); });
        r.skip_tagged_fields();
    });
    r.tagged_fields([&](uint32_t tag, Reader& t) {
        if (tag != 0 || version < 16) return false;
        t.array(m.node_endpoints, [&](NodeEndpoint& e) {
            e.node_id = NodeId(t.i32());
            e.host = t.str();
            e.port = t.i32();
            e.rack = t.nullable_str();
            t.skip_tagged_fields();
        });
        return true;
    });
    return m;
}

}  // namespace keel::protocol
