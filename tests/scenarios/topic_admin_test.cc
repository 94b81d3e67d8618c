// CreateTopics and DeleteTopics on the broker listener, end to end in the simulator: a
// DataCluster (3 controllers, 3 brokers, every node a KeelNode) and a raw Kafka-protocol
// client. A topic is created through a broker (forwarded to the active controller), deleted
// while a producer writes to it, and created again under the same name: a new topic id,
// empty partitions, the old id unknown, every replica's directory gone from every disk.
// Crash safety: a broker that was down while a topic was deleted (and one re-created under
// the same name) drops the old directories when it returns, and the leftovers of a deletion
// cut short by a crash are finished.
#include <gtest/gtest.h>

#include "core/broker/partition_metadata.h"
#include "core/log/checkpoint.h"
#include "tests/scenarios/topic_admin_fixture.h"

namespace keel::topic_admin {
namespace {

TEST(TopicAdmin, CreateTopicsThroughABrokerAnswersPerTopicAsKafkaDoes) {
    Fixture f;
    f.client("topic-admin", [&](Admin& a) {
        auto r = a.create("b1", {topic("orders", 3, 3), topic("bad name", 1, 1), topic("rf-too-big", 1, 4),
                                 topic("no-partitions", 0, 1), topic("defaults", -1, -1)});
        ASSERT_TRUE(r.ok()) << r.error().to_string();
        ASSERT_EQ(r->topics.size(), 5u);
        EXPECT_EQ(r->topics[0].error_code, ErrorCode::none);
        EXPECT_FALSE(r->topics[0].topic_id.is_zero());
        EXPECT_EQ(r->topics[0].num_partitions, 3);
        EXPECT_EQ(r->topics[1].error_code, ErrorCode::invalid_topic_exception);
        EXPECT_EQ(r->topics[2].error_code, ErrorCode::invalid_replication_factor);
        EXPECT_EQ(r->topics[3].error_code, ErrorCode::invalid_partitions);
        EXPECT_EQ(r->topics[4].error_code, ErrorCode::none);
        EXPECT_EQ(r->topics[4].num_partitions, 1);        // num.partitions
        EXPECT_EQ(r->topics[4].replication_factor, 1);    // default.replication.factor
        // Answered once this broker's own image has the topic.
        EXPECT_NE(f.cluster->parts("b1")->image->topic_by_name("orders"), nullptr);
        auto again = a.create("b2", {topic("orders", 1, 1)}, false, 2);
        ASSERT_TRUE(again.ok());
        EXPECT_EQ(again->topics.at(0).error_code, ErrorCode::topic_already_exists);
        auto dry = a.create("b3", {topic("dry", 2, 2)}, /*validate_only=*/true);
        ASSERT_TRUE(dry.ok());
        EXPECT_EQ(dry->topics.at(0).error_code, ErrorCode::none);
        auto bad_config = a.create("b3", {{"cfg", 1, 1, {}, {{"retention.ms", "soon"}}}});
        ASSERT_TRUE(bad_config.ok());
        EXPECT_EQ(bad_config->topics.at(0).error_code, ErrorCode::invalid_config);
    });
    const auto* img = f.cluster->active_image();
    ASSERT_NE(img, nullptr);
    EXPECT_EQ(img->topic_by_name("dry"), nullptr);
    EXPECT_EQ(img->topic_by_name("cfg"), nullptr);
    ASSERT_NE(img->topic_by_name("orders"), nullptr);
    EXPECT_EQ(img->topic_by_name("orders")->partitions.size(), 3u);
    f.expect_clean();
}

// `name` (deleted, id `old_id`) created again: a new id, an empty partition 0 whose first
// record gets offset 0; a Fetch by the old id gets UNKNOWN_TOPIC_ID.
void expect_recreated_empty(Fixture& f, const std::string& name, const Uuid& old_id) {
    Uuid new_id;
    f.client("recreator", [&](Admin& a) {
        auto r = a.create("b3", {topic(name, 1, 3)});
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->topics.at(0).error_code, ErrorCode::none);
        new_id = r->topics.at(0).topic_id;
        EXPECT_NE(new_id, old_id);
    });
    ASSERT_TRUE(f.world.run_until([&] { return !f.leader_of(name, 0).empty(); }, 20s));
    f.client("reader", [&](Admin& a) {
        std::string leader = f.leader_of(name, 0);
        auto fresh = a.fetch_by_id(leader, new_id, 0);
        ASSERT_TRUE(fresh.ok());
        const auto& pd = fresh->responses.at(0).partitions.at(0);
        EXPECT_EQ(pd.error_code, ErrorCode::none);
        EXPECT_EQ(pd.high_watermark, Offset(0));
        EXPECT_TRUE(pd.records.empty());
        auto old = a.fetch_by_id(leader, old_id, 0);
        ASSERT_TRUE(old.ok());
        EXPECT_EQ(old->responses.at(0).partitions.at(0).error_code, ErrorCode::unknown_topic_id);
        auto p = a.produce(leader, name, 0, batch_of("first", 1));
        ASSERT_TRUE(p.ok());
        EXPECT_EQ(p->responses.at(0).partition_responses.at(0).error_code, ErrorCode::none);
        EXPECT_EQ(p->responses.at(0).partition_responses.at(0).base_offset, 0);
    });
}

TEST(TopicAdmin, ATopicDeletedWhileProducedToIsGoneEverywhereAndComesBackEmptyWithANewId) {
    Fixture f;
    Uuid old_id;
    f.client("setup", [&](Admin& a) {
        auto r = a.create("b1", {topic("doomed", 2, 3), topic("kept", 1, 3)});
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->topics.at(0).error_code, ErrorCode::none);
        old_id = r->topics.at(0).topic_id;
    });
    ASSERT_TRUE(f.world.run_until([&] { return !f.leader_of("doomed", 0).empty(); }, 20s));
    // A producer that keeps writing to doomed-0 (and kept-0) through the deletion.
    bool stop = false, producer_done = false;
    int acked = 0, refused_unknown = 0;
    f.world.add_node("producer", [&](env::Env& env) {
        Admin a(env);
        for (int i = 0; !stop && i < 2000; i++) {
            std::string leader = f.leader_of("doomed", 0);
            if (leader.empty()) leader = "b1";
            auto r = a.produce(leader, "doomed", 0, batch_of("v" + std::to_string(i), 1000 + i));
            if (r.ok()) {
                ErrorCode e = r->responses.at(0).partition_responses.at(0).error_code;
                acked += e == ErrorCode::none ? 1 : 0;
                refused_unknown += e == ErrorCode::unknown_topic_or_partition ? 1 : 0;
            }
            env.executor().sleep_for(ms(20));
        }
        producer_done = true;
    });
    ASSERT_TRUE(f.world.run_until([&] { return acked >= 20; }, 60s));
    f.client("deleter", [&](Admin& a) {
        auto r = a.delete_by_name("b2", "doomed");
        ASSERT_TRUE(r.ok()) << r.error().to_string();
        ASSERT_EQ(r->responses.size(), 1u);
        EXPECT_EQ(r->responses[0].error_code, ErrorCode::none);
        EXPECT_EQ(f.cluster->parts("b2")->image->topic_by_name("doomed"), nullptr);
        auto twice = a.delete_by_name("b2", "doomed", 1);
        ASSERT_TRUE(twice.ok());
        EXPECT_EQ(twice->responses.at(0).error_code, ErrorCode::unknown_topic_or_partition);
        auto by_id = a.delete_by_id("b3", old_id);
        ASSERT_TRUE(by_id.ok());
        EXPECT_EQ(by_id->responses.at(0).error_code, ErrorCode::unknown_topic_id);
        auto internal = a.delete_by_name("b3", "__consumer_offsets");
        ASSERT_TRUE(internal.ok());
        EXPECT_NE(internal->responses.at(0).error_code, ErrorCode::none);
    });
    ASSERT_TRUE(f.world.run_until([&] { return refused_unknown >= 3; }, 60s));
    stop = true;
    ASSERT_TRUE(f.world.run_until([&] { return producer_done; }, 30s));
    // Every broker stops its replicas and deletes their directories.
    ASSERT_TRUE(f.world.run_until(
        [&] {
            for (const std::string& b : f.cluster->brokers()) {
                if (f.cluster->replica(f.cluster->id_of(b), old_id, 0) != nullptr) return false;
                if (!f.files_of(b, "doomed-0").empty() || !f.files_of(b, "doomed-1").empty()) return false;
                if (!f.files_of(b, "").empty()) return false;  // renamed, not removed yet
            }
            return true;
        },
        30s));
    for (const std::string& b : f.cluster->brokers()) {
        EXPECT_GE(f.cluster->parts(b)->replicas->stats().replicas_deleted, 2u) << b;
        EXPECT_FALSE(f.files_of(b, "kept-0").empty())
            << b << ": " << ::testing::PrintToString(f.world.node(b).disk().list_files());
    }
    expect_recreated_empty(f, "doomed", old_id);
    ASSERT_TRUE(f.cluster->await_replicated(30s).has_value());
    f.cluster->check_replicas();
    f.expect_clean();
}

