// The workload `keel nemesis` runs against a real cluster, through real sockets: Keel's
// producer (acks=all with idempotence, or acks=1) sends unique values to one topic while
// the nemesis faults the servers; once the faults healed and every partition is fully
// replicated again, a consumer reads every partition from offset 0 up to the high watermark
// it found. Every send, acknowledgement and poll goes into a sim::History for the
// simulator's log checker (sim/checkers/log_checker.h), as the data-chaos scenario's
// Workload (scenarios/data/workload.h) records them in the simulator.
//
// Threads: run() runs on a client ProdNode's fiber; the nemesis thread sets stop_sending
// and reads the results once finished is set (release/acquire).
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "core/client/types.h"
#include "core/env/env.h"
#include "sim/checkers/history.h"

namespace keel::cli {

struct NemesisWorkloadOptions {
    std::vector<env::Address> bootstrap;
    std::string topic = "nemesis";
    int16_t acks = -1;  // -1 (all, idempotent) or 1
    int rate = 100;  // records per second (sent in ticks of >= 1 ms)
    size_t expected_brokers = 3;
};

struct NemesisWorkload {
    NemesisWorkloadOptions options;
    // Set by the workload: the topic is fully replicated and took a first write (faults may
    // begin); the final read is over (results below are complete).
    std::atomic<bool> ready{false};
    std::atomic<bool> finished{false};
    // Set by the nemesis: the faults healed; stop sending and start the final read.
    std::atomic<bool> stop_sending{false};

    sim::History history;
    uint64_t sends = 0;
    uint64_t acked = 0;
    bool final_reads_complete = false;
    std::string final_note;  // how the final read ended
    std::string error;       // the workload could not run (no topic, ...)

    void run(env::Env& env);

private:
    bool topic_exists(env::Env& env);
    std::map<int32_t, int64_t> high_watermarks(env::Env& env, const std::vector<client::TopicPartitionName>& all);
    bool await_topic(env::Env& env, Instant deadline, std::vector<int32_t>& partitions);
    void produce(env::Env& env);
    void final_read(env::Env& env, const std::vector<int32_t>& partitions);

    bool first_ack_ = false;     // fibers of the workload's node only
    bool producer_done_ = false;
};

}  // namespace keel::cli
