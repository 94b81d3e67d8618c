// Bad input on the wire: random bytes, truncated and mutated valid request frames, and an
// oversized frame, sent to a voter over raw simulated connections. Each bad frame closes
// only its own connection (the voter answers valid frames on other connections), the
// voter keeps serving, and the quorum keeps committing with the monitor silent.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "core/env/sync.h"
#include "core/protocol/describe_quorum.h"
#include "core/raft/raft_driver.h"
#include "core/raft/raft_wire.h"
#include "tests/raft_driver/sim_fixture.h"

namespace keel::raft {
namespace {

using namespace keel::protocol;
using testing::Sim;

constexpr NodeId kFuzzer{4444};  // not a voter: no frame from it can sway an election
const env::Address kTarget{"c1", 9093};

Message message(Body body) { return Message{kFuzzer, NodeId(1), 7, std::move(body)}; }

// Valid requests a non-voter might send; every one is answered.
std::vector<Bytes> valid_frames() {
    FetchRequest fetch;
    fetch.replica_id = kFuzzer;
    fetch.max_wait_ms = 0;
    FetchRequest::FetchPartition fp;
    fp.partition = 0;
    fp.current_leader_epoch = 0;
    fp.fetch_offset = Offset(0);
    fp.last_fetched_epoch = 0;
    fp.partition_max_bytes = 1 << 16;
    fetch.topics.push_back({"", metadata_topic_id, {fp}});
    VoteRequest vote;
    VoteRequest::PartitionData vp;
    vp.candidate_epoch = QuorumEpoch(1000);
    vp.candidate_id = kFuzzer;
    vp.last_offset_epoch = QuorumEpoch(1);
    vp.last_offset = Offset(1);
    vote.topics.push_back({std::string(metadata_topic_name), {vp}});
    BeginQuorumEpochRequest begin;
    begin.topics.push_back({std::string(metadata_topic_name), {{0, {}, kFuzzer, QuorumEpoch(1000)}}});
    FetchSnapshotRequest snap;
    snap.replica_id = kFuzzer;
    FetchSnapshotRequest::PartitionSnapshot ps;
    ps.partition = 0;
    ps.snapshot_id = {Offset(10), QuorumEpoch(1)};
    snap.topics.push_back({std::string(metadata_topic_name), {ps}});
    std::vector<Bytes> out;
    for (Body b : std::vector<Body>{fetch, vote, begin, snap}) {
        out.push_back(encode_message(message(std::move(b)), raft_client_id(kFuzzer)));
    }
    DescribeQuorumRequest describe;
    describe.topics.push_back({std::string(metadata_topic_name), {{0}}});
    out.push_back(encode_request(RequestHeader{ApiKey::describe_quorum, 2, 7, raft_client_id(kFuzzer)}, describe));
    return out;
}

struct FuzzFrame {
    enum Kind { random_bytes, mutated, truncated, valid } kind;
    Bytes bytes;
};

std::string kind_name(FuzzFrame::Kind k) {
    const char* names[] = {"random", "mutated", "truncated", "valid"};
    return names[k];
}

// Generated inside rc properties only.
FuzzFrame gen_frame(const std::vector<Bytes>& valid) {
    auto kind = static_cast<FuzzFrame::Kind>(*rc::gen::inRange(0, 4));
    if (kind == FuzzFrame::random_bytes) {
        return {kind, *rc::gen::container<Bytes>(rc::gen::arbitrary<uint8_t>())};
    }
    Bytes base = valid[*rc::gen::inRange<size_t>(0, valid.size())];
    if (kind == FuzzFrame::truncated) {
        base.resize(*rc::gen::inRange<size_t>(0, base.size()));
    } else if (kind == FuzzFrame::mutated) {
        // At most one byte in the 20-byte header (so the client id stays a non-voter's),
        // any number in the body.
        size_t n = *rc::gen::inRange<size_t>(1, 6);
        bool header_done = false;
        for (size_t i = 0; i < n; i++) {
            size_t pos = *rc::gen::inRange<size_t>(0, base.size());
            if (pos < 20 && header_done) continue;
            header_done = header_done || pos < 20;
            base[pos] = *rc::gen::arbitrary<uint8_t>();
        }
    }
    return {kind, std::move(base)};
}

// What the voter must do with a frame on a connection whose peer said it was `identity`
// (nullopt: a fresh connection): close it (true) or answer (false). The driver's rules.
bool must_close(const Bytes& frame, std::optional<NodeId>& identity) {
    if (frame.size() > (8u << 20)) return true;
    auto f = decode_request_frame(frame);
    if (!f.ok()) return true;
    if (f->header.api_key == ApiKey::describe_quorum) {
        // An operator's question: any client id, answered, the identity left alone.
        return !decode_request_body<DescribeQuorumRequest>(*f).ok();
    }
    auto from = parse_raft_client_id(f->header.client_id);
    if (!from || *from == NodeId(1) || (identity && *identity != *from)) return true;
    identity = from;
    return !decode_request_message(*from, NodeId(1), frame).ok();
}

struct FuzzOutcome {
    size_t sent = 0;
    size_t closed = 0;
    size_t answered = 0;
    std::vector<std::string> wrong;  // frames the voter treated otherwise than it must
};

// The fuzzer's node main: a fresh connection whenever the last one was closed.
void fuzzer_main(env::Env& env, const std::vector<FuzzFrame>& frames, FuzzOutcome& out, bool& done) {
    std::unique_ptr<env::Connection> conn;
    std::optional<NodeId> identity;
    for (size_t i = 0; i < frames.size(); i++) {
        const FuzzFrame& f = frames[i];
        if (!conn) {
            auto c = env.network().connect(kTarget, env.now() + 2s);
            if (!c.ok()) continue;
            conn = std::move(*c);
            identity.reset();
        }
        bool close_expected = must_close(f.bytes, identity);
        if (!conn->send(f.bytes).ok()) {
            conn.reset();
            continue;
        }
        out.sent++;
        auto reply = conn->receive(env.now() + 1s);
        bool closed = !reply.ok() && reply.code() == Errc::disconnected;
        out.closed += closed ? 1 : 0;
        out.answered += reply.ok() ? 1 : 0;
        if (closed != close_expected || (!close_expected && !reply.ok())) {
            out.wrong.push_back("frame " + std::to_string(i) + " (" + kind_name(f.kind) + ", " +
                                std::to_string(f.bytes.size()) + " bytes): " +
                                (closed ? "closed" : reply.ok() ? "answered" : "no answer"));
        }
        if (closed) conn.reset();
        env.executor().sleep_for(20ms);
    }
    done = true;
}

// Runs a steady quorum, lets the fuzzer send `frames` to c1, and checks the outcome.
void fuzz_once(uint64_t seed, std::vector<FuzzFrame> frames) {
    scenarios::QuorumOptions o;
    o.brokers = 0;
    Sim s(seed, o);
    auto& c = *s.cluster;
    RC_ASSERT(s.world.run_until([&] { return c.monitor().committed_end() > Offset(10); }, 20s));
    Offset before = c.monitor().committed_end();
    FuzzOutcome out;
    bool done = false;
    s.world.add_node("fz", [&](env::Env& env) { fuzzer_main(env, frames, out, done); });
    RC_ASSERT(s.world.run_until([&] { return done; }, 120s));
    s.world.run_for(2s);
    RC_ASSERT(c.status("c1").has_value());  // still serving
    if (!out.wrong.empty()) RC_FAIL(out.wrong[0]);
    RC_ASSERT(out.sent == frames.size());
    RC_ASSERT(c.monitor().committed_end() > before + 10);
    RC_ASSERT(c.monitor().ok());
    RC_TAG(out.closed > 0 ? "closed some" : "closed none");
}

TEST(RaftDriverFuzz, BadFramesCloseOnlyTheirConnectionAndTheQuorumKeepsCommitting) {
    std::vector<Bytes> valid = valid_frames();
    rc::detail::TestParams params;
    params.maxSuccess = 40;  // each case runs a cluster for some simulated seconds
    params.maxSize = 60;
    params.seed = 42;
    rc::detail::TestMetadata meta;
    meta.id = meta.description = "bad frames close only their connection";
    auto result = rc::detail::checkTestable(
        [&] {
            uint64_t seed = *rc::gen::inRange<uint64_t>(1, 1'000'000);
            size_t n = *rc::gen::inRange<size_t>(1, 40);
            std::vector<FuzzFrame> frames;
            for (size_t i = 0; i < n; i++) frames.push_back(gen_frame(valid));
            frames.push_back({FuzzFrame::valid, valid[0]});  // the voter still answers at the end
            fuzz_once(seed, std::move(frames));
        },
        meta, params);
    rc::detail::printResultMessage(result, std::cerr);
    EXPECT_TRUE(result.template is<rc::detail::SuccessResult>());
}

TEST(RaftDriverFuzz, AnOversizedFrameIsRejectedAndTheVoterServesOthers) {
    scenarios::QuorumOptions o;
    o.brokers = 0;
    Sim s(9, o);
    auto& c = *s.cluster;
    ASSERT_TRUE(s.world.run_until([&] { return c.monitor().committed_end() > Offset(10); }, 20s));
    std::vector<FuzzFrame> frames;
    Bytes big = valid_frames()[0];
    big.resize((8 << 20) + 1);  // one byte over the driver's frame limit
    frames.push_back({FuzzFrame::mutated, big});
    frames.push_back({FuzzFrame::valid, valid_frames()[1]});
    FuzzOutcome out;
    bool done = false;
    s.world.add_node("fz", [&](env::Env& env) { fuzzer_main(env, frames, out, done); });
    ASSERT_TRUE(s.world.run_until([&] { return done; }, 30s));
    EXPECT_EQ(out.closed, 1u);
    EXPECT_EQ(out.answered, 1u) << "a new connection is served";
    EXPECT_TRUE(out.wrong.empty()) << out.wrong[0];
    Offset before = c.monitor().committed_end();
    s.world.run_for(2s);
    EXPECT_GT(c.monitor().committed_end(), before);
    EXPECT_TRUE(c.monitor().ok());
}

}  // namespace
}  // namespace keel::raft
