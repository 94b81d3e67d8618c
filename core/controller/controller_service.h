// ControllerService: the controller pattern's command side, on every controller node.
//
//   broker / admin ──RPC──▶ ControllerService ──propose──▶ RaftDriver (metadata log)
//                                 ▲                              │ commit
//                                 └──── reads ── MetadataImage ◀─┘ apply
//
// Only the active controller (the Raft leader) decides: every other controller answers
// NOT_CONTROLLER. Decisions are the pure functions of controller_logic.h, run on the
// committed image; their records are proposed as one batch and the RPC is answered only
// after that batch is committed (and so applied to the image).
//
// One decision at a time (a fiber mutex): a decision is computed, proposed and committed
// before the next is computed, so every decision sees every earlier one in the image and
// the image's strict checks never meet a duplicate (e.g. a broker fenced twice). A new
// leader decides nothing until it has applied its whole log (applied == log end, its
// LeaderChange entry included): then everything an earlier leader committed is in the
// image, and nothing an earlier leader proposed can commit any more. If a proposal's
// outcome stays unknown past the request timeout, this controller decides nothing more
// in that Raft epoch.
//
// Broker epochs are the offset the registration batch gets (Kafka's rule), predicted as
// the leader's log end: exact while this controller is the only writer of its epoch
// (it is) and nothing is in flight (one decision at a time).
//
// A fiber ticks every `tick`: it fences brokers whose session lapsed (BrokerSessions;
// reset with a fresh session for every broker whenever this controller becomes active),
// runs elections for leaderless partitions every `election_interval` (unclean ones where
// enabled), and writes a NoOpRecord every `noop_interval` so that replicas see the log
// advance.
//
// The service serves its RPCs on its own listener (`listen`), next to Raft's.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "core/controller/broker_sessions.h"
#include "core/controller/controller_logic.h"
#include "core/controller/metadata_image.h"
#include "core/controller/rpc.h"
#include "core/env/env.h"
#include "core/env/sync.h"
#include "core/protocol/controller_messages.h"
#include "core/protocol/generated/allocate_producer_ids_request.h"
#include "core/protocol/generated/allocate_producer_ids_response.h"
#include "core/protocol/generated/create_partitions_request.h"
#include "core/protocol/generated/create_partitions_response.h"
#include "core/protocol/generated/alter_configs_request.h"
#include "core/protocol/generated/alter_configs_response.h"
#include "core/protocol/generated/delete_topics_request.h"
#include "core/protocol/generated/delete_topics_response.h"
#include "core/protocol/generated/incremental_alter_configs_request.h"
#include "core/protocol/generated/incremental_alter_configs_response.h"
#include "core/raft/raft_driver.h"

namespace keel::controller {

struct ControllerServiceOptions {
    ControllerConfig config;
    env::Address listen;
    Duration tick = ms(250);
    Duration election_interval = ms(1000);
    Duration noop_interval = ms(5000);     // 0 = never
    Duration request_timeout = ms(5000);   // waiting to become able to decide, or for a commit
    RpcServerOptions rpc{"controller-rpc"};
};

// Observation points for the simulator's checkers; none changes what the service does.
struct ControllerServiceHooks {
    // The active controller accepted a heartbeat (valid broker id and epoch) at `at`.
    std::function<void(NodeId broker, Instant at)> on_heartbeat;
    // A fence for a lapsed session was committed at `at`; `last_contact` is when the
    // session was last refreshed on this controller.
    std::function<void(NodeId broker, Instant last_contact, Instant at)> on_session_fence;
    // This controller became able to decide in Raft epoch `epoch` at `at`.
    std::function<void(QuorumEpoch epoch, Instant at)> on_activated;
    // A write of unknown outcome made this controller renounce `epoch` (resign) at `at`.
    std::function<void(QuorumEpoch epoch, Instant at)> on_renounced;
};

struct ControllerServiceStats {
    uint64_t batches_written = 0;
    uint64_t write_failures = 0;
    uint64_t session_fences = 0;
    uint64_t activations = 0;   // times this controller became able to decide
    uint64_t not_controller = 0;  // requests answered NOT_CONTROLLER
    uint64_t renounced = 0;       // epochs resigned after a write of unknown outcome
};

class ControllerService {
public:
    // `image` is the state machine `driver` applies committed entries to.
    ControllerService(env::Env& env, raft::RaftDriver& driver, const MetadataImage& image,
                      ControllerServiceOptions options, ControllerServiceHooks hooks = {});
    ~ControllerService();
    ControllerService(const ControllerService&) = delete;
    ControllerService& operator=(const ControllerService&) = delete;

