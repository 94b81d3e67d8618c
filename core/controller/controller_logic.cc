#include "core/controller/controller_logic.h"

#include <algorithm>
#include <limits>
#include <set>

#include "core/controller/partition_change.h"

namespace keel::controller {
namespace {

std::string n(NodeId id) { return std::to_string(id.value()); }

Election election_for(const MetadataImage& image, const TopicState& t) {
    return image.unclean_leader_election_enabled(t.name) ? Election::unclean : Election::clean;
}

std::vector<NodeId> without(const std::vector<NodeId>& v, NodeId x) {
    std::vector<NodeId> out;
    for (NodeId e : v) {
        if (e != x) out.push_back(e);
    }
    return out;
}

// Partition changes that take `b` out of every ISR it is in (but a last-standing one) and
// away from every leadership, electing replacements.
void remove_from_isrs(const MetadataImage& image, NodeId b, std::vector<MetadataRecord>& out) {
    auto acceptable = [&image, b](NodeId r) { return r != b && image.is_active(r); };
    for (const TopicPartition& tp : image.partitions_with_isr_member(b)) {
        const TopicState& t = *image.topic(tp.topic_id);
        const PartitionState& p = t.partitions.at(tp.partition);
        PartitionChangeBuilder builder(tp.topic_id, tp.partition, p, acceptable);
        builder.set_target_isr(without(p.isr, b)).set_election(election_for(image, t));
        if (auto r = builder.build()) out.push_back(*r);
    }
}

// Elections for leaderless partitions, counting `extra` (a broker being unfenced in the
// same batch) as active.
void elect_leaderless_into(const MetadataImage& image, std::optional<NodeId> extra,
                           std::vector<MetadataRecord>& out) {
    auto acceptable = [&image, extra](NodeId r) { return (extra && r == *extra) || image.is_active(r); };
    for (const TopicPartition& tp : image.leaderless_partitions()) {
        const TopicState& t = *image.topic(tp.topic_id);
        PartitionChangeBuilder builder(tp.topic_id, tp.partition, t.partitions.at(tp.partition), acceptable);
        builder.set_election(election_for(image, t));
        if (auto r = builder.build()) out.push_back(*r);
    }
}

}  // namespace

// --------------------------------------------------------------------- registration

Result<ControllerResult<BrokerEpoch>> register_broker(const MetadataImage& image, const RegistrationInput& in,
                                                      BrokerEpoch new_epoch, bool has_live_session,
                                                      const ControllerConfig& config) {
    if (in.cluster_id != config.cluster_id) {
        return Error{Errc::inconsistent_cluster_id,
                     "expected cluster id " + config.cluster_id + ", got " + in.cluster_id};
    }
    if (in.broker_id.value() < 0) return Error{Errc::invalid_request, "negative broker id"};
    const BrokerRegistration* old = image.broker(in.broker_id);
    // A fenced registration has no session to protect (Kafka's hasValidSession is false
    // for a fenced broker): a restart after a fence or a controlled shutdown registers at once.
    if (old != nullptr && !old->fenced && has_live_session && old->incarnation_id != in.incarnation_id) {
        return Error{Errc::duplicate_broker_registration,
                     "another incarnation of broker " + n(in.broker_id) + " has a live session"};
    }
    KEEL_ASSERT(old == nullptr || new_epoch > old->epoch);
    ControllerResult<BrokerEpoch> out{{}, new_epoch};
    if (old != nullptr) remove_from_isrs(image, in.broker_id, out.records);
    RegisterBrokerRecord r;
    r.broker_id = in.broker_id;
    r.incarnation_id = in.incarnation_id;
    r.broker_epoch = new_epoch;
    r.endpoints = in.listeners;
    r.features = in.features;
    r.rack = in.rack;
    r.fenced = true;
    out.records.push_back(std::move(r));
    return out;
}

// ------------------------------------------------------------------------ heartbeat

std::vector<MetadataRecord> fence_broker(const MetadataImage& image, NodeId b) {
    const BrokerRegistration* reg = image.broker(b);
    KEEL_ASSERT(reg != nullptr && !reg->fenced);
    std::vector<MetadataRecord> out;
    remove_from_isrs(image, b, out);
    out.push_back(FenceBrokerRecord{b, reg->epoch});
    return out;
}

std::vector<MetadataRecord> elect_leaderless(const MetadataImage& image) {
    std::vector<MetadataRecord> out;
    elect_leaderless_into(image, std::nullopt, out);
    return out;
}

Result<ControllerResult<HeartbeatReply>> broker_heartbeat(const MetadataImage& image, const HeartbeatInput& in) {
    const BrokerRegistration* b = image.broker(in.broker_id);
    if (b == nullptr) return Error{Errc::broker_not_registered, "broker " + n(in.broker_id) + " is not registered"};
    if (b->epoch != in.broker_epoch) {
        return Error{Errc::stale_broker_epoch, "broker " + n(in.broker_id) + " has epoch " +
                                                   std::to_string(b->epoch.value()) + ", not " +
                                                   std::to_string(in.broker_epoch.value())};
    }
    ControllerResult<HeartbeatReply> out;
    // Caught up: the broker has applied its own registration record.
    out.reply.is_caught_up = in.current_metadata_offset.value() >= b->epoch.value();
    out.reply.is_fenced = b->fenced;
    if (b->fenced) {
        if (in.want_shut_down) {
            out.reply.should_shut_down = true;
        } else if (!in.want_fence && out.reply.is_caught_up && !b->in_controlled_shutdown) {
            out.records.push_back(UnfenceBrokerRecord{b->id, b->epoch});
            elect_leaderless_into(image, b->id, out.records);
            out.reply.is_fenced = false;
        }
        return out;
    }
    if (b->in_controlled_shutdown) {
        if (in.want_shut_down || in.want_fence) {
            out.records = fence_broker(image, b->id);
            out.reply.is_fenced = true;
            out.reply.should_shut_down = in.want_shut_down;
        }
        return out;
    }
    if (in.want_shut_down) {
        remove_from_isrs(image, b->id, out.records);
        BrokerRegistrationChangeRecord r;
        r.broker_id = b->id;
        r.broker_epoch = b->epoch;
        r.in_controlled_shutdown = 1;
        out.records.push_back(r);
    } else if (in.want_fence) {
        out.records = fence_broker(image, b->id);
        out.reply.is_fenced = true;
    }
    return out;
}

// -------------------------------------------------------------------- create topics

std::vector<std::vector<NodeId>> place_replicas(const std::vector<NodeId>& brokers, int32_t partitions,
                                                int16_t replication_factor, size_t start, size_t shift) {
    size_t count = brokers.size();
    auto rf = static_cast<size_t>(replication_factor);
    KEEL_ASSERT(rf >= 1 && rf <= count);
    std::vector<std::vector<NodeId>> out;
    for (int32_t p = 0; p < partitions; p++) {
        auto pi = static_cast<size_t>(p);
        if (p > 0 && pi % count == 0) shift++;
        size_t first = (pi + start) % count;
        std::vector<NodeId> replicas{brokers[first]};
        for (size_t j = 0; j + 1 < rf; j++) {
            // The followers sit at a shift in [1, count-1] from the first replica, so no
            // broker appears twice; the shift moves every `count` partitions.
            size_t offset = 1 + (shift + j) % (count - 1);
            replicas.push_back(brokers[(first + offset) % count]);
        }
        out.push_back(std::move(replicas));
    }
    return out;
}

Status validate_topic_name(const std::string& name) {
    if (name.empty()) return Status(Errc::invalid_topic, "topic name is empty");
    if (name == "." || name == "..") return Status(Errc::invalid_topic, "topic name cannot be '.' or '..'");
    if (name.size() > 249) return Status(Errc::invalid_topic, "topic name is longer than 249 characters");
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        if (!ok) return Status(Errc::invalid_topic, "topic name " + name + " has a character outside [a-zA-Z0-9._-]");
    }
    return ok_status();
}

