// Property: for any sequence of appends, retries of earlier appends (of any age), epoch
// bumps, stale epochs, sequence gaps and wraps, snapshot restarts and expirations, the
// ProducerStateManager answers exactly what a simple model says — a model that keeps each
// producer's whole history and looks at its last five batches. A follower replaying the
// accepted batches ends with the same snapshot.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstdio>
#include <map>
#include <vector>

#include "core/broker/producer_state.h"
#include "tests/broker/broker_test_util.h"

namespace keel::broker {
namespace {

using testing::header;
constexpr int64_t kExpirationMs = 100;
constexpr int64_t kSeqSpace = int64_t{1} << 31;  // sequences live in [0, 2^31)

struct ModelBatch {
    int32_t first_seq, last_seq;
    int64_t first_offset, last_offset;
    int64_t timestamp;
};

struct ModelProducer {
    int16_t epoch = 0;
    std::vector<ModelBatch> history;  // every batch since the epoch began (and still known)
};

struct Sent {
    int64_t pid;
    int16_t epoch;
    int32_t seq;
    int32_t count;
};

struct Model {
    std::map<int64_t, ModelProducer> producers;

    int32_t last_seq(int32_t first, int32_t count) const {
        return static_cast<int32_t>((int64_t{first} + count - 1) % kSeqSpace);
    }
    SequenceCheck expect(const Sent& s) const {
        auto it = producers.find(s.pid);
        if (it == producers.end()) return {SequenceOutcome::accept, std::nullopt, {}};
        const ModelProducer& p = it->second;
        int32_t last = last_seq(s.seq, s.count);
        if (s.epoch == p.epoch) {
            size_t from = p.history.size() > kProducerBatchesRetained
                              ? p.history.size() - kProducerBatchesRetained
                              : 0;
            for (size_t i = from; i < p.history.size(); i++) {
                const ModelBatch& b = p.history[i];
                if (b.first_seq == s.seq && b.last_seq == last) {
                    return {SequenceOutcome::duplicate,
                            ProducerBatchMetadata{b.first_seq, b.last_seq, Offset(b.first_offset),
                                                  Offset(b.last_offset), b.timestamp},
                            {}};
                }
            }
        }
        if (s.epoch < p.epoch) return {SequenceOutcome::invalid_producer_epoch, std::nullopt, {}};
        if (s.epoch > p.epoch) {
            return {s.seq == 0 ? SequenceOutcome::accept : SequenceOutcome::out_of_order_sequence,
                    std::nullopt,
                    {}};
        }
        bool next = (int64_t{p.history.back().last_seq} + 1) % kSeqSpace == s.seq;
        return {next ? SequenceOutcome::accept : SequenceOutcome::out_of_order_sequence,
                std::nullopt,
                {}};
    }
    void append(const Sent& s, int64_t offset, int64_t now) {
        ModelProducer& p = producers[s.pid];
        if (p.history.empty() || p.epoch != s.epoch) p.history.clear();
        p.epoch = s.epoch;
        p.history.push_back({s.seq, last_seq(s.seq, s.count), offset, offset + s.count - 1, now});
    }
    void restart() {  // a snapshot keeps each producer's last batch only
        for (auto& [id, p] : producers) p.history.erase(p.history.begin(), p.history.end() - 1);
    }
    void expire(int64_t now) {
        std::erase_if(producers, [&](const auto& kv) {
            return now - kv.second.history.back().timestamp >= kExpirationMs;
        });
    }
};

enum class Op { fresh, retry, restart, advance };

// How often each outcome was reached over all cases: a property whose rare paths never run
// is greener than the truth.
struct Reach {
    std::map<SequenceOutcome, int> outcomes;
    int duplicate_of_fifth_newest = 0;
    int wrapped = 0;
};
Reach& reach() {
    static Reach r;
    return r;
}

Sent fresh_send(const Model& m) {
    Sent s;
    s.pid = *rc::gen::inRange<int64_t>(1, 4);
    s.count = *rc::gen::inRange<int32_t>(1, 5);
    auto it = m.producers.find(s.pid);
    int16_t epoch = it == m.producers.end() ? 0 : it->second.epoch;
    int delta = *rc::gen::weightedElement<int>({{8, 0}, {1, 1}, {1, -1}});
    s.epoch = static_cast<int16_t>(std::max(0, epoch + delta));
    int32_t next =
        it == m.producers.end()
            ? 0
            : static_cast<int32_t>((int64_t{it->second.history.back().last_seq} + 1) % kSeqSpace);
    int kind = *rc::gen::weightedElement<int>({{10, 0}, {2, 1}, {2, 2}, {3, 3}});
    if (kind == 0) s.seq = next;
    if (kind == 1) s.seq = 0;
    if (kind == 2) s.seq = *rc::gen::inRange<int32_t>(0, 30);
    if (kind == 3) s.seq = std::numeric_limits<int32_t>::max() - *rc::gen::inRange<int32_t>(0, 4);
    return s;
}

void expect_same(const SequenceCheck& got, const SequenceCheck& want, const Sent& s) {
    RC_ASSERT_FALSE(got.reason.empty());
    if (got.outcome != want.outcome) {
        RC_FAIL("producer " + std::to_string(s.pid) + " epoch " + std::to_string(s.epoch) +
                " seq " + std::to_string(s.seq) + " x" + std::to_string(s.count) + ": got " +
                std::string(sequence_outcome_name(got.outcome)) + " (" + got.reason +
                "), model says " + std::string(sequence_outcome_name(want.outcome)));
    }
    RC_ASSERT(got.duplicate == want.duplicate);
}

void run_case() {
    ProducerStateConfig config{.producer_id_expiration_ms = kExpirationMs};
    ProducerStateManager leader(config), follower(config);
    Model model;
    std::vector<Sent> sent;
    int64_t log_end = 0, now = 1'000;
    int steps = *rc::gen::inRange(20, 200);
    for (int i = 0; i < steps; i++) {
        Op op = *rc::gen::weightedElement<Op>(
            {{12, Op::fresh}, {6, Op::retry}, {1, Op::restart}, {1, Op::advance}});
        if (op == Op::restart) {
            auto decoded =
                decode_producer_snapshot(encode_producer_snapshot(leader.snapshot_entries()));
            RC_ASSERT(decoded.ok());
            leader = ProducerStateManager(config);
            leader.load_snapshot({Offset(log_end), *decoded}, now);
            follower.remove_expired_producers(now);  // the leader's load skipped the expired
            model.expire(now);
            model.restart();
            continue;
        }
        if (op == Op::advance) {
            now += *rc::gen::inRange<int64_t>(0, 150);
            leader.remove_expired_producers(now);
            follower.remove_expired_producers(now);
            model.expire(now);
            continue;
        }
        Sent s = op == Op::retry && !sent.empty() ? *rc::gen::elementOf(sent) : fresh_send(model);
        SequenceCheck got = leader.check(s.pid, s.epoch, s.seq, s.count, true);
        expect_same(got, model.expect(s), s);
        reach().outcomes[got.outcome]++;
        if (got.duplicate && model.producers.at(s.pid).history.size() >= kProducerBatchesRetained &&
            got.duplicate->first_offset.value() ==
                model.producers.at(s.pid)
                    .history[model.producers.at(s.pid).history.size() - kProducerBatchesRetained]
                    .first_offset) {
            reach().duplicate_of_fifth_newest++;
        }
        if (got.accepted() && int64_t{s.seq} + s.count > kSeqSpace) reach().wrapped++;
        if (!got.accepted()) continue;
        log::BatchHeader h = header(s.pid, s.epoch, s.seq, s.count, log_end, now);
        leader.update(h, Offset(log_end));
        follower.apply_replicated_batch(h, Offset(log_end));
        model.append(s, log_end, now);
        sent.push_back(s);
        log_end += s.count;
    }
    RC_ASSERT(follower.snapshot_entries() == leader.snapshot_entries());
    RC_ASSERT(leader.map_end_offset() == Offset(log_end));
}

TEST(ProducerStateProperty, EveryAnswerMatchesTheModelOfTheLastFiveBatches) {
    reach() = Reach{};
    ASSERT_TRUE(rc::check(run_case));
    for (SequenceOutcome o :
         {SequenceOutcome::accept, SequenceOutcome::duplicate,
          SequenceOutcome::out_of_order_sequence, SequenceOutcome::invalid_producer_epoch}) {
        EXPECT_GT(reach().outcomes[o], 0) << sequence_outcome_name(o);
    }
    EXPECT_GT(reach().duplicate_of_fifth_newest, 0);
    EXPECT_GT(reach().wrapped, 0);
    std::printf(
        "reach: accept=%d duplicate=%d out_of_order=%d fenced=%d fifth_newest_dup=%d wrapped=%d\n",
        reach().outcomes[SequenceOutcome::accept], reach().outcomes[SequenceOutcome::duplicate],
        reach().outcomes[SequenceOutcome::out_of_order_sequence],
        reach().outcomes[SequenceOutcome::invalid_producer_epoch],
        reach().duplicate_of_fifth_newest, reach().wrapped);
}

}  // namespace
}  // namespace keel::broker
