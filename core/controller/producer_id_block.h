// ProducerIdBlock: a range of producer ids the active controller handed to one broker
// (KIP-730, Kafka's ProducerIdsBlock). Brokers answer InitProducerId from their current
// block; the controller records every hand-out (ProducerIdsRecord) in the metadata log, so
// no id is ever given out twice, across controller failovers and broker restarts.
#pragma once

#include <cstdint>

#include "core/base/types.h"

namespace keel::controller {

// Kafka's ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE.
inline constexpr int32_t producer_id_block_size = 1000;

struct ProducerIdBlock {
    NodeId assigned_broker{-1};
    int64_t first_id = 0;  // the block is [first_id, first_id + size)
    int32_t size = 0;

    int64_t last_id() const { return first_id + size - 1; }
    int64_t next_block_first_id() const { return first_id + size; }
    bool contains(int64_t id) const { return id >= first_id && id < next_block_first_id(); }
    bool operator==(const ProducerIdBlock&) const = default;
};

}  // namespace keel::controller