namespace {

struct TopicPlan {
    std::vector<std::vector<NodeId>> replicas;
    int16_t replication_factor = 0;
};

// A manual assignment's replicas of one partition (`which`): not empty, no broker twice,
// every broker registered, at least one of them active (the ISR would be empty).
Status check_assignment(const MetadataImage& image, const std::vector<NodeId>& replicas, const std::string& which) {
    std::set<NodeId> seen(replicas.begin(), replicas.end());
    if (replicas.empty() || seen.size() != replicas.size()) {
        return Status(Errc::invalid_replica_assignment, which + " has no replicas or names a broker twice");
    }
    bool any_active = false;
    for (NodeId r : replicas) {
        if (image.broker(r) == nullptr) {
            return Status(Errc::invalid_replica_assignment, "broker " + n(r) + " is not registered");
        }
        any_active = any_active || image.is_active(r);
    }
    if (!any_active) {
        return Status(Errc::invalid_replica_assignment, "every replica of " + which + " is fenced or shutting down");
    }
    return ok_status();
}

Result<TopicPlan> plan_manual(const MetadataImage& image, const CreatableTopic& t) {
    if (t.num_partitions != -1 || t.replication_factor != -1) {
        return Error{Errc::invalid_request, "both a replica assignment and a partition count or "
                                            "replication factor were given"};
    }
    TopicPlan plan;
    int32_t expected = 0;
    for (const auto& [index, replicas] : t.assignments) {
        if (index != expected++) {
            return Error{Errc::invalid_replica_assignment, "partitions must be numbered 0..n-1 without gaps"};
        }
        KEEL_TRY(check_assignment(image, replicas, "partition " + std::to_string(index)));
        plan.replicas.push_back(replicas);
    }
    plan.replication_factor = static_cast<int16_t>(plan.replicas[0].size());
    return plan;
}

Result<TopicPlan> plan_topic(const MetadataImage& image, const CreatableTopic& t, const ControllerConfig& config,
                             env::Random& random) {
    if (!t.assignments.empty()) return plan_manual(image, t);
    int32_t partitions = t.num_partitions == -1 ? config.default_num_partitions : t.num_partitions;
    int16_t rf = t.replication_factor == -1 ? config.default_replication_factor : t.replication_factor;
    if (partitions < 1 || partitions > config.partitions_per_request_max) {
        return Error{Errc::invalid_partitions, "number of partitions must be in [1, " +
                                                   std::to_string(config.partitions_per_request_max) + "], not " +
                                                   std::to_string(partitions)};
    }
    if (rf < 1) return Error{Errc::invalid_replication_factor, "replication factor must be at least 1"};
    std::vector<NodeId> usable;
    for (const auto& [id, b] : image.brokers()) {
        if (b.active()) usable.push_back(id);
    }
    if (static_cast<size_t>(rf) > usable.size()) {
        return Error{Errc::invalid_replication_factor,
                     "replication factor " + std::to_string(rf) + " is larger than the " +
                         std::to_string(usable.size()) + " unfenced broker(s)"};
    }
    size_t start = random.uniform(0, usable.size() - 1);
    size_t shift = random.uniform(0, usable.size() - 1);
    return TopicPlan{place_replicas(usable, partitions, rf, start, shift), rf};
}

Status validate_configs(const CreatableTopic& t) {
    std::set<std::string> names;
    for (const auto& [name, value] : t.configs) {
        if (!names.insert(name).second) return Status(Errc::invalid_config, "config " + name + " given twice");
        KEEL_TRY(validate_topic_config(name, value));
    }
    return ok_status();
}

void append_topic_records(const MetadataImage& image, const CreatableTopic& t, const Uuid& id,
                          const TopicPlan& plan, std::vector<MetadataRecord>& out) {
    out.push_back(TopicRecord{t.name, id});
    for (const auto& [name, value] : t.configs) {
        out.push_back(ConfigRecord{config_resource_topic, t.name, name, value});
    }
    for (size_t p = 0; p < plan.replicas.size(); p++) {
        PartitionRecord r;
        r.partition_id = PartitionIndex(static_cast<int32_t>(p));
        r.topic_id = id;
        r.replicas = plan.replicas[p];
        for (NodeId b : r.replicas) {
            if (image.is_active(b)) r.isr.push_back(b);
        }
        r.leader = r.isr.front();
        r.leader_epoch = LeaderEpoch(0);
        r.partition_epoch = PartitionEpoch(0);
        out.push_back(std::move(r));
    }
}

}  // namespace

