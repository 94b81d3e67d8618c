// BrokerRegistration v0-v4 golden bytes: the encodings of a few sample messages at every
// version, recorded from the hand-written codec before BrokerRegistration moved onto the
// generator (core/protocol/schemas/BrokerRegistration*.json). They pin the wire format: the
// generated codec must write exactly these bytes and read them back to the same message.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "core/protocol/controller_messages.h"
#include "core/protocol/frame.h"
#include "tests/protocol/golden_bytes.h"

namespace keel::protocol {
namespace broker_registration_golden {

using testing::expect_golden;

BrokerRegistrationRequest request(bool rack) {
    BrokerRegistrationRequest m;
    m.broker_id = NodeId(4);
    m.cluster_id = "keel-cluster";
    m.incarnation_id = Uuid{0x0102030405060708ULL, 0x1112131415161718ULL};
    BrokerRegistrationRequest::Listener l;
    l.name = "PLAINTEXT";
    l.host = "broker-4";
    l.port = 9092;
    l.security_protocol = 0;
    m.listeners.push_back(l);
    BrokerRegistrationRequest::Feature f;
    f.name = "metadata.version";
    f.min_supported_version = 1;
    f.max_supported_version = 21;
    m.features.push_back(f);
    if (rack) m.rack = "rack-a";
    m.is_migrating_zk_broker = false;
    m.log_dirs = {Uuid{0x2122232425262728ULL, 0x3132333435363738ULL}};
    m.previous_broker_epoch = 12;
    return m;
}

// What the request reads as after a trip through `version`.
BrokerRegistrationRequest as_seen_at(BrokerRegistrationRequest m, int16_t version) {
    if (version < 2) m.log_dirs.clear();
    if (version < 3) m.previous_broker_epoch = -1;
    return m;
}

BrokerRegistrationResponse response(ErrorCode error, int64_t epoch) {
    BrokerRegistrationResponse m;
    m.throttle_time_ms = 3;
    m.error_code = error;
    m.broker_epoch = epoch;
    return m;
}

struct Golden {
    int16_t version;
    std::string_view hex;
};

TEST(BrokerRegistrationGolden, Request) {
    const Golden golden[] = {
        {0,
         "000000040d6b65656c2d636c757374657201020304050607081112131415161718020a504c41494e544558540"
         "962726f6b65722d34238400000002116d657461646174612e76657273696f6e0001001500077261636b2d610"
         "0"},
        {1,
         "000000040d6b65656c2d636c757374657201020304050607081112131415161718020a504c41494e544558540"
         "962726f6b65722d34238400000002116d657461646174612e76657273696f6e0001001500077261636b2d6100"
         "00"},
        {2,
         "000000040d6b65656c2d636c757374657201020304050607081112131415161718020a504c41494e544558540"
         "962726f6b65722d34238400000002116d657461646174612e76657273696f6e0001001500077261636b2d6100"
         "022122232425262728313233343536373800"},
        {3,
         "000000040d6b65656c2d636c757374657201020304050607081112131415161718020a504c41494e544558540"
         "962726f6b65722d34238400000002116d657461646174612e76657273696f6e0001001500077261636b2d6100"
         "0221222324252627283132333435363738000000000000000c00"},
        {4,
         "000000040d6b65656c2d636c757374657201020304050607081112131415161718020a504c41494e544558540"
         "962726f6b65722d34238400000002116d657461646174612e76657273696f6e0001001500077261636b2d6100"
         "0221222324252627283132333435363738000000000000000c00"}};
    for (const auto& g : golden) {
        expect_golden(request(true), g.version, g.hex, as_seen_at(request(true), g.version));
    }
}

TEST(BrokerRegistrationGolden, RequestWithoutRack) {
    const Golden golden[] = {
        {0,
         "000000040d6b65656c2d636c757374657201020304050607081112131415161718020a504c41494e544558540"
         "962726f6b65722d34238400000002116d657461646174612e76657273696f6e00010015000000"},
        {4,
         "000000040d6b65656c2d636c757374657201020304050607081112131415161718020a504c41494e544558540"
         "962726f6b65722d34238400000002116d657461646174612e76657273696f6e00010015000000022122232425"
         "2627283132333435363738000000000000000c00"}};
    for (const auto& g : golden) {
        expect_golden(request(false), g.version, g.hex, as_seen_at(request(false), g.version));
    }
}

TEST(BrokerRegistrationGolden, Response) {
    const Golden golden[] = {{0, "000000030000000000000000002500"},
                             {4, "000000030000000000000000002500"}};
    for (const auto& g : golden) {
        expect_golden(response(ErrorCode::none, 37), g.version, g.hex,
                      response(ErrorCode::none, 37));
    }
}

TEST(BrokerRegistrationGolden, RefusalResponse) {
    const Golden golden[] = {{0, "00000003004dffffffffffffffff00"},
                             {4, "00000003004dffffffffffffffff00"}};
    for (const auto& g : golden) {
        expect_golden(response(ErrorCode::stale_broker_epoch, -1), g.version, g.hex,
                      response(ErrorCode::stale_broker_epoch, -1));
    }
}

}  // namespace broker_registration_golden
}  // namespace keel::protocol
