// keel dump-log PATH...: prints what a partition directory holds, like Kafka's
// kafka-dump-log.sh — a segment's batches and records (offsets, epochs, timestamps, keys,
// values, headers, CRC status), an .index or .timeindex file's entries, or a checkpoint
// file. A directory prints every file in it, in name order.
#pragma once

namespace keel::cli {

// argv[0] is the program, argv[1] "dump-log"; options and paths follow.
int run_dump_log(int argc, char** argv);

}  // namespace keel::cli
