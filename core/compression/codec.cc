#include "core/compression/codec.h"

#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

namespace keel::compression {
namespace {

constexpr uint8_t kXerialMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t kXerialHeaderBytes = 16;  // magic, int32 version, int32 compatible version
constexpr size_t kXerialBlockBytes = 32 * 1024;
constexpr size_t kOutputStep = 64 * 1024;

Error bad(const char* codec, const std::string& why) {
    return Error{Errc::invalid_record, std::string(codec) + ": " + why};
}
Error too_large(const char* codec, size_t max_bytes) {
    return Error{Errc::message_too_large,
                 std::string(codec) + ": output exceeds " + std::to_string(max_bytes) + " bytes"};
}

// Grows `out` by up to kOutputStep within max_bytes; false if already at max_bytes.
bool grow(Bytes& out, size_t& used, size_t max_bytes) {
    if (used >= max_bytes) return false;
    out.resize(std::min(max_bytes, used + kOutputStep));
    return true;
}

}  // namespace

// ---- gzip ----

Result<Bytes> gzip_decompress(ByteView data, size_t max_bytes) {
    z_stream z{};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return bad("gzip", "inflateInit2 failed");
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, inflateEnd);
    z.next_in = const_cast<Bytef*>(data.data());
    z.avail_in = static_cast<uInt>(data.size());
    Bytes out;
    size_t used = 0;
    while (true) {
        if (used == out.size() && !grow(out, used, max_bytes)) {
            // Full: fine only if the stream is exactly done.
            uint8_t probe;
            z.next_out = &probe;
            z.avail_out = 1;
            int rc = inflate(&z, Z_NO_FLUSH);
            if (rc == Z_STREAM_END && z.avail_out == 1 && z.avail_in == 0) break;
            return too_large("gzip", max_bytes);
        }
        z.next_out = out.data() + used;
        z.avail_out = static_cast<uInt>(out.size() - used);
        int rc = inflate(&z, Z_NO_FLUSH);
        used = out.size() - z.avail_out;
        if (rc == Z_STREAM_END) {
            if (z.avail_in == 0) break;
            if (inflateReset(&z) != Z_OK) return bad("gzip", "inflateReset failed");  // next member
            continue;
        }
        if (rc == Z_BUF_ERROR && z.avail_in == 0) return bad("gzip", "stream cut short");
        if (rc != Z_OK && rc != Z_BUF_ERROR) return bad("gzip", z.msg ? z.msg : "inflate failed");
    }
    out.resize(used);
    return out;
}

Result<Bytes> gzip_compress(ByteView data) {
    z_stream z{};
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        return bad("gzip", "deflateInit2 failed");
    }
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, deflateEnd);
    Bytes out(deflateBound(&z, static_cast<uLong>(data.size())) + 32);
    z.next_in = const_cast<Bytef*>(data.data());
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) return bad("gzip", "deflate did not finish");
    out.resize(out.size() - z.avail_out);
    return out;
}

// ---- snappy ----

bool is_xerial_snappy(ByteView data) {
    return data.size() >= sizeof kXerialMagic && std::memcmp(data.data(), kXerialMagic, sizeof kXerialMagic) == 0;
}

namespace {

Status snappy_block(ByteView block, Bytes& out, size_t max_bytes) {
    size_t n = 0;
    auto in = reinterpret_cast<const char*>(block.data());
    if (snappy_uncompressed_length(in, block.size(), &n) != SNAPPY_OK ||
        snappy_validate_compressed_buffer(in, block.size()) != SNAPPY_OK) {
        return bad("snappy", "invalid block");
    }
    if (n > max_bytes - out.size()) return too_large("snappy", max_bytes);
    size_t at = out.size();
    out.resize(at + n);
    if (snappy_uncompress(in, block.size(), reinterpret_cast<char*>(out.data() + at), &n) != SNAPPY_OK) {
        return bad("snappy", "invalid block");
    }
    out.resize(at + n);
    return ok_status();
}

}  // namespace

Result<Bytes> snappy_decompress(ByteView data, size_t max_bytes) {
    Bytes out;
    if (!is_xerial_snappy(data)) {
        KEEL_TRY(snappy_block(data, out, max_bytes));
        return out;
    }
    if (data.size() < kXerialHeaderBytes) return bad("snappy", "xerial header cut short");
    ByteReader r(data.subspan(kXerialHeaderBytes));
    while (!r.at_end()) {
        int32_t len = r.i32();
        if (!r.ok() || len < 0 || static_cast<size_t>(len) > r.remaining()) {
            return bad("snappy", "xerial block length out of range");
        }
        KEEL_TRY(snappy_block(r.raw(static_cast<size_t>(len)), out, max_bytes));
    }
    return out;
}

Result<Bytes> snappy_compress_raw(ByteView data) {
    size_t n = snappy_max_compressed_length(data.size());
    Bytes out(n);
    if (snappy_compress(reinterpret_cast<const char*>(data.data()), data.size(),
                        reinterpret_cast<char*>(out.data()), &n) != SNAPPY_OK) {
        return bad("snappy", "compress failed");
    }
    out.resize(n);
    return out;
}

