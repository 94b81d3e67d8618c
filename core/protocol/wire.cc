#include "core/protocol/wire.h"

#include <algorithm>
#include <limits>

namespace keel::protocol::wire {

void write_string(Writer& w, bool flex, std::string_view s) {
    flex ? w.compact_string(s) : w.classic_string(s);
}

void write_nullable_string(Writer& w, bool flex, const std::optional<std::string>& s, bool nullable) {
    if (!s && !nullable) return write_string(w, flex, "");
    flex ? w.compact_nullable_string(s) : w.classic_nullable_string(s);
}

std::string read_string(Reader& r, bool flex) {
    return flex ? r.compact_string() : r.classic_string();
}

std::optional<std::string> read_nullable_string(Reader& r, bool flex, bool nullable) {
    std::optional<std::string> s = flex ? r.compact_nullable_string() : r.classic_nullable_string();
    if (r.ok() && !s && !nullable) r.fail("null string where the schema does not allow null");
    return s;
}

void write_bytes(Writer& w, bool flex, ByteView b) { flex ? w.compact_bytes(b) : w.classic_bytes(b); }

void write_nullable_bytes(Writer& w, bool flex, const std::optional<Bytes>& b, bool nullable) {
    if (!b && !nullable) return write_bytes(w, flex, ByteView{});
    if (b) return write_bytes(w, flex, *b);
    flex ? w.uvarint(0) : w.i32(-1);
}

namespace {

// The length of a bytes field: -1 for null; fails on a malformed length.
int64_t read_bytes_length(Reader& r, bool flex) {
    int64_t n = 0;
    if (flex) {
        uint64_t u = r.uvarint();
        if (u > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()) + 1) {
            r.fail("compact bytes length too large");
            return 0;
        }
        n = static_cast<int64_t>(u) - 1;
    } else {
        n = r.i32();
        if (n < -1) r.fail("negative bytes length " + std::to_string(n));
    }
    if (!r.ok()) return 0;
    if (n > static_cast<int64_t>(r.remaining())) {
        r.fail("bytes length " + std::to_string(n) + " exceeds the " +
               std::to_string(r.remaining()) + " bytes left");
        return 0;
    }
    return n;
}

}  // namespace

std::optional<Bytes> read_nullable_bytes(Reader& r, bool flex, bool nullable) {
    int64_t n = read_bytes_length(r, flex);
    if (!r.ok()) return std::nullopt;
    if (n < 0) {
        if (!nullable) r.fail("null bytes where the schema does not allow null");
        return std::nullopt;
    }
    ByteView v = r.raw(static_cast<size_t>(n));
    return Bytes(v.begin(), v.end());
}

Bytes read_bytes(Reader& r, bool flex) { return read_nullable_bytes(r, flex, false).value_or(Bytes{}); }

void write_array_length(Writer& w, bool flex, size_t n) {
    KEEL_ASSERT(n <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
    if (flex) {
        w.uvarint(n + 1);
    } else {
        w.i32(static_cast<int32_t>(n));
    }
}

void write_null_array(Writer& w, bool flex) { flex ? w.uvarint(0) : w.i32(-1); }

int64_t read_array_length(Reader& r, bool flex) {
    int64_t n = 0;
    if (flex) {
        uint64_t u = r.uvarint();
        if (u > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()) + 1) {
            r.fail("compact array length too large");
            return 0;
        }
        n = static_cast<int64_t>(u) - 1;
    } else {
        n = r.i32();
        if (n < -1) r.fail("negative array length " + std::to_string(n));
    }
    if (!r.ok()) return 0;
    // Every element takes at least one byte on the wire, which bounds the allocation.
    if (n > static_cast<int64_t>(r.remaining())) {
        r.fail("array length " + std::to_string(n) + " exceeds the " +
               std::to_string(r.remaining()) + " bytes left");
        return 0;
    }
    return n;
}

bool read_struct_presence(Reader& r, bool nullable) {
    int8_t marker = r.i8();
    if (!r.ok()) return false;
    if (marker == 1) return true;
    if (marker == -1) {
        if (!nullable) r.fail("null struct where the schema does not allow null");
        return false;
    }
    r.fail("bad struct presence marker " + std::to_string(marker));
    return false;
}

void write_tagged_fields(Writer& w, std::vector<Writer::TaggedField> known,
                         const RawTaggedFields& unknown) {
    size_t k = known.size();
    for (const RawTaggedField& u : unknown) {
        bool shadowed = std::any_of(known.begin(), known.begin() + static_cast<ptrdiff_t>(k),
                                    [&](const Writer::TaggedField& f) { return f.tag == u.tag; });
        if (!shadowed) known.push_back({u.tag, u.data});
    }
    std::stable_sort(known.begin(), known.end(),
                     [](const Writer::TaggedField& a, const Writer::TaggedField& b) { return a.tag < b.tag; });
    w.uvarint(known.size());
    int64_t last = -1;
    for (const Writer::TaggedField& f : known) {
        KEEL_ASSERT_MSG(static_cast<int64_t>(f.tag) > last, "tagged fields must ascend");
        last = f.tag;
        w.uvarint(f.tag);
        w.uvarint(f.payload.size());
        w.raw(f.payload);
    }
}

bool read_tag_header(Reader& r, uint64_t& count) {
    count = r.uvarint();
    if (r.ok() && count > r.remaining()) r.fail("tagged field count exceeds the bytes left");
    return r.ok();
}

bool read_one_tag(Reader& r, int64_t& last_tag, uint32_t& tag, ByteView& payload) {
    uint64_t number = r.uvarint();
    uint64_t size = r.uvarint();
    if (!r.ok()) return false;
    if (number > UINT32_MAX || static_cast<int64_t>(number) <= last_tag) {
        r.fail("tagged fields out of order or duplicated");
        return false;
    }
    if (size > r.remaining()) {
        r.fail("tagged field " + std::to_string(number) + " is longer than the bytes left");
        return false;
    }
    last_tag = static_cast<int64_t>(number);
    tag = static_cast<uint32_t>(number);
    payload = r.raw(static_cast<size_t>(size));
    return r.ok();
}

void check_tag_consumed(Reader& r, uint32_t tag, const Reader& sub) {
    if (!sub.ok()) return r.fail("tag " + std::to_string(tag) + ": " + sub.error());
    if (sub.remaining() != 0) r.fail("tag " + std::to_string(tag) + " has trailing bytes");
}

}  // namespace keel::protocol::wire
