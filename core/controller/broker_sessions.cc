#include "core/controller/broker_sessions.h"

#include <algorithm>

namespace keel::controller {

void BrokerSessions::touch(NodeId b, Instant now) {
    Instant& last = last_contact_[b];
    last = std::max(last, now);
}

void BrokerSessions::reset(const MetadataImage& image, Instant now) {
    last_contact_.clear();
    for (const auto& [id, b] : image.brokers()) last_contact_[id] = now;
}

bool BrokerSessions::has_live_session(NodeId b, Instant now) const {
    auto it = last_contact_.find(b);
    return it != last_contact_.end() && now < it->second + timeout_;
}

std::optional<Instant> BrokerSessions::last_contact(NodeId b) const {
    auto it = last_contact_.find(b);
    if (it == last_contact_.end()) return std::nullopt;
    return it->second;
}

std::vector<NodeId> BrokerSessions::expired(const MetadataImage& image, Instant now) {
    std::vector<NodeId> out;
    for (const auto& [id, b] : image.brokers()) {
        if (b.fenced) continue;
        auto [it, inserted] = last_contact_.try_emplace(id, now);
        if (!inserted && now >= it->second + timeout_) out.push_back(id);
    }
    return out;
}

Instant BrokerSessions::next_expiry(const MetadataImage& image) const {
    Instant next = Instant::max();
    for (const auto& [id, b] : image.brokers()) {
        if (b.fenced) continue;
        auto it = last_contact_.find(id);
        if (it != last_contact_.end()) next = std::min(next, it->second + timeout_);
    }
    return next;
}

}  // namespace keel::controller
