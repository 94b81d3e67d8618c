// Workload: Keel's own clients (core/client) against a DataCluster, every operation
// recorded in a Jepsen-style History (sim/checkers/history.h) for the log checker.
//
//   p1..pN  producer nodes: each sends unique values ("p1-42") with keys ("k3") at a steady
//           rate, one Producer each; an acknowledged send is ok (partition, offset), a failed
//           one is info (indeterminate: Kafka's errors do not say whether the batch landed)
//   r1..rM  consumer nodes: each assigns every partition from offset 0 and polls
//   final   after the faults and a full re-replication: reads every partition from its log
//           start to the leader's high watermark, so the checker's "unseen" is complete
//
// Client nodes are never faulted; the cluster's nodes are.
#pragma once

#include <memory>
#include <string>

#include "core/client/consumer.h"
#include "core/client/producer.h"
#include "scenarios/data/data_cluster.h"
#include "sim/checkers/history.h"
#include "sim/checkers/log_checker.h"

namespace keel::scenarios {

struct WorkloadOptions {
    std::string topic = "orders";
    int32_t partitions = 4;
    int producers = 2;
    int consumers = 2;
    Duration send_interval = ms(20);  // per producer
    int keys = 32;  // spread over the partitions by murmur2
    client::ProducerConfig producer;  // bootstrap is filled in
    client::ConsumerConfig consumer;  // bootstrap is filled in
};

struct WorkloadStats {
    uint64_t sends = 0;
    uint64_t acked = 0;
    uint64_t send_errors = 0;
    uint64_t polls = 0;
    uint64_t polled_records = 0;
    uint64_t final_records = 0;
};

class Workload : public std::enable_shared_from_this<Workload> {
public:
    static std::shared_ptr<Workload> create(DataCluster& cluster, WorkloadOptions options);
    Workload(DataCluster& cluster, WorkloadOptions options);  // use create()

    // Adds and starts the producer and consumer nodes.
    void start();
    // Producers stop sending and wait for what they have in flight (bounded by their
    // delivery timeout); returns once all of them are done or after `limit`.
    bool stop_producers(Duration limit);
    // The final read: true when every partition was read up to its leader's high watermark
    // within `limit`.
    bool final_read(Duration limit);
    // The log checker over the history.
    sim::LogCheckResult check(bool final_reads_complete);

    const sim::History& history() const { return history_; }
    const WorkloadStats& stats() const { return stats_; }
    // Where an unfinished final read stood: "orders-2 at 130 of 190; ..."
    const std::string& final_stuck() const { return final_stuck_; }

private:
    void producer_main(const std::string& name, env::Env& env);
    void consumer_main(const std::string& name, env::Env& env);
    void final_main(env::Env& env);
    std::vector<client::TopicPartitionName> all_partitions() const;

    DataCluster& cluster_;
    sim::World& world_;
    WorkloadOptions options_;
    sim::History history_;
    WorkloadStats stats_;
    bool stop_sending_ = false;
    int producers_done_ = 0;
    bool final_done_ = false;
    std::map<int32_t, int64_t> final_targets_;    // partition -> high watermark to read up to
    std::map<int32_t, int64_t> final_positions_;  // the final reader's positions (-1 unknown)
    std::string final_stuck_;  // where the final read stopped, if it did not finish
};

}  // namespace keel::scenarios