ControllerResult<std::vector<CreatableTopicResult>> create_topics(const MetadataImage& image,
                                                                  const std::vector<CreatableTopic>& topics,
                                                                  bool validate_only, const ControllerConfig& config,
                                                                  env::Random& random) {
    ControllerResult<std::vector<CreatableTopicResult>> out;
    std::map<std::string, int> occurrences;
    for (const auto& t : topics) occurrences[t.name]++;
    std::set<Uuid> new_ids;
    int64_t partitions_total = 0;
    for (const auto& t : topics) {
        CreatableTopicResult r{t.name, ok_status(), {}, -1, -1};
        auto done = [&](Status s) {
            r.status = std::move(s);
            out.reply.push_back(r);
        };
        if (Status s = validate_topic_name(t.name); !s.ok()) { done(s); continue; }
        if (occurrences[t.name] > 1) { done(Status(Errc::invalid_request, "topic " + t.name + " appears twice")); continue; }
        if (image.topic_by_name(t.name) != nullptr) {
            done(Status(Errc::topic_already_exists, "topic " + t.name + " already exists"));
            continue;
        }
        if (Status s = validate_configs(t); !s.ok()) { done(s); continue; }
        auto plan = plan_topic(image, t, config, random);
        if (!plan.ok()) { done(plan.error()); continue; }
        partitions_total += static_cast<int64_t>(plan->replicas.size());
        if (partitions_total > config.partitions_per_request_max) {
            done(Status(Errc::invalid_partitions, "the request creates more than " +
                                                      std::to_string(config.partitions_per_request_max) + " partitions"));
            continue;
        }
        Uuid id = random_uuid(random);
        while (image.topic(id) != nullptr || new_ids.count(id) != 0) id = random_uuid(random);
        new_ids.insert(id);
        r.topic_id = id;
        r.num_partitions = static_cast<int32_t>(plan->replicas.size());
        r.replication_factor = plan->replication_factor;
        if (!validate_only) append_topic_records(image, t, id, *plan, out.records);
        done(ok_status());
    }
    return out;
}

