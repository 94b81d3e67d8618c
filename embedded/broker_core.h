// Internals of embedded/pubsub.h: the topic table a Broker, its Publishers and Subscribers
// share. Not part of the public API.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "embedded/pubsub.h"
#include "embedded/topic.h"

namespace keel::embedded::detail {

struct BrokerCore {
    explicit BrokerCore(BrokerOptions broker_options) : options(std::move(broker_options)) {}
    const BrokerOptions options;
    std::atomic<bool> closed{false};

    // The topic called `name`, created with the defaults if `create` (and the broker allows it).
    Outcome<std::shared_ptr<Topic>> find(std::string_view name, bool create);
    Status create(std::string_view name, const TopicOptions& topic_options);
    std::vector<std::string> names() const;
    void add_waiter(const std::shared_ptr<Waiter>& w);
    void close();

private:
    mutable std::shared_mutex mu_;
    std::map<std::string, std::shared_ptr<Topic>, std::less<>> topics_;
    std::vector<std::weak_ptr<Waiter>> waiters_;  // every subscriber's, woken by close()
};

// invalid_argument unless the options can be honoured.
Status check(const TopicOptions& options);

}  // namespace keel::embedded::detail
