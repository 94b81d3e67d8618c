// CRC-32C (Castagnoli): the checksum of Kafka's RecordBatch v2. Polynomial 0x1EDC6F41
// (reflected 0x82F63B78), initial value 0xFFFFFFFF, final XOR 0xFFFFFFFF; the same CRC
// the SSE4.2 `crc32` instruction computes. Check value: crc32c("123456789") == 0xE3069283.
//
// crc32c() uses the CPU instruction when the running CPU has it (detected once) and a
// slicing-by-8 table otherwise; both give identical results (tested).
#pragma once

#include <cstdint>

#include "core/base/bytes.h"

namespace keel::log {

// CRC-32C of `data`.
uint32_t crc32c(ByteView data);

// Continues a CRC: crc32c_extend(crc32c(a), b) == crc32c(a ++ b). crc32c_extend(0, x) ==
// crc32c(x).
uint32_t crc32c_extend(uint32_t crc, ByteView data);

// The two implementations, exposed for tests and benchmarks. crc32c_hardware requires
// crc32c_hardware_available().
uint32_t crc32c_portable_extend(uint32_t crc, ByteView data);
uint32_t crc32c_hardware_extend(uint32_t crc, ByteView data);
bool crc32c_hardware_available();

}  // namespace keel::log
