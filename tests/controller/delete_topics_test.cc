// Topic deletion in the controller: RemoveTopicRecord (Kafka's metadata record 9), the
// delete_topics decision, the image dropping a topic with its partitions and configs, the
// name free for a new topic with a new id, and replay / snapshot equivalence with removed
// topics.
#include <gtest/gtest.h>

#include "core/controller/controller_logic.h"
#include "core/protocol/error_codes.h"
#include "tests/controller/controller_model.h"

namespace keel::controller {
namespace {

using namespace keel::controller::testing;

Bytes hex(std::string_view text) {
    Bytes out;
    for (size_t i = 0; i + 1 < text.size();) {
        if (text[i] == ' ') {
            i++;
            continue;
        }
        out.push_back(static_cast<uint8_t>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
        i += 2;
    }
    return out;
}

void delete_by_name(LogModel& m, const std::string& name) {
    auto r = delete_topics(m.image(), {{name, Uuid{}}});
    ASSERT_EQ(r.reply.size(), 1u);
    ASSERT_TRUE(r.reply[0].status.ok()) << r.reply[0].status.error().to_string();
    m.write(r.records);
}

TEST(RemoveTopicRecord, HasKafkasTypeAndBytesAndRoundTrips) {
    RemoveTopicRecord r{Uuid{0x0102030405060708ULL, 0x090a0b0c0d0e0f10ULL}, {}};
    EXPECT_EQ(record_type(r), RecordType::remove_topic);
    EXPECT_EQ(static_cast<int>(RecordType::remove_topic), 9);
    EXPECT_EQ(record_type_name(RecordType::remove_topic), "RemoveTopicRecord");
    // frame 1, type 9, version 0, the uuid, an empty tagged-field section.
    EXPECT_EQ(encode_record(r), hex("01 09 00 0102030405060708 090a0b0c0d0e0f10 00"));
    auto back = decode_record(encode_record(r));
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    ASSERT_TRUE(std::holds_alternative<RemoveTopicRecord>(*back));
    EXPECT_EQ(std::get<RemoveTopicRecord>(*back).topic_id, r.topic_id);
    Bytes cut = encode_record(r);
    cut.pop_back();
    EXPECT_FALSE(decode_record(cut).ok());
}

TEST(DeleteTopics, RemovesTheTopicWithItsPartitionsAndConfigsAndFreesItsName) {
    LogModel m;
    m.start_brokers(1, 3);
    Uuid old_id = m.create_topic("orders", 3, 2, {{"retention.ms", "1000"}});
    Uuid other = m.create_topic("other", 1, 1, {{"retention.ms", "5"}});
    ASSERT_TRUE(m.image().config(config_resource_topic, "orders", "retention.ms").has_value());
    size_t partitions_before = m.image().partition_count();
    auto r = delete_topics(m.image(), {{"orders", Uuid{}}});
    ASSERT_EQ(r.records.size(), 1u);
    ASSERT_TRUE(std::holds_alternative<RemoveTopicRecord>(r.records[0]));
    EXPECT_EQ(std::get<RemoveTopicRecord>(r.records[0]).topic_id, old_id);
    EXPECT_EQ(r.reply[0].topic_id, old_id);  // answered with the id though named
    m.write(r.records);
    EXPECT_EQ(m.image().topic(old_id), nullptr);
    EXPECT_EQ(m.image().topic_by_name("orders"), nullptr);
    EXPECT_EQ(m.image().partition(old_id, PartitionIndex(0)), nullptr);
    EXPECT_EQ(m.image().partition_count(), partitions_before - 3);
    EXPECT_FALSE(m.image().config(config_resource_topic, "orders", "retention.ms").has_value());
    EXPECT_TRUE(m.image().config(config_resource_topic, "other", "retention.ms").has_value());
    EXPECT_NE(m.image().topic(other), nullptr);
    EXPECT_TRUE(m.image().invariant_violations().empty());
    // The name is free again: a new topic of that name has a new id and fresh partitions.
    Uuid new_id = m.create_topic("orders", 1, 1);
    EXPECT_NE(new_id, old_id);
    ASSERT_NE(m.image().topic_by_name("orders"), nullptr);
    EXPECT_EQ(m.image().topic_by_name("orders")->id, new_id);
    EXPECT_EQ(m.image().partition(new_id, PartitionIndex(0))->leader_epoch, LeaderEpoch(0));
    EXPECT_FALSE(m.image().config(config_resource_topic, "orders", "retention.ms").has_value());
}

TEST(DeleteTopics, AnswersEachTopicOnItsOwnAndDeletesByNameOrById) {
    LogModel m;
    m.start_brokers(1, 2);
    Uuid a = m.create_topic("a", 1, 1);
    Uuid b = m.create_topic("b", 2, 2);
    m.create_topic("twice", 1, 1);
    m.create_topic("__consumer_offsets", 1, 1);
    std::vector<DeletableTopic> req = {
        {"a", Uuid{}},
        {std::nullopt, b},
        {"missing", Uuid{}},
        {std::nullopt, Uuid{7, 7}},
        {"a", a},                    // both name and id
        {std::nullopt, Uuid{}},      // neither
        {"twice", Uuid{}},
        {"twice", Uuid{}},
        {"__consumer_offsets", Uuid{}},
    };
    auto r = delete_topics(m.image(), req);
    ASSERT_EQ(r.reply.size(), req.size());
    EXPECT_TRUE(r.reply[0].status.ok());
    EXPECT_TRUE(r.reply[1].status.ok());
    EXPECT_EQ(r.reply[1].name, "b");  // answered with the name though given by id
    std::vector<Errc> want = {Errc::unknown_topic_or_partition, Errc::unknown_topic_id, Errc::invalid_request,
                              Errc::invalid_request, Errc::invalid_request, Errc::invalid_request,
                              Errc::invalid_request};
    for (size_t i = 0; i < want.size(); i++) {
        ASSERT_FALSE(r.reply[i + 2].status.ok()) << i;
        EXPECT_EQ(r.reply[i + 2].status.code(), want[i]) << i << ": " << r.reply[i + 2].status.error().message;
    }
    ASSERT_EQ(r.records.size(), 2u);  // a and b only
    m.write(r.records);
    EXPECT_EQ(m.image().topic(a), nullptr);
    EXPECT_EQ(m.image().topic(b), nullptr);
    EXPECT_NE(m.image().topic_by_name("twice"), nullptr);
    EXPECT_NE(m.image().topic_by_name("__consumer_offsets"), nullptr);
    EXPECT_TRUE(is_internal_topic("__transaction_state"));
    EXPECT_FALSE(is_internal_topic("__consumer_offsets2"));
    EXPECT_EQ(protocol::to_error_code(Errc::unknown_topic_id), protocol::ErrorCode::unknown_topic_id);
}

TEST(DeleteTopics, ARemoveOfAnUnknownTopicDoesNotApplyCleanly) {
    LogModel m;
    m.start_brokers(1, 1);
    Uuid t = m.create_topic("t", 1, 1);
    EXPECT_FALSE(m.image().check_record(RemoveTopicRecord{Uuid{5, 5}, {}}).ok());
    EXPECT_TRUE(m.image().check_record(RemoveTopicRecord{t, {}}).ok());
    delete_by_name(m, "t");
    EXPECT_FALSE(m.image().check_record(RemoveTopicRecord{t, {}}).ok());  // not twice
    // Its partitions are gone for every other record too.
    PartitionChangeRecord change;
    change.topic_id = t;
    change.partition_id = PartitionIndex(0);
    change.leader = NodeId(-1);
    EXPECT_FALSE(m.image().check_record(change).ok());
}

TEST(DeleteTopics, ReplayAndSnapshotsAgreeWithTheLiveImage) {
    LogModel m;
    m.start_brokers(1, 3);
    m.create_topic("keep", 2, 3, {{"min.insync.replicas", "2"}});
    m.create_topic("gone", 3, 2, {{"retention.ms", "1000"}});
    m.create_topic("again", 1, 1);
    delete_by_name(m, "gone");
    delete_by_name(m, "again");
    m.create_topic("again", 2, 2);
    m.fence(3);
    // The whole log replayed.
    MetadataImage replayed;
    for (size_t i = 0; i < m.log().size(); i++) replayed.apply_batch(Offset(static_cast<int64_t>(i)), m.log()[i]);
    EXPECT_EQ(replayed, m.image()) << replayed.describe() << "\nvs\n" << m.image().describe();
    // A snapshot at every offset plus the rest of the log.
    for (size_t at = 0; at <= m.log().size(); at++) {
        MetadataImage prefix;
        for (size_t i = 0; i < at; i++) prefix.apply_batch(Offset(static_cast<int64_t>(i)), m.log()[i]);
        Bytes snap = prefix.take_snapshot(Offset(static_cast<int64_t>(at)));
        MetadataImage restored;
        ASSERT_TRUE(restored.restore_snapshot(Offset(static_cast<int64_t>(at)), snap).ok()) << at;
        EXPECT_EQ(restored, prefix) << at;
        for (size_t i = at; i < m.log().size(); i++) restored.apply_batch(Offset(static_cast<int64_t>(i)), m.log()[i]);
        EXPECT_EQ(restored, m.image()) << "snapshot at " << at;
    }
    EXPECT_EQ(m.image().topic_by_name("gone"), nullptr);
    EXPECT_FALSE(m.image().config(config_resource_topic, "gone", "retention.ms").has_value());
    ASSERT_NE(m.image().topic_by_name("again"), nullptr);
    EXPECT_EQ(m.image().topic_by_name("again")->partitions.size(), 2u);
    // The snapshot of the final image holds no trace of the removed topics.
    MetadataImage copy = m.image();
    auto records = decode_batch(copy.take_snapshot(copy.end_offset()));
    ASSERT_TRUE(records.ok());
    for (const MetadataRecord& r : *records) {
        if (const auto* t = std::get_if<TopicRecord>(&r)) {
            EXPECT_NE(t->name, "gone");
        }
        if (const auto* c = std::get_if<ConfigRecord>(&r)) {
            EXPECT_NE(c->resource_name, "gone");
        }
        EXPECT_FALSE(std::holds_alternative<RemoveTopicRecord>(r));
    }
}

}  // namespace
}  // namespace keel::controller
