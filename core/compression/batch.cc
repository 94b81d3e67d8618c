#include "core/compression/batch.h"

#include "core/compression/codec.h"

namespace keel::compression {
namespace {

class RealBatchCodec final : public log::BatchCodec {
public:
    Result<Bytes> decompress(log::Compression c, ByteView data, size_t max_bytes) const override {
        return compression::decompress(c, data, max_bytes);
    }
    Result<Bytes> compress(log::Compression c, ByteView data) const override {
        return compression::compress(c, data);
    }
};

}  // namespace

const log::BatchCodec& batch_codec() {
    static const RealBatchCodec codec;
    return codec;
}

Result<log::DecodedBatch> decode_batch(ByteView batch) { return log::decode_batch(batch, &batch_codec()); }

Result<Bytes> build_batch(const log::RecordBatchBuilder& builder, log::Compression codec) {
    if (codec == log::Compression::none) return builder.build();
    KEEL_TRY_ASSIGN(Bytes section, compress(codec, builder.records()));
    return builder.build_with_section(section, codec);
}

}  // namespace keel::compression
