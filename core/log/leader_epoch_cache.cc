#include "core/log/leader_epoch_cache.h"

#include <algorithm>

#include "core/log/checkpoint.h"

namespace keel::log {

bool LeaderEpochCache::assign(LeaderEpoch epoch, Offset start_offset) {
    KEEL_ASSERT(epoch.value() >= 0 && start_offset.value() >= 0);
    if (!entries_.empty() && entries_.back().epoch == epoch &&
        start_offset >= entries_.back().start_offset) {
        return false;
    }
    while (!entries_.empty() &&
           (entries_.back().epoch >= epoch || entries_.back().start_offset >= start_offset)) {
        entries_.pop_back();
    }
    entries_.push_back({epoch, start_offset});
    return true;
}

EpochEntry LeaderEpochCache::end_offset_for(LeaderEpoch requested, Offset log_end_offset) const {
    if (requested == kUndefinedEpoch || entries_.empty()) return {kUndefinedEpoch, kUndefinedEpochOffset};
    if (entries_.back().epoch == requested) return {requested, log_end_offset};
    auto higher = std::upper_bound(entries_.begin(), entries_.end(), requested,
                                   [](LeaderEpoch e, const EpochEntry& x) { return e < x.epoch; });
    if (higher == entries_.end()) return {kUndefinedEpoch, kUndefinedEpochOffset};
    if (higher == entries_.begin()) return {requested, higher->start_offset};
    return {(higher - 1)->epoch, higher->start_offset};
}

std::optional<LeaderEpoch> LeaderEpochCache::epoch_for_offset(Offset offset) const {
    std::optional<LeaderEpoch> found;
    for (const EpochEntry& e : entries_) {
        if (e.start_offset > offset) break;
        found = e.epoch;
    }
    return found;
}

bool LeaderEpochCache::truncate_from_end(Offset end_offset) {
    bool changed = false;
    while (!entries_.empty() && entries_.back().start_offset >= end_offset) {
        entries_.pop_back();
        changed = true;
    }
    return changed;
}

bool LeaderEpochCache::truncate_from_start(Offset start_offset) {
    size_t below = 0;
    while (below < entries_.size() && entries_[below].start_offset <= start_offset) below++;
    if (below == 0) return false;
    EpochEntry last_below{entries_[below - 1].epoch, start_offset};
    if (below == 1 && entries_[0] == last_below) return false;
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(below));
    entries_.insert(entries_.begin(), last_below);
    return true;
}

std::string LeaderEpochCache::encode() const {
    std::string s = "0\n" + std::to_string(entries_.size()) + "\n";
    for (const EpochEntry& e : entries_) {
        s += std::to_string(e.epoch.value()) + " " + std::to_string(e.start_offset.value()) + "\n";
    }
    return s;
}

Result<LeaderEpochCache> LeaderEpochCache::decode(std::string_view text) {
    auto bad = [](const std::string& why) { return Error{Errc::corrupt, "leader-epoch-checkpoint: " + why}; };
    std::vector<std::string_view> lines;
    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        if (nl == std::string_view::npos) return bad("missing final newline");
        lines.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    if (lines.size() < 2 || lines[0] != "0") return bad("not version 0");
    auto count = parse_int64(lines[1]);
    if (!count || *count < 0 || static_cast<size_t>(*count) != lines.size() - 2) {
        return bad("entry count does not match");
    }
    LeaderEpochCache cache;
    for (size_t i = 2; i < lines.size(); i++) {
        size_t sp = lines[i].find(' ');
        auto epoch = sp == std::string_view::npos ? std::nullopt : parse_int64(lines[i].substr(0, sp));
        auto offset = sp == std::string_view::npos ? std::nullopt : parse_int64(lines[i].substr(sp + 1));
        if (!epoch || !offset || *epoch < 0 || *epoch > INT32_MAX || *offset < 0) {
            return bad("malformed entry '" + std::string(lines[i]) + "'");
        }
        EpochEntry e{LeaderEpoch(static_cast<int32_t>(*epoch)), Offset(*offset)};
        if (!cache.entries_.empty() && (e.epoch <= cache.entries_.back().epoch ||
                                        e.start_offset < cache.entries_.back().start_offset)) {
            return bad("entries do not increase");
        }
        cache.entries_.push_back(e);
    }
    return cache;
}

}  // namespace keel::log
