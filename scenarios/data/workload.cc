#include "scenarios/data/workload.h"

#include <deque>

namespace keel::scenarios {

namespace {

std::string text(const std::optional<Bytes>& b) { return b ? std::string(b->begin(), b->end()) : std::string(); }

sim::PartitionName name_of(const client::TopicPartitionName& tp) { return {tp.topic, tp.partition.value()}; }

}  // namespace

std::shared_ptr<Workload> Workload::create(DataCluster& cluster, WorkloadOptions options) {
    return std::make_shared<Workload>(cluster, std::move(options));
}

Workload::Workload(DataCluster& cluster, WorkloadOptions options)
    : cluster_(cluster), world_(cluster.world()), options_(std::move(options)) {
    options_.producer.bootstrap = cluster.bootstrap();
    options_.consumer.bootstrap = cluster.bootstrap();
}

std::vector<client::TopicPartitionName> Workload::all_partitions() const {
    std::vector<client::TopicPartitionName> all;
    for (int32_t p = 0; p < options_.partitions; p++) all.push_back({options_.topic, PartitionIndex(p)});
    return all;
}

void Workload::start() {
    std::shared_ptr<Workload> self = shared_from_this();
    for (int i = 1; i <= options_.producers; i++) {
        std::string name = "p" + std::to_string(i);
        world_.add_node(name, [self, name](env::Env& env) { self->producer_main(name, env); });
    }
    for (int i = 1; i <= options_.consumers; i++) {
        std::string name = "r" + std::to_string(i);
        world_.add_node(name, [self, name](env::Env& env) { self->consumer_main(name, env); });
    }
}

void Workload::producer_main(const std::string& name, env::Env& env) {
    client::ProducerConfig cfg = options_.producer;
    cfg.client_id = name;
    client::Producer producer(env, cfg);
    std::deque<std::pair<sim::OpId, env::Future<client::RecordMetadata>>> pending;
    // Completed sends become ok (acknowledged at an offset) or info (indeterminate).
    auto collect = [&](bool wait, Instant deadline) {
        for (auto it = pending.begin(); it != pending.end();) {
            if (!wait && !it->second.ready()) {
                ++it;
                continue;
            }
            auto r = it->second.get(deadline);
            if (r.ok() && r->offset.value() >= 0) {
                history_.ok_send(it->first, r->partition.value(), r->offset.value(), env.now());
                stats_.acked++;
            } else {
                history_.info(it->first, r.ok() ? "acknowledged without an offset" : r.error().to_string(), env.now());
                stats_.send_errors++;
            }
            it = pending.erase(it);
        }
    };
    for (int64_t n = 0; !stop_sending_; n++) {
        std::string value = name + "-" + std::to_string(n);
        std::string key = "k" + std::to_string(n % options_.keys);
        client::ProducerRecord rec;
        rec.topic = options_.topic;
        rec.key = to_bytes(key);
        rec.value = to_bytes(value);
        sim::OpId id = history_.invoke_send(name, options_.topic, std::nullopt, key, value, env.now());
        stats_.sends++;
        pending.emplace_back(id, producer.send(std::move(rec)));
        collect(false, env.now());
        env.executor().sleep_for(options_.send_interval);
    }
    (void)producer.flush(cfg.delivery_timeout + cfg.request_timeout);
    collect(true, env.now() + cfg.delivery_timeout + cfg.request_timeout);
    producer.close();
    producers_done_++;
}

void Workload::consumer_main(const std::string& name, env::Env& env) {
    client::ConsumerConfig cfg = options_.consumer;
    cfg.client_id = name;
    client::Consumer consumer(env, cfg);
    std::vector<client::TopicPartitionName> all = all_partitions();
    std::vector<sim::PartitionName> names;
    for (const auto& tp : all) names.push_back(name_of(tp));
    history_.note_assign(name, names, env.now());
    consumer.assign(all);
    for (const auto& tp : all) {
        (void)consumer.seek(tp, Offset(0));
        history_.note_seek(name, name_of(tp), 0, env.now());
    }
    while (true) {
        sim::OpId id = history_.invoke_poll(name, env.now());
        auto r = consumer.poll(ms(500));
        if (!r.ok()) {
            history_.info(id, r.error().to_string(), env.now());
            env.executor().sleep_for(ms(100));
            continue;
        }
        std::vector<sim::PolledRecord> got;
        for (const client::ConsumerRecord& c : *r) {
            got.push_back({c.topic, c.partition.value(), c.offset.value(), text(c.key), text(c.value)});
        }
        stats_.polls++;
        stats_.polled_records += got.size();
        history_.ok_poll(id, std::move(got), env.now());
    }
}

bool Workload::stop_producers(Duration limit) {
    stop_sending_ = true;
    return world_.run_until([&] { return producers_done_ >= options_.producers; }, limit);
}

void Workload::final_main(env::Env& env) {
    client::ConsumerConfig cfg = options_.consumer;
    cfg.client_id = "final";
    client::Consumer consumer(env, cfg);
    std::vector<client::TopicPartitionName> all = all_partitions();
    std::vector<sim::PartitionName> names;
    for (const auto& tp : all) names.push_back(name_of(tp));
    history_.note_assign("final", names, env.now());
    consumer.assign(all);
    for (const auto& tp : all) {
        (void)consumer.seek(tp, Offset(0));
        history_.note_seek("final", name_of(tp), 0, env.now());
    }
    while (true) {
        bool done = true;
        for (const auto& tp : all) {
            auto pos = consumer.position(tp);
            final_positions_[tp.partition.value()] = pos.ok() ? pos->value() : -1;
            if (!pos.ok() || pos->value() < final_targets_[tp.partition.value()]) done = false;
        }
        if (done) break;
        sim::OpId id = history_.invoke_poll("final", env.now());
        auto r = consumer.poll(ms(500));
        if (!r.ok()) {
            history_.info(id, r.error().to_string(), env.now());
            continue;
        }
        std::vector<sim::PolledRecord> got;
        for (const client::ConsumerRecord& c : *r) {
            got.push_back({c.topic, c.partition.value(), c.offset.value(), text(c.key), text(c.value)});
        }
        stats_.final_records += got.size();
        history_.ok_poll(id, std::move(got), env.now());
    }
    final_done_ = true;
}

bool Workload::final_read(Duration limit) {
    const controller::MetadataImage* img = cluster_.active_image();
    const controller::TopicState* t = img != nullptr ? img->topic_by_name(options_.topic) : nullptr;
    if (t == nullptr) return false;
    for (const auto& [index, p] : t->partitions) {
        broker::Partition* leader = cluster_.replica(p.leader, t->id, index.value());
        final_targets_[index.value()] = leader != nullptr ? leader->high_watermark().value() : 0;
    }
    std::shared_ptr<Workload> self = shared_from_this();
    world_.add_node("final", [self](env::Env& env) { self->final_main(env); });
    if (world_.run_until([&] { return final_done_; }, limit)) return true;
    for (const auto& [p, target] : final_targets_) {
        final_stuck_ += options_.topic + "-" + std::to_string(p) + " at " + std::to_string(final_positions_[p]) +
                        " of " + std::to_string(target) + "; ";
    }
    return false;
}

sim::LogCheckResult Workload::check(bool final_reads_complete) {
    sim::LogCheckOptions o;
    o.idempotence = options_.producer.enable_idempotence;
    o.final_reads_complete = final_reads_complete;
    const controller::MetadataImage* img = cluster_.active_image();
    const controller::TopicState* t = img != nullptr ? img->topic_by_name(options_.topic) : nullptr;
    if (t != nullptr) {
        for (const auto& [index, p] : t->partitions) {
            broker::Partition* leader = cluster_.replica(p.leader, t->id, index.value());
            if (leader != nullptr) o.log_start_offsets[{options_.topic, index.value()}] = leader->log_start().value();
        }
    }
    return sim::check_history(history_, o);
}

}  // namespace keel::scenarios
