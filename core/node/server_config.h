// ServerConfig: Kafka's server.properties turned into a NodeConfig, for `keel server`.
// Pure (text in, config out): the process reads the file and starts KeelNode with it.
//
// Every supported property has a default; together they are the embedded single node
// (`keel server` with no arguments): a combined controller+broker, node.id 1, clients on
// localhost:9092, the quorum on localhost:9093, data in ./keel-data. A file overrides
// them by Kafka's names. A property that Keel does not know, or a value it cannot honour,
// is an error naming the property: a server never starts on a config it would ignore.
//
// Listeners: Kafka serves the Raft quorum and the controller RPCs (BrokerRegistration,
// BrokerHeartbeat, AlterPartition, CreateTopics) on one CONTROLLER listener; Keel's node
// serves them on two, so the controller RPC listener is the CONTROLLER port + 1 on the
// same host — for this node and for every voter of controller.quorum.voters.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/base/result.h"
#include "core/node/keel_node.h"

namespace keel::node {

struct ServerConfig {
    NodeConfig node;
    std::string log_dir;  // log.dirs: meta.properties, partitions, metadata log
    std::optional<std::string>
        cluster_id;  // cluster.id (Keel's: Kafka takes it from `storage format`)
    // metrics.port: where `keel server` serves GET /metrics over HTTP; none when unset or 0.
    std::optional<env::Address> metrics_listen;
};

struct ServerProperty {
    std::string_view name;
    std::string_view default_value;
    std::string_view meaning;
};

// Every property `keel server` accepts, with its default, sorted by name (for --help).
std::span<const ServerProperty> server_properties();

// Java's .properties syntax, the subset Kafka's files use: `key=value` or `key: value`
// lines, `#` and `!` comments, blank lines, surrounding spaces trimmed, a trailing
// backslash continues a line. Errors (invalid_argument, naming the line): a line without
// a separator, an empty key, a key given twice.
Result<std::map<std::string, std::string>> parse_properties(std::string_view text);

// The embedded defaults overridden by `props`. Errors (invalid_argument, naming the
// property): an unknown property, a malformed or out-of-range value, a combination Keel
// cannot run (this node's id missing from the voters of a controller, no listener for a
// role, a security protocol other than PLAINTEXT, several log dirs).
Result<ServerConfig> server_config_from(const std::map<std::string, std::string>& props);

// The controller RPC listener that goes with a Raft (CONTROLLER) listener: port + 1.
// Errors: the Raft port is 65535.
Result<env::Address> controller_rpc_address(const env::Address& raft);

}  // namespace keel::node
