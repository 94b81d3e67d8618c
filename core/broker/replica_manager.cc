#include "core/broker/replica_manager.h"

#include <algorithm>

#include "core/broker/replica_fetcher.h"
#include "core/controller/metadata_records.h"
#include "core/protocol/error_codes.h"

namespace keel::broker {

ReplicaManager::ReplicaManager(env::Env& env, const BrokerConfig& config, const controller::MetadataImage& image,
                               controller::BrokerLifecycle& lifecycle, const log::BatchCodec* codec,
                               ReplicaHooks hooks)
    : env_(env),
      config_(config),
      image_(image),
      lifecycle_(lifecycle),
      codec_(codec),
      hooks_(std::move(hooks)),
      image_changed_(env.executor()),
      activity_(env.executor()),
      isr_done_(env.executor()),
      retention_done_(env.executor()),
      deleter_done_(env.executor()),
      doomed_added_(env.executor()),
      stopped_(env.executor()) {}

// No close here: the destructor also runs when a crash unwinds the node's fibers, and a
// kill -9 writes nothing. A clean stop closes the replicas in run().
ReplicaManager::~ReplicaManager() { fetchers_.clear(); }

Status ReplicaManager::run() {
    env::spawn_joinable(env_.executor(), "isr-maintainer", isr_done_, [this] { isr_loop(); });
    env::spawn_joinable(env_.executor(), "log-retention", retention_done_, [this] { retention_loop(); });
    env::spawn_joinable(env_.executor(), "log-deleter", deleter_done_, [this] { deleter_loop(); });
    // Kafka's broker acts on its metadata only once it has caught up with the controller
    // after registering (the controller unfences it then): a restarted broker's own log may
    // still name it leader of an epoch the controller has long moved past.
    while (!stopping_ && (!lifecycle_.epoch() || lifecycle_.fenced())) env_.executor().sleep_for(ms(50));
    image_changed_.set();
    while (!stopping_) {
        if (!image_changed_.wait(env_.now() + ms(1000))) continue;
        image_changed_.reset();
        Status st = reconcile();
        if (!st.ok()) fail(st);
    }
    // Each fetcher joins its fiber as it is destroyed; stop() may run meanwhile (a request
    // handler failing a replica) and must not walk a map that is being cleared.
    auto fetchers = std::move(fetchers_);
    fetchers_.clear();
    for (auto& [id, f] : fetchers) f->join();
    fetchers.clear();
    isr_done_.wait();
    retention_done_.wait();
    deleter_done_.wait();
    if (failure_.ok()) {
        // A clean stop: flush, checkpoint, snapshot the producers' state.
        for (auto& [tp, p] : partitions_) (void)p->close();
    }
    return failure_;
}

void ReplicaManager::stop() {
    stopping_ = true;
    stopped_.set();
    doomed_added_.set();
    image_changed_.set();
    for (auto& [id, f] : fetchers_) f->stop();
    for (auto& [tp, p] : partitions_) p->notify();
    activity_.notify_all();
}

void ReplicaManager::fail(const Status& st) {
    if (failure_.ok()) {
        failure_ = st;
        env_.tracer().log(env::Level::error, "broker " + std::to_string(config_.id.value()) +
                                                 ": replica failed, stopping: " + st.error().to_string());
    }
    stop();
}

Partition* ReplicaManager::partition(const TopicPartitionName& tp) {
    auto it = partitions_.find(tp);
    return it == partitions_.end() ? nullptr : it->second.get();
}

std::shared_ptr<Partition> ReplicaManager::partition_ref(const TopicPartitionName& tp) {
    auto it = partitions_.find(tp);
    return it == partitions_.end() ? nullptr : it->second;
}

Partition* ReplicaManager::partition(const Uuid& topic_id, int32_t index) {
    const controller::TopicState* t = image_.topic(topic_id);
    if (t == nullptr) return nullptr;
    return partition(TopicPartitionName{t->name, index});
}

int32_t ReplicaManager::min_insync_replicas(const std::string& topic) const {
    auto v = image_.config(controller::config_resource_topic, topic, "min.insync.replicas");
    if (!v) v = image_.config(controller::config_resource_broker, "", "min.insync.replicas");
    if (v) {
        try {
            return std::max(1, std::stoi(*v));
        } catch (...) {
            return config_.min_insync_replicas;
        }
    }
    return config_.min_insync_replicas;
}

log::LogConfig ReplicaManager::log_config_for(const std::string& topic) const {
    log::LogConfig c = config_.log_defaults;
    auto it = image_.configs().find(controller::ConfigResource{controller::config_resource_topic, topic});
    if (it == image_.configs().end()) return c;
    for (const auto& [k, v] : it->second) {
        // Topic configs that are not log properties (min.insync.replicas, ...) are skipped;
        // the controller validated them when the topic was created.
        (void)log::set_log_property(c, k, v);
    }
    return c;
}

Status ReplicaManager::reconcile() {
    stats_.reconciles++;
    // A copy of what this broker hosts: opening logs and changing roles park on the disk,
    // and the image may change (even be replaced by a snapshot) meanwhile. A later change
    // sets image_changed_ again, so the next pass sees it.
    struct Wanted {
        std::string topic;
        Uuid topic_id;
        PartitionIndex index;
        controller::PartitionState state;
    };
    std::vector<Wanted> wanted;
    for (const auto& [id, topic] : image_.topics()) {
        for (const auto& [index, state] : topic.partitions) {
            if (state.is_replica(config_.id)) wanted.push_back({topic.name, id, index, state});
        }
    }
    std::set<TopicPartitionName> keep;
    for (const Wanted& w : wanted) {
        if (stopping_) return ok_status();
        keep.insert(TopicPartitionName{w.topic, w.index.value()});
        KEEL_TRY(ensure_replica(w.topic, w.topic_id, w.index, w.state));
    }
    std::vector<TopicPartitionName> gone;
    for (const auto& [tp, p] : partitions_) {
        if (keep.count(tp) == 0) gone.push_back(tp);
    }
    for (const TopicPartitionName& tp : gone) KEEL_TRY(delete_replica(tp));
    if (!swept_ && !stopping_) {
        KEEL_TRY(sweep_stray_dirs(keep));
        swept_ = true;
    }
    sync_fetchers();
    return ok_status();
}

Status ReplicaManager::ensure_replica(const std::string& topic, const Uuid& topic_id, PartitionIndex index,
                                      const controller::PartitionState& state) {
    TopicPartitionName tp{topic, index.value()};
    auto it = partitions_.find(tp);
    if (it != partitions_.end() && it->second->topic_id() != topic_id) {
        // The topic was deleted and created again under the same name.
        KEEL_TRY(delete_replica(tp));
        it = partitions_.end();
    }
    if (it == partitions_.end()) {
        log::PartitionLogOptions o;
        o.disk = &env_.disk();
        o.clock = &env_.clock();
        o.executor = &env_.executor();
        o.tracer = &env_.tracer();
        o.codec = codec_;
        o.buggify = &env_.buggify();
        o.dir = env::join_path(config_.log_dir, log::partition_dir_name(topic, index.value()));
        KEEL_TRY(prepare_dir(o.dir, topic_id));
        std::string dir = o.dir;
        o.topic = topic;
        o.partition = index.value();
        o.config = log_config_for(topic);
        KEEL_TRY_ASSIGN(std::unique_ptr<log::PartitionLog> log, log::PartitionLog::open(std::move(o)));
        KEEL_TRY(stamp_topic_id(dir, topic_id));
        auto p = std::make_shared<Partition>(env_, config_, tp, topic_id, std::move(log));
        KEEL_TRY(p->rebuild_producer_state());
        // Another pass may have opened it while this one parked on the disk.
        if (partitions_.count(tp) != 0) return ok_status();
        it = partitions_.emplace(tp, std::move(p)).first;
    }
    std::shared_ptr<Partition> keep = it->second;  // apply() may park on the disk
    Partition& p = *keep;
    // The topic's config changed (IncrementalAlterConfigs, AlterConfigs): the log follows.
    if (log::LogConfig want = log_config_for(topic); !(want == p.log().config())) {
        Status st = p.log().set_config(want);
        if (!st.ok()) {
            env_.tracer().log(env::Level::warn, tp.to_string() + ": the new topic config is not applied: " +
                                                    st.error().to_string());
        } else if (env_.tracer().enabled()) {
            env_.tracer().event("broker.log_config", "{\"tp\":\"" + tp.to_string() + "\"}");
        }
    }
    ReplicaRole before = p.role();
    LeaderEpoch epoch_before = p.leader_epoch();
    size_t isr_before = p.isr().size();
    KEEL_TRY(p.apply(state, image_));
    count_isr_change(p, before, epoch_before, isr_before);
    if (p.role() != before || p.leader_epoch() != epoch_before) {
        if (p.role() == ReplicaRole::leader) stats_.became_leader++;
        if (p.role() == ReplicaRole::follower) stats_.became_follower++;
        if (env_.tracer().enabled()) {
            env_.tracer().event("broker.role", "{\"tp\":\"" + tp.to_string() + "\",\"role\":\"" +
                                                   role_name(p.role()) + "\",\"epoch\":" +
                                                   std::to_string(p.leader_epoch().value()) + ",\"log_end\":" +
                                                   std::to_string(p.log_end().value()) + ",\"hw\":" +
                                                   std::to_string(p.high_watermark().value()) + "}");
        }
    }
    changed(p);
    return ok_status();
}

// An ISR change of a partition this broker leads, within one leader epoch, whoever asked
// for it: this leader's AlterPartition, or the controller removing a fenced broker.
void ReplicaManager::count_isr_change(const Partition& p, ReplicaRole role_before, LeaderEpoch epoch_before,
                                      size_t isr_before) {
    if (role_before != ReplicaRole::leader || p.role() != ReplicaRole::leader) return;
    if (p.leader_epoch() != epoch_before) return;
    if (p.isr().size() < isr_before) stats_.leader_isr_shrinks++;
    if (p.isr().size() > isr_before) stats_.leader_isr_expands++;
}

Status ReplicaManager::delete_replica(const TopicPartitionName& tp) {
    auto it = partitions_.find(tp);
    if (it == partitions_.end()) return ok_status();
    std::shared_ptr<Partition> gone = it->second;
    partitions_.erase(it);
    std::string dir = gone->log().dir();
    (void)gone->close();
    stats_.replicas_deleted++;
    if (hooks_.on_delete) hooks_.on_delete(tp);
    if (env_.tracer().enabled()) env_.tracer().event("broker.delete_replica", "{\"tp\":\"" + tp.to_string() + "\"}");
    return delete_dir(dir, gone->topic_id(), /*delayed=*/true);
}

// One fetcher per leader this broker follows something from; fetchers of leaders it no
// longer follows anything from are stopped.
void ReplicaManager::sync_fetchers() {
    std::set<NodeId> leaders;
    for (const auto& [tp, p] : partitions_) {
        if (p->role() == ReplicaRole::follower && p->leader().value() >= 0) leaders.insert(p->leader());
    }
    for (auto it = fetchers_.begin(); it != fetchers_.end();) {
        if (leaders.count(it->first) == 0) {
            // Out of the map before it parks in join(): stop() may walk the map meanwhile.
            std::unique_ptr<ReplicaFetcher> gone = std::move(it->second);
            it = fetchers_.erase(it);
            gone->join();
        } else {
            it->second->wake();
            ++it;
        }
    }
    for (NodeId l : leaders) {
        if (fetchers_.count(l) == 0) {
            fetchers_[l] = std::make_unique<ReplicaFetcher>(*this, l);
            fetchers_[l]->start();
        }
    }
}

void ReplicaManager::isr_loop() {
    while (!stopping_) {
        stopped_.wait_for(config_.isr_check_interval);
        if (stopping_ || !lifecycle_.epoch() || lifecycle_.fenced()) continue;
        std::vector<TopicPartitionName> led;
        for (const auto& [tp, p] : partitions_) {
            if (p->role() == ReplicaRole::leader) led.push_back(tp);
        }
        for (const TopicPartitionName& tp : led) {
            Partition* p = partition(tp);  // may be gone after a blocking call
            if (p == nullptr || stopping_) continue;
            std::optional<IsrChange> c = p->isr_change_to_send(image_);
            if (c) send_isr_change(*p, *c);
        }
    }
}

void ReplicaManager::send_isr_change(Partition& p, const IsrChange& c) {
    TopicPartitionName tp = p.tp();
    if (c.new_isr.size() < p.isr().size()) stats_.isr_shrinks++;
    if (c.new_isr.size() > p.isr().size()) stats_.isr_expands++;
    if (env_.tracer().enabled()) {
        std::string isr;
        for (NodeId n : c.new_isr) isr += (isr.empty() ? "" : ",") + std::to_string(n.value());
        std::string ends;
        for (const auto& [id, f] : p.followers()) {
            ends += (ends.empty() ? "" : ",") + ("\"" + std::to_string(id.value()) + "\":") +
                    std::to_string(f.log_end.value());
        }
        env_.tracer().event("broker.isr_change", "{\"tp\":\"" + tp.to_string() + "\",\"isr\":[" + isr +
                                                     "],\"hw\":" + std::to_string(p.high_watermark().value()) +
                                                     ",\"log_end\":" + std::to_string(p.log_end().value()) +
                                                     ",\"followers\":{" + ends + "}}");
    }
    protocol::AlterPartitionRequest req;
    protocol::AlterPartitionRequest::PartitionData pd;
    pd.partition_index = tp.partition;
    pd.leader_epoch = c.leader_epoch.value();
    for (size_t i = 0; i < c.new_isr.size(); i++) {
        pd.new_isr_with_epochs.push_back({c.new_isr[i], c.broker_epochs[i].value()});
    }
    pd.leader_recovery_state = controller::leader_recovered;
    pd.partition_epoch = c.partition_epoch.value();
    req.topics.push_back({"", p.topic_id(), {pd}});
    auto r = lifecycle_.alter_partition(req);
    Partition* again = partition(tp);
    if (again == nullptr) return;
    bool answered = r.ok() && r->error_code == protocol::ErrorCode::none && !r->topics.empty() &&
                    !r->topics[0].partitions.empty();
    protocol::ErrorCode e = answered ? r->topics[0].partitions[0].error_code : protocol::ErrorCode::none;
    if (!answered || e != protocol::ErrorCode::none) {
        stats_.alter_partition_errors++;
        if (env_.tracer().enabled()) {
            std::string why = !r.ok() ? std::string("no answer")
                                      : protocol::error_code_name(answered ? e : r->error_code);
            env_.tracer().event("broker.isr_change_failed", "{\"tp\":\"" + tp.to_string() + "\",\"answered\":" +
                                                                 (answered ? "true" : "false") + ",\"error\":\"" +
                                                                 why + "\"}");
        }
    }
    using protocol::ErrorCode;
    if (answered && (e == ErrorCode::ineligible_replica || e == ErrorCode::invalid_request ||
                     e == ErrorCode::operation_not_attempted)) {
        // Refused at the partition epoch we sent: nothing was applied, now or before.
        again->isr_change_refused(c);
    } else if (answered && (e == ErrorCode::none || e == ErrorCode::invalid_update_version ||
                            e == ErrorCode::fenced_leader_epoch || e == ErrorCode::unknown_topic_or_partition ||
                            e == ErrorCode::unknown_topic_id)) {
        // Applied, or refused because the image is ahead of ours (a change we have not seen
        // yet, perhaps this one): pending until the image carries a newer partition epoch
        // or leader epoch.
    } else {
        // No answer, the controller failed to commit it, or a controller that is not the
        // active one (NOT_CONTROLLER, for a partition too): a controller may still apply it,
        // so it stays pending (its additions hold the high watermark) and goes again.
        again->isr_change_unknown(c);
    }
    changed(*again);
}

void ReplicaManager::retention_loop() {
    while (!stopping_) {
        // A clean stop must not wait out log.retention.check.interval.ms (5 minutes).
        if (stopped_.wait_for(config_.retention_check_interval)) return;
        std::vector<TopicPartitionName> all;
        for (const auto& [tp, p] : partitions_) all.push_back(tp);
        for (const TopicPartitionName& tp : all) {
            std::shared_ptr<Partition> p = partition_ref(tp);  // retention parks on the disk
            if (p == nullptr || stopping_) continue;
            auto r = p->log().apply_retention(p->high_watermark());
            if (!r.ok() && (!p->log().offline() || !hosts(*p))) continue;
            if (!r.ok()) {
                fail(r.error());
                return;
            }
            if (p->log().config().cleanup_compact) (void)p->log().clean_step();
            p->expire_producers();
        }
    }
}

}  // namespace keel::broker
