#include "core/log/crc32c.h"

#include <array>
#include <cstring>

namespace keel::log {
namespace {

constexpr uint32_t kPolyReflected = 0x82F63B78u;

using Table = std::array<std::array<uint32_t, 256>, 8>;

// Slicing-by-8 tables: t[0] is the classic byte table; t[k][b] advances t[k-1][b] by one
// more zero byte, so eight bytes are folded per step.
constexpr Table make_tables() {
    Table t{};
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t c = b;
        for (int i = 0; i < 8; i++) c = (c & 1) ? (c >> 1) ^ kPolyReflected : c >> 1;
        t[0][b] = c;
    }
    for (int k = 1; k < 8; k++) {
        for (uint32_t b = 0; b < 256; b++) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
    }
    return t;
}

constexpr Table kTables = make_tables();

uint32_t load_le32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
           static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

// The raw (not pre/post-inverted) table update.
uint32_t portable_update(uint32_t c, const uint8_t* p, size_t n) {
    while (n >= 8) {
        uint32_t lo = load_le32(p) ^ c;
        uint32_t hi = load_le32(p + 4);
        c = kTables[7][lo & 0xff] ^ kTables[6][(lo >> 8) & 0xff] ^ kTables[5][(lo >> 16) & 0xff] ^
            kTables[4][lo >> 24] ^ kTables[3][hi & 0xff] ^ kTables[2][(hi >> 8) & 0xff] ^
            kTables[1][(hi >> 16) & 0xff] ^ kTables[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n-- > 0) c = (c >> 8) ^ kTables[0][(c ^ *p++) & 0xff];
    return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t hardware_update(uint32_t c, const uint8_t* p,
                                                             size_t n) {
    uint64_t c64 = c;
    while (n >= 8) {
        uint64_t v;
        std::memcpy(&v, p, 8);  // unaligned-safe; x86 is little-endian like the CRC wants
        c64 = __builtin_ia32_crc32di(c64, v);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = static_cast<uint32_t>(c64);
    while (n-- > 0) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}

bool detect_hardware() { return __builtin_cpu_supports("sse4.2") != 0; }
#else
uint32_t hardware_update(uint32_t c, const uint8_t* p, size_t n) { return portable_update(c, p, n); }
bool detect_hardware() { return false; }
#endif

// Decided once; the CPU does not change under a running process.
const bool kHasHardware = detect_hardware();

}  // namespace

bool crc32c_hardware_available() { return kHasHardware; }

uint32_t crc32c_portable_extend(uint32_t crc, ByteView data) {
    return ~portable_update(~crc, data.data(), data.size());
}

uint32_t crc32c_hardware_extend(uint32_t crc, ByteView data) {
    return ~hardware_update(~crc, data.data(), data.size());
}

uint32_t crc32c_extend(uint32_t crc, ByteView data) {
    return kHasHardware ? crc32c_hardware_extend(crc, data) : crc32c_portable_extend(crc, data);
}

uint32_t crc32c(ByteView data) { return crc32c_extend(0, data); }

}  // namespace keel::log