TEST(TopicAdmin, ABrokerThatMissedADeletionDropsTheOldDirectoriesWhenItReturns) {
    Fixture f;
    Uuid old_id;
    f.client("setup", [&](Admin& a) {
        auto r = a.create("b1", {topic("gone", 1, 3), topic("reborn", 1, 3)});
        ASSERT_TRUE(r.ok());
        old_id = r->topics.at(1).topic_id;
    });
    ASSERT_TRUE(f.world.run_until([&] { return !f.leader_of("reborn", 0).empty(); }, 20s));
    f.client("writer", [&](Admin& a) {
        for (int i = 0; i < 5; i++) {
            auto r = a.produce(f.leader_of("reborn", 0), "reborn", 0, batch_of("old" + std::to_string(i), 1));
            ASSERT_TRUE(r.ok());
            ASSERT_EQ(r->responses.at(0).partition_responses.at(0).error_code, ErrorCode::none);
        }
    });
    ASSERT_TRUE(f.cluster->await_replicated(30s).has_value());
    ASSERT_FALSE(f.files_of("b3", "gone-0").empty());
    f.world.crash("b3");
    f.client("topic-admin", [&](Admin& a) {
        for (const char* t : {"gone", "reborn"}) {
            auto r = a.delete_by_name("b1", t);
            ASSERT_TRUE(r.ok());
            EXPECT_EQ(r->responses.at(0).error_code, ErrorCode::none) << t;
        }
        // Placed on b3 too, by assignment (b3 is fenced: the first live replica leads).
        protocol::CreateTopicsRequest::Topic t{"reborn", -1, -1, {{0, {NodeId(103), NodeId(101), NodeId(102)}}}, {}};
        auto r = a.create("b1", {t});
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->topics.at(0).error_code, ErrorCode::none);
        EXPECT_NE(r->topics.at(0).topic_id, old_id);
    });
    // Leftovers of a deletion a crash cut short, planted on b3's disk while it is down.
    bool planted = false;
    f.world.spawn("planter", [&] {
        auto disk = f.world.node("b3").disk().mount(f.world.control(), f.world.random());
        std::string doomed = "x-0." + controller::uuid_to_string(Uuid{1, 2}) + "-delete";
        for (const std::string& dir : {doomed, std::string("ghost-0")}) {
            ASSERT_TRUE(disk->make_dirs(dir).ok());
            auto file = disk->open(dir + "/00000000000000000000.log", env::OpenMode::create);
            ASSERT_TRUE(file.ok());
            ASSERT_TRUE((*file)->append(as_bytes("junk")).ok());
            ASSERT_TRUE((*file)->sync().ok());
            ASSERT_TRUE(disk->sync_dir(dir).ok());
        }
        ASSERT_TRUE(disk->sync_dir("").ok());
        planted = true;
    });
    ASSERT_TRUE(f.world.run_until([&] { return planted; }, 10s));
    ASSERT_FALSE(f.files_of("b3", "ghost-0").empty());
    f.world.start("b3");
    ASSERT_TRUE(f.world.run_until([&] { return f.cluster->brokers_unfenced(); }, 30s));
    ASSERT_TRUE(f.cluster->await_replicated(30s).has_value());
    EXPECT_TRUE(f.files_of("b3", "gone-0").empty());
    EXPECT_TRUE(f.files_of("b3", "ghost-0").empty());
    EXPECT_TRUE(f.files_of("b3", "").empty());  // the -delete leftover is finished
    // reborn-0 on b3 is the new topic's, empty like its leader's: the old records are gone.
    const auto* img = f.cluster->active_image();
    ASSERT_NE(img, nullptr);
    const auto* reborn = img->topic_by_name("reborn");
    ASSERT_NE(reborn, nullptr);
    broker::Partition* p = f.cluster->replica(NodeId(103), reborn->id, 0);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->log_end(), Offset(0));
    EXPECT_GT(f.cluster->parts("b3")->replicas->stats().stale_dirs_deleted, 0u);
    f.cluster->check_replicas();
    f.expect_clean();
}

