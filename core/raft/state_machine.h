// StateMachine: what a Raft driver feeds committed entries to (the KRaft metadata image
// on controllers and brokers; a test recorder in the simulator).
//
// Contract: apply() sees every committed data entry exactly once per incarnation, in
// offset order with no gaps — except that a restore_snapshot() replaces everything below
// its end offset. take_snapshot() serializes everything applied so far; restoring its
// bytes must yield the same state as replaying the entries (a property the tests check).
#pragma once

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/base/types.h"

namespace keel::raft {

class StateMachine {
public:
    virtual ~StateMachine() = default;
    // A committed data entry (Raft control entries are not passed on).
    virtual void apply(Offset offset, QuorumEpoch epoch, ByteView record) = 0;
    // The state after every applied entry; `end_offset` is one past the last one applied.
    virtual Bytes take_snapshot(Offset end_offset) = 0;
    // Replaces the whole state with a snapshot covering every entry below end_offset.
    // Errors: Errc::corrupt (the bytes do not decode).
    virtual Status restore_snapshot(Offset end_offset, ByteView data) = 0;
};

}  // namespace keel::raft
