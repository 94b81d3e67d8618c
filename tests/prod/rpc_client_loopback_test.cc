// RpcClient over real TCP: close_all() while a call waits for its response. It must end
// that call (Errc::closed) and leave the connection to the call, never free it under the
// waiting fiber (a use-after-free under ASan, which `keel server` hit when a follower's
// replica fetcher was stopped while a fetch was in flight).
#include <gtest/gtest.h>

#include <atomic>

#include "core/controller/rpc.h"
#include "core/protocol/generated/metadata_request.h"
#include "core/protocol/generated/metadata_response.h"
#include "prod/prod_node.h"
#include "prod/temp_dir.h"
#include "tests/prod/loopback_util.h"

namespace keel {
namespace {

TEST(RpcClientOnLoopback, CloseAllEndsACallWaitingForItsResponse) {
    prod::TempDir dir("rpc-close-all");
    uint16_t port = loopback::free_port();
    std::atomic<bool> accepted{false};
    std::atomic<int> call_code{-1};
    std::atomic<bool> call_done{false};
    prod::ProdNode node("n", dir.path());
    ASSERT_TRUE(node.start([&](env::Env& env) {
                        // A peer that accepts and never answers.
                        auto listener = env.network().listen(env::Address{"127.0.0.1", port});
                        ASSERT_TRUE(listener.ok());
                        controller::RpcClient client(env, "test");
                        env.executor().spawn("caller", [&] {
                            protocol::MetadataRequest req;
                            auto r = client.call<protocol::MetadataResponse>(env::Address{"127.0.0.1", port}, req,
                                                                            12, Instant::max());
                            call_code.store(r.ok() ? 0 : static_cast<int>(r.code()));
                            call_done.store(true);
                        });
                        auto conn = (*listener)->accept(env.now() + ms(30000));
                        ASSERT_TRUE(conn.ok());
                        auto request = (*conn)->receive(env.now() + ms(30000));  // the call is in flight
                        ASSERT_TRUE(request.ok());
                        accepted.store(true);
                        client.close_all();
                        while (!call_done.load()) env.executor().sleep_for(ms(10));
                    })
                    .ok());
    ASSERT_TRUE(loopback::wait_until([&] { return call_done.load(); }, std::chrono::seconds(60)));
    EXPECT_TRUE(accepted.load());
    EXPECT_EQ(call_code.load(), static_cast<int>(Errc::closed));
    node.stop();
}

}  // namespace
}  // namespace keel