// ---------------------------------------------------------------- create partitions

namespace {

// The replicas of the new partitions [current, count) of `t`, or why they cannot be added.
Result<std::vector<std::vector<NodeId>>> plan_increase(const MetadataImage& image, const TopicState& t,
                                                       const PartitionIncrease& in, const ControllerConfig& config,
                                                       env::Random& random) {
    auto current = static_cast<int32_t>(t.partitions.size());
    if (in.count < current) {
        return Error{Errc::invalid_partitions, "topic " + t.name + " has " + std::to_string(current) +
                                                   " partition(s); " + std::to_string(in.count) +
                                                   " would not be an increase"};
    }
    if (in.count == current) {
        return Error{Errc::invalid_partitions,
                     "topic " + t.name + " already has " + std::to_string(current) + " partition(s)"};
    }
    int32_t added = in.count - current;
    if (added > config.partitions_per_request_max) {
        return Error{Errc::invalid_partitions, "adding " + std::to_string(added) + " partitions is more than the " +
                                                   std::to_string(config.partitions_per_request_max) +
                                                   " one request may create"};
    }
    auto rf = static_cast<int16_t>(t.partitions.empty() ? 1 : t.partitions.begin()->second.replicas.size());
    if (in.assignments) {
        if (static_cast<int32_t>(in.assignments->size()) != added) {
            return Error{Errc::invalid_replica_assignment,
                         "adding " + std::to_string(added) + " partition(s) needs as many assignments, not " +
                             std::to_string(in.assignments->size())};
        }
        for (size_t i = 0; i < in.assignments->size(); i++) {
            const std::vector<NodeId>& replicas = (*in.assignments)[i];
            std::string which = "partition " + std::to_string(current + static_cast<int32_t>(i));
            if (replicas.size() != static_cast<size_t>(rf)) {
                return Error{Errc::invalid_replica_assignment,
                             which + " has " + std::to_string(replicas.size()) + " replica(s), but the topic's " +
                                 "partitions have " + std::to_string(rf)};
            }
            KEEL_TRY(check_assignment(image, replicas, which));
        }
        return *in.assignments;
    }
    std::vector<NodeId> usable;
    for (const auto& [id, b] : image.brokers()) {
        if (b.active()) usable.push_back(id);
    }
    if (static_cast<size_t>(rf) > usable.size()) {
        return Error{Errc::invalid_replication_factor,
                     "topic " + t.name + " has replication factor " + std::to_string(rf) + " but only " +
                         std::to_string(usable.size()) + " broker(s) are unfenced"};
    }
    // Place as if the topic had `count` partitions from a random start, and keep the new ones.
    size_t start = random.uniform(0, usable.size() - 1);
    size_t shift = random.uniform(0, usable.size() - 1);
    auto all = place_replicas(usable, in.count, rf, start, shift);
    return std::vector<std::vector<NodeId>>(all.begin() + current, all.end());
}

}  // namespace

