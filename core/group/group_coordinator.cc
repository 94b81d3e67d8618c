// GroupCoordinator: construction, the timer loop, partition leadership and loading a
// partition's groups from the log. The handlers are in coordinator_*.cc.
#include <cstdio>

#include "core/group/coordinator_impl.h"

namespace keel::group {

GroupCoordinator::GroupCoordinator(env::Env& env, GroupLog& log, GroupCoordinatorConfig config)
    : impl_(std::make_unique<Impl>(env, log, config, stats_)) {}

GroupCoordinator::~GroupCoordinator() {
    *impl_->alive = false;
    // Parked requests get NOT_COORDINATOR rather than a broken promise.
    for (auto& [id, g] : impl_->groups) impl_->propagate_assignment_error(*g, ErrorCode::not_coordinator);
    for (auto& [id, g] : impl_->groups) {
        for (auto& [mid, m] : g->members) {
            if (!m->join) continue;
            protocol::JoinGroupResponse r;
            r.error_code = ErrorCode::not_coordinator;
            r.member_id = mid;
            m->join->set(std::move(r));
        }
    }
}

int32_t GroupCoordinator::partition_for(std::string_view group_id) const {
    return partition_for_group(group_id, impl_->config.offsets_topic_partitions);
}

std::vector<GroupCoordinator::HostedGroup> GroupCoordinator::hosted_groups() const {
    std::vector<HostedGroup> out;
    for (const auto& [id, g] : impl_->groups) {
        if (impl_->partition_status(id) != ErrorCode::none) continue;
        HostedGroup h{id, {}};
        for (const auto& [key, value] : g->offsets) h.committed[{key.topic, key.partition}] = value.offset;
        out.push_back(std::move(h));
    }
    return out;
}

Status GroupCoordinator::run() {
    Impl& s = *impl_;
    s.next_retention_check = s.now() + s.config.offsets_retention_check;
    while (!s.stopped) {
        s.wake.wait(s.now() + s.config.tick);
        if (s.stopped) break;
        std::vector<std::string> ids;
        for (const auto& [id, g] : s.groups) ids.push_back(id);
        for (const auto& id : ids) {
            if (Group* g = s.find(id)) s.check_group_timers(*g);
        }
        if (s.now() >= s.next_retention_check) {
            s.next_retention_check = s.now() + s.config.offsets_retention_check;
            s.expire_offsets();
        }
    }
    return ok_status();
}

void GroupCoordinator::stop() {
    impl_->stopped = true;
    impl_->wake.set();
}

void GroupCoordinator::on_became_leader(int32_t partition, LeaderEpoch leader_epoch) {
    Impl& s = *impl_;
    auto it = s.partitions.find(partition);
    if (it != s.partitions.end() && !it->second.loading) {
        it->second.epoch = leader_epoch;  // still the leader: the state in memory holds
        return;
    }
    PartitionState& p = s.partitions[partition];
    p.epoch = leader_epoch;
    p.loading = true;
    p.load_id = s.next_load_id++;
    uint64_t id = p.load_id;
    std::shared_ptr<bool> alive = s.alive;
    s.env.executor().spawn("group-load-" + std::to_string(partition), [this, alive, partition, leader_epoch, id] {
        if (*alive) impl_->load_partition(partition, leader_epoch, id);
    });
}

void GroupCoordinator::on_resigned(int32_t partition) {
    Impl& s = *impl_;
    s.partitions.erase(partition);
    s.purge_after_load.erase(partition);
    std::vector<std::string> ids;
    for (const auto& [id, g] : s.groups) {
        if (g->partition == partition) ids.push_back(id);
    }
    for (const auto& id : ids) {
        Group& g = *s.groups[id];
        s.propagate_assignment_error(g, ErrorCode::not_coordinator);
        for (auto& [mid, m] : g.members) {
            if (!m->join) continue;
            protocol::JoinGroupResponse r;
            r.error_code = ErrorCode::not_coordinator;
            r.member_id = mid;
            m->join->set(std::move(r));
            m->join.reset();
        }
        s.groups.erase(id);
    }
}

ErrorCode GroupCoordinator::Impl::partition_status(const std::string& group_id) const {
    auto it = partitions.find(partition_for_group(group_id, config.offsets_topic_partitions));
    if (it == partitions.end()) return ErrorCode::not_coordinator;
    if (it->second.loading) return ErrorCode::coordinator_load_in_progress;
    return ErrorCode::none;
}

Group* GroupCoordinator::Impl::find(const std::string& group_id) {
    auto it = groups.find(group_id);
    return it == groups.end() ? nullptr : it->second.get();
}

Group& GroupCoordinator::Impl::get_or_create(const std::string& group_id) {
    auto& slot = groups[group_id];
    if (!slot) {
        slot = std::make_unique<Group>();
        slot->id = group_id;
        slot->partition = partition_for_group(group_id, config.offsets_topic_partitions);
        slot->state_timestamp_ms = wall_ms();
    }
    return *slot;
}

void GroupCoordinator::Impl::remove_group(const std::string& group_id) { groups.erase(group_id); }

Status GroupCoordinator::Impl::append(int32_t partition, std::vector<OffsetsRecord> records) {
    auto it = partitions.find(partition);
    if (it == partitions.end() || it->second.loading) return Status(Errc::not_leader, "not the coordinator");
    std::shared_ptr<bool> a = alive;
    Status st = log.append(partition, it->second.epoch, std::move(records), now() + config.commit_timeout);
    if (!*a) return Status(Errc::closed, "coordinator stopped");
    return st;
}

ErrorCode append_error(const Error& e, bool offset_commit) {
    switch (e.code) {
        case Errc::not_leader:
        case Errc::fenced_leader_epoch:
        case Errc::io_error:
        case Errc::disk_full: return ErrorCode::not_coordinator;
        case Errc::message_too_large:
            return offset_commit ? ErrorCode::invalid_commit_offset_size : ErrorCode::unknown_server_error;
        default: return ErrorCode::coordinator_not_available;
    }
}

std::string json_str(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

}  // namespace keel::group
