// Test support for the group coordinator: an in-memory GroupLog (appends succeed, fail or
// time out on demand; reads can fail), a simulated node running one coordinator, and
// request builders.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/env/sync.h"
#include "core/group/group_coordinator.h"
#include "core/group/offsets_records.h"
#include "sim/world.h"

namespace keel::group::testing {

class FakeGroupLog final : public GroupLog {
public:
    Status append(int32_t partition, LeaderEpoch, std::vector<OffsetsRecord> records, Instant) override {
        appends++;
        if (before_append) before_append();  // e.g. parks, as a real append waits for the ISR
        if (fail_appends > 0) {
            fail_appends--;
            return Status(fail_code, "injected append failure");
        }
        auto& log = logs[partition];
        for (auto& r : records) log.push_back(std::move(r));
        return ok_status();
    }
    Status read_committed(int32_t partition, LeaderEpoch,
                          const std::function<void(const OffsetsRecord&)>& fn) override {
        reads++;
        if (fail_reads > 0) {
            fail_reads--;
            return Status(Errc::corrupt_record, "injected read failure");
        }
        auto it = logs.find(partition);
        if (it == logs.end()) return ok_status();
        for (const auto& r : it->second) fn(r);
        return ok_status();
    }
    size_t records(int32_t partition) const {
        auto it = logs.find(partition);
        return it == logs.end() ? 0 : it->second.size();
    }
    size_t tombstones(int32_t partition) const {
        size_t n = 0;
        auto it = logs.find(partition);
        if (it == logs.end()) return 0;
        for (const auto& r : it->second) n += r.value ? 0 : 1;
        return n;
    }

    std::map<int32_t, std::vector<OffsetsRecord>> logs;
    std::function<void()> before_append;
    int fail_appends = 0;
    Errc fail_code = Errc::not_enough_replicas;
    int fail_reads = 0;
    int appends = 0;
    int reads = 0;
};

// One simulated broker node running a coordinator that leads every partition (epoch 1)
// unless `lead_all` is false; `body` runs on a fiber of that node.
struct CoordSim {
    explicit CoordSim(uint64_t seed = 1) : world(sim::WorldOptions{.seed = seed}) {
        config.initial_rebalance_delay = ms(0);
        config.min_session_timeout = ms(1'000);
        config.offsets_topic_partitions = 10;
    }

    struct Ctx {
        env::Env& env;
        GroupCoordinator& coord;
        FakeGroupLog& log;
        void sleep(Duration d) { env.executor().sleep_for(d); }
    };

    bool run(const std::function<void(Ctx&)>& body, Duration limit = ms(3'600'000), const std::string& node = "b1") {
        bool done = false;
        world.add_node(node, [&, this](env::Env& env) {
            GroupCoordinator c(env, log, config);
            if (lead_all) {
                for (int32_t p = 0; p < config.offsets_topic_partitions; p++) c.on_became_leader(p, LeaderEpoch(1));
            }
            env.executor().spawn("test", [&] {
                env.executor().sleep_for(ms(10));  // the loads finish
                Ctx ctx{env, c, log};
                body(ctx);
                stats = c.stats();
                done = true;
                c.stop();
            });
            (void)c.run();
        });
        return world.run_until([&] { return done; }, limit);
    }

    sim::World world;
    FakeGroupLog log;
    GroupCoordinatorConfig config;
    GroupCoordinatorStats stats;
    bool lead_all = true;
};

// A request on its own fiber; get() waits for its answer.
template <typename T>
struct Async {
    env::Env* env = nullptr;
    std::shared_ptr<std::optional<T>> value;
    std::shared_ptr<env::Event> done;
    T& get(Duration limit = ms(600'000)) {
        done->wait(env->now() + limit);
        KEEL_ASSERT_MSG(value->has_value(), "request did not complete");
        return **value;
    }
    bool ready() const { return value->has_value(); }
};

template <typename F>
auto async(env::Env& env, F f) -> Async<decltype(f())> {
    using T = decltype(f());
    Async<T> a{&env, std::make_shared<std::optional<T>>(), std::make_shared<env::Event>(env.executor())};
    auto v = a.value;
    auto d = a.done;
    env.executor().spawn("request", [v, d, f = std::move(f)] {
        *v = f();
        d->set();
    });
    return a;
}

inline Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

struct JoinSpec {
    std::string group = "g";
    std::string member_id;
    std::optional<std::string> instance_id;
    std::vector<std::pair<std::string, std::string>> protocols = {{"range", "meta"}};
    std::string protocol_type = "consumer";
    int32_t session_ms = 10'000;
    int32_t rebalance_ms = 20'000;
};

inline protocol::JoinGroupRequest join_req(const JoinSpec& s) {
    protocol::JoinGroupRequest r;
    r.group_id = s.group;
    r.member_id = s.member_id;
    r.group_instance_id = s.instance_id;
    r.protocol_type = s.protocol_type;
    r.session_timeout_ms = s.session_ms;
    r.rebalance_timeout_ms = s.rebalance_ms;
    for (const auto& [name, meta] : s.protocols) r.protocols.push_back({name, bytes_of(meta), {}});
    return r;
}

inline protocol::SyncGroupRequest sync_req(const std::string& group, int32_t generation, const std::string& member,
                                           std::vector<std::pair<std::string, std::string>> assignments = {}) {
    protocol::SyncGroupRequest r;
    r.group_id = group;
    r.generation_id = generation;
    r.member_id = member;
    for (const auto& [m, a] : assignments) r.assignments.push_back({m, bytes_of(a), {}});
    return r;
}

inline protocol::HeartbeatRequest hb_req(const std::string& group, int32_t generation, const std::string& member,
                                         std::optional<std::string> instance = std::nullopt) {
    protocol::HeartbeatRequest r;
    r.group_id = group;
    r.generation_id = generation;
    r.member_id = member;
    r.group_instance_id = std::move(instance);
    return r;
}

inline protocol::OffsetCommitRequest commit_req(const std::string& group, int32_t generation, const std::string& member,
                                                const std::string& topic, int32_t partition, int64_t offset,
                                                std::string metadata = "") {
    protocol::OffsetCommitRequest r;
    r.group_id = group;
    r.generation_id_or_member_epoch = generation;
    r.member_id = member;
    protocol::OffsetCommitRequest::OffsetCommitRequestTopic t;
    t.name = topic;
    protocol::OffsetCommitRequest::OffsetCommitRequestPartition p;
    p.partition_index = PartitionIndex(partition);
    p.committed_offset = offset;
    p.committed_metadata = std::move(metadata);
    t.partitions.push_back(p);
    r.topics.push_back(t);
    return r;
}

inline protocol::OffsetFetchRequest fetch_req(const std::string& group) {
    protocol::OffsetFetchRequest r;
    r.group_id = group;
    return r;  // null topics: every committed offset
}

}  // namespace keel::group::testing
