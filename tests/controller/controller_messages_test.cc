#include "core/protocol/controller_messages.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "core/protocol/frame.h"
#include "tests/controller/record_gen.h"
#include "tests/protocol/round_trip.h"

namespace keel::protocol {
namespace {

using controller::testing::gen_ids;
using controller::testing::gen_nullable_string;
using controller::testing::gen_string;
using controller::testing::gen_uuid;
using controller::testing::gen_vec;
using testing::check_bytes_round_trip;
using testing::check_value_round_trip;
using testing::no_projection;

int32_t i32() {
    return *rc::gen::arbitrary<int32_t>();
}
int64_t i64() {
    return *rc::gen::arbitrary<int64_t>();
}
bool flag() {
    return *rc::gen::arbitrary<bool>();
}
ErrorCode gen_error() {
    return static_cast<ErrorCode>(*rc::gen::inRange<int16_t>(-1, 130));
}

BrokerRegistrationRequest gen_registration() {
    BrokerRegistrationRequest m;
    m.broker_id = NodeId(i32());
    m.cluster_id = gen_string();
    m.incarnation_id = gen_uuid();
    m.listeners = gen_vec<BrokerRegistrationRequest::Listener>([] {
        return BrokerRegistrationRequest::Listener{gen_string(), gen_string(),
                                                   *rc::gen::arbitrary<uint16_t>(),
                                                   *rc::gen::arbitrary<int16_t>()};
    });
    m.features = gen_vec<BrokerRegistrationRequest::Feature>([] {
        return BrokerRegistrationRequest::Feature{gen_string(), *rc::gen::arbitrary<int16_t>(),
                                                  *rc::gen::arbitrary<int16_t>()};
    });
    m.rack = gen_nullable_string();
    m.is_migrating_zk_broker = flag();
    m.log_dirs = gen_vec<Uuid>(gen_uuid);
    m.previous_broker_epoch = i64();
    return m;
}

BrokerHeartbeatRequest gen_heartbeat() {
    return BrokerHeartbeatRequest{NodeId(i32()), i64(),  i64(),
                                  flag(),        flag(), gen_vec<Uuid>(gen_uuid)};
}

AlterPartitionRequest gen_alter_partition() {
    AlterPartitionRequest m;
    m.broker_id = NodeId(i32());
    m.broker_epoch = i64();
    m.topics = gen_vec<AlterPartitionRequest::TopicData>([] {
        AlterPartitionRequest::TopicData t;
        t.topic_name = gen_string();
        t.topic_id = gen_uuid();
        t.partitions = gen_vec<AlterPartitionRequest::PartitionData>([] {
            AlterPartitionRequest::PartitionData p;
            p.partition_index = i32();
            p.leader_epoch = i32();
            p.new_isr = gen_ids();
            p.new_isr_with_epochs = gen_vec<AlterPartitionRequest::BrokerState>([] {
                return AlterPartitionRequest::BrokerState{NodeId(i32()), i64()};
            });
            p.leader_recovery_state = *rc::gen::arbitrary<int8_t>();
            p.partition_epoch = i32();
            return p;
        });
        return t;
    });
    return m;
}

AlterPartitionResponse gen_alter_partition_response() {
    AlterPartitionResponse m;
    m.throttle_time_ms = i32();
    m.error_code = gen_error();
    m.topics = gen_vec<AlterPartitionResponse::TopicData>([] {
        AlterPartitionResponse::TopicData t;
        t.topic_name = gen_string();
        t.topic_id = gen_uuid();
        t.partitions = gen_vec<AlterPartitionResponse::PartitionData>([] {
            return AlterPartitionResponse::PartitionData{
                i32(), gen_error(), NodeId(i32()), i32(), gen_ids(), *rc::gen::arbitrary<int8_t>(),
                i32()};
        });
        return t;
    });
    return m;
}

CreateTopicsRequest gen_create_topics() {
    CreateTopicsRequest m;
    m.topics = gen_vec<CreateTopicsRequest::Topic>([] {
        CreateTopicsRequest::Topic t;
        t.name = gen_string();
        t.num_partitions = i32();
        t.replication_factor = *rc::gen::arbitrary<int16_t>();
        t.assignments = gen_vec<CreateTopicsRequest::Assignment>([] {
            return CreateTopicsRequest::Assignment{i32(), gen_ids()};
        });
        t.configs = gen_vec<CreateTopicsRequest::Config>([] {
            return CreateTopicsRequest::Config{gen_string(), gen_nullable_string()};
        });
        return t;
    });
    m.timeout_ms = i32();
    m.validate_only = flag();
    return m;
}

CreateTopicsResponse gen_create_topics_response() {
    CreateTopicsResponse m;
    m.throttle_time_ms = i32();
    m.topics = gen_vec<CreateTopicsResponse::Topic>([] {
        CreateTopicsResponse::Topic t;
        t.name = gen_string();
        t.topic_id = gen_uuid();
        t.error_code = gen_error();
        t.error_message = gen_nullable_string();
        t.topic_config_error_code = gen_error();
        t.num_partitions = i32();
        t.replication_factor = *rc::gen::arbitrary<int16_t>();
        if (flag()) {
            t.configs = gen_vec<CreateTopicsResponse::Config>([] {
                return CreateTopicsResponse::Config{gen_string(), gen_nullable_string(), flag(),
                                                    *rc::gen::arbitrary<int8_t>(), flag()};
            });
        }
        return t;
    });
    return m;
}

TEST(ControllerMessages, BrokerRegistrationRoundTripsAtEveryVersion) {
    check_bytes_round_trip<BrokerRegistrationRequest>(gen_registration);
    check_value_round_trip<BrokerRegistrationRequest>(BrokerRegistrationRequest::version_max,
                                                      gen_registration, no_projection);
    auto gen_resp = [] { return BrokerRegistrationResponse{i32(), gen_error(), i64()}; };
    check_bytes_round_trip<BrokerRegistrationResponse>(gen_resp);
    check_value_round_trip<BrokerRegistrationResponse>(BrokerRegistrationResponse::version_max,
                                                       gen_resp, no_projection);
}

TEST(ControllerMessages, BrokerHeartbeatRoundTripsAtEveryVersion) {
    check_bytes_round_trip<BrokerHeartbeatRequest>(gen_heartbeat);
    check_value_round_trip<BrokerHeartbeatRequest>(BrokerHeartbeatRequest::version_max,
                                                   gen_heartbeat, no_projection);
    auto gen_resp = [] {
        return BrokerHeartbeatResponse{i32(), gen_error(), flag(), flag(), flag()};
    };
    check_bytes_round_trip<BrokerHeartbeatResponse>(gen_resp);
    check_value_round_trip<BrokerHeartbeatResponse>(BrokerHeartbeatResponse::version_max, gen_resp,
                                                    no_projection);
}

TEST(ControllerMessages, AlterPartitionRoundTripsAtEveryVersion) {
    check_bytes_round_trip<AlterPartitionRequest>(gen_alter_partition);
    check_bytes_round_trip<AlterPartitionResponse>(gen_alter_partition_response);
    check_value_round_trip<AlterPartitionRequest>(
        AlterPartitionRequest::version_max, gen_alter_partition, [](AlterPartitionRequest& m) {
            for (auto& t : m.topics) {
                t.topic_name.clear();                            // v0-1 only
                for (auto& p : t.partitions) p.new_isr.clear();  // v0-2 only
            }
        });
    check_value_round_trip<AlterPartitionResponse>(AlterPartitionResponse::version_max,
                                                   gen_alter_partition_response,
                                                   [](AlterPartitionResponse& m) {
                                                       for (auto& t : m.topics)
                                                           t.topic_name.clear();
                                                   });
}

TEST(ControllerMessages, CreateTopicsRoundTripsAtEveryVersionFlexibleOrNot) {
    check_bytes_round_trip<CreateTopicsRequest>(gen_create_topics);
    check_bytes_round_trip<CreateTopicsResponse>(gen_create_topics_response);
    check_value_round_trip<CreateTopicsRequest>(CreateTopicsRequest::version_max, gen_create_topics,
                                                no_projection);
    check_value_round_trip<CreateTopicsResponse>(CreateTopicsResponse::version_max,
                                                 gen_create_topics_response, no_projection);
    EXPECT_FALSE(is_flexible(ApiKey::create_topics, 4));
    EXPECT_TRUE(is_flexible(ApiKey::create_topics, 5));
}

TEST(ControllerMessages, BrokerHeartbeatV0HasKafkasBytes) {
    BrokerHeartbeatRequest m{NodeId(1), 5, 10, false, true, {}};
    Bytes b = encode_body(m, 0);
    // BrokerId, BrokerEpoch, CurrentMetadataOffset, WantFence, WantShutDown, no tags.
    Bytes want{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 10, 0, 1, 0};
    EXPECT_EQ(b, want);
}

TEST(ControllerMessages, CreateTopicsV4UsesClassicStringsAndNoTags) {
    CreateTopicsRequest m;
    m.topics.push_back({"ab", 3, 2, {}, {}});
    m.timeout_ms = 1000;
    m.validate_only = true;
    Bytes b = encode_body(m, 4);
    // topics: int32 count 1; name: int16 2 "ab"; partitions 3; rf 2; assignments int32 0;
    // configs int32 0; timeout 1000; validate_only 1.
    Bytes want{0, 0, 0, 1, 0, 2, 'a', 'b', 0, 0, 0,    3,    0, 2,
               0, 0, 0, 0, 0, 0, 0,   0,   0, 0, 0x03, 0xe8, 1};
    EXPECT_EQ(b, want);
}

TEST(ControllerMessages, TravelInKafkaFramesWithTheRightHeaders) {
    BrokerRegistrationRequest req;
    req.broker_id = NodeId(101);
    req.cluster_id = "keel";
    req.incarnation_id = Uuid{1, 2};
    req.listeners.push_back({"PLAINTEXT", "b1", 9092, 0});
    RequestHeader h{ApiKey::broker_registration, 4, 77, std::string("broker-101")};
    Bytes frame = encode_request(h, req);
    auto f = decode_request_frame(frame);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->header, h);
    auto body = decode_request_body<BrokerRegistrationRequest>(*f);
    ASSERT_TRUE(body.ok()) << body.error().message;
    EXPECT_EQ(*body, req);
    BrokerRegistrationResponse resp{0, ErrorCode::none, 42};
    int32_t correlation = 0;
    auto back =
        decode_response<BrokerRegistrationResponse>(encode_response(77, 4, resp), 4, &correlation);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(correlation, 77);
    EXPECT_EQ(*back, resp);
}

TEST(ControllerMessages, MalformedBodiesAreErrorsNeverCrashes) {
    EXPECT_TRUE(rc::check([] {
        Bytes b = *rc::gen::container<Bytes>(*rc::gen::inRange<size_t>(0, 60),
                                             rc::gen::arbitrary<uint8_t>());
        int16_t v = *rc::gen::inRange<int16_t>(0, 8);
        auto check = [&](auto tag) {
            using M = decltype(tag);
            auto r = decode_body<M>(b, v);
            if (!r.ok())
                RC_ASSERT(r.code() == Errc::invalid_request ||
                          r.code() == Errc::unsupported_version);
        };
        check(BrokerRegistrationRequest{});
        check(BrokerHeartbeatRequest{});
        check(AlterPartitionRequest{});
        check(AlterPartitionResponse{});
        check(CreateTopicsRequest{});
        check(CreateTopicsResponse{});
    }));
    // Every truncation of a valid body is rejected.
    BrokerRegistrationRequest full;
    full.broker_id = NodeId(3);
    full.cluster_id = "keel";
    full.listeners.push_back({"PLAINTEXT", "b3", 9092, 0});
    full.features.push_back({"metadata.version", 1, 20});
    full.rack = "r1";
    full.log_dirs.push_back(Uuid{4, 4});
    Bytes good = encode_body(full, 4);
    for (size_t cut = 0; cut < good.size(); cut++) {
        EXPECT_FALSE(decode_body<BrokerRegistrationRequest>(ByteView(good).first(cut), 4).ok())
            << cut;
    }
}

}  // namespace
}  // namespace keel::protocol
