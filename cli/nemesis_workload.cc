#include "cli/nemesis_workload.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>

#include "cli/cluster_probe.h"
#include "core/client/consumer.h"
#include "core/client/producer.h"

namespace keel::cli {

namespace {

std::string text(const std::optional<Bytes>& b) { return b ? std::string(b->begin(), b->end()) : std::string(); }

// The topic's partitions if every one has a leader and a full ISR of >= min(3, brokers)
// replicas, with all brokers alive; empty otherwise.
std::vector<int32_t> healthy_partitions(const ClusterProbe& probe, const std::string& topic, size_t brokers) {
    std::vector<int32_t> out;
    if (probe.brokers.size() < brokers) return {};
    size_t rf = std::min<size_t>(3, brokers);
    for (const ProbedPartition& p : probe.partitions) {
        if (p.topic != topic) continue;
        if (p.leader < 0 || p.replicas.size() < rf || p.under_replicated()) return {};
        out.push_back(p.partition);
    }
    return out;
}

}  // namespace

std::map<int32_t, int64_t> NemesisWorkload::high_watermarks(env::Env& env,
                                                            const std::vector<client::TopicPartitionName>& all) {
    std::map<int32_t, int64_t> out;  // -1: unknown
    client::ConsumerConfig pc;
    pc.bootstrap = options.bootstrap;
    pc.auto_offset_reset = client::OffsetReset::latest;
    client::Consumer probe(env, pc);
    probe.assign(all);
    for (const auto& tp : all) {
        auto pos = probe.position(tp);
        out[tp.partition.value()] = pos.ok() ? pos->value() : -1;
    }
    return out;
}

bool NemesisWorkload::topic_exists(env::Env& env) {
    auto probe = probe_cluster(env, options.bootstrap, env.now() + ms(30'000));
    if (!probe.ok()) return false;  // the producer will find out
    return std::any_of(probe->partitions.begin(), probe->partitions.end(),
                       [&](const ProbedPartition& p) { return p.topic == options.topic; });
}

bool NemesisWorkload::await_topic(env::Env& env, Instant deadline, std::vector<int32_t>& partitions) {
    while (env.now() < deadline) {
        auto probe = probe_cluster(env, options.bootstrap, deadline);
        if (probe.ok()) {
            partitions = healthy_partitions(*probe, options.topic, options.expected_brokers);
            if (!partitions.empty()) return true;
        }
        env.executor().sleep_for(ms(250));
    }
    return false;
}

void NemesisWorkload::produce(env::Env& env) {
    client::ProducerConfig cfg;
    cfg.bootstrap = options.bootstrap;
    cfg.client_id = "nemesis-p1";
    cfg.acks = options.acks;
    cfg.enable_idempotence = options.acks == -1;
    cfg.request_timeout = ms(5'000);
    cfg.delivery_timeout = ms(60'000);
    client::Producer producer(env, cfg);
    std::deque<std::pair<sim::OpId, env::Future<client::RecordMetadata>>> pending;
    auto collect = [&](bool wait, Instant deadline) {
        while (!pending.empty() && (wait || pending.front().second.ready() || pending.size() > 2000)) {
            auto& [id, future] = pending.front();
            auto r = future.get(deadline);
            if (r.ok() && r->offset.value() >= 0) {
                history.ok_send(id, r->partition.value(), r->offset.value(), env.now());
                acked++;
                first_ack_ = true;
            } else {
                history.info(id, r.ok() ? "acknowledged without an offset" : r.error().to_string(), env.now());
            }
            pending.pop_front();
        }
    };
    int burst = std::max(1, options.rate / 1000);  // records per tick
    Duration tick = std::max<Duration>(ms(1), std::chrono::microseconds(1'000'000LL * burst / std::max(1, options.rate)));
    for (uint64_t i = 0; !stop_sending.load(std::memory_order_acquire);) {
        for (int b = 0; b < burst; b++, i++) {
            std::string key = "k" + std::to_string(i % 16);
            std::string value = "v" + std::to_string(i);
            client::ProducerRecord rec;
            rec.topic = options.topic;
            rec.key = to_bytes(key);
            rec.value = to_bytes(value);
            sim::OpId id = history.invoke_send("p1", options.topic, std::nullopt, key, value, env.now());
            sends++;
            pending.emplace_back(id, producer.send(std::move(rec)));
        }
        collect(false, env.now() + ms(70'000));
        env.executor().sleep_for(tick);
    }
    collect(true, env.now() + ms(70'000));
    producer.close();
}

void NemesisWorkload::final_read(env::Env& env, const std::vector<int32_t>& partitions) {
    std::vector<client::TopicPartitionName> all;
    std::vector<sim::PartitionName> names;
    for (int32_t p : partitions) {
        all.push_back({options.topic, PartitionIndex(p)});
        names.push_back({options.topic, p});
    }
    std::map<int32_t, int64_t> targets = high_watermarks(env, all);
    client::ConsumerConfig cc;
    cc.bootstrap = options.bootstrap;
    cc.client_id = "nemesis-final";
    cc.auto_offset_reset = client::OffsetReset::earliest;
    client::Consumer consumer(env, cc);
    history.note_assign("final", names, env.now());
    consumer.assign(all);
    for (const auto& tp : all) {
        (void)consumer.seek(tp, Offset(0));
        history.note_seek("final", {options.topic, tp.partition.value()}, 0, env.now());
    }
    Instant deadline = env.now() + ms(120'000);
    while (env.now() < deadline) {
        std::string behind;
        for (const auto& tp : all) {
            auto pos = consumer.position(tp);
            int64_t target = targets[tp.partition.value()];
            if (target < 0 || !pos.ok() || pos->value() < target)
                behind += tp.to_string() + " at " + (pos.ok() ? std::to_string(pos->value()) : "?") + " of " +
                          std::to_string(target) + "; ";
        }
        if (behind.empty()) {
            // The high watermark may trail the log end by a follower's fetch (acks=1): read
            // on until a second look finds it where the reads are.
            env.executor().sleep_for(ms(1'000));
            std::map<int32_t, int64_t> again = high_watermarks(env, all);
            if (again == targets) {
                final_reads_complete = true;
                final_note = "every partition read to its high watermark";
                return;
            }
            targets = std::move(again);
            continue;
        }
        final_note = "final read incomplete: " + behind;
        sim::OpId id = history.invoke_poll("final", env.now());
        auto r = consumer.poll(ms(500));
        if (!r.ok()) {
            history.info(id, r.error().to_string(), env.now());
            env.executor().sleep_for(ms(100));
            continue;
        }
        std::vector<sim::PolledRecord> got;
        for (const client::ConsumerRecord& c : *r)
            got.push_back({c.topic, c.partition.value(), c.offset.value(), text(c.key), text(c.value)});
        history.ok_poll(id, std::move(got), env.now());
    }
}

void NemesisWorkload::run(env::Env& env) {
    std::vector<int32_t> partitions;
    if (topic_exists(env)) {
        error = "topic " + options.topic + " exists: the nemesis needs a new topic (its values must be unique)";
        ready.store(true, std::memory_order_release);
        finished.store(true, std::memory_order_release);
        return;
    }
    env.executor().spawn("producer", [this, &env] {
        produce(env);
        producer_done_ = true;
    });
    // The topic exists (auto-created by the producer's metadata request) and is replicated.
    while (!first_ack_ && !stop_sending.load(std::memory_order_acquire)) env.executor().sleep_for(ms(50));
    if (!await_topic(env, env.now() + ms(60'000), partitions)) {
        error = "topic " + options.topic + " was not fully replicated within 60 s";
    }
    ready.store(true, std::memory_order_release);
    while (!producer_done_) env.executor().sleep_for(ms(50));
    if (error.empty()) {
        // After the faults: every broker back and every partition's ISR full again.
        if (!await_topic(env, env.now() + ms(120'000), partitions))
            final_note = "the cluster did not heal (full ISRs) within 120 s; reading anyway; ";
        final_read(env, partitions);
    }
    finished.store(true, std::memory_order_release);
}

}  // namespace keel::cli