ControllerResult<std::vector<PartitionIncreaseResult>> create_partitions(const MetadataImage& image,
                                                                         const std::vector<PartitionIncrease>& topics,
                                                                         bool validate_only,
                                                                         const ControllerConfig& config,
                                                                         env::Random& random) {
    ControllerResult<std::vector<PartitionIncreaseResult>> out;
    std::map<std::string, int> occurrences;
    for (const auto& t : topics) occurrences[t.name]++;
    int64_t added_total = 0;
    for (const auto& in : topics) {
        auto done = [&](Status s) { out.reply.push_back({in.name, std::move(s)}); };
        const TopicState* t = image.topic_by_name(in.name);
        if (t == nullptr) {
            done(Status(Errc::unknown_topic_or_partition, "topic " + in.name + " does not exist"));
            continue;
        }
        if (occurrences[in.name] > 1) {
            done(Status(Errc::invalid_request, "topic " + in.name + " appears twice in the request"));
            continue;
        }
        if (is_internal_topic(in.name)) {
            done(Status(Errc::invalid_request, "the partition count of the internal topic " + in.name +
                                                   " cannot change (groups map to its partitions by count)"));
            continue;
        }
        auto plan = plan_increase(image, *t, in, config, random);
        if (!plan.ok()) {
            done(plan.error());
            continue;
        }
        added_total += static_cast<int64_t>(plan->size());
        if (added_total > config.partitions_per_request_max) {
            done(Status(Errc::invalid_partitions, "the request adds more than " +
                                                      std::to_string(config.partitions_per_request_max) +
                                                      " partitions"));
            continue;
        }
        if (!validate_only) {
            auto index = static_cast<int32_t>(t->partitions.size());
            for (const std::vector<NodeId>& replicas : *plan) {
                PartitionRecord r;
                r.partition_id = PartitionIndex(index++);
                r.topic_id = t->id;
                r.replicas = replicas;
                for (NodeId b : replicas) {
                    if (image.is_active(b)) r.isr.push_back(b);
                }
                r.leader = r.isr.front();
                r.leader_epoch = LeaderEpoch(0);
                r.partition_epoch = PartitionEpoch(0);
                out.records.push_back(std::move(r));
            }
        }
        done(ok_status());
    }
    return out;
}

// --------------------------------------------------------------------- alter configs

namespace {

std::vector<std::string> split_list(const std::string& v) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= v.size()) {
        size_t comma = v.find(',', start);
        std::string item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        while (!item.empty() && item.front() == ' ') item.erase(item.begin());
        while (!item.empty() && item.back() == ' ') item.pop_back();
        if (!item.empty()) out.push_back(item);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

std::string join_list(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& i : items) out += (out.empty() ? "" : ",") + i;
    return out;
}

