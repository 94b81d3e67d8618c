// A leader restarted from a snapshot must still recognise a retry of each producer's last
// batch (found by data-chaos seed 8: a retry after a broker restart was appended twice).
#include <gtest/gtest.h>

#include "core/broker/producer_state.h"
#include "tests/broker/broker_test_util.h"

namespace keel::broker {
namespace {

using testing::header;
using testing::kT0;

TEST(ProducerStateRestart, ARetryOfTheLastBatchIsADuplicateAfterASnapshotRoundTrip) {
    ProducerStateManager m;
    m.update(header(0, 0, 448, 1, 896), Offset(896));
    m.update(header(1, 0, 448, 1, 897), Offset(897));
    m.update(header(0, 0, 449, 1, 898), Offset(898));
    Bytes snap = encode_producer_snapshot(m.snapshot_entries());
    auto entries = decode_producer_snapshot(snap);
    ASSERT_TRUE(entries.ok());
    ProducerStateManager restarted;
    restarted.load_snapshot(LoadedProducerSnapshot{Offset(899), *entries}, kT0 + 1000);
    restarted.apply_replicated_batch(header(1, 0, 449, 1, 899), Offset(899));
    SequenceCheck c = restarted.check(0, 0, 449, 1, true);
    EXPECT_EQ(c.outcome, SequenceOutcome::duplicate) << c.reason;
    ASSERT_TRUE(c.duplicate.has_value());
    EXPECT_EQ(c.duplicate->first_offset, Offset(898));
}

}  // namespace
}  // namespace keel::broker
