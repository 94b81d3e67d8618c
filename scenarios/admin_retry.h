// What an admin client (the scenarios' "admin" node) retries when CreateTopics fails:
// no active controller yet, the transport, a timeout, or brokers not yet unfenced. Shared
// by ControllerCluster and DataCluster.
#pragma once

#include "core/protocol/error_codes.h"

namespace keel::scenarios {

inline bool create_topics_retriable(protocol::ErrorCode code) {
    return code == protocol::ErrorCode::not_controller || code == protocol::ErrorCode::network_exception ||
           code == protocol::ErrorCode::request_timed_out ||
           code == protocol::ErrorCode::invalid_replication_factor;  // brokers not yet unfenced
}

}  // namespace keel::scenarios
