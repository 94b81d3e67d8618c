// Golden request bytes from real clients (docs/protocol-captures.md): every captured frame
// decodes with Keel's request-header decoder to what the recording proxy saw, the
// manifest and the files agree, and the captures cover the clients and APIs they should.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "core/protocol/controller_messages.h"
#include "core/protocol/fetch.h"
#include "core/protocol/generated/all_messages.h"
#include "tests/protocol/capture_reader.h"

namespace keel::protocol::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = KEEL_CAPTURES_DIR;

std::vector<CapturedRequest> captures() {
    auto all = read_captures(kDir);
    EXPECT_TRUE(all.ok()) << (all.ok() ? "" : all.error().to_string());
    return all.ok() ? *all : std::vector<CapturedRequest>{};
}

TEST(ProtocolCaptures, EveryCapturedRequestHeaderDecodesAsTheManifestSays) {
    auto all = captures();
    ASSERT_GT(all.size(), 50u);
    for (const CapturedRequest& c : all) {
        Status st = check_capture(c);
        EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().to_string());
    }
}

TEST(ProtocolCaptures, TheManifestListsExactlyTheCapturedFiles) {
    std::set<std::string> listed, found;
    for (const CapturedRequest& c : captures()) {
        EXPECT_TRUE(listed.insert(c.file).second) << c.file << " listed twice";
    }
    for (const auto& e : fs::recursive_directory_iterator(kDir)) {
        if (e.is_regular_file() && e.path().extension() == ".bin") {
            found.insert(fs::relative(e.path(), kDir).generic_string());
        }
    }
    EXPECT_EQ(listed, found);
}

TEST(ProtocolCaptures, EveryClientAndEveryClientApiIsCaptured) {
    std::map<std::string, std::set<int16_t>> keys;
    std::set<int16_t> all_keys;
    for (const CapturedRequest& c : captures()) {
        keys[c.client].insert(c.api_key);
        all_keys.insert(c.api_key);
        EXPECT_FALSE(c.client_version.empty()) << c.file;
    }
    for (const char* client : {"kcat", "confluent-kafka", "kafka-python", "kafkajs", "platformatic-kafka"}) {
        ASSERT_TRUE(keys.count(client)) << client;
        EXPECT_TRUE(keys[client].count(18)) << client << " has no ApiVersions";
        EXPECT_TRUE(keys[client].count(3)) << client << " has no Metadata";
    }
    // Produce, Fetch, ListOffsets, Metadata, group APIs, ApiVersions, admin, InitProducerId,
    // and the admin APIs only the sessions against a real keel server have (below).
    for (int k : {0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 32, 33, 37, 42, 44}) {
        EXPECT_TRUE(all_keys.count(static_cast<int16_t>(k))) << "no client sent api key " << k;
    }
}

// The "<client>+keel" sessions (capture.sh TARGET=keel: the proxy in front of a real
// `keel server`) keep the admin APIs the mock cluster lacks, each client with the calls its
// admin client has: CreatePartitions (37), AlterConfigs (33), IncrementalAlterConfigs (44),
// DeleteRecords (21), DescribeGroups (15), ListGroups (16), DeleteGroups (42), besides
// CreateTopics, DescribeConfigs and DeleteTopics (19, 32, 20) and the data-plane APIs.
TEST(ProtocolCaptures, TheKeelSessionsCaptureTheAdminApisEachClientHas) {
    std::map<std::string, std::set<int16_t>> keys;
    for (const CapturedRequest& c : captures()) keys[c.client].insert(c.api_key);
    const std::map<std::string, std::vector<int>> wanted = {
        // librdkafka 2.0.2 through confluent-kafka 1.7.0: list_groups is ListGroups + DescribeGroups.
        {"confluent-kafka+keel", {0, 1, 3, 18, 19, 20, 32, 33, 37, 15, 16}},
        {"kafka-python+keel", {0, 1, 3, 18, 19, 20, 32, 33, 37, 15, 16, 42}},
        {"kafkajs+keel", {0, 1, 3, 18, 19, 20, 32, 33, 37, 15, 16, 42, 21}},
        // Against Keel's versions @platformatic/kafka also produces and fetches.
        {"platformatic-kafka+keel", {0, 1, 3, 18, 19, 20, 32, 33, 37, 44, 15, 16, 42, 21}},
    };
    for (const auto& [client, apis] : wanted) {
        ASSERT_TRUE(keys.count(client)) << client << " has no captures";
        for (int k : apis) {
            EXPECT_TRUE(keys[client].count(static_cast<int16_t>(k))) << client << " has no api key " << k;
        }
    }
}