    // Serves RPCs and ticks until stop(). Errors: the listener's.
    Status run();
    void stop();

    // The RPCs, callable in-process too (the RPC server decodes into these).
    protocol::BrokerRegistrationResponse broker_registration(const protocol::BrokerRegistrationRequest& req);
    protocol::BrokerHeartbeatResponse broker_heartbeat(const protocol::BrokerHeartbeatRequest& req);
    protocol::CreateTopicsResponse create_topics(const protocol::CreateTopicsRequest& req, int16_t version);
    // Deletes topics by name (v0-5) or by name or id (v6), answered once the
    // RemoveTopicRecords are committed. Errors per topic as in controller_logic.h's
    // delete_topics, and NOT_CONTROLLER.
    protocol::DeleteTopicsResponse delete_topics(const protocol::DeleteTopicsRequest& req, int16_t version);
    // Adds partitions to topics, answered once their PartitionRecords are committed.
    // Errors per topic as in controller_logic.h's create_partitions, and NOT_CONTROLLER.
    protocol::CreatePartitionsResponse create_partitions(const protocol::CreatePartitionsRequest& req,
                                                         int16_t version);
    protocol::AlterPartitionResponse alter_partition(const protocol::AlterPartitionRequest& req, int16_t version);
    // Change topics' dynamic configs, answered once their ConfigRecords are committed:
    // IncrementalAlterConfigs (KIP-339 operations) and AlterConfigs (the whole config).
    // Errors per resource as in controller_logic.h's alter_configs, and NOT_CONTROLLER.
    protocol::IncrementalAlterConfigsResponse incremental_alter_configs(
        const protocol::IncrementalAlterConfigsRequest& req);
    protocol::AlterConfigsResponse alter_configs(const protocol::AlterConfigsRequest& req);
    // A block of producer ids for the requesting broker (KIP-730), answered once its
    // ProducerIdsRecord is committed. Errors as in controller_logic.h's
    // allocate_producer_ids, and NOT_CONTROLLER.
    protocol::AllocateProducerIdsResponse allocate_producer_ids(const protocol::AllocateProducerIdsRequest& req);

    const ControllerServiceStats& stats() const { return stats_; }
    const BrokerSessions& sessions() const { return sessions_; }

private:
    Result<Bytes> dispatch(const protocol::RequestFrame& frame);
    // Waits (bounded) until this controller may decide. Requires the mutex.
    Status await_active(Instant deadline);
    // Proposes `records` as one batch and waits for its commit. Requires the mutex.
    Status write(const std::vector<MetadataRecord>& records);
    void tick();
    void fence_lapsed_sessions();
    std::vector<ConfigResourceResult> change_configs(const std::vector<ConfigResourceChange>& in,
                                                     bool validate_only);

    env::Env& env_;
    raft::RaftDriver& driver_;
    const MetadataImage& image_;
    ControllerServiceOptions options_;
    ControllerServiceHooks hooks_;
    env::Mutex mutex_;
    BrokerSessions sessions_;
    std::optional<QuorumEpoch> active_epoch_;   // the epoch this controller decides in
    std::optional<QuorumEpoch> blocked_epoch_;  // an epoch with a proposal of unknown outcome
    Instant next_election_{};
    Instant next_noop_{};
    ControllerServiceStats stats_;
    std::unique_ptr<RpcServer> server_;
    bool stopping_ = false;
    env::Event ticker_done_;
};

}  // namespace keel::controller