// The topic's dynamic configs after `r`, or why `r` is refused.
Result<std::map<std::string, std::string>> configs_after(const MetadataImage& image,
                                                         const ConfigResourceChange& r) {
    std::map<std::string, std::string> now;
    auto it = image.configs().find(ConfigResource{config_resource_topic, r.resource_name});
    if (it != image.configs().end()) now = it->second;
    std::map<std::string, std::string> after = r.replace_all ? std::map<std::string, std::string>{} : now;
    std::set<std::string> named;
    for (const ConfigChange& c : r.changes) {
        if (!named.insert(c.name).second) {
            return Error{Errc::invalid_request, "config " + c.name + " is named twice"};
        }
        const TopicConfigDef* def = find_topic_config(c.name);
        if (def == nullptr) return Error{Errc::invalid_config, "unknown topic config " + c.name};
        switch (c.op) {
            case ConfigOp::set:
                if (!c.value) return Error{Errc::invalid_request, "config " + c.name + " is set to null"};
                after[c.name] = *c.value;
                break;
            case ConfigOp::remove:
                after.erase(c.name);
                break;
            case ConfigOp::append:
            case ConfigOp::subtract: {
                bool append = c.op == ConfigOp::append;
                if (def->type != ConfigType::list) {
                    return Error{Errc::invalid_config, std::string(append ? "append" : "subtract") +
                                                           " is only for list configs, not " + c.name};
                }
                auto cur = after.find(c.name);
                std::vector<std::string> items =
                    split_list(cur != after.end() ? cur->second : std::string(def->kafka_default));
                for (const std::string& v : split_list(c.value.value_or(""))) {
                    auto pos = std::find(items.begin(), items.end(), v);
                    if (append && pos == items.end()) items.push_back(v);
                    if (!append && pos != items.end()) items.erase(pos);
                }
                if (items.empty()) return Error{Errc::invalid_config, "config " + c.name + " would be empty"};
                after[c.name] = join_list(items);
                break;
            }
            default:
                return Error{Errc::invalid_request, "unknown config operation " +
                                                        std::to_string(static_cast<int>(c.op)) + " for " + c.name};
        }
        if (auto v = after.find(c.name); v != after.end()) KEEL_TRY(validate_topic_config(c.name, v->second));
    }
    return after;
}

}  // namespace

ControllerResult<std::vector<ConfigResourceResult>> alter_configs(const MetadataImage& image,
                                                                  const std::vector<ConfigResourceChange>& resources,
                                                                  bool validate_only) {
    ControllerResult<std::vector<ConfigResourceResult>> out;
    std::map<std::pair<int8_t, std::string>, int> occurrences;
    for (const auto& r : resources) occurrences[{r.resource_type, r.resource_name}]++;
    for (const ConfigResourceChange& r : resources) {
        auto done = [&](Status s) { out.reply.push_back({r.resource_type, r.resource_name, std::move(s)}); };
        if (r.resource_type != config_resource_topic) {
            done(Status(Errc::invalid_request,
                        r.resource_type == config_resource_broker
                            ? "dynamic broker configs are not supported: set them in server.properties"
                            : "config resource type " + std::to_string(r.resource_type) + " is not supported"));
            continue;
        }
        if (image.topic_by_name(r.resource_name) == nullptr) {
            done(Status(Errc::unknown_topic_or_partition, "topic " + r.resource_name + " does not exist"));
            continue;
        }
        if (occurrences[{r.resource_type, r.resource_name}] > 1) {
            done(Status(Errc::invalid_request, "topic " + r.resource_name + " appears twice in the request"));
            continue;
        }
        auto after = configs_after(image, r);
        if (!after.ok()) {
            done(after.error());
            continue;
        }
        if (!validate_only) {
            auto it = image.configs().find(ConfigResource{config_resource_topic, r.resource_name});
            std::map<std::string, std::string> now;
            if (it != image.configs().end()) now = it->second;
            for (const auto& [name, value] : now) {
                if (after->count(name) == 0) {
                    out.records.push_back(ConfigRecord{config_resource_topic, r.resource_name, name, std::nullopt});
                }
            }
            for (const auto& [name, value] : *after) {
                auto was = now.find(name);
                if (was == now.end() || was->second != value) {
                    out.records.push_back(ConfigRecord{config_resource_topic, r.resource_name, name, value});
                }
            }
        }
        done(ok_status());
    }
    return out;
}

// -------------------------------------------------------------------- delete topics

bool is_internal_topic(std::string_view name) {
    return name == "__consumer_offsets" || name == "__transaction_state";
}

