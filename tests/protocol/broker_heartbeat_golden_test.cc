// BrokerHeartbeat v0-v1 golden bytes: the encodings of a few sample messages at every
// version, recorded from the hand-written codec before BrokerHeartbeat moved onto the
// generator (core/protocol/schemas/BrokerHeartbeat*.json). They pin the wire format: the
// generated codec must write exactly these bytes and read them back to the same message.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "core/protocol/controller_messages.h"
#include "core/protocol/frame.h"
#include "tests/protocol/golden_bytes.h"

namespace keel::protocol {
namespace broker_heartbeat_golden {

using testing::expect_golden;

BrokerHeartbeatRequest request(bool offline_dirs) {
    BrokerHeartbeatRequest m;
    m.broker_id = NodeId(4);
    m.broker_epoch = 37;
    m.current_metadata_offset = 1234;
    m.want_fence = false;
    m.want_shut_down = true;
    if (offline_dirs) {
        m.offline_log_dirs = {Uuid{0x0102030405060708ULL, 0x1112131415161718ULL},
                              Uuid{0x2122232425262728ULL, 0x3132333435363738ULL}};
    }
    return m;
}

BrokerHeartbeatResponse response(ErrorCode error, bool caught_up, bool fenced, bool shut_down) {
    BrokerHeartbeatResponse m;
    m.throttle_time_ms = 5;
    m.error_code = error;
    m.is_caught_up = caught_up;
    m.is_fenced = fenced;
    m.should_shut_down = shut_down;
    return m;
}

TEST(BrokerHeartbeatGolden, Request) {
    expect_golden(request(false), 0, "00000004000000000000002500000000000004d2000100",
                  request(false));
    expect_golden(request(false), 1, "00000004000000000000002500000000000004d2000100",
                  request(false));
    expect_golden(request(true), 0, "00000004000000000000002500000000000004d2000100",
                  request(false));  // v0 has no OfflineLogDirs
    expect_golden(request(true), 1,
                  "00000004000000000000002500000000000004d200010100210301020304050607081112131415"
                  "16171821222324252627283132333435363738",
                  request(true));
}

TEST(BrokerHeartbeatGolden, Response) {
    auto ok = response(ErrorCode::none, true, false, false);
    auto stale = response(ErrorCode::stale_broker_epoch, false, true, true);
    expect_golden(ok, 0, "00000005000001000000", ok);
    expect_golden(ok, 1, "00000005000001000000", ok);
    expect_golden(stale, 0, "00000005004d00010100", stale);
    expect_golden(stale, 1, "00000005004d00010100", stale);
}

}  // namespace broker_heartbeat_golden
}  // namespace keel::protocol
