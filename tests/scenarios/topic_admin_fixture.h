// The set-up the topic administration scenarios share (topic_admin_test.cc,
// topic_purge_test.cc): a DataCluster of 3 controllers and 3 brokers (every node a
// KeelNode) and a raw Kafka-protocol client on its own simulated node: CreateTopics,
// DeleteTopics, Produce, Fetch by topic id, and the group offsets requests
// (FindCoordinator, OffsetCommit, OffsetFetch).
#pragma once

#include <gtest/gtest.h>

#include <functional>

#include "core/broker/broker_server.h"
#include "core/controller/metadata_records.h"
#include "core/controller/rpc.h"
#include "core/log/record_batch.h"
#include "core/protocol/generated/find_coordinator_request.h"
#include "core/protocol/generated/find_coordinator_response.h"
#include "core/protocol/generated/offset_commit_request.h"
#include "core/protocol/generated/offset_commit_response.h"
#include "core/protocol/generated/offset_fetch_request.h"
#include "core/protocol/generated/offset_fetch_response.h"
#include "scenarios/data/data_cluster.h"

namespace keel::topic_admin {

using namespace std::chrono_literals;
using protocol::ErrorCode;
using protocol::Uuid;

inline Bytes batch_of(const std::string& value, int64_t ts) {
    log::RecordBatchBuilder b;
    b.add(ts, as_bytes("k"), as_bytes(value));
    return b.build();
}

struct Admin {
    env::Env& env;
    controller::RpcClient rpc;
    explicit Admin(env::Env& e) : env(e), rpc(e, "admin-client") {}

    Result<protocol::CreateTopicsResponse> create(const std::string& broker,
                                                  std::vector<protocol::CreateTopicsRequest::Topic> topics,
                                                  bool validate_only = false, int16_t version = 7) {
        protocol::CreateTopicsRequest req;
        req.topics = std::move(topics);
        req.timeout_ms = 10000;
        req.validate_only = validate_only;
        return rpc.call<protocol::CreateTopicsResponse>(env::Address{broker, 9092}, req, version, env.now() + 20s);
    }
    Result<protocol::DeleteTopicsResponse> delete_by_name(const std::string& broker, const std::string& name,
                                                          int16_t version = 4) {
        protocol::DeleteTopicsRequest req;
        req.topic_names = {name};
        req.timeout_ms = 10000;
        return rpc.call<protocol::DeleteTopicsResponse>(env::Address{broker, 9092}, req, version, env.now() + 20s);
    }
    Result<protocol::DeleteTopicsResponse> delete_by_id(const std::string& broker, const Uuid& id) {
        protocol::DeleteTopicsRequest req;
        req.topics.push_back({std::nullopt, id, {}});
        req.timeout_ms = 10000;
        return rpc.call<protocol::DeleteTopicsResponse>(env::Address{broker, 9092}, req, 6, env.now() + 20s);
    }
    Result<protocol::ProduceResponse> produce(const std::string& broker, const std::string& topic, int32_t p,
                                              Bytes batch) {
        protocol::ProduceRequest req;
        req.acks = -1;
        req.timeout_ms = 3000;
        protocol::ProduceRequest::TopicProduceData td;
        td.name = topic;
        protocol::ProduceRequest::PartitionProduceData pd;
        pd.index = PartitionIndex(p);
        pd.records = std::move(batch);
        td.partition_data.push_back(std::move(pd));
        req.topic_data.push_back(std::move(td));
        return rpc.call<protocol::ProduceResponse>(env::Address{broker, 9092}, req, 9, env.now() + 10s);
    }
    // Fetch v13 names the topic by id.
    Result<protocol::FetchResponse> fetch_by_id(const std::string& broker, const Uuid& id, int32_t p) {
        protocol::FetchRequest req;
        req.max_wait_ms = 0;
        req.min_bytes = 1;
        protocol::FetchRequest::FetchTopic t;
        t.topic_id = id;
        protocol::FetchRequest::FetchPartition fp;
        fp.partition = p;
        fp.fetch_offset = Offset(0);
        fp.partition_max_bytes = 1 << 20;
        t.partitions.push_back(fp);
        req.topics.push_back(t);
        return rpc.call<protocol::FetchResponse>(env::Address{broker, 9092}, req, 13, env.now() + 10s);
    }
    // FindCoordinator v3 for a group (creates __consumer_offsets on first use).
    Result<protocol::FindCoordinatorResponse> find_coordinator(const std::string& broker, const std::string& group) {
        protocol::FindCoordinatorRequest req;
        req.key = group;
        return rpc.call<protocol::FindCoordinatorResponse>(env::Address{broker, 9092}, req, 3, env.now() + 10s);
    }
    // OffsetCommit v8 as a "simple" consumer (generation -1, no member): (partition, offset)s.
    Result<protocol::OffsetCommitResponse> commit(const std::string& broker, const std::string& group,
                                                  const std::string& topic,
                                                  const std::vector<std::pair<int32_t, int64_t>>& offsets) {
        protocol::OffsetCommitRequest req;
        req.group_id = group;
        req.generation_id_or_member_epoch = -1;
        protocol::OffsetCommitRequest::OffsetCommitRequestTopic t;
        t.name = topic;
        for (const auto& [p, o] : offsets) {
            protocol::OffsetCommitRequest::OffsetCommitRequestPartition pp;
            pp.partition_index = PartitionIndex(p);
            pp.committed_offset = o;
            t.partitions.push_back(pp);
        }
        req.topics.push_back(std::move(t));
        return rpc.call<protocol::OffsetCommitResponse>(env::Address{broker, 9092}, req, 8, env.now() + 10s);
    }
    // OffsetFetch v7 for one partition.
    Result<protocol::OffsetFetchResponse> fetch_offset(const std::string& broker, const std::string& group,
                                                       const std::string& topic, int32_t p) {
        protocol::OffsetFetchRequest req;
        req.group_id = group;
        req.topics.emplace();
        req.topics->push_back({topic, {PartitionIndex(p)}, {}});
        return rpc.call<protocol::OffsetFetchResponse>(env::Address{broker, 9092}, req, 7, env.now() + 10s);
    }
};

inline protocol::CreateTopicsRequest::Topic topic(const std::string& name, int32_t partitions, int16_t rf) {
    return {name, partitions, rf, {}, {}};
}

struct Fixture {
    sim::World world{sim::WorldOptions{.seed = 23}};
    sim::RunOptions run;
    sim::ScenarioContext ctx{world, run};
    std::shared_ptr<scenarios::DataCluster> cluster;