// The captured requests of APIs Keel already decodes (Fetch, CreateTopics) decode and
// re-encode byte for byte: golden bytes from real clients for the existing codecs.
template <typename Body>
void check_body_round_trip(const CapturedRequest& c, int& checked) {
    if (c.api_key != static_cast<int16_t>(Body::api_key)) return;
    if (c.api_version < Body::version_min || c.api_version > Body::version_max) return;
    auto f = decode_request_frame(c.frame);
    ASSERT_TRUE(f.ok()) << c.file;
    auto body = decode_request_body<Body>(*f);
    ASSERT_TRUE(body.ok()) << c.file << ": " << body.error().to_string();
    EXPECT_EQ(encode_request(f->header, *body), c.frame) << c.file << " does not re-encode byte for byte";
    checked++;
}

TEST(ProtocolCaptures, CapturedFetchAndCreateTopicsRequestsReEncodeByteForByte) {
    int checked = 0;
    for (const CapturedRequest& c : captures()) {
        check_body_round_trip<FetchRequest>(c, checked);
        check_body_round_trip<CreateTopicsRequest>(c, checked);
    }
    EXPECT_GE(checked, 8);
}

// Every captured request of an API the generated codec covers decodes and re-encodes byte
// for byte with it (issue 8's golden-bytes check), and every captured API is covered by
// one of the codecs: a frame no codec checks fails the test.
template <typename... Bodies>
int round_trip_with(const CapturedRequest& c) {
    int checked = 0;
    (check_body_round_trip<Bodies>(c, checked), ...);
    return checked;
}

TEST(ProtocolCaptures, EveryCapturedRequestReEncodesByteForByteWithItsCodec) {
    std::map<std::string, int> per_api;
    for (const CapturedRequest& c : captures()) {
        int n = round_trip_with<FetchRequest, CreateTopicsRequest, ProduceRequest, ListOffsetsRequest,
                                MetadataRequest, OffsetCommitRequest, OffsetFetchRequest, FindCoordinatorRequest,
                                JoinGroupRequest, HeartbeatRequest, LeaveGroupRequest, SyncGroupRequest,
                                DescribeGroupsRequest, ListGroupsRequest, ApiVersionsRequest, DeleteTopicsRequest,
                                DeleteRecordsRequest, InitProducerIdRequest, DescribeConfigsRequest,
                                AlterConfigsRequest, CreatePartitionsRequest, DeleteGroupsRequest,
                                IncrementalAlterConfigsRequest, DescribeClusterRequest,
                                ConsumerGroupHeartbeatRequest, ConsumerGroupDescribeRequest>(c);
        EXPECT_EQ(n, 1) << c.file << " (" << c.api_name << " v" << c.api_version << ") is checked by " << n
                        << " codecs";
        per_api[c.api_name + " v" + std::to_string(c.api_version)] += n;
    }
    EXPECT_GE(per_api.size(), 70u);  // 74 API versions with the <client>+keel sessions
}

// The checker catches a frame that disagrees with its manifest line, and a manifest line
// that does not parse.
TEST(ProtocolCaptures, TheCheckAndTheReaderRejectWhatDisagrees) {
    auto all = captures();
    ASSERT_FALSE(all.empty());
    CapturedRequest c = all.front();
    ASSERT_TRUE(check_capture(c).ok());
    CapturedRequest wrong_version = c;
    wrong_version.api_version++;
    EXPECT_EQ(check_capture(wrong_version).code(), Errc::invalid_request);
    CapturedRequest wrong_client = c;
    wrong_client.client_id = "someone-else";
    EXPECT_EQ(check_capture(wrong_client).code(), Errc::invalid_request);
    CapturedRequest cut = c;
    cut.frame.resize(5);
    EXPECT_EQ(check_capture(cut).code(), Errc::invalid_request);
    EXPECT_FALSE(parse_manifest_line("kcat/1.bin\tkcat\tv\t18\tApiVersions\t3\t1").ok());
    EXPECT_FALSE(parse_manifest_line("kcat/1.bin\tkcat\tv\tx\tApiVersions\t3\t1\tid").ok());
    EXPECT_FALSE(parse_manifest_line("other/1.bin\tkcat\tv\t18\tApiVersions\t3\t1\tid").ok());
    EXPECT_TRUE(parse_manifest_line("kcat/1.bin\tkcat\tv\t18\tApiVersions\t3\t1\t-").ok());
    EXPECT_FALSE(read_captures(kDir / "no-such-dir").ok());
}

}  // namespace
}  // namespace keel::protocol::testing
