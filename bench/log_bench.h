// keel bench log: the partition log on real files. For 100-byte and 1 KiB records it
// appends producer-sized batches (16 KiB, Kafka's batch.size) through PartitionLog on a
// PosixDisk and writes the same bytes with plain sequential appends to one file, under
// the same flush policy; then reads the log back with 1 MiB fetches. Figures in MB/s
// (10^6 bytes of batches per second) and the ratio append / raw write (target >= 0.8).
#pragma once

namespace keel::bench {

// argv[0] is the program, argv[1] "bench", argv[2] "log"; options follow:
//   --dir DIR     where partition directories go (default: a fresh /tmp directory)
//   --keep        leave the partition directories in DIR (for `keel dump-log`)
//   --json FILE   also write the figures as JSON
//   --mb N        megabytes written per run (default 128)
//   --flush P     never (Kafka's default) | batch (sync every batch)
int run_log_bench(int argc, char** argv);

}  // namespace keel::bench
