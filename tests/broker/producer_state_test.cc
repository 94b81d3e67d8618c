// The idempotent producer's state: every outcome of check(), and how update / replication /
// expiration move it.
#include "core/broker/producer_state.h"

#include <gtest/gtest.h>

#include "tests/broker/broker_test_util.h"

namespace keel::broker {
namespace {

using protocol::ErrorCode;
using testing::header;
using testing::kT0;
constexpr int64_t kPid = 1000;

// A leader partition: checks, and on accept "appends" at the log end and updates.
struct Leader {
    ProducerStateManager state;
    int64_t log_end = 0;

    SequenceCheck produce(int64_t pid, int16_t epoch, int32_t seq, int32_t count,
                          int64_t ts = kT0) {
        SequenceCheck c = state.check(pid, epoch, seq, count, true);
        if (c.accepted()) {
            state.update(header(pid, epoch, seq, count, 999, ts), Offset(log_end));
            log_end += count;
        }
        return c;
    }
};

TEST(ProducerState, ARetryOfEachOfTheLastFiveBatchesIsAnsweredWithItsOriginalOffsets) {
    Leader p;
    p.log_end = 100;  // other producers wrote before
    for (int i = 0; i < 6; i++) {
        ASSERT_EQ(p.produce(kPid, 0, 2 * i, 2).outcome, SequenceOutcome::accept) << i;
    }
    // Batches 1..5 (sequences 2..11) are cached; offsets 102..111.
    for (int i = 1; i < 6; i++) {
        SequenceCheck c = p.state.check(kPid, 0, 2 * i, 2, true);
        ASSERT_EQ(c.outcome, SequenceOutcome::duplicate) << i;
        EXPECT_EQ(c.error_code(), ErrorCode::none);
        ASSERT_TRUE(c.duplicate.has_value());
        EXPECT_EQ(c.duplicate->first_offset, Offset(100 + 2 * i));
        EXPECT_EQ(c.duplicate->last_offset, Offset(101 + 2 * i));
        EXPECT_EQ(c.duplicate->first_sequence, 2 * i);
        EXPECT_EQ(c.duplicate->last_sequence, 2 * i + 1);
    }
    // The sixth-oldest batch has left the cache: its retry is out of order, not a duplicate.
    SequenceCheck oldest = p.state.check(kPid, 0, 0, 2, true);
    EXPECT_EQ(oldest.outcome, SequenceOutcome::out_of_order_sequence);
    EXPECT_EQ(oldest.error_code(), ErrorCode::out_of_order_sequence_number);
    EXPECT_EQ(p.log_end, 112);  // checks alone appended nothing
}

TEST(ProducerState, ARetryWithADifferentSequenceRangeIsNotADuplicate) {
    Leader p;
    ASSERT_TRUE(p.produce(kPid, 0, 0, 3).accepted());
    EXPECT_EQ(p.state.check(kPid, 0, 0, 2, true).outcome, SequenceOutcome::out_of_order_sequence);
}

TEST(ProducerState, ASequenceGapIsOutOfOrder) {
    Leader p;
    ASSERT_TRUE(p.produce(kPid, 0, 0, 2).accepted());
    SequenceCheck gap = p.state.check(kPid, 0, 3, 1, true);
    EXPECT_EQ(gap.outcome, SequenceOutcome::out_of_order_sequence);
    EXPECT_EQ(gap.error_code(), ErrorCode::out_of_order_sequence_number);
    EXPECT_NE(gap.reason.find("3"), std::string::npos);
    EXPECT_TRUE(p.state.check(kPid, 0, 2, 1, true).accepted());
}

TEST(ProducerState, AnOlderEpochIsFenced) {
    Leader p;
    ASSERT_TRUE(p.produce(kPid, 3, 0, 1).accepted());
    SequenceCheck old = p.state.check(kPid, 2, 1, 1, true);
    EXPECT_EQ(old.outcome, SequenceOutcome::invalid_producer_epoch);
    EXPECT_EQ(old.error_code(), ErrorCode::invalid_producer_epoch);
    // Even a batch that would have been a duplicate under the old epoch.
    EXPECT_EQ(p.state.check(kPid, 2, 0, 1, true).outcome, SequenceOutcome::invalid_producer_epoch);
}

TEST(ProducerState, ANewEpochMustStartAtSequenceZeroAndForgetsTheOldBatches) {
    Leader p;
    ASSERT_TRUE(p.produce(kPid, 3, 0, 2).accepted());
    EXPECT_EQ(p.state.check(kPid, 4, 2, 1, true).outcome, SequenceOutcome::out_of_order_sequence);
    ASSERT_TRUE(p.produce(kPid, 4, 0, 1).accepted());
    const ProducerEntry* e = p.state.find(kPid);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->producer_epoch, 4);
    ASSERT_EQ(e->batches.size(), 1u);
    EXPECT_EQ(e->batches.front().first_offset, Offset(2));
    EXPECT_EQ(p.state.check(kPid, 3, 0, 2, true).outcome, SequenceOutcome::invalid_producer_epoch);
    EXPECT_TRUE(p.state.check(kPid, 4, 1, 1, true).accepted());
}

TEST(ProducerState, AnUnknownProducerIsAcceptedWithAnySequence) {
    Leader p;
    SequenceCheck c = p.state.check(kPid, 5, 1234, 3, true);
    EXPECT_EQ(c.outcome, SequenceOutcome::accept);
    EXPECT_EQ(c.error_code(), ErrorCode::none);
    ASSERT_TRUE(p.produce(kPid, 5, 1234, 3).accepted());
    EXPECT_EQ(p.state.find(kPid)->last_sequence(), 1236);
    EXPECT_TRUE(p.state.check(kPid, 5, 1237, 1, true).accepted());
}

TEST(ProducerState, FollowersAndNonIdempotentBatchesAreNeverChecked) {
    Leader p;
    ASSERT_TRUE(p.produce(kPid, 3, 0, 2).accepted());
    EXPECT_TRUE(p.state.check(kPid, 1, 77, 1, false).accepted());  // replication: no checks
    EXPECT_TRUE(p.state.check(-1, -1, -1, 5, true).accepted());
    p.state.update(header(-1, -1, -1, 5), Offset(p.log_end));
    EXPECT_EQ(p.state.producer_count(), 1u);
    EXPECT_EQ(p.state.map_end_offset(), Offset(p.log_end + 5));
}

TEST(ProducerState, SequencesWrapFromInt32MaxToZero) {
    Leader p;
    constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
    ASSERT_TRUE(p.produce(kPid, 0, kMax - 1, 2).accepted());  // ends at INT32_MAX
    EXPECT_EQ(p.state.check(kPid, 0, kMax - 1, 2, true).outcome, SequenceOutcome::duplicate);
    ASSERT_TRUE(p.produce(kPid, 0, 0, 3).accepted());  // wraps to 0
    ASSERT_TRUE(p.produce(kPid, 0, 3, 1).accepted());
    // A batch straddling the wrap.
    Leader q;
    ASSERT_TRUE(q.produce(kPid, 0, kMax - 1, 4).accepted());  // kMax-1, kMax, 0, 1
    EXPECT_EQ(q.state.find(kPid)->last_sequence(), 1);
    EXPECT_EQ(q.state.check(kPid, 0, kMax - 1, 4, true).outcome, SequenceOutcome::duplicate);
    EXPECT_TRUE(q.state.check(kPid, 0, 2, 1, true).accepted());
    EXPECT_EQ(q.state.check(kPid, 0, 0, 1, true).outcome, SequenceOutcome::out_of_order_sequence);
}

TEST(ProducerState, AProducerExpiresProducerIdExpirationMsAfterItsLastTimestamp) {
    ProducerStateManager s(ProducerStateConfig{.producer_id_expiration_ms = 60'000});
    s.update(header(kPid, 0, 0, 1, 0, kT0), Offset(0));
    s.update(header(kPid + 1, 0, 0, 1, 1, kT0 + 30'000), Offset(1));
    s.remove_expired_producers(kT0 + 59'999);
    EXPECT_EQ(s.producer_count(), 2u);
    s.remove_expired_producers(kT0 + 60'000);
    EXPECT_EQ(s.find(kPid), nullptr);
    ASSERT_NE(s.find(kPid + 1), nullptr);
    // Once expired the producer is unknown: any sequence is accepted (KIP-360).
    EXPECT_TRUE(s.check(kPid, 0, 42, 1, true).accepted());
}

TEST(ProducerState, AFollowerReplayingTheLeadersBatchesReachesTheSameState) {
    Leader p;
    ProducerStateManager follower;
    std::vector<std::pair<log::BatchHeader, Offset>> appended;
    auto produce = [&](int64_t pid, int16_t epoch, int32_t seq, int32_t n) {
        Offset at(p.log_end);
        if (p.produce(pid, epoch, seq, n).accepted())
            appended.push_back({header(pid, epoch, seq, n), at});
    };
    for (int i = 0; i < 8; i++) produce(kPid, 0, i, 1);
    produce(kPid + 1, 2, 0, 4);
    produce(kPid, 1, 0, 2);
    for (const auto& [h, at] : appended) follower.apply_replicated_batch(h, at);
    ASSERT_EQ(follower.producer_count(), p.state.producer_count());
    for (const auto& [id, e] : p.state.producers()) {
        const ProducerEntry* f = follower.find(id);
        ASSERT_NE(f, nullptr);
        EXPECT_EQ(f->producer_epoch, e.producer_epoch);
        EXPECT_EQ(f->batches, e.batches);
    }
    EXPECT_EQ(follower.map_end_offset(), Offset(p.log_end));
}

TEST(ProducerState, AValidatedAppendIsCheckedByItsProducerFieldsAndRecordCount) {
    Bytes b = testing::producer_batch(
        {.records = 3, .producer_id = kPid, .producer_epoch = 1, .base_sequence = 0});
    ValidationConfig vc;
    vc.now_ms = kT0;
    auto v = validate_produce_records(b, vc);
    ASSERT_TRUE(v.ok());
    Leader p;
    ASSERT_TRUE(p.state.check(*v, true).accepted());
    auto h = log::parse_batch_header(b);
    ASSERT_TRUE(h.ok());
    p.state.update(*h, Offset(40));
    SequenceCheck again = p.state.check(*v, true);
    ASSERT_EQ(again.outcome, SequenceOutcome::duplicate);
    EXPECT_EQ(again.duplicate->first_offset, Offset(40));
    EXPECT_EQ(again.duplicate->last_offset, Offset(42));
    EXPECT_EQ(again.duplicate->max_timestamp_ms, kT0 + 2);
}

TEST(ProducerState, OutcomeNamesReadWell) {
    EXPECT_EQ(sequence_outcome_name(SequenceOutcome::duplicate), "duplicate");
    EXPECT_EQ(sequence_outcome_name(SequenceOutcome::invalid_producer_epoch),
              "invalid_producer_epoch");
}

}  // namespace
}  // namespace keel::broker
