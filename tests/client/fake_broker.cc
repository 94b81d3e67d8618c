// FakeBroker (see fake_broker.h).
#include "tests/client/fake_broker.h"

#include "core/log/record_batch.h"
#include "core/protocol/api_versions.h"
#include "core/protocol/fetch.h"
#include "core/protocol/generated/init_producer_id_request.h"
#include "core/protocol/generated/init_producer_id_response.h"
#include "core/protocol/generated/list_offsets_request.h"
#include "core/protocol/generated/list_offsets_response.h"
#include "core/protocol/generated/metadata_request.h"
#include "core/protocol/generated/metadata_response.h"
#include "core/protocol/generated/produce_request.h"
#include "core/protocol/generated/produce_response.h"

namespace keel::client::testing {

using protocol::ApiKey;
using protocol::ErrorCode;

namespace {

const protocol::ApiVersionRange kTable[] = {
    {ApiKey::produce, 3, 9},        {ApiKey::fetch, 4, 12},         {ApiKey::list_offsets, 1, 7},
    {ApiKey::metadata, 1, 12},      {ApiKey::api_versions, 0, 3},   {ApiKey::init_producer_id, 0, 4},
};

}  // namespace

Result<Bytes> FakeBroker::handle(const protocol::RequestFrame& f) {
    last_version[f.header.api_key] = f.header.api_version;
    switch (f.header.api_key) {
        case ApiKey::api_versions: return protocol::answer_api_versions(f, kTable);
        case ApiKey::metadata: return metadata(f);
        case ApiKey::init_producer_id: return init_producer_id(f);
        case ApiKey::produce: return produce(f);
        case ApiKey::fetch: return fetch(f);
        case ApiKey::list_offsets: return list_offsets(f);
        default: return Error{Errc::unsupported_version, "fake broker: api not served"};
    }
}

Result<Bytes> FakeBroker::metadata(const protocol::RequestFrame& f) {
    KEEL_TRY_ASSIGN(auto req, protocol::decode_request_body<protocol::MetadataRequest>(f));
    protocol::MetadataResponse resp;
    resp.brokers.push_back({NodeId(1), self_.host, self_.port, std::nullopt, {}});
    resp.controller_id = NodeId(1);
    for (const auto& [name, count] : topics_) {
        protocol::MetadataResponse::MetadataResponseTopic t;
        t.name = name;
        for (int32_t p = 0; p < count; p++) {
            protocol::MetadataResponse::MetadataResponsePartition mp;
            mp.partition_index = PartitionIndex(p);
            mp.leader_id = NodeId(1);
            auto it = log_.find({name, p});
            mp.leader_epoch = LeaderEpoch(it == log_.end() ? 0 : it->second.leader_epoch);
            if (metadata_leader_epoch) mp.leader_epoch = LeaderEpoch(*metadata_leader_epoch);
            mp.replica_nodes = {NodeId(1)};
            mp.isr_nodes = {NodeId(1)};
            t.partitions.push_back(mp);
        }
        resp.topics.push_back(std::move(t));
    }
    (void)req;
    return protocol::encode_response(f.header.correlation_id, f.header.api_version, resp);
}

Result<Bytes> FakeBroker::init_producer_id(const protocol::RequestFrame& f) {
    KEEL_TRY_ASSIGN(auto req, protocol::decode_request_body<protocol::InitProducerIdRequest>(f));
    (void)req;
    protocol::InitProducerIdResponse resp;
    resp.producer_id = next_producer_id_++;
    resp.producer_epoch = 0;
    return protocol::encode_response(f.header.correlation_id, f.header.api_version, resp);
}

ErrorCode FakeBroker::append(const std::string& topic, int32_t p, const Bytes& batch, int64_t* base_offset) {
    auto h = log::read_batch(batch);
    if (!h.ok()) return ErrorCode::corrupt_message;
    Partition& part = log_[{topic, p}];
    if (h->producer_id >= 0) {
        auto& window = part.producers[h->producer_id];
        for (const Entry& e : window) {
            if (e.first_sequence == h->base_sequence) {  // a retry of a batch already written
                *base_offset = e.base_offset;
                return ErrorCode::none;
            }
        }
        // A producer the partition has seen must continue where it stopped.
        if (!window.empty() && h->base_sequence != window.back().last_sequence + 1) {
            return ErrorCode::out_of_order_sequence_number;
        }
        window.push_back({h->producer_id, h->base_sequence, h->base_sequence + h->records_count - 1, part.next_offset});
        if (window.size() > 5) window.pop_front();
    }
    Bytes stored = batch;
    log::set_base_offset(stored, Offset(part.next_offset));
    log::set_partition_leader_epoch(stored, LeaderEpoch(part.leader_epoch));
    *base_offset = part.next_offset;
    part.next_offset += h->records_count;
    part.batches.push_back(std::move(stored));
    return ErrorCode::none;
}

Result<Bytes> FakeBroker::produce(const protocol::RequestFrame& f) {
    KEEL_TRY_ASSIGN(auto req, protocol::decode_request_body<protocol::ProduceRequest>(f));
    produce_requests++;
    ErrorCode injected = ErrorCode::none;
    if (!produce_errors.empty()) {
        injected = produce_errors.front();
        produce_errors.pop_front();
    }
    protocol::ProduceResponse resp;
    for (const auto& t : req.topic_data) {
        protocol::ProduceResponse::TopicProduceResponse tr;
        tr.name = t.name;
        for (const auto& pd : t.partition_data) {
            protocol::ProduceResponse::PartitionProduceResponse pr;
            pr.index = pd.index;
            int64_t base = -1;
            bool known = topics_.count(t.name) && pd.index.value() < topics_.at(t.name);
            pr.error_code = injected != ErrorCode::none ? injected
                            : !known                    ? ErrorCode::unknown_topic_or_partition
                            : !pd.records               ? ErrorCode::corrupt_message
                                                        : append(t.name, pd.index.value(), *pd.records, &base);
            pr.base_offset = base;
            tr.partition_responses.push_back(std::move(pr));
        }
        resp.responses.push_back(std::move(tr));
    }
    if (injected == ErrorCode::none && lose_produce_answers > 0) {
        lose_produce_answers--;
        return Error{Errc::disconnected, "fake broker: the answer is lost"};
    }
    if (req.acks == 0) return Error{Errc::closed, "acks=0: no answer"};  // never sent by the tests
    return protocol::encode_response(f.header.correlation_id, f.header.api_version, resp);
}

Result<Bytes> FakeBroker::fetch(const protocol::RequestFrame& f) {
    KEEL_TRY_ASSIGN(auto req, protocol::decode_request_body<protocol::FetchRequest>(f));
    protocol::FetchResponse resp;
    for (const auto& t : req.topics) {
        protocol::FetchResponse::FetchableTopicResponse tr;
        tr.topic = t.topic;
        for (const auto& p : t.partitions) {
            protocol::FetchResponse::PartitionData pd;
            pd.partition_index = p.partition;
            const Partition* part = partition(t.topic, p.partition);
            int64_t end = part ? part->next_offset : 0;
            pd.high_watermark = Offset(end);
            pd.last_stable_offset = Offset(end);
            pd.log_start_offset = Offset(0);
            auto div = part && f.header.api_version >= 12 && p.last_fetched_epoch >= 0
                           ? diverging(*part, p.last_fetched_epoch, p.fetch_offset.value())
                           : std::nullopt;
            if (div) {
                pd.diverging_epoch = {div->first, Offset(div->second)};
            } else if (p.fetch_offset.value() > end || p.fetch_offset.value() < 0) {
                pd.error_code = ErrorCode::offset_out_of_range;
            } else if (part != nullptr) {
                for (const Bytes& b : part->batches) {
                    auto h = log::parse_batch_header(b);
                    if (h->last_offset() < p.fetch_offset) continue;
                    if (!pd.records.empty() && pd.records.size() + b.size() > static_cast<size_t>(p.partition_max_bytes)) break;
                    pd.records.insert(pd.records.end(), b.begin(), b.end());
                }
            }
            tr.partitions.push_back(std::move(pd));
        }
        resp.responses.push_back(std::move(tr));
    }
    return protocol::encode_response(f.header.correlation_id, f.header.api_version, resp);
}

void FakeBroker::truncate_and_bump_epoch(const std::string& topic, int32_t p, int64_t new_end) {
    Partition& part = log_[{topic, p}];
    while (!part.batches.empty() && log::parse_batch_header(part.batches.back())->base_offset.value() >= new_end) {
        part.batches.pop_back();
    }
    part.next_offset = new_end;
    part.leader_epoch++;
    part.producers.clear();
}

// Kafka's check for a fetch with LastFetchedEpoch: the end offset of the largest epoch at or
// below it; diverging if that epoch is older or ends before the fetch offset.
std::optional<std::pair<int32_t, int64_t>> FakeBroker::diverging(const Partition& part, int32_t last_fetched_epoch,
                                                                 int64_t fetch_offset) {
    int32_t epoch = -1;
    int64_t end = part.next_offset;
    for (const Bytes& b : part.batches) {
        auto h = log::parse_batch_header(b);
        int32_t e = h->partition_leader_epoch.value();
        if (e <= last_fetched_epoch) {
            epoch = e;
        } else {
            end = h->base_offset.value();  // the first batch of a later epoch ends ours
            break;
        }
    }
    if (epoch == last_fetched_epoch && end >= fetch_offset) return std::nullopt;
    return std::make_pair(epoch, epoch < 0 ? int64_t{-1} : end);
}

Result<Bytes> FakeBroker::list_offsets(const protocol::RequestFrame& f) {
    KEEL_TRY_ASSIGN(auto req, protocol::decode_request_body<protocol::ListOffsetsRequest>(f));
    protocol::ListOffsetsResponse resp;
    for (const auto& t : req.topics) {
        protocol::ListOffsetsResponse::ListOffsetsTopicResponse tr;
        tr.name = t.name;
        for (const auto& p : t.partitions) {
            protocol::ListOffsetsResponse::ListOffsetsPartitionResponse pr;
            pr.partition_index = p.partition_index;
            const Partition* part = partition(t.name, p.partition_index.value());
            int64_t end = part ? part->next_offset : 0;
            pr.offset = p.timestamp == -2 ? 0 : end;
            pr.timestamp = -1;
            tr.partitions.push_back(pr);
        }
        resp.topics.push_back(std::move(tr));
    }
    return protocol::encode_response(f.header.correlation_id, f.header.api_version, resp);
}

}  // namespace keel::client::testing
