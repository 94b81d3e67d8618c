// ApiVersions on the Raft listener, against running drivers in the simulator: any client
// (here an operator's node, not a raft peer) gets the listener's table at v0 and v3 on one
// connection; a newer ApiVersions version gets the v0-form error 35 answer and the
// connection stays usable; an API the listener does not serve closes only that connection.
#include <gtest/gtest.h>

#include "core/protocol/api_versions.h"
#include "core/protocol/frame.h"
#include "core/raft/raft_driver.h"
#include "tests/raft_driver/sim_fixture.h"

namespace keel::raft {
namespace {

using namespace keel::protocol;
using testing::Sim;

Bytes api_versions_frame(int16_t version, int32_t correlation_id) {
    return encode_request(RequestHeader{ApiKey::api_versions, version, correlation_id, std::string("probe")},
                          version >= 3 ? keel_api_versions_request() : ApiVersionsRequest{});
}

// ApiVersions v4 (newer than Keel knows): header v2, body as v3.
Bytes api_versions_v4_frame(int32_t correlation_id) {
    Writer w(true);
    w.i16(18);
    w.i16(4);
    w.i32(correlation_id);
    w.classic_string("probe");
    w.empty_tagged_fields();
    w.compact_string("x");
    w.compact_string("1");
    w.empty_tagged_fields();
    return w.take();
}

// Sends each frame on one connection; the reply bytes, or nullopt once the peer closed.
std::vector<std::optional<Bytes>> exchange(Sim& s, const std::string& target, std::vector<Bytes> frames) {
    static int asked = 0;
    std::vector<std::optional<Bytes>> out;
    bool done = false;
    s.world.add_node("ops" + std::to_string(++asked) + "-" + target, [&](env::Env& env) {
        auto conn = env.network().connect(env::Address{target, 9093}, env.now() + 2s);
        if (conn.ok()) {
            for (const Bytes& f : frames) {
                if (!(*conn)->send(f).ok()) break;
                auto reply = (*conn)->receive(env.now() + 1s);
                out.push_back(reply.ok() ? std::optional<Bytes>(*reply) : std::nullopt);
                if (!reply.ok()) break;
            }
        }
        done = true;
    });
    EXPECT_TRUE(s.world.run_until([&] { return done; }, 10s));
    return out;
}

TEST(RaftDriverApiVersions, TheRaftListenerAnswersFromItsTable) {
    Sim s(5, scenarios::QuorumOptions{});
    ASSERT_TRUE(s.world.run_until([&] { return s.cluster->leader().has_value(); }, 30s));
    auto replies = exchange(s, "c1", {api_versions_frame(0, 1), api_versions_frame(3, 2), api_versions_v4_frame(3)});
    ASSERT_EQ(replies.size(), 3u);
    ApiVersionsResponse want = api_versions_response(raft_listener_api_versions());
    for (int i = 0; i < 3; i++) {
        ASSERT_TRUE(replies[i].has_value()) << "reply " << i;
        int16_t version = i == 1 ? 3 : 0;  // v4 is answered in v0 form
        int32_t corr = 0;
        auto r = decode_response<ApiVersionsResponse>(*replies[i], version, &corr);
        ASSERT_TRUE(r.ok()) << r.error().to_string();
        EXPECT_EQ(corr, i + 1);
        EXPECT_EQ(r->api_keys, want.api_keys);
        EXPECT_EQ(r->error_code, i == 2 ? ErrorCode::unsupported_version : ErrorCode::none);
    }
}

TEST(RaftDriverApiVersions, AnApiTheListenerDoesNotServeClosesOnlyThatConnection) {
    Sim s(6, scenarios::QuorumOptions{});
    ASSERT_TRUE(s.world.run_until([&] { return s.cluster->leader().has_value(); }, 30s));
    // CreateTopics belongs on the controller listener, not the Raft listener.
    Writer w(false);
    w.i16(19);  // CreateTopics v0, header v1, then an empty topic list and a timeout
    w.i16(0);
    w.i32(7);
    w.classic_string("probe");
    w.i32(0);
    w.i32(1000);
    Bytes create = w.take();
    auto replies = exchange(s, "c1", {create, api_versions_frame(0, 8)});
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_FALSE(replies[0].has_value()) << "closed without an answer";
    auto again = exchange(s, "c1", {api_versions_frame(0, 9)});
    ASSERT_EQ(again.size(), 1u);
    EXPECT_TRUE(again[0].has_value()) << "the listener still serves other connections";
    EXPECT_TRUE(s.world.run_until([&] { return s.cluster->leader().has_value(); }, 10s));
}

}  // namespace
}  // namespace keel::raft
