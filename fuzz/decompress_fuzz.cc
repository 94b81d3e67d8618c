// One decompressor (KEEL_FUZZ_CODEC: gzip, snappy, lz4 or zstd) on arbitrary bytes, with
// a 1 MiB output limit. Oracles: no crash; the limit holds (a bomb is message_too_large,
// never an allocation); what decompresses, compressed again, decompresses to itself.
#include <cstddef>
#include <cstdint>

#include "core/compression/codec.h"
#include "fuzz/fuzz_check.h"

namespace keel::fuzz {
namespace {

constexpr log::Compression kCodec = log::Compression::KEEL_FUZZ_CODEC;
constexpr size_t kMaxBytes = 1 << 20;

void run(ByteView in) {
    auto out = compression::decompress(kCodec, in, kMaxBytes);
    if (!out.ok()) {
        FUZZ_CHECK(out.code() == Errc::invalid_record || out.code() == Errc::message_too_large,
                   out.error().to_string());
        return;
    }
    FUZZ_CHECK(out->size() <= kMaxBytes, "output above the limit");
    auto again = compression::compress(kCodec, *out);
    FUZZ_CHECK(again.ok(), "compress failed: " + again.error().to_string());
    auto back = compression::decompress(kCodec, *again, kMaxBytes);
    FUZZ_CHECK(back.ok() && *back == *out, "compress/decompress round trip changed the bytes");
}

}  // namespace
}  // namespace keel::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    keel::fuzz::run(keel::fuzz::input(data, size));
    return 0;
}
