#include "core/node/server_config.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <limits>
#include <vector>

namespace keel::node {

namespace {

// Sorted by name. An empty default means "unset" (the meaning says what applies then).
constexpr std::array kProperties{
    ServerProperty{"advertised.listeners", "",
                   "what Metadata tells clients; default: the client listener (an empty or 0.0.0.0 "
                   "host advertises localhost)"},
    ServerProperty{
        "auto.create.topics.enable", "true",
        "Metadata for an unknown topic creates it (num.partitions, default.replication.factor)"},
    ServerProperty{"broker.heartbeat.interval.ms", "2000",
                   "broker heartbeats to the active controller"},
    ServerProperty{"broker.session.timeout.ms", "9000",
                   "a broker without heartbeats this long is fenced"},
    ServerProperty{
        "cluster.id", "",
        "Keel's: the cluster id to format with; default: meta.properties', else a new random id"},
    ServerProperty{"controller.listener.names", "CONTROLLER",
                   "the listener of the Raft quorum (controller RPCs on its port + 1)"},
    ServerProperty{"controller.quorum.election.timeout.ms", "1000",
                   "Raft election timeout (randomized up to twice this)"},
    ServerProperty{"controller.quorum.fetch.timeout.ms", "2000",
                   "a follower without fetch answers this long starts an election"},
    ServerProperty{"controller.quorum.request.timeout.ms", "2000",
                   "an unanswered quorum request is given up"},
    ServerProperty{"controller.quorum.voters", "1@localhost:9093",
                   "id@host:port,... the controllers' CONTROLLER listeners"},
    ServerProperty{"default.replication.factor", "1",
                   "replication factor of auto-created topics and CreateTopics with -1"},
    ServerProperty{"delete.topic.enable", "true",
                   "DeleteTopics deletes topics; false: it answers TOPIC_DELETION_DISABLED"},
    ServerProperty{"inter.broker.listener.name", "PLAINTEXT",
                   "the client listener (also used by follower brokers)"},
    ServerProperty{"listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                   "listener name to protocol; only PLAINTEXT is supported"},
    ServerProperty{"listeners", "PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093",
                   "NAME://host:port,... (an empty host listens on every address)"},
    ServerProperty{"log.cleanup.policy", "delete", "delete, compact or both"},
    ServerProperty{"log.dir", "", "the data directory if log.dirs is unset"},
    ServerProperty{"log.dirs", "keel-data",
                   "the data directory (one): meta.properties, partitions, __cluster_metadata-0"},
    ServerProperty{"log.flush.interval.messages", "",
                   "fsync after this many records; default: never (replication is the durability)"},
    ServerProperty{"log.flush.interval.ms", "", "fsync after this long; default: never"},
    ServerProperty{"log.index.interval.bytes", "4096", "bytes between offset index entries"},
    ServerProperty{"log.message.timestamp.type", "CreateTime", "CreateTime or LogAppendTime"},
    ServerProperty{"log.retention.bytes", "-1", "per partition; -1: unlimited"},
    ServerProperty{"log.retention.check.interval.ms", "300000", "how often retention is applied"},
    ServerProperty{"log.retention.hours", "168",
                   "used when log.retention.ms and .minutes are unset"},
    ServerProperty{"group.initial.rebalance.delay.ms", "3000",
                   "a new group waits this long for more members before its first rebalance"},
    ServerProperty{"group.max.session.timeout.ms", "1800000", "largest session timeout a member may ask"},
    ServerProperty{"group.min.session.timeout.ms", "6000", "smallest session timeout a member may ask"},
    ServerProperty{"log.retention.minutes", "", "used when log.retention.ms is unset"},
    ServerProperty{"log.retention.ms", "", "-1: unlimited"},
    ServerProperty{"log.roll.hours", "168", "a segment older than this is rolled"},
    ServerProperty{"log.roll.ms", "", "overrides log.roll.hours"},
    ServerProperty{"log.segment.bytes", "1073741824", "segment size"},
    ServerProperty{"log.segment.delete.delay.ms", "60000",
                   "a deleted topic's renamed -delete directories are removed after this (0: at once)"},
    ServerProperty{"message.max.bytes", "1048588", "largest record batch accepted"},
    ServerProperty{"metadata.log.segment.bytes", "1048576", "segment size of __cluster_metadata-0"},
    ServerProperty{"metrics.port", "",
                   "HTTP port serving GET /metrics (Prometheus text, docs/operations.md) on the host of "
                   "the first listener; unset or 0: no metrics listener"},
    ServerProperty{"min.insync.replicas", "1", "acks=all needs this many in-sync replicas"},
    ServerProperty{"node.id", "1", "this node's id (>= 0)"},
    ServerProperty{"num.partitions", "1",
                   "partitions of auto-created topics and CreateTopics with -1"},
    ServerProperty{"offsets.retention.minutes", "10080",
                   "committed offsets of an empty group are kept this long"},
    ServerProperty{"offsets.topic.num.partitions", "50", "partitions of __consumer_offsets"},
    ServerProperty{"offsets.topic.replication.factor", "3",
                   "replicas of __consumer_offsets (1 on a single node)"},
    ServerProperty{"process.roles", "broker,controller", "broker, controller, or both"},
    ServerProperty{"producer.id.expiration.ms", "86400000",
                   "idempotent producer state kept this long"},
    ServerProperty{"replica.fetch.backoff.ms", "1000", "follower pause after a fetch error"},
    ServerProperty{"replica.fetch.max.bytes", "1048576", "bytes per partition in a follower fetch"},
    ServerProperty{"replica.fetch.wait.max.ms", "500", "follower fetch long-poll"},
    ServerProperty{"replica.lag.time.max.ms", "30000",
                   "a follower behind this long leaves the ISR"},
    ServerProperty{"socket.request.max.bytes", "104857600",
                   "a larger request closes its connection (the broker listener)"},
    ServerProperty{"unclean.leader.election.enable", "false",
                   "only false here (set it per topic instead)"},
};

std::string trim(std::string_view s) {
    size_t a = s.find_first_not_of(" \t\r\f");
    if (a == std::string_view::npos) return "";
    size_t b = s.find_last_not_of(" \t\r\f");
    return std::string(s.substr(a, b - a + 1));
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    if (trim(s).empty()) return out;
    size_t from = 0;
    for (;;) {
        size_t at = s.find(sep, from);
        out.push_back(trim(
            s.substr(from, at == std::string_view::npos ? std::string_view::npos : at - from)));
        if (at == std::string_view::npos) return out;
        from = at + 1;
    }
}

std::optional<int64_t> parse_int(std::string_view s, int64_t min, int64_t max) {
    if (s.empty() || s.size() > 19) return std::nullopt;
    bool neg = s[0] == '-';
    if (neg) s.remove_prefix(1);
    if (s.empty()) return std::nullopt;
    int64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9' || v > (std::numeric_limits<int64_t>::max() - (c - '0')) / 10)
            return std::nullopt;
        v = v * 10 + (c - '0');
    }
    if (neg) v = -v;
    if (v < min || v > max) return std::nullopt;
    return v;
}

std::optional<bool> parse_bool(std::string_view s) {
    std::string lower(s);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (lower == "true") return true;
    if (lower == "false") return false;
    return std::nullopt;
}

Error bad(std::string_view name, std::string_view value, std::string_view why) {
    return Error{Errc::invalid_argument, "server property " + std::string(name) + "=" +
                                             std::string(value) + ": " + std::string(why)};
}

using Props = std::map<std::string, std::string>;

// A numeric property in [min, max] handed to `set`, if present.
Status with_int(const Props& p, std::string_view name, int64_t min, int64_t max,
                const std::function<void(int64_t)>& set) {
    auto it = p.find(std::string(name));
    if (it == p.end() || it->second.empty()) return ok_status();
    auto v = parse_int(it->second, min, max);
    if (!v) {
        return bad(
            name, it->second,
            "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    }
    set(*v);
    return ok_status();
}

std::optional<std::string> get(const Props& p, std::string_view name) {
    auto it = p.find(std::string(name));
    if (it == p.end() || it->second.empty()) return std::nullopt;
    return it->second;
}

constexpr int64_t kI32 = std::numeric_limits<int32_t>::max();
constexpr int64_t kI64 = std::numeric_limits<int64_t>::max();

Status apply_timings(const Props& p, ServerConfig& c) {
    NodeConfig& n = c.node;
    broker::BrokerConfig& b = n.broker_config;
    KEEL_TRY(with_int(p, "broker.heartbeat.interval.ms", 1, kI32, [&](int64_t v) {
        n.heartbeat_interval = ms(v);
        n.controller_config.heartbeat_interval = ms(v);
    }));
    KEEL_TRY(with_int(p, "broker.session.timeout.ms", 1, kI32,
                      [&](int64_t v) { n.controller_config.session_timeout = ms(v); }));
    KEEL_TRY(with_int(p, "controller.quorum.election.timeout.ms", 1, kI32,
                      [&](int64_t v) { n.raft.election_timeout = ms(v); }));
    KEEL_TRY(with_int(p, "controller.quorum.fetch.timeout.ms", 1, kI32, [&](int64_t v) {
        n.raft.fetch_timeout = ms(v);
        n.raft.check_quorum_timeout = ms(v + v / 2);  // Kafka: 1.5 × the fetch timeout
    }));
    KEEL_TRY(with_int(p, "controller.quorum.request.timeout.ms", 1, kI32,
                      [&](int64_t v) { n.raft.request_timeout = ms(v); }));
    KEEL_TRY(with_int(p, "replica.fetch.backoff.ms", 0, kI32,
                      [&](int64_t v) { b.replica_fetch_backoff = ms(v); }));
    KEEL_TRY(with_int(p, "replica.fetch.max.bytes", 1, kI32,
                      [&](int64_t v) { b.replica_fetch_max_bytes = static_cast<int32_t>(v); }));
    KEEL_TRY(with_int(p, "replica.fetch.wait.max.ms", 0, kI32,
                      [&](int64_t v) { b.replica_fetch_wait_max = ms(v); }));
    KEEL_TRY(with_int(p, "replica.lag.time.max.ms", 1, kI32,
                      [&](int64_t v) { b.replica_lag_time_max = ms(v); }));
    KEEL_TRY(with_int(p, "log.retention.check.interval.ms", 1, kI32,
                      [&](int64_t v) { b.retention_check_interval = ms(v); }));
    KEEL_TRY(with_int(p, "producer.id.expiration.ms", 1, kI32,
                      [&](int64_t v) { b.producer_id_expiration_ms = v; }));
    return with_int(p, "metadata.log.segment.bytes", 1024, kI32,
                    [&](int64_t v) { n.metadata_segment_bytes = v; });
}

// Kafka's precedence: log.retention.ms, else .minutes, else .hours; log.roll.ms, else .hours.
Status apply_log(const Props& p, ServerConfig& c) {
    log::LogConfig& l = c.node.broker_config.log_defaults;
    KEEL_TRY(with_int(p, "log.retention.hours", 1, kI32,
                      [&](int64_t v) { l.retention_ms = v * 3'600'000; }));
    KEEL_TRY(with_int(p, "log.retention.minutes", 1, kI32,
                      [&](int64_t v) { l.retention_ms = v * 60'000; }));
    KEEL_TRY(with_int(p, "log.retention.ms", -1, kI64, [&](int64_t v) { l.retention_ms = v; }));
    KEEL_TRY(
        with_int(p, "log.roll.hours", 1, kI32, [&](int64_t v) { l.segment_ms = v * 3'600'000; }));
    KEEL_TRY(with_int(p, "log.roll.ms", 1, kI64, [&](int64_t v) { l.segment_ms = v; }));
    KEEL_TRY(with_int(p, "log.segment.delete.delay.ms", 0, kI64,
                      [&](int64_t v) { c.node.broker_config.file_delete_delay = ms(v); }));
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kLogNames{{
        {"log.retention.bytes", "retention.bytes"},
        {"log.segment.bytes", "segment.bytes"},
        {"log.cleanup.policy", "cleanup.policy"},
        {"log.flush.interval.messages", "flush.messages"},
        {"log.flush.interval.ms", "flush.ms"},
        {"log.index.interval.bytes", "index.interval.bytes"},
        {"log.message.timestamp.type", "message.timestamp.type"},
    }};
    for (const auto& [kafka_name, topic_name] : kLogNames) {
        auto v = get(p, kafka_name);
        if (!v) continue;
        Status st = log::set_log_property(l, topic_name, *v);
        if (!st.ok()) return bad(kafka_name, *v, st.error().message);
    }
    if (Status st = l.validate(); !st.ok())
        return Error{Errc::invalid_argument, "log.* properties: " + st.error().message};
    return ok_status();
}

Status apply_data_plane(const Props& p, ServerConfig& c) {
    NodeConfig& n = c.node;
    KEEL_TRY(with_int(p, "num.partitions", 1, kI32, [&](int64_t v) {
        n.controller_config.default_num_partitions = static_cast<int32_t>(v);
    }));
    KEEL_TRY(with_int(p, "default.replication.factor", 1, std::numeric_limits<int16_t>::max(),
                      [&](int64_t v) {
                          n.controller_config.default_replication_factor = static_cast<int16_t>(v);
                      }));
    KEEL_TRY(with_int(p, "min.insync.replicas", 1, kI32, [&](int64_t v) {
        n.broker_config.min_insync_replicas = static_cast<int32_t>(v);
    }));
    KEEL_TRY(with_int(p, "socket.request.max.bytes", 1, kI32, [&](int64_t v) {
        n.socket_request_max_bytes = static_cast<size_t>(v);
    }));
    KEEL_TRY(with_int(p, "message.max.bytes", 0, kI32, [&](int64_t v) {
        n.broker_config.message_max_bytes = static_cast<int32_t>(v);
        n.broker_config.log_defaults.max_message_bytes = static_cast<int32_t>(v);
    }));
    for (std::string_view name :
         {"auto.create.topics.enable", "delete.topic.enable", "unclean.leader.election.enable"}) {
        auto v = get(p, name);
        if (!v) continue;
        auto b = parse_bool(*v);
        if (!b) return bad(name, *v, "expected true or false");
        if (name == "unclean.leader.election.enable" && *b) {
            return bad(
                name, *v,
                "not supported as a broker default yet; set it per topic (CreateTopics configs)");
        }
        if (name == "auto.create.topics.enable") n.broker_config.auto_create_topics_enable = *b;
        if (name == "delete.topic.enable") n.broker_config.delete_topic_enable = *b;
    }
    return ok_status();
}

Status apply_groups(const Props& p, ServerConfig& c) {
    NodeConfig& n = c.node;
    group::GroupCoordinatorConfig& g = n.group_config;
    KEEL_TRY(with_int(p, "offsets.topic.num.partitions", 1, kI32, [&](int64_t v) {
        n.broker_config.offsets_topic_num_partitions = static_cast<int32_t>(v);
    }));
    KEEL_TRY(with_int(p, "offsets.topic.replication.factor", 1, std::numeric_limits<int16_t>::max(),
                      [&](int64_t v) { n.broker_config.offsets_topic_replication_factor = static_cast<int16_t>(v); }));
    KEEL_TRY(with_int(p, "offsets.retention.minutes", 1, kI32,
                      [&](int64_t v) { g.offsets_retention = ms(v * 60'000); }));
    KEEL_TRY(with_int(p, "group.initial.rebalance.delay.ms", 0, kI32,
                      [&](int64_t v) { g.initial_rebalance_delay = ms(v); }));
    KEEL_TRY(with_int(p, "group.min.session.timeout.ms", 0, kI32, [&](int64_t v) { g.min_session_timeout = ms(v); }));
    KEEL_TRY(with_int(p, "group.max.session.timeout.ms", 0, kI32, [&](int64_t v) { g.max_session_timeout = ms(v); }));
    if (g.min_session_timeout > g.max_session_timeout) {
        return Error{Errc::invalid_argument,
                     "group.min.session.timeout.ms must not exceed group.max.session.timeout.ms"};
    }
    return ok_status();
}

Status apply_roles(const Props& p, ServerConfig& c) {
    std::string roles = get(p, "process.roles").value_or("");
    for (const std::string& r : split(roles, ',')) {
        if (r == "broker") {
            c.node.broker = true;
        } else if (r == "controller") {
            c.node.controller = true;
        } else {
            return bad("process.roles", roles, "unknown role '" + r + "' (broker, controller)");
        }
    }
    if (!c.node.broker && !c.node.controller)
        return bad("process.roles", roles, "needs broker, controller or both");
    return with_int(p, "node.id", 0, kI32,
                    [&](int64_t v) { c.node.id = NodeId(static_cast<int32_t>(v)); });
}

std::optional<env::Address> parse_host_port(std::string_view s) {
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto port = parse_int(s.substr(colon + 1), 0, 65535);
    if (!port) return std::nullopt;
    return env::Address{std::string(s.substr(0, colon)), static_cast<uint16_t>(*port)};
}

Status apply_voters(const Props& p, ServerConfig& c) {
    std::string text = get(p, "controller.quorum.voters").value_or("");
    for (const std::string& v : split(text, ',')) {
        size_t at = v.find('@');
        auto id = at == std::string::npos ? std::nullopt : parse_int(v.substr(0, at), 0, kI32);
        auto addr = at == std::string::npos ? std::nullopt : parse_host_port(v.substr(at + 1));
        if (!id || !addr || addr->host.empty() || addr->port == 0) {
            return bad("controller.quorum.voters", text, "expected id@host:port,... ('" + v + "')");
        }
        NodeId node(static_cast<int32_t>(*id));
        if (c.node.voter_raft_addresses.count(node) != 0)
            return bad("controller.quorum.voters", text, "voter id given twice");
        auto rpc = controller_rpc_address(*addr);
        if (!rpc.ok()) return bad("controller.quorum.voters", text, rpc.error().message);
        c.node.voter_raft_addresses[node] = *addr;
        c.node.controller_addresses[node] = *rpc;
    }
    if (c.node.voter_raft_addresses.empty())
        return bad("controller.quorum.voters", text, "no voters");
    if (c.node.controller && c.node.voter_raft_addresses.count(c.node.id) == 0) {
        return bad(
            "controller.quorum.voters", text,
            "this controller (node.id " + std::to_string(c.node.id.value()) + ") is not a voter");
    }
    return ok_status();
}

// listener name -> address, from "NAME://host:port,...".
Result<std::map<std::string, env::Address>> parse_listeners(std::string_view name,
                                                            const std::string& text) {
    std::map<std::string, env::Address> out;
    for (const std::string& l : split(text, ',')) {
        size_t sep = l.find("://");
        auto addr = sep == std::string::npos ? std::nullopt : parse_host_port(l.substr(sep + 3));
        if (!addr || sep == 0)
            return bad(name, text, "expected NAME://host:port,... ('" + l + "')");
        if (!out.emplace(l.substr(0, sep), *addr).second)
            return bad(name, text, "listener " + l.substr(0, sep) + " given twice");
    }
    return out;
}

Status check_protocols(const Props& p, const std::map<std::string, env::Address>& listeners) {
    std::string text = get(p, "listener.security.protocol.map").value_or("");
    std::map<std::string, std::string> map;
    for (const std::string& entry : split(text, ',')) {
        size_t colon = entry.find(':');
        if (colon == std::string::npos)
            return bad("listener.security.protocol.map", text, "expected NAME:PROTOCOL,...");
        map[entry.substr(0, colon)] = entry.substr(colon + 1);
    }
    for (const auto& [name, addr] : listeners) {
        auto it = map.find(name);
        std::string proto =
            it != map.end() ? it->second : name;  // Kafka: a protocol name maps to itself
        if (proto != "PLAINTEXT") {
            return bad("listener.security.protocol.map", text,
                       "listener " + name + " is " + proto + "; only PLAINTEXT is supported");
        }
    }
    return ok_status();
}

Status apply_controller_listener(const Props& p, ServerConfig& c,
                                 const std::map<std::string, env::Address>& ls) {
    std::string names = get(p, "controller.listener.names").value_or("");
    std::vector<std::string> list = split(names, ',');
    if (!c.node.controller) return ok_status();
    if (list.empty()) return bad("controller.listener.names", names, "a controller needs one");
    auto it = ls.find(list[0]);
    if (it == ls.end())
        return bad("listeners", get(p, "listeners").value_or(""), "no listener named " + list[0]);
    auto rpc = controller_rpc_address(it->second);
    if (!rpc.ok()) return bad("listeners", it->first, rpc.error().message);
    const env::Address& voter = c.node.voter_raft_addresses.at(c.node.id);
    if (it->second.port != voter.port) {
        return bad("listeners", get(p, "listeners").value_or(""),
                   "the " + list[0] +
                       " port differs from this node's controller.quorum.voters entry " +
                       voter.to_string());
    }
    c.node.raft_listen = it->second;
    c.node.controller_listen = *rpc;
    return ok_status();
}

Status apply_broker_listener(const Props& p, ServerConfig& c,
                             const std::map<std::string, env::Address>& ls) {
    if (!c.node.broker) return ok_status();
    std::string name = get(p, "inter.broker.listener.name").value_or("PLAINTEXT");
    std::vector<std::string> controller_names =
        split(get(p, "controller.listener.names").value_or(""), ',');
    for (const auto& [n, a] : ls) {
        bool is_controller = std::find(controller_names.begin(), controller_names.end(), n) !=
                             controller_names.end();
        if (n != name && !is_controller) {
            return bad("listeners", get(p, "listeners").value_or(""),
                       "one client listener (" + name + ") is supported, not " + n);
        }
    }
    auto it = ls.find(name);
    if (it == ls.end())
        return bad("listeners", get(p, "listeners").value_or(""),
                   "a broker needs a listener named " + name);
    c.node.broker_listen = it->second;
    env::Address advertised = it->second;
    if (auto adv = get(p, "advertised.listeners")) {
        KEEL_TRY_ASSIGN(auto als, parse_listeners("advertised.listeners", *adv));
        auto a = als.find(name);
        if (a == als.end()) return bad("advertised.listeners", *adv, "no listener named " + name);
        advertised = a->second;
    }
    if (advertised.host.empty() || advertised.host == "0.0.0.0") advertised.host = "localhost";
    if (advertised.port == 0)
        return bad("advertised.listeners", advertised.to_string(), "port 0 cannot be advertised");
    c.node.advertised_host = advertised.host;
    c.node.advertised_port = advertised.port;
    return ok_status();
}

Status apply_listeners(const Props& p, ServerConfig& c) {
    KEEL_TRY_ASSIGN(auto ls, parse_listeners("listeners", get(p, "listeners").value_or("")));
    KEEL_TRY(check_protocols(p, ls));
    KEEL_TRY(apply_controller_listener(p, c, ls));
    return apply_broker_listener(p, c, ls);
}

Status apply_storage(const Props& p, ServerConfig& c) {
    std::string dirs = get(p, "log.dirs").value_or(get(p, "log.dir").value_or(""));
    std::vector<std::string> list = split(dirs, ',');
    if (list.size() != 1 || list[0].empty())
        return bad("log.dirs", dirs, "exactly one directory is supported");
    c.log_dir = list[0];
    c.node.broker_config.log_dir =
        "";  // partitions sit at the top of the data directory, as in Kafka
    if (auto id = get(p, "cluster.id")) {
        bool ok = std::all_of(id->begin(), id->end(), [](unsigned char ch) {
            return std::isalnum(ch) || ch == '-' || ch == '_';
        });
        if (!ok) return bad("cluster.id", *id, "letters, digits, '-' and '_' only");
        c.cluster_id = *id;
        c.node.cluster_id = *id;
    }
    return ok_status();
}

}  // namespace

std::span<const ServerProperty> server_properties() {
    return kProperties;
}

Result<env::Address> controller_rpc_address(const env::Address& raft) {
    if (raft.port == 65535)
        return Error{
            Errc::invalid_argument,
            "the CONTROLLER port must be below 65535 (its port + 1 serves the controller RPCs)"};
    if (raft.port == 0)
        return Error{Errc::invalid_argument,
                     "the CONTROLLER port must be given (its port + 1 serves the controller RPCs)"};
    return env::Address{raft.host, static_cast<uint16_t>(raft.port + 1)};
}

Result<std::map<std::string, std::string>> parse_properties(std::string_view text) {
    std::map<std::string, std::string> out;
    std::string logical;
    size_t line_no = 0;
    for (const std::string& raw : split(text, '\n')) {
        line_no++;
        std::string line = trim(raw);
        if (logical.empty() && (line.empty() || line[0] == '#' || line[0] == '!')) continue;
        if (!line.empty() && line.back() == '\\') {
            logical += line.substr(0, line.size() - 1);
            continue;
        }
        logical += line;
        size_t sep = logical.find_first_of("=:");
        std::string key = sep == std::string::npos ? "" : trim(logical.substr(0, sep));
        if (key.empty())
            return Error{Errc::invalid_argument,
                         "line " + std::to_string(line_no) + ": expected key=value: " + logical};
        if (!out.emplace(key, trim(logical.substr(sep + 1))).second) {
            return Error{Errc::invalid_argument,
                         "line " + std::to_string(line_no) + ": " + key + " is given twice"};
        }
        logical.clear();
    }
    if (!logical.empty())
        return Error{Errc::invalid_argument, "the last line ends with a continuation backslash"};
    return out;
}

namespace {

// metrics.port: 1..65535 turns the listener on, on the broker listener's host (the Raft
// listener's on a controller-only node); 0 or unset leaves it off.
Status apply_metrics(const Props& p, ServerConfig& c) {
    return with_int(p, "metrics.port", 0, 65535, [&](int64_t v) {
        if (v == 0) return;
        const env::Address& on = c.node.broker ? c.node.broker_listen : c.node.raft_listen;
        c.metrics_listen = env::Address{on.host, static_cast<uint16_t>(v)};
    });
}

}  // namespace

Result<ServerConfig> server_config_from(const std::map<std::string, std::string>& props) {
    Props p;
    for (const ServerProperty& sp : kProperties) {
        if (!sp.default_value.empty()) p[std::string(sp.name)] = std::string(sp.default_value);
    }
    for (const auto& [k, v] : props) {
        bool known = std::any_of(kProperties.begin(), kProperties.end(),
                                 [&](const ServerProperty& sp) { return sp.name == k; });
        if (!known)
            return Error{Errc::invalid_argument,
                         "unknown server property " + k + " (keel server --help lists them)"};
        p[k] = v;
    }
    ServerConfig c;
    KEEL_TRY(apply_roles(p, c));
    KEEL_TRY(apply_voters(p, c));
    KEEL_TRY(apply_listeners(p, c));
    KEEL_TRY(apply_storage(p, c));
    KEEL_TRY(apply_data_plane(p, c));
    KEEL_TRY(apply_groups(p, c));
    KEEL_TRY(apply_log(p, c));
    KEEL_TRY(apply_timings(p, c));
    KEEL_TRY(apply_metrics(p, c));
    // DescribeConfigs' answer for this broker: every property, set or defaulted.
    for (const ServerProperty& sp : kProperties) {
        auto v = p.find(std::string(sp.name));
        c.node.broker_config.properties.push_back(
            {std::string(sp.name), v == p.end() ? std::nullopt : std::optional<std::string>(v->second),
             props.count(std::string(sp.name)) != 0, std::string(sp.meaning)});
    }
    return c;
}

}  // namespace keel::node
