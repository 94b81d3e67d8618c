// ReplicaFetcher: one fiber that fetches, from one leader broker, every partition this
// broker follows there (Kafka's ReplicaFetcherThread, one per source broker).
//
// Each round sends one Fetch (v15: topic ids, ReplicaState with this broker's id and
// epoch, KIP-903) holding, per partition, the fetch offset (the follower's log end — it
// acknowledges everything below), the current leader epoch and the last fetched epoch
// (KIP-595/KIP-320 style divergence detection in the Fetch itself). Per partition answer:
//   - DivergingEpoch: truncate to where the logs agree (Partition::truncate_for_divergence),
//     then fetch again from the new log end;
//   - records: append them as they are (offsets and epochs from the leader) and take
//     min(leader's high watermark, own log end) as the high watermark;
//   - NOT_LEADER_OR_FOLLOWER / FENCED / UNKNOWN_LEADER_EPOCH: wait for the image to move;
//   - OFFSET_OUT_OF_RANGE below the leader's log start: start over at the leader's log start.
// Transport errors back off replica.fetch.backoff.ms. A disk error stops the broker.
#pragma once

#include "core/base/types.h"
#include "core/controller/rpc.h"
#include "core/env/sync.h"
#include "core/protocol/fetch.h"

namespace keel::broker {

class ReplicaManager;
class Partition;

inline constexpr int16_t replica_fetch_version = 15;

class ReplicaFetcher {
public:
    ReplicaFetcher(ReplicaManager& manager, NodeId leader);
    // Stops the fiber without waiting: join() it first (a destructor must never park —
    // a node crashing meanwhile would unwind the fiber from inside it, which terminates
    // the process). Destroyed without a join only while its node dies, when the
    // scheduler has unwound the fetcher's fiber (newer than the manager's) already.
    ~ReplicaFetcher();
    ReplicaFetcher(const ReplicaFetcher&) = delete;
    ReplicaFetcher& operator=(const ReplicaFetcher&) = delete;

    void start();
    void stop();
    // Stops the fiber and waits until it has finished.
    void join();
    // The set of partitions may have changed: build the next request now.
    void wake() { wake_.set(); }

private:
    void run();
    // One round; false when there was nothing to do or it failed (then back off).
    bool fetch_once();
    std::optional<protocol::FetchRequest> build_request();
    void handle(const protocol::FetchRequest& req, const protocol::FetchResponse& resp);
    void handle_partition(Partition& p, LeaderEpoch asked_epoch, const protocol::FetchResponse::PartitionData& d);

    ReplicaManager& manager_;
    NodeId leader_;
    controller::RpcClient client_;
    env::Event wake_;
    env::Event done_;
    bool started_ = false;
    bool stopping_ = false;
};

}  // namespace keel::broker