namespace {

// The topic `d` names, or why it cannot be deleted.
Result<const TopicState*> topic_to_delete(const MetadataImage& image, const DeletableTopic& d) {
    bool by_name = d.name.has_value();
    bool by_id = !d.topic_id.is_zero();
    if (by_name == by_id) {
        return Error{Errc::invalid_request, "give either a topic name or a topic id, not both or neither"};
    }
    const TopicState* t = by_name ? image.topic_by_name(*d.name) : image.topic(d.topic_id);
    if (t == nullptr && by_name) {
        return Error{Errc::unknown_topic_or_partition, "topic " + *d.name + " does not exist"};
    }
    if (t == nullptr) return Error{Errc::unknown_topic_id, "no topic has id " + uuid_to_string(d.topic_id)};
    if (is_internal_topic(t->name)) {
        return Error{Errc::invalid_request, "the internal topic " + t->name + " cannot be deleted"};
    }
    return t;
}

}  // namespace

ControllerResult<std::vector<DeletableTopicResult>> delete_topics(const MetadataImage& image,
                                                                  const std::vector<DeletableTopic>& topics) {
    ControllerResult<std::vector<DeletableTopicResult>> out;
    std::map<Uuid, int> occurrences;
    for (const auto& d : topics) {
        auto t = topic_to_delete(image, d);
        if (t.ok()) occurrences[(*t)->id]++;
    }
    for (const auto& d : topics) {
        DeletableTopicResult r{d.name, d.topic_id, ok_status()};
        auto t = topic_to_delete(image, d);
        if (!t.ok()) {
            r.status = t.error();
        } else {
            r.name = (*t)->name;
            r.topic_id = (*t)->id;
            if (occurrences[(*t)->id] > 1) {
                r.status = Status(Errc::invalid_request, "topic " + (*t)->name + " appears twice in the request");
            } else {
                out.records.push_back(RemoveTopicRecord{(*t)->id, {}});
            }
        }
        out.reply.push_back(std::move(r));
    }
    return out;
}

// ------------------------------------------------------------------ alter partition

namespace {

using PartitionResult = AlterPartitionResult::Partition;

Status validate_alter(const MetadataImage& image, NodeId requester, const PartitionState& p,
                      const AlterPartitionInput::Partition& in) {
    // Newer epochs than ours: this controller is behind; the leader should find the new one.
    if (in.leader_epoch > p.leader_epoch || in.partition_epoch > p.partition_epoch) {
        return Status(Errc::not_controller, "the request carries newer epochs than this controller knows");
    }
    if (in.leader_epoch < p.leader_epoch) {
        return Status(Errc::fenced_leader_epoch, "leader epoch " + std::to_string(in.leader_epoch.value()) +
                                                     " is older than " + std::to_string(p.leader_epoch.value()));
    }
    if (requester != p.leader) return Status(Errc::invalid_request, "broker " + n(requester) + " is not the leader");
    if (in.partition_epoch < p.partition_epoch) {
        return Status(Errc::invalid_partition_epoch, "partition epoch " + std::to_string(in.partition_epoch.value()) +
                                                         " is older than " +
                                                         std::to_string(p.partition_epoch.value()));
    }
    std::set<NodeId> seen;
    for (const IsrMember& m : in.new_isr) {
        if (!seen.insert(m.broker_id).second || !p.is_replica(m.broker_id)) {
            return Status(Errc::invalid_request, "the new ISR has a duplicate or a non-replica " + n(m.broker_id));
        }
    }
    if (seen.count(p.leader) == 0) return Status(Errc::invalid_request, "the new ISR does not contain the leader");
    if (in.leader_recovery_state != leader_recovered && in.leader_recovery_state != leader_recovering) {
        return Status(Errc::invalid_request, "unknown leader recovery state");
    }
    if (in.leader_recovery_state == leader_recovering && in.new_isr.size() > 1) {
        return Status(Errc::invalid_request, "a recovering leader cannot have other ISR members");
    }
    if (p.leader_recovery_state == leader_recovered && in.leader_recovery_state == leader_recovering) {
        return Status(Errc::invalid_request, "a recovered leader cannot become recovering");
    }
    // KIP-903: only active brokers of the current incarnation may be in an ISR.
    for (const IsrMember& m : in.new_isr) {
        const BrokerRegistration* b = image.broker(m.broker_id);
        if (b == nullptr || !b->active() || (m.broker_epoch.value() != -1 && m.broker_epoch != b->epoch)) {
            return Status(Errc::ineligible_replica, "broker " + n(m.broker_id) +
                                                        " is not registered, fenced, shutting down, or of "
                                                        "another incarnation");
        }
    }
    return ok_status();
}

PartitionResult alter_one(const MetadataImage& image, NodeId requester, const Uuid& topic_id,
                          const PartitionState& p, const AlterPartitionInput::Partition& in,
                          std::vector<MetadataRecord>& records) {
    PartitionResult r;
    r.partition = in.partition;
    r.status = validate_alter(image, requester, p, in);
    if (!r.status.ok()) return r;
    std::vector<NodeId> isr;
    for (const IsrMember& m : in.new_isr) isr.push_back(m.broker_id);
    PartitionChangeBuilder builder(topic_id, in.partition, p, [&image](NodeId b) { return image.is_active(b); });
    builder.set_target_isr(isr).set_target_leader_recovery_state(in.leader_recovery_state);
    PartitionState next = p;
    if (auto change = builder.build()) {
        next = merge(p, *change);
        records.push_back(*change);
    }
    r.leader = next.leader;
    r.leader_epoch = next.leader_epoch;
    r.isr = next.isr;
    r.leader_recovery_state = next.leader_recovery_state;
    r.partition_epoch = next.partition_epoch;
    return r;
}

}  // namespace

