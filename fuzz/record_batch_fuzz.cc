// The RecordBatch v2 decoder on arbitrary bytes: header, CRC, producer validation and the
// records (decompressed with the real codecs). Oracles: no crash; a batch that decodes
// has exactly recordsCount records at increasing offsets within [base, last]; a batch
// that passes read_batch has a matching CRC; a producer batch that validates decodes.
#include <cstddef>
#include <cstdint>

#include "core/compression/batch.h"
#include "core/log/record_batch.h"
#include "fuzz/fuzz_check.h"

namespace keel::fuzz {
namespace {

void check_decoded(const log::DecodedBatch& d) {
    const log::BatchHeader& h = d.header;
    FUZZ_CHECK(d.records.size() == static_cast<size_t>(h.records_count), "record count mismatch");
    Offset prev = Offset(-1);
    for (const log::Record& r : d.records) {
        FUZZ_CHECK(r.offset >= h.base_offset && r.offset <= h.last_offset(), "record offset outside the batch");
        FUZZ_CHECK(prev.value() < 0 || r.offset > prev, "record offsets not increasing");
        prev = r.offset;
    }
}

// One batch at the start of `in`; returns its size if it was whole, else 0.
size_t one_batch(ByteView in) {
    auto h = log::read_batch(in);
    if (!h.ok()) {
        FUZZ_CHECK(h.code() == Errc::invalid_record || h.code() == Errc::corrupt_record, h.error().to_string());
        return 0;
    }
    ByteView batch = in.first(h->size_bytes());
    FUZZ_CHECK(log::compute_batch_crc(batch) == h->crc, "read_batch accepted a CRC mismatch");
    Status valid = log::validate_producer_batch(*h, batch);
    auto d = compression::decode_batch(batch);
    if (d.ok()) check_decoded(*d);
    if (valid.ok() && h->compression() == log::Compression::none) {
        FUZZ_CHECK(d.ok(), "a validated uncompressed batch does not decode: " + d.error().to_string());
    }
    auto plain = log::decode_batch(batch, nullptr);
    if (plain.ok()) check_decoded(*plain);
    return h->size_bytes();
}

void run(ByteView in) {
    (void)log::parse_batch_header(in);
    for (int i = 0; i < 64 && !in.empty(); i++) {
        size_t n = one_batch(in);
        if (n == 0) return;
        in = in.subspan(n);
    }
}

}  // namespace
}  // namespace keel::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    keel::fuzz::run(keel::fuzz::input(data, size));
    return 0;
}