// file.delete.delay.ms (log.segment.delete.delay.ms): a deleted replica's directory is
// renamed at once and removed only after the delay, in virtual time; a broker restarted
// meanwhile sweeps the leftover at once.
TEST(TopicAdmin, ADeletedReplicasDirectoryIsRemovedAfterTheFileDeleteDelayOrAtARestart) {
    Fixture f(true, [](scenarios::DataClusterOptions& o) { o.base.broker_config.file_delete_delay = ms(60'000); });
    f.client("setup", [&](Admin& a) {
        auto r = a.create("b1", {topic("slow", 1, 3), topic("swept", 1, 3)});
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->topics.at(0).error_code, ErrorCode::none);
    });
    ASSERT_TRUE(f.world.run_until([&] { return !f.leader_of("slow", 0).empty(); }, 20s));
    f.client("writer", [&](Admin& a) {
        auto r = a.produce(f.leader_of("slow", 0), "slow", 0, batch_of("x", 1));
        ASSERT_TRUE(r.ok());
    });
    ASSERT_TRUE(f.cluster->await_replicated(30s).has_value());
    f.client("deleter", [&](Admin& a) {
        auto r = a.delete_by_name("b2", "slow");
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->responses.at(0).error_code, ErrorCode::none);
    });
    auto renamed_everywhere = [&](const std::string& dir) {
        return [&f, dir] {
            for (const std::string& b : f.cluster->brokers()) {
                if (!f.files_of(b, dir).empty() || f.files_of(b, "").empty()) return false;
                if (f.cluster->parts(b)->replicas->pending_deletions() != 1) return false;  // after the sync
            }
            return true;
        };
    };
    ASSERT_TRUE(f.world.run_until(renamed_everywhere("slow-0"), 10s));
    Instant renamed = f.world.now();
    f.world.run_for(50s);
    for (const std::string& b : f.cluster->brokers()) EXPECT_FALSE(f.files_of(b, "").empty()) << b;
    auto none_left = [&] {
        for (const std::string& b : f.cluster->brokers()) {
            if (!f.files_of(b, "").empty()) return false;
        }
        return true;
    };
    ASSERT_TRUE(f.world.run_until(none_left, 20s));
    EXPECT_GE(f.world.now() - renamed, ms(55'000));  // the first rename was at most 10 s earlier
    for (const std::string& b : f.cluster->brokers()) EXPECT_EQ(f.cluster->parts(b)->replicas->pending_deletions(), 0u);
    // Deleted, then b1 restarts before the delay is over: its sweep removes the leftover.
    f.client("deleter2", [&](Admin& a) {
        auto r = a.delete_by_name("b2", "swept");
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->responses.at(0).error_code, ErrorCode::none);
    });
    ASSERT_TRUE(f.world.run_until(renamed_everywhere("swept-0"), 10s));
    f.world.restart("b1");
    ASSERT_TRUE(f.world.run_until([&] { return f.cluster->brokers_unfenced() && f.files_of("b1", "").empty(); }, 20s));
    EXPECT_FALSE(f.files_of("b2", "").empty());  // still waiting out the delay
    f.expect_clean();
}

// partition.metadata from an earlier Keel version (the topic id as 32 hex digits) is
// accepted when the broker restarts: the replica and its records are kept, and the file is
// rewritten in Kafka's form ("topic_id: <Uuid.toString()>").
TEST(TopicAdmin, APartitionMetadataFileInKeelsOlderHexFormIsAcceptedAndRewritten) {
    Fixture f;
    Uuid id;
    f.client("setup", [&](Admin& a) {
        auto r = a.create("b1", {topic("legacy", 1, 3)});
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->topics.at(0).error_code, ErrorCode::none);
        id = r->topics.at(0).topic_id;
    });
    ASSERT_TRUE(f.world.run_until([&] { return !f.leader_of("legacy", 0).empty(); }, 20s));
    f.client("writer", [&](Admin& a) {
        for (int i = 0; i < 3; i++) {
            auto r = a.produce(f.leader_of("legacy", 0), "legacy", 0, batch_of("v" + std::to_string(i), 1));
            ASSERT_TRUE(r.ok());
            ASSERT_EQ(r->responses.at(0).partition_responses.at(0).error_code, ErrorCode::none);
        }
    });
    ASSERT_TRUE(f.cluster->await_replicated(30s).has_value());
    const std::string file = "legacy-0/partition.metadata";
    const std::string kafka_form = "version: 0\ntopic_id: " + protocol::uuid_string(id) + "\n";
    auto text = [&] {
        auto b = f.world.node("b3").disk().read_current(file);
        return b.ok() ? std::string(b->begin(), b->end()) : "<" + b.error().to_string() + ">";
    };
    EXPECT_EQ(text(), kafka_form);
    f.world.crash("b3");
    bool planted = false;
    f.world.spawn("planter", [&] {
        auto disk = f.world.node("b3").disk().mount(f.world.control(), f.world.random());
        std::string old = "version: 0\ntopic_id: " + controller::uuid_to_string(id) + "\n";
        ASSERT_TRUE(log::write_file_atomically(*disk, file, as_bytes(old)).ok());
        planted = true;
    });
    ASSERT_TRUE(f.world.run_until([&] { return planted; }, 10s));
    ASSERT_EQ(text().size(), 21u + 32u + 1u);  // the hex form
    f.world.start("b3");
    ASSERT_TRUE(f.world.run_until([&] { return f.cluster->brokers_unfenced(); }, 30s));
    ASSERT_TRUE(f.cluster->await_replicated(30s).has_value());
    broker::Partition* p = f.cluster->replica(NodeId(103), id, 0);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->log_end(), Offset(3));
    EXPECT_EQ(f.cluster->parts("b3")->replicas->stats().stale_dirs_deleted, 0u);
    EXPECT_EQ(text(), kafka_form);
    f.cluster->check_replicas();
    f.expect_clean();
}

