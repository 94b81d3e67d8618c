// What each Keel listener serves, in one place, and the ApiVersions answer built from it
// (kafka-wire.md §3.4). A listener advertises exactly the (api key, versions) it decodes and
// handles; a request outside its table is refused (see docs/protocol.md).
//
// ApiVersions itself is answered at v0-v3 (v3: flexible request body, response header
// always v0). A request of a newer version is answered in v0 form with error 35
// UNSUPPORTED_VERSION and the table, so the client can retry with a version we know. A v0-v3
// request whose body does not decode gets error 42 INVALID_REQUEST, in its own version.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/base/bytes.h"
#include "core/protocol/api_keys.h"
#include "core/protocol/frame.h"
#include "core/protocol/generated/api_versions_request.h"
#include "core/protocol/generated/api_versions_response.h"

namespace keel::protocol {

struct ApiVersionRange {
    ApiKey key;
    int16_t min;
    int16_t max;
};

// The Raft listener: the KRaft RPCs between voters, DescribeQuorum, ApiVersions.
std::span<const ApiVersionRange> raft_listener_api_versions();
// The controller listener: the broker-to-controller RPCs, CreateTopics, DeleteTopics,
// CreatePartitions, AlterConfigs, IncrementalAlterConfigs, ApiVersions.
std::span<const ApiVersionRange> controller_listener_api_versions();
// The broker's client listener: Produce, Fetch, ListOffsets, Metadata, ApiVersions,
// InitProducerId, the group APIs, CreateTopics, DeleteTopics, CreatePartitions and the
// config APIs (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs).
std::span<const ApiVersionRange> broker_listener_api_versions();

// The range of `key` in `table`, if served.
std::optional<ApiVersionRange> served_range(std::span<const ApiVersionRange> table, ApiKey key);
bool serves(std::span<const ApiVersionRange> table, ApiKey key, int16_t version);

// The ApiVersions response listing `table`.
ApiVersionsResponse api_versions_response(std::span<const ApiVersionRange> table);

// The whole response frame for an ApiVersions request frame of any version (see above).
Bytes answer_api_versions(const RequestFrame& frame, std::span<const ApiVersionRange> table);

// The version to send `key` at: the highest version in both [ours_min, ours_max] and the
// peer's advertised range; nullopt when they do not overlap or the peer lacks the key.
std::optional<int16_t> negotiate_version(const ApiVersionsResponse& peer, ApiKey key, int16_t ours_min,
                                         int16_t ours_max);

// The ApiVersions request a Keel peer sends (v3, naming Keel as the client software).
inline constexpr int16_t api_versions_request_version = 3;
ApiVersionsRequest keel_api_versions_request();

}  // namespace keel::protocol
