// Producer id blocks in the controller (KIP-730): the ProducerIdsRecord codec (Kafka's record
// type 15), the image's next producer id (applied, validated, in snapshots and equality),
// and the pure decision allocate_producer_ids.
#include <gtest/gtest.h>

#include <limits>

#include "core/controller/controller_logic.h"
#include "core/controller/metadata_image.h"
#include "tests/controller/controller_model.h"

namespace keel::controller {
namespace {

using namespace keel::controller::testing;

Bytes hex(std::string_view s) {
    Bytes out;
    for (size_t i = 0; i + 1 < s.size(); i += 2) {
        while (s[i] == ' ') i++;
        out.push_back(static_cast<uint8_t>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

ProducerIdsRecord pids(int32_t broker, int64_t epoch, int64_t next) {
    return ProducerIdsRecord{NodeId(broker), BrokerEpoch(epoch), next, {}};
}

// ------------------------------------------------------------------------------ codec

TEST(ProducerIdsRecord, HasKafkasTypeFieldsAndBytes) {
    // frame version 1, type 15, version 0, BrokerId int32, BrokerEpoch int64,
    // NextProducerId int64, empty tagged section.
    Bytes b = encode_record(pids(3, 7, 2000));
    EXPECT_EQ(b, hex("01 0f 00 00000003 0000000000000007 00000000000007d0 00"));
    EXPECT_EQ(record_type(pids(3, 7, 2000)), RecordType::producer_ids);
    EXPECT_EQ(static_cast<int>(RecordType::producer_ids), 15);
    EXPECT_EQ(record_type_name(RecordType::producer_ids), "ProducerIdsRecord");
    EXPECT_EQ(ProducerIdsRecord{}.broker_epoch, BrokerEpoch(-1));  // Kafka's default
}

TEST(ProducerIdsRecord, RoundTripsAloneAndInABatchAndRejectsTruncation) {
    ProducerIdsRecord r = pids(101, 42, std::numeric_limits<int64_t>::max());
    auto back = decode_record(encode_record(r));
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    ASSERT_TRUE(std::holds_alternative<ProducerIdsRecord>(*back));
    EXPECT_EQ(std::get<ProducerIdsRecord>(*back), r);
    auto batch = decode_batch(encode_batch({NoOpRecord{}, r, pids(-1, -1, 5)}));
    ASSERT_TRUE(batch.ok()) << batch.error().to_string();
    ASSERT_EQ(batch->size(), 3u);
    EXPECT_EQ(std::get<ProducerIdsRecord>((*batch)[1]), r);
    EXPECT_EQ(std::get<ProducerIdsRecord>((*batch)[2]).next_producer_id, 5);
    Bytes full = encode_record(r);
    for (size_t cut = 0; cut < full.size(); cut++) {
        auto part = decode_record(ByteView(full.data(), cut));
        EXPECT_FALSE(part.ok()) << cut;
    }
    EXPECT_EQ(describe(r), "ProducerIds(broker=101, epoch=42, next=9223372036854775807)");
}

// ------------------------------------------------------------------------------ image

TEST(ProducerIdsImage, ApplyingARecordMovesTheNextProducerIdWhichMustIncrease) {
    LogModel m;
    m.start_brokers(1, 2);
    BrokerEpoch e1 = m.image().broker(NodeId(1))->epoch;
    EXPECT_EQ(m.image().next_producer_id(), 0);
    m.write({pids(1, e1.value(), 1000)});
    EXPECT_EQ(m.image().next_producer_id(), 1000);
    // Not above the current next id: a controller bug, refused by the image.
    Status same = m.image().check_record(pids(1, e1.value(), 1000));
    ASSERT_FALSE(same.ok());
    EXPECT_EQ(same.code(), Errc::invalid_record);
    EXPECT_NE(same.error().message.find("does not exceed"), std::string::npos) << same.error().message;
    EXPECT_FALSE(m.image().check_record(pids(1, e1.value(), 10)).ok());
    // A broker at another epoch, or unknown.
    EXPECT_FALSE(m.image().check_record(pids(1, e1.value() + 99, 2000)).ok());
    EXPECT_FALSE(m.image().check_record(pids(9, 0, 2000)).ok());
    // Broker -1 is the snapshot's form.
    EXPECT_TRUE(m.image().check_record(pids(-1, -1, 2000)).ok());
    EXPECT_DEATH(m.image().apply_record(pids(1, e1.value(), 999)), "does not exceed");
}

TEST(ProducerIdsImage, TheNextProducerIdIsInSnapshotsAndInEquality) {
    LogModel m;
    m.start_brokers(1, 2);
    BrokerEpoch e2 = m.image().broker(NodeId(2))->epoch;
    m.write({pids(2, e2.value(), 3000)});
    Offset end = m.next_offset();
    Bytes snap = m.image().take_snapshot(end);
    // The snapshot carries it as Kafka's ProducerIdsImage does: no broker, the next id.
    auto records = decode_batch(snap);
    ASSERT_TRUE(records.ok());
    ASSERT_TRUE(std::holds_alternative<ProducerIdsRecord>(records->back()));
    EXPECT_EQ(std::get<ProducerIdsRecord>(records->back()), pids(-1, -1, 3000));
    MetadataImage restored;
    ASSERT_TRUE(restored.restore_snapshot(end, snap).ok());
    EXPECT_EQ(restored.next_producer_id(), 3000);
    EXPECT_EQ(restored, m.image()) << restored.describe() << "\nvs\n" << m.image().describe();
    // Images that differ only in the next producer id are not equal.
    MetadataImage other = restored;
    other.apply_batch(end, {pids(-1, -1, 4000)});
    MetadataImage same_offset = restored;
    same_offset.apply_batch(end, {NoOpRecord{}});
    EXPECT_FALSE(other == same_offset);
    // An image that never handed out a block writes no ProducerIdsRecord.
    MetadataImage empty;
    auto none = decode_batch(empty.take_snapshot(Offset(0)));
    ASSERT_TRUE(none.ok());
    for (const MetadataRecord& r : *none) EXPECT_FALSE(std::holds_alternative<ProducerIdsRecord>(r));
}

// ------------------------------------------------------------------------------ logic

TEST(AllocateProducerIds, HandsOutConsecutiveBlocksOfAThousand) {
    LogModel m;
    m.start_brokers(1, 2);
    std::vector<ProducerIdBlock> blocks;
    for (int i = 0; i < 4; i++) {
        NodeId b(i % 2 + 1);
        auto r = allocate_producer_ids(m.image(), b, m.image().broker(b)->epoch);
        ASSERT_TRUE(r.ok()) << r.error().to_string();
        ASSERT_EQ(r->records.size(), 1u);
        const auto& rec = std::get<ProducerIdsRecord>(r->records[0]);
        EXPECT_EQ(rec.broker_id, b);
        EXPECT_EQ(rec.broker_epoch, m.image().broker(b)->epoch);
        EXPECT_EQ(rec.next_producer_id, r->reply.next_block_first_id());
        m.write(r->records);
        blocks.push_back(r->reply);
    }
    for (size_t i = 0; i < blocks.size(); i++) {
        EXPECT_EQ(blocks[i].first_id, static_cast<int64_t>(i) * 1000);
        EXPECT_EQ(blocks[i].size, producer_id_block_size);
        EXPECT_EQ(blocks[i].last_id(), static_cast<int64_t>(i) * 1000 + 999);
        EXPECT_EQ(blocks[i].assigned_broker, NodeId(static_cast<int32_t>(i % 2 + 1)));
    }
    EXPECT_EQ(m.image().next_producer_id(), 4000);
}

TEST(AllocateProducerIds, RefusesAStaleEpochAndAnUnknownBrokerAsKafkaDoes) {
    LogModel m;
    m.start_brokers(1, 2);
    BrokerEpoch old = m.image().broker(NodeId(1))->epoch;
    m.register_broker(1, 2);  // a new incarnation: epoch `old` is stale now
    auto stale = allocate_producer_ids(m.image(), NodeId(1), old);
    ASSERT_FALSE(stale.ok());
    EXPECT_EQ(stale.code(), Errc::stale_broker_epoch);
    auto unknown = allocate_producer_ids(m.image(), NodeId(7), BrokerEpoch(0));
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.code(), Errc::stale_broker_epoch);
    // Fencing does not matter: the re-registered broker is fenced and still gets a block.
    ASSERT_TRUE(m.image().broker(NodeId(1))->fenced);
    auto fenced = allocate_producer_ids(m.image(), NodeId(1), m.image().broker(NodeId(1))->epoch);
    EXPECT_TRUE(fenced.ok());
    EXPECT_EQ(m.image().next_producer_id(), 0);  // refusals wrote nothing
}

TEST(AllocateProducerIds, RefusesWhenTheIdsAreExhausted) {
    LogModel m;
    m.start_brokers(1, 1);
    BrokerEpoch e = m.image().broker(NodeId(1))->epoch;
    int64_t last_block = std::numeric_limits<int64_t>::max() - producer_id_block_size;
    m.write({pids(1, e.value(), last_block)});
    auto r = allocate_producer_ids(m.image(), NodeId(1), e);
    ASSERT_TRUE(r.ok());  // [max - 1000, max) still fits
    m.write(r->records);
    auto none = allocate_producer_ids(m.image(), NodeId(1), e);
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.code(), Errc::unknown);
}

}  // namespace
}  // namespace keel::controller
