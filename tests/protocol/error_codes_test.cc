// Kafka's error table (core/protocol/error_codes.h): complete, dense, unique, and with
// Kafka's retriable flags; and the Errc <-> code mapping agrees with it in both directions.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/protocol/api_keys.h"
#include "core/protocol/error_codes.h"

namespace keel::protocol {
namespace {

TEST(ErrorCodeTable, CoversEveryKafkaCodeFromMinusOneTo133) {
    auto table = kafka_error_codes();
    ASSERT_EQ(table.size(), 135u);
    EXPECT_EQ(table.front().code, ErrorCode::unknown_server_error);
    EXPECT_EQ(static_cast<int>(table.back().code), 133);
    for (size_t i = 0; i < table.size(); i++) {
        EXPECT_EQ(static_cast<int>(table[i].code), static_cast<int>(i) - 1);
    }
}

TEST(ErrorCodeTable, EveryCodeRoundTripsThroughItsNumberAndName) {
    std::set<std::string_view> names;
    for (const ErrorCodeInfo& row : kafka_error_codes()) {
        auto number = static_cast<int16_t>(row.code);
        const ErrorCodeInfo* back = error_code_info(static_cast<ErrorCode>(number));
        ASSERT_NE(back, nullptr) << number;
        EXPECT_EQ(back, &row) << number;
        EXPECT_EQ(error_code_name(row.code), row.name);
        EXPECT_TRUE(names.insert(row.name).second) << "duplicate name " << row.name;
        EXPECT_EQ(row.message.empty(), row.code == ErrorCode::none) << row.name;
        for (char c : row.name) {
            EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') << row.name;
        }
    }
    EXPECT_EQ(names.size(), 135u);
}

TEST(ErrorCodeTable, NumbersKafkaDoesNotDefineAreUnknown) {
    for (int n : {-2, 134, 200, 12345, -32768}) {
        auto code = static_cast<ErrorCode>(n);
        EXPECT_EQ(error_code_info(code), nullptr) << n;
        EXPECT_FALSE(is_retriable(code)) << n;
        EXPECT_EQ(error_code_name(code), "UNKNOWN_ERROR_CODE_" + std::to_string(n));
        EXPECT_EQ(to_errc(code), Errc::unknown) << n;
    }
}

// Spot checks against Kafka's Errors.java: the name at a number, and whether the exception
// Kafka raises for it is a RetriableException.
TEST(ErrorCodeTable, NamesAndRetriableFlagsMatchKafka) {
    struct Expect {
        int code;
        const char* name;
        bool retriable;
    };
    for (Expect e : std::initializer_list<Expect>{
             {-1, "UNKNOWN_SERVER_ERROR", false}, {0, "NONE", false},
             {1, "OFFSET_OUT_OF_RANGE", false}, {2, "CORRUPT_MESSAGE", true},
             {3, "UNKNOWN_TOPIC_OR_PARTITION", true}, {5, "LEADER_NOT_AVAILABLE", true},
             {6, "NOT_LEADER_OR_FOLLOWER", true}, {7, "REQUEST_TIMED_OUT", true},
             {10, "MESSAGE_TOO_LARGE", false}, {13, "NETWORK_EXCEPTION", true},
             {14, "COORDINATOR_LOAD_IN_PROGRESS", true}, {15, "COORDINATOR_NOT_AVAILABLE", true},
             {16, "NOT_COORDINATOR", true}, {19, "NOT_ENOUGH_REPLICAS", true},
             {22, "ILLEGAL_GENERATION", false}, {25, "UNKNOWN_MEMBER_ID", false},
             {27, "REBALANCE_IN_PROGRESS", false}, {35, "UNSUPPORTED_VERSION", false},
             {36, "TOPIC_ALREADY_EXISTS", false}, {41, "NOT_CONTROLLER", true},
             {45, "OUT_OF_ORDER_SEQUENCE_NUMBER", false}, {46, "DUPLICATE_SEQUENCE_NUMBER", false},
             {51, "CONCURRENT_TRANSACTIONS", true}, {56, "KAFKA_STORAGE_ERROR", true},
             {59, "UNKNOWN_PRODUCER_ID", false}, {70, "FETCH_SESSION_ID_NOT_FOUND", true},
             {74, "FENCED_LEADER_EPOCH", true}, {75, "UNKNOWN_LEADER_EPOCH", true},
             {78, "OFFSET_NOT_AVAILABLE", true}, {79, "MEMBER_ID_REQUIRED", false},
             {87, "INVALID_RECORD", false}, {88, "UNSTABLE_OFFSET_COMMIT", true},
             {89, "THROTTLING_QUOTA_EXCEEDED", true}, {90, "PRODUCER_FENCED", false},
             {99, "POSITION_OUT_OF_RANGE", false}, {100, "UNKNOWN_TOPIC_ID", true},
             {107, "INELIGIBLE_REPLICA", false}, {110, "FENCED_MEMBER_EPOCH", false},
             {120, "TRANSACTION_ABORTABLE", false}, {122, "SHARE_SESSION_NOT_FOUND", true},
             {128, "INVALID_REGULAR_EXPRESSION", false}, {129, "REBOOTSTRAP_REQUIRED", false},
             {133, "SHARE_SESSION_LIMIT_REACHED", true}}) {
        auto code = static_cast<ErrorCode>(e.code);
        EXPECT_EQ(error_code_name(code), e.name) << e.code;
        EXPECT_EQ(is_retriable(code), e.retriable) << e.name;
    }
    // Kafka 4.1 has 32 retriable codes (RetriableException subclasses).
    int retriable = 0;
    for (const ErrorCodeInfo& row : kafka_error_codes()) retriable += row.retriable ? 1 : 0;
    EXPECT_EQ(retriable, 32);
}

// Every Errc goes out as a code Kafka defines, and every code whose row names an Errc
// brings that Errc back after a trip through the wire.
TEST(ErrorCodeTable, TheErrcMappingAgreesWithTheTableBothWays) {
    for (int i = static_cast<int>(Errc::timeout); i <= static_cast<int>(Errc::unknown); i++) {
        auto e = static_cast<Errc>(i);
        EXPECT_NE(error_code_info(to_error_code(e)), nullptr) << errc_name(e);
    }
    int mapped = 0;
    for (const ErrorCodeInfo& row : kafka_error_codes()) {
        if (row.code == ErrorCode::none || row.errc == Errc::unknown) continue;
        mapped++;
        EXPECT_EQ(to_errc(row.code), row.errc) << row.name;
        EXPECT_EQ(to_errc(to_error_code(row.errc)), row.errc) << row.name;
    }
    EXPECT_EQ(mapped, 34);
}

TEST(ApiKeys, NameEveryKafkaApiUpToConsumerGroupDescribe) {
    std::set<std::string_view> names;
    for (int16_t key = 0; key <= 69; key++) {
        auto info = api_info(key);
        ASSERT_TRUE(info.has_value()) << key;
        EXPECT_EQ(static_cast<int>(info->key), key);
        EXPECT_TRUE(names.insert(info->name).second) << info->name;
        EXPECT_LE(info->first_flexible_version, info->kafka_version_max) << info->name;
    }
    EXPECT_EQ(api_name(ApiKey::consumer_group_heartbeat), "ConsumerGroupHeartbeat");
    EXPECT_EQ(api_name(ApiKey::consumer_group_describe), "ConsumerGroupDescribe");
    EXPECT_TRUE(is_flexible(ApiKey::consumer_group_heartbeat, 0));
    EXPECT_EQ(request_header_version(ApiKey::consumer_group_describe, 0), 2);
    EXPECT_EQ(response_header_version(ApiKey::consumer_group_describe, 0), 1);
    EXPECT_FALSE(api_info(int16_t{70}).has_value());
}

}  // namespace
}  // namespace keel::protocol
