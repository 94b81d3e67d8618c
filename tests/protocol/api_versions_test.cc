// ApiVersions on Keel's own listeners: the answer at every version a client may send
// (kafka-wire.md §3.4), from the listener's table, with hand-built Kafka bytes.
#include <gtest/gtest.h>

#include <string>

#include "core/protocol/api_versions.h"
#include "core/protocol/frame.h"
#include "core/protocol/generated/api_table.h"

namespace keel::protocol {
namespace {

Bytes hex(std::string_view s) {
    Bytes out;
    std::string digits;
    for (char c : s) {
        if (c != ' ') digits += c;
    }
    for (size_t i = 0; i + 1 < digits.size(); i += 2) {
        out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
    }
    return out;
}

const ApiVersionRange tiny_table[] = {{ApiKey::api_versions, 0, 3}, {ApiKey::vote, 0, 2}};

Bytes answer(ByteView request) {
    auto f = decode_request_frame(request);
    EXPECT_TRUE(f.ok()) << f.error().to_string();
    return answer_api_versions(*f, tiny_table);
}

TEST(ApiVersionsAnswer, V0IsClassicWithoutThrottle) {
    Bytes req = encode_request(RequestHeader{ApiKey::api_versions, 0, 5, "kafka-python"}, ApiVersionsRequest{});
    // correlation id | error 0 | int32 count 2 | {18, 0, 3} {52, 0, 2}
    EXPECT_EQ(answer(req), hex("00000005 0000 00000002 0012 0000 0003 0034 0000 0002"));
}

TEST(ApiVersionsAnswer, V3IsFlexibleButKeepsResponseHeaderV0) {
    ApiVersionsRequest body;
    body.client_software_name = "librdkafka";
    body.client_software_version = "v2.0.2";
    Bytes req = encode_request(RequestHeader{ApiKey::api_versions, 3, 9, "rdkafka"}, body);
    // correlation id (no header tags) | error | compact count 2+1 | entries with empty tags |
    // throttle 0 | empty tags
    EXPECT_EQ(answer(req), hex("00000009 0000 03 0012 0000 0003 00 0034 0000 0002 00 00000000 00"));
}

TEST(ApiVersionsAnswer, AnUnknownVersionGetsV0FormWithError35) {
    // ApiVersions v4 from a newer client: request header v2 (client id classic "c", empty
    // header tags), body as v3.
    Bytes req = hex("0012 0004 00000007 0001 63 00 02 61 02 31 00");
    EXPECT_EQ(answer(req), hex("00000007 0023 00000002 0012 0000 0003 0034 0000 0002"));
    auto back = decode_response<ApiVersionsResponse>(answer(req), 0);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->error_code, ErrorCode::unsupported_version);
}

TEST(ApiVersionsAnswer, AMalformedV3BodyGetsInvalidRequest) {
    Bytes req = hex("0012 0003 00000008 0001 63 00 05 61");  // name says 4 bytes, 1 follows
    auto back = decode_response<ApiVersionsResponse>(answer(req), 3);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(back->error_code, ErrorCode::invalid_request);
    EXPECT_EQ(back->api_keys.size(), 2u);
}

TEST(ApiVersionsTables, ListTheVersionsEachListenerDecodes) {
    EXPECT_TRUE(serves(raft_listener_api_versions(), ApiKey::vote, 2));
    EXPECT_TRUE(serves(raft_listener_api_versions(), ApiKey::describe_quorum, 0));
    EXPECT_TRUE(serves(raft_listener_api_versions(), ApiKey::api_versions, 3));
    EXPECT_FALSE(serves(raft_listener_api_versions(), ApiKey::api_versions, 4));
    EXPECT_FALSE(serves(raft_listener_api_versions(), ApiKey::create_topics, 0));
    EXPECT_TRUE(serves(controller_listener_api_versions(), ApiKey::broker_heartbeat, 1));
    EXPECT_TRUE(serves(controller_listener_api_versions(), ApiKey::allocate_producer_ids, 0));
    EXPECT_FALSE(serves(controller_listener_api_versions(), ApiKey::vote, 0));
    EXPECT_TRUE(serves(controller_listener_api_versions(), ApiKey::delete_topics, 6));
    // The admin APIs real clients use on the broker listener (forwarded to the controller).
    EXPECT_TRUE(serves(broker_listener_api_versions(), ApiKey::create_topics, 0));
    EXPECT_TRUE(serves(broker_listener_api_versions(), ApiKey::create_topics, 7));
    EXPECT_FALSE(serves(broker_listener_api_versions(), ApiKey::create_topics, 8));
    EXPECT_TRUE(serves(broker_listener_api_versions(), ApiKey::delete_topics, 0));
    EXPECT_TRUE(serves(broker_listener_api_versions(), ApiKey::delete_topics, 6));
    EXPECT_FALSE(serves(broker_listener_api_versions(), ApiKey::delete_topics, 7));
    EXPECT_TRUE(serves(broker_listener_api_versions(), ApiKey::create_partitions, 0));
    EXPECT_TRUE(serves(broker_listener_api_versions(), ApiKey::create_partitions, 3));
    EXPECT_TRUE(serves(broker_listener_api_versions(), ApiKey::describe_configs, 0));
    EXPECT_TRUE(serves(broker_listener_api_versions(), ApiKey::describe_configs, 4));
    EXPECT_TRUE(serves(broker_listener_api_versions(), ApiKey::alter_configs, 2));
    EXPECT_TRUE(serves(broker_listener_api_versions(), ApiKey::incremental_alter_configs, 1));
    EXPECT_TRUE(serves(broker_listener_api_versions(), ApiKey::describe_cluster, 1));
    EXPECT_TRUE(serves(controller_listener_api_versions(), ApiKey::create_partitions, 3));
    EXPECT_TRUE(serves(controller_listener_api_versions(), ApiKey::alter_configs, 2));
    EXPECT_TRUE(serves(controller_listener_api_versions(), ApiKey::incremental_alter_configs, 1));
    // DescribeConfigs is the broker's own answer, never the controller's.
    EXPECT_FALSE(serves(controller_listener_api_versions(), ApiKey::describe_configs, 4));
    for (auto table :
         {raft_listener_api_versions(), controller_listener_api_versions(), broker_listener_api_versions()}) {
        for (size_t i = 1; i < table.size(); i++) EXPECT_LT(table[i - 1].key, table[i].key);
    }
}

TEST(ApiVersionsNegotiation, PicksTheHighestCommonVersion) {
    ApiVersionsResponse peer = api_versions_response(tiny_table);
    EXPECT_EQ(negotiate_version(peer, ApiKey::vote, 0, 5), 2);
    EXPECT_EQ(negotiate_version(peer, ApiKey::vote, 1, 1), 1);
    EXPECT_EQ(negotiate_version(peer, ApiKey::vote, 3, 5), std::nullopt);
    EXPECT_EQ(negotiate_version(peer, ApiKey::fetch, 0, 17), std::nullopt);
}

// The header-version table (api_keys.cc) and the schemas must agree on every API both know:
// the first flexible version decides the header versions of every frame.
TEST(SchemaApiTable, AgreesWithTheHeaderVersionTable) {
    ASSERT_FALSE(schema_apis().empty());
    for (const SchemaApi& a : schema_apis()) {
        auto info = api_info(a.api_key);
        ASSERT_TRUE(info.has_value()) << a.name;
        EXPECT_EQ(info->name, a.name);
        EXPECT_EQ(info->first_flexible_version, a.flexible_min) << a.name;
    }
    EXPECT_EQ(schema_api(52)->valid_max, 2);
    EXPECT_FALSE(schema_api(9999).has_value());
}

}  // namespace
}  // namespace keel::protocol
