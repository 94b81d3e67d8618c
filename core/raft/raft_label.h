// A Raft message in a few words for traces and space-time diagrams: its kind and the
// fields that explain it, e.g. "Fetch off=518 e=2 last=1", "VoteResp e=3 granted",
// "FetchResp hw=517 84B div=1/500". The driver writes it as a `raft.frame` trace event
// right after the frame leaves (docs/trace-format.md); `keel viz spacetime` puts it on
// the message's arrow.
#pragma once

#include <string>

#include "core/raft/raft_types.h"

namespace keel::raft {

std::string message_label(const Message& m);

}  // namespace keel::raft
