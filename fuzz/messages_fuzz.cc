// Every message decoder Keel has, on arbitrary bytes. Input: a selector byte, a version
// byte (signed), then the bytes to decode:
//   0-9    request bodies (message_types.h order)   10-19  response bodies
//   20     LeaderChangeMessage (control record value)
//   21     one framed metadata record                22     a metadata record batch
//   23     one Raft entry batch                      24     a run of Raft entry batches
//   25-29  Raft response frames (Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch, FetchSnapshot)
// Oracles: no crash, and whatever decodes re-encodes to bytes that decode to the same value.
#include <cstddef>
#include <cstdint>

#include "core/controller/metadata_records.h"
#include "core/raft/entry_codec.h"
#include "core/raft/raft_wire.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/message_types.h"

namespace keel::fuzz {
namespace {

// The record version in a framed record (frame version, type, version: three varints).
int16_t framed_version(ByteView in) {
    protocol::Reader r(in, true);
    (void)r.uvarint();
    (void)r.uvarint();
    return static_cast<int16_t>(r.uvarint());
}

// Re-encoded at the version it was read at: unknown tagged fields are kept as they came,
// and at a newer version their tag may name a field (RegisterBrokerRecord v0 carrying a
// tag 0 that v3 defines as LogDirs was found this way; docs/fuzzing.md).
void metadata_record(ByteView in) {
    auto r = controller::decode_record(in);
    if (!r.ok()) return;
    Bytes again = controller::encode_record(*r, framed_version(in));
    auto back = controller::decode_record(again);
    FUZZ_CHECK(back.ok(), "a metadata record's own encoding does not decode: " + back.error().to_string());
    FUZZ_CHECK(*back == *r, "metadata record round trip changed it: " + controller::describe(*r));
}

// A record of a batch must round-trip at some version up to the newest: the one it was
// read at (which the batch decoder does not report) is among them.
bool round_trips_at_some_version(const controller::MetadataRecord& r) {
    for (int16_t v = controller::max_version(controller::record_type(r)); v >= 0; v--) {
        auto back = controller::decode_record(controller::encode_record(r, v));
        if (back.ok() && *back == r) return true;
    }
    return false;
}

void metadata_batch(ByteView in) {
    auto b = controller::decode_batch(in);
    if (!b.ok()) return;
    for (const auto& r : *b) {
        FUZZ_CHECK(round_trips_at_some_version(r), "metadata record in a batch does not round-trip");
    }
}

void leader_change(ByteView in) {
    auto m = protocol::LeaderChangeMessage::decode_from_bytes(in, 0);
    if (!m.ok()) return;
    auto back = protocol::LeaderChangeMessage::decode_from_bytes(m->encode_to_bytes(0), 0);
    FUZZ_CHECK(back.ok() && *back == *m, "LeaderChangeMessage round trip changed it");
}

void entry_batch(ByteView in) {
    auto e = raft::decode_entry_batch(in);
    if (!e.ok()) return;
    auto back = raft::decode_entry_batch(raft::encode_entry_batch(*e, 0));
    FUZZ_CHECK(back.ok() && *back == *e, "Raft entry round trip changed it");
}

void entries(ByteView in) {
    auto es = raft::decode_entries(in);
    if (!es.ok()) return;
    auto back = raft::decode_entries(raft::encode_entries(*es));
    FUZZ_CHECK(back.ok() && *back == *es, "Raft entries round trip changed them");
}

void raft_response(uint8_t which, ByteView in) {
    using protocol::ApiKey;
    static constexpr ApiKey kKeys[] = {ApiKey::vote, ApiKey::begin_quorum_epoch, ApiKey::end_quorum_epoch,
                                       ApiKey::fetch, ApiKey::fetch_snapshot};
    (void)raft::decode_response_message(NodeId(2), NodeId(1), kKeys[which % 5], in);
}

void run(ByteView in) {
    if (in.size() < 2) return;
    uint8_t sel = in[0] % 30;
    auto version = static_cast<int16_t>(static_cast<int8_t>(in[1]));
    ByteView body = in.subspan(2);
    if (sel < 2 * kBodyTypes) {
        with_body_type(sel < kBodyTypes, sel % kBodyTypes,
                       [&]<typename B>() { round_trip_body<B>(body, version); });
        return;
    }
    switch (sel) {
        case 20: return leader_change(body);
        case 21: return metadata_record(body);
        case 22: return metadata_batch(body);
        case 23: return entry_batch(body);
        case 24: return entries(body);
        default: return raft_response(static_cast<uint8_t>(sel - 25), body);
    }
}

}  // namespace
}  // namespace keel::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    keel::fuzz::run(keel::fuzz::input(data, size));
    return 0;
}
