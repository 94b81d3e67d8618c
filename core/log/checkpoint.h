// Small text files a partition directory keeps beside its segments, written atomically
// (write `<name>.tmp`, sync it, rename over `<name>`, sync the directory), so a crash
// leaves either the old or the new contents, never a mix.
//
// Offset checkpoints use Kafka's offset-checkpoint text format (version 0):
//     0\n1\n<topic> <partition> <offset>\n
// Kafka keeps one such file per log directory listing every partition; Keel keeps one
// per partition directory (recovery-point-offset-checkpoint, log-start-offset-checkpoint,
// cleaner-offset-checkpoint). See docs/log-format.md.
#pragma once

#include <optional>
#include <string>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/base/types.h"
#include "core/env/disk.h"

namespace keel::log {

inline constexpr const char* kRecoveryPointCheckpoint = "recovery-point-offset-checkpoint";
inline constexpr const char* kLogStartOffsetCheckpoint = "log-start-offset-checkpoint";
inline constexpr const char* kCleanerOffsetCheckpoint = "cleaner-offset-checkpoint";
inline constexpr const char* kLeaderEpochCheckpoint = "leader-epoch-checkpoint";
inline constexpr const char* kTmpSuffix = ".tmp";

// Replaces `path` with `contents` atomically and durably (see above).
Status write_file_atomically(env::Disk& disk, const std::string& path, ByteView contents);

// The whole file; nullopt if it does not exist.
Result<std::optional<Bytes>> read_whole_file(env::Disk& disk, const std::string& path);
// The same, for a file without a checksum (Kafka's text checkpoints): read until two reads
// in a row agree (at most `attempts` reads), so a bit flipped in one read is not taken
// for the file's content and written back. The last read if none agree.
Result<std::optional<Bytes>> read_whole_file_twice(env::Disk& disk, const std::string& path, int attempts);

std::string encode_offset_checkpoint(const std::string& topic, int32_t partition, Offset offset);
// Errc::corrupt unless the text is exactly one well-formed entry for (topic, partition).
Result<Offset> decode_offset_checkpoint(std::string_view text, const std::string& topic,
                                        int32_t partition);

// Parses a decimal int64 (optional leading '-'); nullopt unless the whole text is one.
std::optional<int64_t> parse_int64(std::string_view text);

}  // namespace keel::log
