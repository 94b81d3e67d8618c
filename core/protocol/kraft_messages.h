// The KRaft RPCs of KIP-595/630/853/996 and the LeaderChange control record, generated from
// Kafka's message schemas in core/protocol/schemas/ ({Vote,BeginQuorumEpoch,EndQuorumEpoch,
// FetchSnapshot}{Request,Response}.json, LeaderChangeMessage.json; docs/protocol.md). Field
// names are Kafka's in snake_case (keelName keeps Keel's: Vote's ReplicaEpoch/ReplicaId/
// ReplicaDirectoryId are candidate_epoch/candidate_id/candidate_directory_id). Fetch, shared
// with clients, is in fetch.h.
//
// Versions (all of Kafka's as of 4.0):
//   Vote              v0-v2, flexible from v0 (v1: directory ids, v2: PreVote)
//   BeginQuorumEpoch  v0-v1, flexible from v1 (v1: voter key, leader endpoints)
//   EndQuorumEpoch    v0-v1, flexible from v1 (v1: preferred candidates, leader endpoints)
//   FetchSnapshot     v0-v1, flexible from v0 (v1: replica directory id)
//   LeaderChangeMessage v0 (flexible), the value of the leader-change control record:
//                     encode_to_bytes(0) / decode_from_bytes(b, 0).
// Defaults are Kafka's: integers without a schema default are 0 (so FetchSnapshot's absent
// CurrentLeader tag reads as leader 0, epoch 0, as in Kafka). Fields absent from the
// version being written are not encoded and decode to defaults; tagged fields unknown at
// the version read are kept and written back.
#pragma once

#include "core/protocol/generated/begin_quorum_epoch_request.h"
#include "core/protocol/generated/begin_quorum_epoch_response.h"
#include "core/protocol/generated/end_quorum_epoch_request.h"
#include "core/protocol/generated/end_quorum_epoch_response.h"
#include "core/protocol/generated/fetch_snapshot_request.h"
#include "core/protocol/generated/fetch_snapshot_response.h"
#include "core/protocol/generated/leader_change_message.h"
#include "core/protocol/generated/vote_request.h"
#include "core/protocol/generated/vote_response.h"
