// The __consumer_offsets records of KIP-848 groups (see consumer_protocol.h for the format)
// and their replay when a partition is loaded.
#include <algorithm>

#include "core/group/consumer_protocol.h"

namespace keel::group {

using protocol::Reader;
using protocol::Writer;

namespace {

enum : int16_t {
    kGroupMetadata = 3,
    kMemberMetadata = 5,
    kTargetMetadata = 6,
    kTargetMember = 7,
    kCurrentAssignment = 8,
};

Bytes key(int16_t version, const std::string& group, const std::string* member = nullptr) {
    Writer w(false);
    w.i16(version);
    w.classic_string(group);
    if (member != nullptr) w.classic_string(*member);
    return w.take();
}

Writer value_writer() {
    Writer w(true);
    w.i16(0);
    return w;
}

void write_set(Writer& w, const PartitionSet& s) {
    w.array_length(s.size());
    for (const auto& [t, ps] : s) {
        w.str(t);
        w.array_length(ps.size());
        for (int32_t p : ps) w.i32(p);
        w.empty_tagged_fields();
    }
}

PartitionSet read_set(Reader& r) {
    PartitionSet out;
    std::vector<int> topics;
    r.array(topics, [&](int&) {
        std::string t = r.str();
        std::vector<int32_t> ps;
        r.array(ps, [&](int32_t& p) { p = r.i32(); });
        r.skip_tagged_fields();
        if (r.ok()) out[t].insert(ps.begin(), ps.end());
    });
    return out;
}

Bytes member_value(const CgMember& m) {
    Writer w = value_writer();
    w.nullable_str(m.instance_id);
    w.nullable_str(m.rack_id);
    w.str(m.client_id);
    w.str(m.client_host);
    w.array(m.topics, [&](const std::string& t) { w.str(t); });
    w.str(m.assignor);
    w.i32(m.rebalance_timeout_ms);
    w.empty_tagged_fields();
    return w.take();
}

Bytes current_value(const CgMember& m) {
    Writer w = value_writer();
    w.i32(m.epoch);
    w.i32(m.previous_epoch);
    w.i8(static_cast<int8_t>(m.state));
    write_set(w, m.assigned);
    write_set(w, m.revoking);
    w.empty_tagged_fields();
    return w.take();
}

Bytes epoch_value(int32_t epoch) {
    Writer w = value_writer();
    w.i32(epoch);
    w.empty_tagged_fields();
    return w.take();
}

Bytes target_value(const PartitionSet& s) {
    Writer w = value_writer();
    write_set(w, s);
    w.empty_tagged_fields();
    return w.take();
}

}  // namespace

std::vector<OffsetsRecord> consumer_group_records(const std::string& group_id, const ConsumerGroupState& s) {
    std::vector<OffsetsRecord> out;
    out.push_back({key(kGroupMetadata, group_id), epoch_value(s.group_epoch)});
    for (const std::string& id : s.removed) {
        if (s.members.count(id) != 0) continue;  // joined again (KIP-848 keeps the member id)
        for (auto& r : consumer_member_tombstones(group_id, id)) out.push_back(std::move(r));
    }
    for (const auto& [id, m] : s.members) {
        out.push_back({key(kMemberMetadata, group_id, &id), member_value(m)});
        auto t = s.target.find(id);
        out.push_back({key(kTargetMember, group_id, &id), target_value(t == s.target.end() ? PartitionSet{} : t->second)});
        out.push_back({key(kCurrentAssignment, group_id, &id), current_value(m)});
    }
    out.push_back({key(kTargetMetadata, group_id), epoch_value(s.assignment_epoch)});
    return out;
}

std::vector<OffsetsRecord> consumer_member_tombstones(const std::string& group_id, const std::string& member_id) {
    return {{key(kMemberMetadata, group_id, &member_id), std::nullopt},
            {key(kTargetMember, group_id, &member_id), std::nullopt},
            {key(kCurrentAssignment, group_id, &member_id), std::nullopt}};
}

std::map<std::string, ConsumerGroupState> ConsumerGroupLoader::take() {
    std::map<std::string, ConsumerGroupState> out;
    for (auto& [id, g] : groups_) {
        if (present_.count(id)) out[id] = std::move(g);
    }
    groups_.clear();
    present_.clear();
    return out;
}

std::vector<OffsetsRecord> consumer_group_tombstones(const std::string& group_id) {
    return {{key(kTargetMetadata, group_id), std::nullopt}, {key(kGroupMetadata, group_id), std::nullopt}};
}

void ConsumerGroupLoader::apply(const OffsetsRecord& rec) {
    Reader k(rec.key, false);
    int16_t version = k.i16();
    if (!k.ok() || version < kGroupMetadata || version > kCurrentAssignment || version == 4) return;
    std::string group = k.classic_string();
    bool per_member = version == kMemberMetadata || version == kTargetMember || version == kCurrentAssignment;
    std::string member = per_member ? k.classic_string() : std::string();
    if (!k.ok() || k.remaining() != 0) return;
    if (!rec.value) {
        if (version == kGroupMetadata) {
            groups_.erase(group);
            present_.erase(group);
        } else if (per_member && groups_.count(group)) {
            groups_[group].members.erase(member);
            groups_[group].target.erase(member);
        }
        return;
    }
    Reader r(*rec.value, true);
    if (r.i16() != 0 || !r.ok()) return;
    ConsumerGroupState& g = groups_[group];
    switch (version) {
        case kGroupMetadata: g.group_epoch = r.i32(); present_.insert(group); break;
        case kTargetMetadata: g.assignment_epoch = r.i32(); break;
        case kTargetMember: g.target[member] = read_set(r); break;
        case kMemberMetadata: {
            CgMember& m = g.members[member];
            m.id = member;
            m.instance_id = r.nullable_str();
            m.rack_id = r.nullable_str();
            m.client_id = r.str();
            m.client_host = r.str();
            r.array(m.topics, [&](std::string& t) { t = r.str(); });
            m.assignor = r.str();
            m.rebalance_timeout_ms = r.i32();
            break;
        }
        default: {
            CgMember& m = g.members[member];
            m.id = member;
            m.epoch = r.i32();
            m.previous_epoch = r.i32();
            m.state = static_cast<CgMemberState>(std::clamp<int8_t>(r.i8(), 0, 2));
            m.assigned = read_set(r);
            m.revoking = read_set(r);
        }
    }
}

}  // namespace keel::group