    explicit Fixture(bool delete_topic_enable = true,
                     const std::function<void(scenarios::DataClusterOptions&)>& tweak = {}) {
        scenarios::DataClusterOptions o;
        o.base.broker_config.delete_topic_enable = delete_topic_enable;
        o.base.broker_config.replica_lag_time_max = ms(3000);
        o.base.broker_config.isr_check_interval = ms(250);
        o.base.controller_config.session_timeout = ms(3000);
        o.base.heartbeat_interval = ms(500);
        o.base.broker_config.file_delete_delay = ms(0);  // removed at once unless a test says
        if (tweak) tweak(o);
        cluster = scenarios::DataCluster::create(ctx, o);
        EXPECT_TRUE(world.run_until([&] { return cluster->brokers_unfenced(); }, 30s));
    }

    // Runs `fn` on a client node's fiber and waits for it.
    void client(const std::string& name, std::function<void(Admin&)> fn) {
        bool done = false;
        world.add_node(name, [&done, fn](env::Env& env) {
            Admin a(env);
            fn(a);
            done = true;
        });
        ASSERT_TRUE(world.run_until([&] { return done; }, 120s));
    }

    // The leader's name per the active controller's image, once that broker leads it.
    std::string leader_of(const std::string& t, int32_t p) {
        const auto* img = cluster->active_image();
        const auto* ts = img ? img->topic_by_name(t) : nullptr;
        if (ts == nullptr || !ts->partitions.at(PartitionIndex(p)).has_leader()) return "";
        NodeId leader = ts->partitions.at(PartitionIndex(p)).leader;
        broker::Partition* r = cluster->replica(leader, ts->id, p);
        return r != nullptr && r->role() == broker::ReplicaRole::leader ? cluster->name_of(leader) : "";
    }

    // Paths on `node`'s disk under a directory named `dir_prefix`... (a partition directory,
    // or any `-delete` leftover when dir_prefix is empty).
    std::vector<std::string> files_of(const std::string& node, const std::string& dir) {
        std::vector<std::string> out;
        for (const std::string& f : world.node(node).disk().list_files()) {
            bool match = dir.empty() ? f.find("-delete/") != std::string::npos : f.rfind(dir + "/", 0) == 0;
            if (match) out.push_back(f);
        }
        return out;
    }

    void expect_clean() {
        EXPECT_TRUE(cluster->replication().violations().empty()) << cluster->replication().violations()[0];
        EXPECT_TRUE(ctx.violations().empty()) << ctx.violations()[0];
    }
};

}  // namespace keel::topic_admin
