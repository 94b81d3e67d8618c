#include "cli/dump_log.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "cli/args.h"
#include "core/compression/batch.h"
#include "core/log/dump.h"
#include "core/log/segment.h"

namespace keel::cli {
namespace {

const char* kHelp = R"(usage: keel dump-log [--no-records] [--max-chars N] PATH...

Prints a partition directory's files (like Kafka's kafka-dump-log.sh):
  <base>.log                batches and records: offsets, epochs, timestamps, keys,
                            values, headers, codec, CRC status (compressed batches are
                            decoded: gzip, snappy, lz4, zstd)
  <base>.index              offset -> position entries
  <base>.timeindex          timestamp -> offset entries
  leader-epoch-checkpoint   epoch -> start offset
  *-offset-checkpoint       recovery point, log start, cleaner point
PATH may be a directory: every file in it is printed, in name order.

options:
  --no-records     batch headers only
  --max-chars N    cut keys, values and header values after N characters (default 80)
)";

bool read_file(const std::string& path, Bytes& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The rendering for one file, chosen by its name; nullopt if the name is not one we know.
std::optional<std::string> render(const std::string& name, const Bytes& bytes, const log::DumpOptions& o) {
    if (auto base = log::parse_segment_file_name(name, log::kLogSuffix)) {
        return log::dump_log_segment(bytes, *base, o);
    }
    if (auto base = log::parse_segment_file_name(name, log::kIndexSuffix)) {
        return log::dump_offset_index(bytes, *base);
    }
    if (auto base = log::parse_segment_file_name(name, log::kTimeIndexSuffix)) {
        return log::dump_time_index(bytes, *base);
    }
    if (name == "leader-epoch-checkpoint") return log::dump_leader_epoch_checkpoint(as_chars(bytes));
    if (ends_with(name, "-offset-checkpoint")) return log::dump_offset_checkpoint(as_chars(bytes));
    return std::nullopt;
}

int dump_file(const std::filesystem::path& path, const log::DumpOptions& o, bool quiet_unknown) {
    std::string name = path.filename().string();
    Bytes bytes;
    if (!read_file(path.string(), bytes)) {
        std::fprintf(stderr, "keel dump-log: cannot read %s\n", path.string().c_str());
        return 1;
    }
    auto text = render(name, bytes, o);
    if (!text) {
        if (quiet_unknown) return 0;
        std::fprintf(stderr, "keel dump-log: %s is not a segment, index or checkpoint file\n", name.c_str());
        return 1;
    }
    std::printf("Dumping %s\n%s", path.string().c_str(), text->c_str());
    return 0;
}

}  // namespace

int run_dump_log(int argc, char** argv) {
    ArgSpec spec{.value_options = {"--max-chars"}, .flags = {"--help", "-h", "--no-records"}, .repeated = {}};
    Args args(argc, argv, 2, spec);
    if (!args.ok()) return usage_error("dump-log", args.error());
    if (args.flag("--help") || args.flag("-h")) {
        std::fputs(kHelp, stdout);
        return 0;
    }
    if (args.positionals().empty()) return usage_error("dump-log", "give a segment, index, checkpoint or directory path");
    log::DumpOptions o;
    o.print_records = !args.flag("--no-records");
    o.codec = &compression::batch_codec();
    if (auto n = args.u64("--max-chars")) o.max_payload_chars = static_cast<size_t>(*n);
    if (!args.ok()) return usage_error("dump-log", args.error());
    int rc = 0;
    for (const std::string& p : args.positionals()) {
        std::error_code ec;
        if (std::filesystem::is_directory(p, ec)) {
            std::vector<std::filesystem::path> files;
            for (const auto& e : std::filesystem::directory_iterator(p, ec)) {
                if (e.is_regular_file()) files.push_back(e.path());
            }
            std::sort(files.begin(), files.end());
            for (const auto& f : files) rc |= dump_file(f, o, /*quiet_unknown=*/true);
        } else {
            rc |= dump_file(p, o, /*quiet_unknown=*/false);
        }
    }
    return rc;
}

}  // namespace keel::cli
