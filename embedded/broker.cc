// Broker, Publisher and the topic table (BrokerCore).
#include <algorithm>
#include <mutex>

#include "embedded/broker_core.h"

namespace keel::embedded {

const char* to_string(Status s) {
    switch (s) {
        case Status::ok: return "ok";
        case Status::timeout: return "timeout";
        case Status::closed: return "closed";
        case Status::no_such_topic: return "no_such_topic";
        case Status::topic_exists: return "topic_exists";
        case Status::too_large: return "too_large";
        case Status::out_of_range: return "out_of_range";
        case Status::overrun: return "overrun";
        case Status::not_subscribed: return "not_subscribed";
        case Status::busy: return "busy";
        case Status::invalid_argument: return "invalid_argument";
    }
    return "unknown";
}

namespace detail {

Status check(const TopicOptions& o) {
    bool ok = o.segment_bytes >= kMinSegmentBytes && o.segment_bytes <= (size_t{1} << 30) &&
              o.retention_messages > 0 && o.retention_bytes > 0;
    return ok ? Status::ok : Status::invalid_argument;
}

Outcome<std::shared_ptr<Topic>> BrokerCore::find(std::string_view name, bool create) {
    if (name.empty()) return {Status::invalid_argument, nullptr};
    {
        std::shared_lock lock(mu_);
        auto it = topics_.find(name);
        if (it != topics_.end()) return {Status::ok, it->second};
    }
    if (!create || !options.create_topics_implicitly) return {Status::no_such_topic, nullptr};
    if (check(options.topic_defaults) != Status::ok) return {Status::invalid_argument, nullptr};
    if (closed.load()) return {Status::closed, nullptr};
    std::unique_lock lock(mu_);
    auto& slot = topics_[std::string(name)];
    if (!slot) slot = std::make_shared<Topic>(std::string(name), options.topic_defaults);
    return {Status::ok, slot};
}

Status BrokerCore::create(std::string_view name, const TopicOptions& topic_options) {
    if (name.empty() || check(topic_options) != Status::ok) return Status::invalid_argument;
    if (closed.load()) return Status::closed;
    std::unique_lock lock(mu_);
    if (topics_.count(name) != 0) return Status::topic_exists;
    topics_.emplace(std::string(name), std::make_shared<Topic>(std::string(name), topic_options));
    return Status::ok;
}

std::vector<std::string> BrokerCore::names() const {
    std::shared_lock lock(mu_);
    std::vector<std::string> out;
    for (auto& [name, topic] : topics_) out.push_back(name);
    return out;
}

void BrokerCore::add_waiter(const std::shared_ptr<Waiter>& w) {
    std::unique_lock lock(mu_);
    std::erase_if(waiters_, [](const auto& p) { return p.expired(); });
    waiters_.push_back(w);
}

void BrokerCore::close() {
    closed.store(true, std::memory_order_seq_cst);
    std::vector<std::shared_ptr<Topic>> topics;
    std::vector<std::shared_ptr<Waiter>> waiters;
    {
        std::shared_lock lock(mu_);
        for (auto& [name, topic] : topics_) topics.push_back(topic);
        for (auto& w : waiters_) {
            if (auto p = w.lock()) waiters.push_back(std::move(p));
        }
    }
    for (auto& t : topics) t->close();
    for (auto& w : waiters) w->wake();
}

}  // namespace detail

Outcome<uint64_t> Publisher::publish(std::string_view value, std::string_view key) const {
    if (!topic_) return {Status::invalid_argument, 0};
    return topic_->append(key, value);
}

const std::string& Publisher::topic() const {
    static const std::string none;
    return topic_ ? topic_->name : none;
}

Broker::Broker(BrokerOptions options) : core_(std::make_shared<detail::BrokerCore>(std::move(options))) {}

Broker::~Broker() { close(); }

Status Broker::create_topic(std::string_view name) { return create_topic(name, core_->options.topic_defaults); }

Status Broker::create_topic(std::string_view name, const TopicOptions& options) {
    return core_->create(name, options);
}

Outcome<Publisher> Broker::publisher(std::string_view topic) {
    auto found = core_->find(topic, true);
    Publisher p;
    p.topic_ = found.value;
    return {found.status, p};
}

Outcome<uint64_t> Broker::publish(std::string_view topic, std::string_view value, std::string_view key) {
    auto p = publisher(topic);
    if (!p.ok()) return {p.status, 0};
    return p.value.publish(value, key);
}

Outcome<TopicInfo> Broker::info(std::string_view topic) const {
    auto found = core_->find(topic, false);
    if (!found.ok()) return {found.status, {}};
    return {Status::ok, found.value->info()};
}

std::vector<std::string> Broker::topics() const { return core_->names(); }

void Broker::close() { core_->close(); }

}  // namespace keel::embedded
