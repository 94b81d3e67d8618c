// The data-chaos scenario's parts, shared with the named data scenarios (scenarios/data/)
// and the benchmark (`keel bench cluster-sim`): the configuration from --param, the
// cluster and workload options, the fault schedule, and the history's report.
#pragma once

#include "core/broker/broker_config.h"
#include "scenarios/data/data_cluster.h"
#include "scenarios/data/workload.h"
#include "sim/nemesis.h"

namespace keel::scenarios {

struct DataChaosConfig {
    int brokers = 4;
    int64_t fault_seconds = 40;
    int64_t settle_seconds = 90;  // how long the heal may take to re-replicate everything
    int64_t rate = 100;  // records/s offered by all producers together (simulated time)
    int16_t acks = -1;
    int32_t min_isr = 2;
    bool unclean = false;
    bool idempotence = true;
    bool flush_every_message = true;
    bool kip101_off = false;
    broker::PlantedDataBugs bugs;
    // acks=all, min ISR >= 2, unclean off, idempotence on, fsync per message, epochs on.
    bool safe() const;
};

DataChaosConfig data_chaos_config(sim::ScenarioContext& ctx);
DataClusterOptions data_cluster_options(const DataChaosConfig& c);
DataTopic data_topic(const DataChaosConfig& c);
WorkloadOptions data_workload(const DataChaosConfig& c);
sim::FaultSchedule data_chaos_schedule(sim::World& w, const DataCluster& cluster, Duration start, Duration end);
void report_history(sim::ScenarioContext& ctx, const DataChaosConfig& c, const sim::LogCheckResult& r,
                    const sim::History* history = nullptr);
void run_data_chaos(sim::ScenarioContext& ctx, const DataChaosConfig& c);

}  // namespace keel::scenarios
