#include "core/log/crc32c.h"

#include <array>
#include <cstring>

#include "core/base/bytes.h"

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

// The crc32 instruction has a latency of 3 cycles but a throughput of one per cycle, so
// three independent streams over adjacent blocks run ~3x faster than one; the three CRCs
// are then combined. The raw (uninverted) CRC update is linear: update(s, A ++ B) ==
// shift_|B|(update(s, A)) ^ update(0, B), where shift_n(s) is update(s, n zero bytes).
constexpr size_t kLongBlock = 4096;
constexpr size_t kShortBlock = 256;

// shift_n as four byte-indexed tables (the operator is linear, so it acts bytewise).
struct ShiftTables {
    uint32_t t[4][256];
    explicit ShiftTables(size_t zeros) {
        uint32_t basis[32];
        Bytes z(zeros, 0);
        for (int bit = 0; bit < 32; bit++) basis[bit] = portable_update(1u << bit, z.data(), z.size());
        for (int k = 0; k < 4; k++) {
            for (uint32_t b = 0; b < 256; b++) {
                uint32_t v = 0;
                for (int bit = 0; bit < 8; bit++) {
                    if (b & (1u << bit)) v ^= basis[8 * k + bit];
                }
                t[k][b] = v;
            }
        }
    }
    uint32_t shift(uint32_t c) const {
        return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
    }
};

const ShiftTables& long_shift() {
    static const ShiftTables tables(kLongBlock);
    return tables;
}
const ShiftTables& short_shift() {
    static const ShiftTables tables(kShortBlock);
    return tables;
}

__attribute__((target("sse4.2"))) inline uint64_t load64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);  // unaligned-safe; x86 is little-endian like the CRC wants
    return v;
}

// Three streams over blocks of `block` bytes while at least 3 blocks remain.
__attribute__((target("sse4.2"))) uint32_t three_way(uint32_t c, const uint8_t*& p, size_t& n, size_t block,
                                                    const ShiftTables& shift) {
    while (n >= 3 * block) {
        uint64_t c0 = c, c1 = 0, c2 = 0;
        const uint8_t* end = p + block;
        do {
            c0 = __builtin_ia32_crc32di(c0, load64(p));
            c1 = __builtin_ia32_crc32di(c1, load64(p + block));
            c2 = __builtin_ia32_crc32di(c2, load64(p + 2 * block));
            p += 8;
        } while (p < end);
        c = shift.shift(static_cast<uint32_t>(c0)) ^ static_cast<uint32_t>(c1);
        c = shift.shift(c) ^ static_cast<uint32_t>(c2);
        p += 2 * block;
        n -= 3 * block;
    }
    return c;
}

__attribute__((target("sse4.2"))) uint32_t hardware_update(uint32_t c, const uint8_t* p,
                                                             size_t n) {
    if (n >= 3 * kLongBlock) c = three_way(c, p, n, kLongBlock, long_shift());
    if (n >= 3 * kShortBlock) c = three_way(c, p, n, kShortBlock, short_shift());
    uint64_t c64 = c;
    while (n >= 8) {
        c64 = __builtin_ia32_crc32di(c64, load64(p));
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