Result<ControllerResult<AlterPartitionResult>> alter_partition(const MetadataImage& image,
                                                               const AlterPartitionInput& in) {
    const BrokerRegistration* b = image.broker(in.broker_id);
    if (b == nullptr || b->epoch != in.broker_epoch) {
        return Error{Errc::stale_broker_epoch, "broker " + n(in.broker_id) + " epoch " +
                                                   std::to_string(in.broker_epoch.value()) + " is not current"};
    }
    ControllerResult<AlterPartitionResult> out;
    std::set<TopicPartition> seen;
    for (const auto& t : in.topics) {
        AlterPartitionResult::Topic rt{t.topic_id, {}};
        const TopicState* topic = image.topic(t.topic_id);
        for (const auto& p : t.partitions) {
            PartitionResult r;
            r.partition = p.partition;
            const PartitionState* state = topic ? image.partition(t.topic_id, p.partition) : nullptr;
            if (topic == nullptr) {
                r.status = Status(Errc::unknown_topic_id, "unknown topic id " + uuid_to_string(t.topic_id));
            } else if (state == nullptr) {
                r.status = Status(Errc::unknown_topic_or_partition, "unknown partition");
            } else if (!seen.insert(TopicPartition{t.topic_id, p.partition}).second) {
                r.status = Status(Errc::invalid_request, "the partition appears twice in the request");
            } else {
                r = alter_one(image, in.broker_id, t.topic_id, *state, p, out.records);
            }
            rt.partitions.push_back(std::move(r));
        }
        out.reply.topics.push_back(std::move(rt));
    }
    return out;
}

// ------------------------------------------------------------------ producer id blocks

Result<ControllerResult<ProducerIdBlock>> allocate_producer_ids(const MetadataImage& image, NodeId broker_id,
                                                                BrokerEpoch broker_epoch) {
    const BrokerRegistration* b = image.broker(broker_id);
    if (b == nullptr) {
        return Error{Errc::stale_broker_epoch, "no registration of broker " + n(broker_id)};
    }
    if (b->epoch != broker_epoch) {
        return Error{Errc::stale_broker_epoch, "broker " + n(broker_id) + " has epoch " +
                                                   std::to_string(b->epoch.value()) + ", not " +
                                                   std::to_string(broker_epoch.value())};
    }
    int64_t first = image.next_producer_id();
    if (first > std::numeric_limits<int64_t>::max() - producer_id_block_size) {
        return Error{Errc::unknown, "the producer ids are exhausted (next " + std::to_string(first) + ")"};
    }
    ProducerIdBlock block{broker_id, first, producer_id_block_size};
    ControllerResult<ProducerIdBlock> out;
    out.records.push_back(ProducerIdsRecord{broker_id, broker_epoch, block.next_block_first_id(), {}});
    out.reply = block;
    return out;
}

}  // namespace keel::controller
