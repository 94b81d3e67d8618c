#include "cli/cluster_probe.h"

#include <algorithm>

#include "core/client/connection.h"
#include "core/client/metadata.h"
#include "core/protocol/generated/metadata_request.h"
#include "core/protocol/generated/metadata_response.h"
#include "prod/prod_node.h"
#include "prod/temp_dir.h"

namespace keel::cli {

size_t ClusterProbe::under_replicated() const {
    return static_cast<size_t>(std::count_if(partitions.begin(), partitions.end(),
                                             [](const ProbedPartition& p) { return p.under_replicated(); }));
}

namespace {

ClusterProbe from_response(const protocol::MetadataResponse& resp) {
    ClusterProbe out;
    for (const auto& b : resp.brokers) out.brokers.push_back(b.node_id.value());
    std::sort(out.brokers.begin(), out.brokers.end());
    out.controller_id = resp.controller_id.value();
    for (const auto& t : resp.topics) {
        if (!t.name) continue;
        for (const auto& p : t.partitions) {
            ProbedPartition pp{*t.name, p.partition_index.value(), p.leader_id.value(), {}, {}};
            for (NodeId r : p.replica_nodes) pp.replicas.push_back(r.value());
            for (NodeId r : p.isr_nodes) pp.isr.push_back(r.value());
            out.partitions.push_back(std::move(pp));
        }
    }
    std::sort(out.partitions.begin(), out.partitions.end(), [](const ProbedPartition& a, const ProbedPartition& b) {
        return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
    });
    return out;
}

}  // namespace

Result<ClusterProbe> probe_cluster(env::Env& env, const std::vector<env::Address>& bootstrap, Instant deadline) {
    client::ConnectionPool pool(env, client::ConnectionOptions{.client_id = "keel-cluster"});
    Status last(Errc::connection_refused, "no bootstrap address");
    protocol::MetadataRequest req;  // topics null: every topic
    req.allow_auto_topic_creation = false;
    for (const env::Address& a : bootstrap) {
        Instant attempt = std::min(deadline, env.clock().monotonic_now() + ms(5'000));
        auto resp = pool.get(a).call<protocol::MetadataResponse>(req, client::kMetadataVersionMin,
                                                                  client::kMetadataVersionMax, attempt);
        if (resp.ok()) {
            ClusterProbe out = from_response(*resp);
            out.answered_by = a.to_string();
            pool.close_all();
            return out;
        }
        last = resp.error();
    }
    pool.close_all();
    return last.error();
}

Status run_on_client_node(const std::string& name, const std::function<void(env::Env&)>& fn) {
    prod::TempDir dir("keel-" + name + "-");
    prod::ProdNodeOptions options;
    options.log.min_level = env::Level::warn;  // a command's output, not a server's log
    prod::ProdNode node(name, dir.path(), options);
    return node.run_blocking([&](env::Env& env) {
        fn(env);
        node.request_stop();
    });
}

std::optional<std::vector<env::Address>> parse_bootstrap(const std::string& list) {
    std::vector<env::Address> out;
    size_t start = 0;
    while (start <= list.size()) {
        size_t end = std::min(list.find(',', start), list.size());
        auto a = env::Address::parse(list.substr(start, end - start));
        if (!a) return std::nullopt;
        out.push_back(*a);
        start = end + 1;
    }
    return out;
}

}  // namespace keel::cli