Result<Bytes> snappy_compress_xerial(ByteView data) {
    ByteWriter w;
    w.raw(ByteView(kXerialMagic, sizeof kXerialMagic));
    w.i32(1);  // version
    w.i32(1);  // minimum compatible version
    for (size_t pos = 0; pos < data.size(); pos += kXerialBlockBytes) {
        KEEL_TRY_ASSIGN(Bytes block, snappy_compress_raw(data.subspan(pos, std::min(kXerialBlockBytes, data.size() - pos))));
        w.i32(static_cast<int32_t>(block.size()));
        w.raw(block);
    }
    return w.take();
}

// ---- lz4 ----

Result<Bytes> lz4_decompress(ByteView data, size_t max_bytes) {
    LZ4F_dctx* ctx = nullptr;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) return bad("lz4", "no context");
    std::unique_ptr<LZ4F_dctx, size_t (*)(LZ4F_dctx*)> guard(ctx, LZ4F_freeDecompressionContext);
    Bytes out;
    size_t used = 0, in_pos = 0;
    size_t hint = 1;
    while (hint != 0) {
        if (in_pos >= data.size()) return bad("lz4", "frame cut short");
        if (used == out.size() && !grow(out, used, max_bytes)) return too_large("lz4", max_bytes);
        size_t dst = out.size() - used, src = data.size() - in_pos;
        hint = LZ4F_decompress(ctx, out.data() + used, &dst, data.data() + in_pos, &src, nullptr);
        if (LZ4F_isError(hint)) return bad("lz4", LZ4F_getErrorName(hint));
        used += dst;
        in_pos += src;
    }
    if (in_pos != data.size()) return bad("lz4", "bytes after the frame");
    out.resize(used);
    return out;
}

Result<Bytes> lz4_compress(ByteView data) {
    LZ4F_preferences_t prefs{};
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
    prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
    Bytes out(LZ4F_compressFrameBound(data.size(), &prefs));
    size_t n = LZ4F_compressFrame(out.data(), out.size(), data.data(), data.size(), &prefs);
    if (LZ4F_isError(n)) return bad("lz4", LZ4F_getErrorName(n));
    out.resize(n);
    return out;
}

// ---- zstd ----

Result<Bytes> zstd_decompress(ByteView data, size_t max_bytes) {
    std::unique_ptr<ZSTD_DStream, size_t (*)(ZSTD_DStream*)> ds(ZSTD_createDStream(), ZSTD_freeDStream);
    if (!ds || ZSTD_isError(ZSTD_initDStream(ds.get()))) return bad("zstd", "no stream");
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    Bytes out;
    size_t used = 0, rc = 1;
    while (rc != 0) {
        if (in.pos >= in.size && used < out.size()) return bad("zstd", "frame cut short");
        if (used == out.size() && !grow(out, used, max_bytes)) return too_large("zstd", max_bytes);
        ZSTD_outBuffer o{out.data(), out.size(), used};
        rc = ZSTD_decompressStream(ds.get(), &o, &in);
        if (ZSTD_isError(rc)) return bad("zstd", ZSTD_getErrorName(rc));
        used = o.pos;
        if (rc != 0 && in.pos >= in.size && o.pos < o.size) return bad("zstd", "frame cut short");
    }
    if (in.pos != in.size) return bad("zstd", "bytes after the frame");
    out.resize(used);
    return out;
}

Result<Bytes> zstd_compress(ByteView data) {
    Bytes out(ZSTD_compressBound(data.size()));
    size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
    if (ZSTD_isError(n)) return bad("zstd", ZSTD_getErrorName(n));
    out.resize(n);
    return out;
}

// ---- dispatch ----

Result<Bytes> decompress(Compression codec, ByteView data, size_t max_bytes) {
    switch (codec) {
        case Compression::none:
            if (data.size() > max_bytes) return too_large("none", max_bytes);
            return Bytes(data.begin(), data.end());
        case Compression::gzip: return gzip_decompress(data, max_bytes);
        case Compression::snappy: return snappy_decompress(data, max_bytes);
        case Compression::lz4: return lz4_decompress(data, max_bytes);
        case Compression::zstd: return zstd_decompress(data, max_bytes);
    }
    return bad("codec", "unknown compression " + std::to_string(static_cast<int>(codec)));
}

Result<Bytes> compress(Compression codec, ByteView data) {
    switch (codec) {
        case Compression::none: return Bytes(data.begin(), data.end());
        case Compression::gzip: return gzip_compress(data);
        case Compression::snappy: return snappy_compress_xerial(data);
        case Compression::lz4: return lz4_compress(data);
        case Compression::zstd: return zstd_compress(data);
    }
    return bad("codec", "unknown compression " + std::to_string(static_cast<int>(codec)));
}

}  // namespace keel::compression
