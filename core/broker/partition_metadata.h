// partition.metadata: the file in every partition directory that names the topic id the
// directory belongs to (Kafka's PartitionMetadataFile), so that a directory of a deleted
// topic is never taken for a new topic of the same name.
//
// Kafka's form, which Keel writes:
//   version: 0
//   topic_id: <Uuid.toString(): the 16 bytes in unpadded base64url, 22 characters>
// Keel before this change wrote the id as 32 hex digits; both are read. Anything else
// (another version, no topic_id line, a malformed id) is an error with the reason.
//
// Pure functions: ReplicaManager (replica_manager_dirs.cc) does the file I/O.
#pragma once

#include <string>
#include <string_view>

#include "core/base/result.h"
#include "core/protocol/codec.h"

namespace keel::broker {

// Uuid.fromString: the inverse of protocol::uuid_string (exactly 22 base64url characters), or 32 hex digits
// (Keel's older form). Errors: invalid_argument naming what is wrong.
Result<protocol::Uuid> parse_topic_id(std::string_view text);

// The file's text, in Kafka's form.
std::string format_partition_metadata(const protocol::Uuid& topic_id);
// The topic id the file's text names. Errors: invalid_argument (version other than 0, no
// topic_id, a malformed id).
Result<protocol::Uuid> parse_partition_metadata(std::string_view text);

}  // namespace keel::broker
