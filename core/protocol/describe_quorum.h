// DescribeQuorum (API key 55): an operator asks the KRaft leader how its quorum stands
// (kafka-metadata-quorum.sh describe --status / --replication). Generated from Kafka's
// message schemas in core/protocol/schemas/ (DescribeQuorum{Request,Response}.json;
// docs/protocol.md). Field names are Kafka's in snake_case.
//
// Versions: v0-v2, all flexible; neither message defines a tagged field (unknown tags are
// kept in unknown_tagged_fields and written back).
//   v1 (KIP-836): ReplicaState.LastFetchTimestamp, ReplicaState.LastCaughtUpTimestamp
//   v2 (KIP-853): top-level and partition ErrorMessage (nullable), ReplicaState.
//                 ReplicaDirectoryId, top-level Nodes[] { NodeId, Listeners[] { Name,
//                 Host, Port (uint16) } } — Nodes is a regular field, not a tagged one.
// The request is the same in every version. Fields absent from the version being written
// are not encoded and decode to their schema defaults: timestamps -1, directory id zero,
// error messages null, no nodes. Defaults are Kafka's: ids, epochs and offsets without a
// schema default are 0, so a writer that means "unknown" sets -1 itself.
#pragma once

#include "core/protocol/generated/describe_quorum_request.h"
#include "core/protocol/generated/describe_quorum_response.h"
