// A minimal single-broker Kafka for the client's simulator tests: ApiVersions, Metadata,
// InitProducerId, Produce (with Kafka's idempotence rules: a retried batch among the
// producer's last five is answered with its original offset, a gap is
// OUT_OF_ORDER_SEQUENCE_NUMBER), Fetch and ListOffsets, one log per partition in memory.
// Faults a test arms: lose the next Produce answers after appending (the connection is
// closed instead of answering, as a crash between append and reply would), or answer the
// next Produce requests with an error code without appending.
//
// It is test scaffolding, not Keel's broker (core/broker/ is that); it exists so the client
// runs in the simulator, deterministically, against a broker whose behaviour the test knows.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/env/network.h"
#include "core/protocol/error_codes.h"
#include "core/protocol/frame.h"

namespace keel::client::testing {

class FakeBroker {
public:
    FakeBroker(env::Address self, std::map<std::string, int32_t> topics)
        : self_(std::move(self)), topics_(std::move(topics)) {}

    // The response frame, or an error (the server then closes the connection).
    Result<Bytes> handle(const protocol::RequestFrame& frame);

    int lose_produce_answers = 0;                  // after appending, close instead of answering
    std::deque<protocol::ErrorCode> produce_errors;  // answer these (not appended)
    int produce_requests = 0;
    // Metadata names this leader epoch for every partition instead of the log's (a broker
    // whose image is behind: a deposed leader that has not heard of its successor).
    std::optional<int32_t> metadata_leader_epoch;
    std::map<protocol::ApiKey, int16_t> last_version;  // per api, the version last received

    struct Entry {
        int64_t producer_id;
        int32_t first_sequence;
        int32_t last_sequence;
        int64_t base_offset;
    };
    struct Partition {
        std::vector<Bytes> batches;  // with their assigned base offsets and leader epochs
        int64_t next_offset = 0;
        int32_t leader_epoch = 0;
        std::map<int64_t, std::deque<Entry>> producers;  // the last five batches per producer
    };
    // An unclean leader change: the log loses every batch from `new_end` on (a batch
    // boundary) and the leader epoch goes up.
    void truncate_and_bump_epoch(const std::string& topic, int32_t p, int64_t new_end);
    const Partition* partition(const std::string& topic, int32_t p) const {
        auto it = log_.find({topic, p});
        return it == log_.end() ? nullptr : &it->second;
    }

private:
    Result<Bytes> metadata(const protocol::RequestFrame& f);
    Result<Bytes> init_producer_id(const protocol::RequestFrame& f);
    Result<Bytes> produce(const protocol::RequestFrame& f);
    protocol::ErrorCode append(const std::string& topic, int32_t p, const Bytes& batch, int64_t* base_offset);
    Result<Bytes> fetch(const protocol::RequestFrame& f);
    Result<Bytes> list_offsets(const protocol::RequestFrame& f);
    static std::optional<std::pair<int32_t, int64_t>> diverging(const Partition& part, int32_t last_fetched_epoch,
                                                                int64_t fetch_offset);

    env::Address self_;
    std::map<std::string, int32_t> topics_;
    std::map<std::pair<std::string, int32_t>, Partition> log_;
    int64_t next_producer_id_ = 1000;
};

}  // namespace keel::client::testing