// The broker retries NOT_CONTROLLER and a dead controller on the next one until the
// request's timeout: admin calls right after the active controller crashes still succeed.
TEST(TopicAdmin, CreateAndDeleteSurviveACrashOfTheActiveController) {
    Fixture f;
    auto active = f.cluster->active_controller();
    ASSERT_TRUE(active.has_value());
    f.world.crash(*active);
    f.client("topic-admin", [&](Admin& a) {
        auto r = a.create("b1", {topic("failover", 1, 3)});
        ASSERT_TRUE(r.ok()) << r.error().to_string();
        EXPECT_EQ(r->topics.at(0).error_code, ErrorCode::none);
        auto d = a.delete_by_name("b2", "failover");
        ASSERT_TRUE(d.ok()) << d.error().to_string();
        EXPECT_EQ(d->responses.at(0).error_code, ErrorCode::none);
    });
    auto now_active = f.cluster->active_controller();
    ASSERT_TRUE(now_active.has_value());
    EXPECT_NE(*now_active, *active);
    EXPECT_EQ(f.cluster->active_image()->topic_by_name("failover"), nullptr);
    f.expect_clean();
}

TEST(TopicAdmin, WithDeleteTopicEnableOffDeletionIsRefusedAndTheTopicStays) {
    Fixture f(/*delete_topic_enable=*/false);
    f.client("topic-admin", [&](Admin& a) {
        auto r = a.create("b1", {topic("stays", 1, 3)});
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->topics.at(0).error_code, ErrorCode::none);
        auto v4 = a.delete_by_name("b2", "stays", 4);
        ASSERT_TRUE(v4.ok());
        EXPECT_EQ(v4->responses.at(0).error_code, ErrorCode::topic_deletion_disabled);
        auto v1 = a.delete_by_name("b3", "stays", 1);  // TOPIC_DELETION_DISABLED is v3+
        ASSERT_TRUE(v1.ok());
        EXPECT_EQ(v1->responses.at(0).error_code, ErrorCode::invalid_request);
    });
    const auto* img = f.cluster->active_image();
    ASSERT_NE(img, nullptr);
    EXPECT_NE(img->topic_by_name("stays"), nullptr);
    f.expect_clean();
}

}  // namespace
}  // namespace keel::topic_admin
