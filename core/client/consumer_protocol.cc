// ConsumerProtocolSubscription and ConsumerProtocolAssignment (see assignor.h): the bytes
// of the classic consumer protocol, as Kafka's generated (non-flexible) code writes them:
//
//   Subscription  int16 version, [topics: string], user_data: nullable bytes,
//                 v1+ [owned: topic string, [partition int32]], v2+ generation int32,
//                 v3+ rack_id: nullable string
//   Assignment    int16 version, [assigned: topic string, [partition int32]],
//                 user_data: nullable bytes
//
// Strings have an int16 length, bytes an int32 length (-1 = null), arrays an int32 count.
// A version above 3 is read as version 3 and the rest ignored (Kafka's forward
// compatibility); a negative version, a short buffer or a count larger than the bytes
// left is Errc::corrupt_record.
#include <algorithm>
#include <map>

#include "core/client/assignor.h"

namespace keel::client {
namespace {

constexpr int16_t kHighestVersion = 3;

void write_nullable_bytes(ByteWriter& w, const std::optional<Bytes>& b) {
    if (!b) return w.i32(-1);
    w.bytes(*b);
}

// Partitions grouped by topic, topics in the order they first appear.
void write_topic_partitions(ByteWriter& w, const std::vector<TopicPartitionName>& tps) {
    std::vector<std::pair<std::string, std::vector<int32_t>>> groups;
    std::map<std::string, size_t> index;
    for (const auto& tp : tps) {
        auto [it, inserted] = index.try_emplace(tp.topic, groups.size());
        if (inserted) groups.push_back({tp.topic, {}});
        groups[it->second].second.push_back(tp.partition.value());
    }
    w.i32(static_cast<int32_t>(groups.size()));
    for (const auto& [topic, partitions] : groups) {
        w.string(topic);
        w.i32(static_cast<int32_t>(partitions.size()));
        for (int32_t p : partitions) w.i32(p);
    }
}

// An array count that is non-negative and fits in the bytes left (each element at least
// `min_size` bytes), so a corrupt count never causes a large allocation.
bool read_count(ByteReader& r, size_t min_size, size_t& n) {
    const int32_t count = r.i32();
    if (!r.ok() || count < 0 || static_cast<size_t>(count) > r.remaining() / min_size) {
        r.fail();
        return false;
    }
    n = static_cast<size_t>(count);
    return true;
}

std::optional<Bytes> read_nullable_bytes(ByteReader& r) {
    const int32_t n = r.i32();
    if (!r.ok() || n == -1) return std::nullopt;
    if (n < 0) {
        r.fail();
        return std::nullopt;
    }
    ByteView v = r.raw(static_cast<size_t>(n));
    if (!r.ok()) return std::nullopt;
    return Bytes(v.begin(), v.end());
}

void read_topic_partitions(ByteReader& r, std::vector<TopicPartitionName>& out) {
    size_t topics = 0;
    if (!read_count(r, 6, topics)) return;
    for (size_t i = 0; i < topics && r.ok(); i++) {
        std::string topic = r.string();
        size_t partitions = 0;
        if (!read_count(r, 4, partitions)) return;
        for (size_t j = 0; j < partitions && r.ok(); j++) {
            const int32_t p = r.i32();
            if (r.ok()) out.push_back({topic, PartitionIndex(p)});
        }
    }
}

void read_topics(ByteReader& r, std::vector<std::string>& out) {
    size_t n = 0;
    if (!read_count(r, 2, n)) return;
    for (size_t i = 0; i < n && r.ok(); i++) {
        std::string t = r.string();
        if (r.ok()) out.push_back(std::move(t));
    }
}

// The version header: the version to read (capped at the highest known), or an error.
Result<int16_t> read_version(ByteReader& r, std::string_view what) {
    const int16_t version = r.i16();
    if (!r.ok()) return Error{Errc::corrupt_record, std::string(what) + ": no version"};
    if (version < 0) {
        return Error{Errc::corrupt_record, std::string(what) + ": unsupported version " + std::to_string(version)};
    }
    return std::min(version, kHighestVersion);
}

}  // namespace

Bytes encode_subscription(const Subscription& s, int16_t version) {
    version = std::clamp<int16_t>(version, 0, kHighestVersion);
    ByteWriter w;
    w.i16(version);
    w.i32(static_cast<int32_t>(s.topics.size()));
    for (const auto& t : s.topics) w.string(t);
    write_nullable_bytes(w, s.user_data);
    if (version >= 1) write_topic_partitions(w, s.owned_partitions);
    if (version >= 2) w.i32(s.generation_id);
    if (version >= 3) w.nullable_string(s.rack_id);
    return w.take();
}

Bytes encode_assignment(const Assignment& a, int16_t version) {
    version = std::clamp<int16_t>(version, 0, kHighestVersion);
    ByteWriter w;
    w.i16(version);
    write_topic_partitions(w, a.partitions);
    write_nullable_bytes(w, a.user_data);
    return w.take();
}

Result<Subscription> decode_subscription(ByteView bytes) {
    ByteReader r(bytes);
    auto version = read_version(r, "ConsumerProtocolSubscription");
    if (!version.ok()) return std::move(version).error();
    Subscription s;
    read_topics(r, s.topics);
    s.user_data = read_nullable_bytes(r);
    if (*version >= 1) read_topic_partitions(r, s.owned_partitions);
    if (*version >= 2) s.generation_id = r.i32();
    if (*version >= 3) s.rack_id = r.nullable_string();
    if (!r.ok()) {
        return Error{Errc::corrupt_record,
                     "ConsumerProtocolSubscription v" + std::to_string(*version) + ": malformed or truncated"};
    }
    return s;
}

Result<Assignment> decode_assignment(ByteView bytes) {
    ByteReader r(bytes);
    auto version = read_version(r, "ConsumerProtocolAssignment");
    if (!version.ok()) return std::move(version).error();
    Assignment a;
    read_topic_partitions(r, a.partitions);
    a.user_data = read_nullable_bytes(r);
    if (!r.ok()) {
        return Error{Errc::corrupt_record,
                     "ConsumerProtocolAssignment v" + std::to_string(*version) + ": malformed or truncated"};
    }
    return a;
}

}  // namespace keel::client
