#include "core/raft/entry_codec.h"

#include "core/protocol/codec.h"

namespace keel::raft {

Bytes encode_entries(std::span<const LogEntry> entries) {
    protocol::Writer w(false);
    for (const LogEntry& e : entries) {
        w.i64(e.offset.value());
        w.i32(e.epoch.value());
        w.i8(static_cast<int8_t>(e.kind));
        w.bytes(e.payload);
    }
    return w.take();
}

Result<std::vector<LogEntry>> decode_entries(ByteView bytes) {
    protocol::Reader r(bytes, false);
    std::vector<LogEntry> out;
    while (r.ok() && r.remaining() > 0) {
        LogEntry e;
        e.offset = Offset(r.i64());
        e.epoch = QuorumEpoch(r.i32());
        int8_t kind = r.i8();
        e.payload = r.bytes();
        if (!r.ok()) break;
        if (kind != static_cast<int8_t>(EntryKind::data) &&
            kind != static_cast<int8_t>(EntryKind::leader_change)) {
            return Error{Errc::invalid_record, "unknown entry kind " + std::to_string(kind)};
        }
        e.kind = static_cast<EntryKind>(kind);
        out.push_back(std::move(e));
    }
    Status s = r.finish("raft entries");
    if (!s.ok()) return Error{Errc::invalid_record, s.error().message};
    return out;
}

}  // namespace keel::raft
