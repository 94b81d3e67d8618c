// BrokerLifecycle: a broker's side of KIP-631, on every broker node (Kafka's
// BrokerLifecycleManager). It registers a new incarnation (a random incarnation id, so
// the controller can tell a restart from a retry), then heartbeats the active controller
// every heartbeat interval — every `fenced_heartbeat_interval` while fenced, so that it is
// unfenced as soon as it has caught up — reporting the last metadata offset its image has
// applied. The image itself is a StateMachine fed by the broker's observer RaftDriver;
// this class only reads it.
//
// Finding the controller: the quorum leader the broker's observer driver knows (Kafka
// brokers learn the active controller from the Raft leader), else the controllers in
// turn. NOT_CONTROLLER, a timeout or a broken connection moves to the hinted leader if it
// is another controller, else to the next one.
//
// Replies: STALE_BROKER_EPOCH or BROKER_ID_NOT_REGISTERED → register again (the
// controller lost or replaced this registration); DUPLICATE_BROKER_REGISTRATION → the
// previous incarnation's session must lapse first: retry after a pause.
//
// Controlled shutdown: begin_controlled_shutdown() makes heartbeats ask for it
// (WantShutDown); once the controller answers ShouldShutDown the lifecycle ends and
// shut_down() is true.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/controller/metadata_image.h"
#include "core/controller/producer_id_block.h"
#include "core/controller/rpc.h"
#include "core/env/env.h"
#include "core/protocol/controller_messages.h"
#include "core/protocol/generated/alter_configs_request.h"
#include "core/protocol/generated/alter_configs_response.h"
#include "core/protocol/generated/create_partitions_request.h"
#include "core/protocol/generated/create_partitions_response.h"
#include "core/protocol/generated/delete_topics_request.h"
#include "core/protocol/generated/delete_topics_response.h"
#include "core/protocol/generated/incremental_alter_configs_request.h"
#include "core/protocol/generated/incremental_alter_configs_response.h"

namespace keel::controller {

struct BrokerLifecycleOptions {
    NodeId broker_id{-1};
    std::string cluster_id;
    std::vector<BrokerEndpoint> listeners;
    std::optional<std::string> rack;
    std::map<NodeId, env::Address> controllers;  // every controller's RPC listener, by node id
    Duration heartbeat_interval = ms(2000);        // broker.heartbeat.interval.ms
    Duration fenced_heartbeat_interval = ms(100);  // while fenced: catch up and unfence quickly
    Duration request_timeout = ms(2000);
    Duration retry_backoff = ms(100);
    Duration duplicate_registration_backoff = ms(1000);
};

struct BrokerLifecycleHooks {
    // The active controller answered a heartbeat without error at `at`.
    std::function<void(NodeId broker, Instant at, const protocol::BrokerHeartbeatResponse&)> on_heartbeat;
    std::function<void(NodeId broker, BrokerEpoch epoch, Instant at)> on_registered;
};

class BrokerLifecycle {
public:
    // `leader_hint` returns the quorum leader's node id if known (the observer driver's).
    BrokerLifecycle(env::Env& env, const MetadataImage& image, BrokerLifecycleOptions options,
                    std::function<std::optional<NodeId>()> leader_hint = {}, BrokerLifecycleHooks hooks = {});

    // Registers and heartbeats until stop() or a completed controlled shutdown.
    void run();
    void stop() { stopping_ = true; }
    void begin_controlled_shutdown() { want_shut_down_ = true; }

    std::optional<BrokerEpoch> epoch() const { return epoch_; }
    bool fenced() const { return fenced_; }
    bool shut_down() const { return shut_down_; }
    const Uuid& incarnation_id() const { return incarnation_id_; }

    // Sends AlterPartition (v3) for this broker as a partition leader to the active
    // controller, filling in the broker id and epoch. Errors: not registered yet, the
    // network's, or the whole-request error code.
    Result<protocol::AlterPartitionResponse> alter_partition(protocol::AlterPartitionRequest req);

    // Sends CreateTopics (v7) to the active controller on the same connection as
    // AlterPartition (auto topic creation, and clients' CreateTopics forwarded). Errors: the
    // network's; the per-topic results carry the controller's answer (NOT_CONTROLLER moves
    // on). With `retry_until`, a transport error or an all-NOT_CONTROLLER answer is tried
    // again on the next controller after retry_backoff, until that instant.
    Result<protocol::CreateTopicsResponse> create_topics(const protocol::CreateTopicsRequest& req,
                                                         std::optional<Instant> retry_until = std::nullopt);
    // Sends DeleteTopics (v6) to the active controller, retrying as create_topics does
    // until `retry_until`.
    Result<protocol::DeleteTopicsResponse> delete_topics(const protocol::DeleteTopicsRequest& req,
                                                         Instant retry_until);
    // Sends CreatePartitions (v3) to the active controller, retrying as create_topics does
    // until `retry_until`.
    Result<protocol::CreatePartitionsResponse> create_partitions(const protocol::CreatePartitionsRequest& req,
                                                                 Instant retry_until);
    // Send IncrementalAlterConfigs (v1) and AlterConfigs (v2) to the active controller,
    // retrying as create_topics does until `retry_until`.
    Result<protocol::IncrementalAlterConfigsResponse> incremental_alter_configs(
        const protocol::IncrementalAlterConfigsRequest& req, Instant retry_until);
    Result<protocol::AlterConfigsResponse> alter_configs(const protocol::AlterConfigsRequest& req,
                                                         Instant retry_until);

    // Asks the active controller for a block of producer ids (AllocateProducerIds v0, with
    // this broker's id and epoch; KIP-730). A transport error or NOT_CONTROLLER moves to
    // another controller and tries again, after retry_backoff, until request_timeout has
    // passed since the call. Call from one of this broker's fibers. Errors:
    // broker_not_registered (no epoch yet), stale_broker_epoch (the controller holds
    // another registration: the heartbeat loop registers again), not_controller or the
    // network's when no controller answered in time, invalid_request (an empty or negative
    // block), the controller's error otherwise.
    Result<ProducerIdBlock> allocate_producer_ids();

private:
    bool register_once();
    bool heartbeat_once();
    const env::Address& controller();
    // The call failed at the transport or with NOT_CONTROLLER: try another controller.
    void next_controller();
    Instant deadline() const { return env_.now() + options_.request_timeout; }
    // One admin RPC (`version` of Response's request) with the retries described at
    // create_topics; `not_controller` tells an answer that should go elsewhere.
    template <typename Response, typename Request, typename NotController>
    Result<Response> admin_call(const Request& req, int16_t version, std::optional<Instant> retry_until,
                                NotController not_controller);

    env::Env& env_;
    const MetadataImage& image_;
    BrokerLifecycleOptions options_;
    std::function<std::optional<NodeId>()> leader_hint_;
    BrokerLifecycleHooks hooks_;
    RpcClient client_;
    RpcClient admin_client_;  // AlterPartition goes on its own connection
    RpcClient producer_ids_client_;  // and AllocateProducerIds on another
    Uuid incarnation_id_;
    NodeId current_{-1};
    NodeId failed_{-1};  // the controller the last failed call went to
    std::optional<BrokerEpoch> epoch_;
    bool fenced_ = true;
    bool want_shut_down_ = false;
    bool shut_down_ = false;
    bool stopping_ = false;
};

}  // namespace keel::controller
