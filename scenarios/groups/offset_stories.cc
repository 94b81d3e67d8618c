// The offset stories of kafka-semantics.md §2 (SC-29 to SC-32): what a consumer group's
// committed offsets promise and where records are lost, redelivered, replayed or skipped.
// Each is a scripted scenario on the group stories' cluster (group_story.h) that narrates
// with numbers (`keel sim run sc-29`) and fails if the behaviour it teaches does not show.
//
// Besides GroupWorkload's members, the stories drive their own members ("crews"): a crew
// is one consumer group of nodes <group>-m<i> with a chosen commit order (commit-then-
// process or process-then-commit with commit_sync), auto.offset.reset, processing time
// per record and controls the story flips (pause, seek, stop). A crew records what it
// processed (offset sets per partition) and its highest ok commit per partition, and,
// unless it commits first, everything into the story's GroupHistory, with a reset event
// wherever its position jumped (auto.offset.reset, a seek) so the group checker can tell
// skipped records from lost ones. A KeyedProducer is a producer node with a key function.
#include <algorithm>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "scenarios/groups/group_story.h"

namespace keel::scenarios {
namespace {

using namespace std::chrono_literals;

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}
double secs(Instant t) { return static_cast<double>(t.ns) / 1e9; }

struct CrewOptions {
    std::string group;
    std::string topic = "orders";
    int members = 1;
    client::OffsetReset reset = client::OffsetReset::earliest;
    bool commit_first = false;             // commit-then-process (at-most-once)
    Duration per_record = Duration(0);     // processing time of one record
    Duration poll_gap = Duration(0);       // sleep after each batch (the records pile up)
    int32_t max_partition_fetch_bytes = 1 << 20;
    bool start = true;  // false: the nodes are added stopped
};

struct CrewMember {
    bool done = true;
    bool in_window = false;  // commit-then-process: committed, processing not finished
    size_t pending = 0;      // records of the batch not processed yet
    bool fresh = false;      // an assignment arrived: learn the committed offsets
    uint64_t seeks_done = 0;
    std::map<int32_t, int64_t> expect_next;  // partition → the next offset it should see
};

struct Jump {
    int32_t partition = 0;
    int64_t from = -1;  // the position it had (-1: none, the group had no committed offset)
    int64_t to = 0;
    Instant at;
};

struct Crew {
    CrewOptions o;
    std::shared_ptr<GroupWorkload> groups;  // its history
    std::vector<env::Address> bootstrap;
    bool stop = false;
    bool paused = false;
    uint64_t seeks = 0;  // a seek request: every member seeks its partitions to seek_to
    int64_t seek_to = 0;
    std::map<std::string, CrewMember> members;
    std::map<int32_t, int64_t> committed;              // partition → highest ok commit
    std::map<int32_t, std::multiset<int64_t>> processed;  // partition → offsets processed
    std::vector<Jump> jumps;
    uint64_t commits_ok = 0;

    bool record() const { return !o.commit_first; }
    sim::GroupHistory& history() { return groups->history(); }
    size_t processed_below(const std::map<int32_t, int64_t>& bound, bool distinct) const {
        size_t n = 0;
        for (const auto& [p, offs] : processed) {
            auto it = bound.find(p);
            if (it == bound.end()) continue;
            std::set<int64_t> seen;
            for (int64_t off : offs) n += off < it->second && (!distinct || seen.insert(off).second);
        }
        return n;
    }
    // Offsets below the highest commit that no member processed.
    size_t never_processed() const {
        size_t n = 0;
        for (const auto& [p, c] : committed) {
            auto it = processed.find(p);
            for (int64_t off = 0; off < c; off++) n += it == processed.end() || it->second.count(off) == 0;
        }
        return n;
    }
};

class CrewListener final : public client::RebalanceListener {
public:
    CrewListener(Crew& crew, CrewMember& m, std::string name, env::Env& env, client::Consumer*& c)
        : crew_(crew), m_(m), name_(std::move(name)), env_(env), c_(c) {}
    void on_partitions_revoked(const std::vector<client::TopicPartitionName>& parts) override {
        forget(parts);
        if (!parts.empty() && c_ != nullptr && crew_.record())
            crew_.history().revoked(name_, crew_.o.group, c_->group_metadata().generation_id, names(parts), env_.now());
    }
    void on_partitions_assigned(const std::vector<client::TopicPartitionName>&) override {
        if (c_ == nullptr) return;
        m_.fresh = true;
        client::GroupMetadata g = c_->group_metadata();
        if (crew_.record())
            crew_.history().assignment(name_, crew_.o.group, g.generation_id, g.member_id, names(c_->assignment()),
                                       env_.now());
    }
    void on_partitions_lost(const std::vector<client::TopicPartitionName>& parts) override {
        forget(parts);
        if (!parts.empty() && c_ != nullptr && crew_.record())
            crew_.history().lost(name_, crew_.o.group, c_->group_metadata().generation_id, names(parts), env_.now());
    }

private:
    static std::vector<sim::PartitionName> names(const std::vector<client::TopicPartitionName>& tps) {
        std::vector<sim::PartitionName> out;
        for (const auto& tp : tps) out.push_back({tp.topic, tp.partition.value()});
        return out;
    }
    void forget(const std::vector<client::TopicPartitionName>& parts) {
        for (const auto& tp : parts) m_.expect_next.erase(tp.partition.value());
    }
    Crew& crew_;
    CrewMember& m_;
    std::string name_;
    env::Env& env_;
    client::Consumer*& c_;
};

client::ConsumerConfig crew_config(const Crew& crew, const std::string& name) {
    client::ConsumerConfig cfg;
    cfg.bootstrap = crew.bootstrap;
    cfg.client_id = name;
    cfg.group_id = crew.o.group;
    cfg.partition_assignment_strategy = {"range"};
    cfg.enable_auto_commit = false;
    cfg.auto_offset_reset = crew.o.reset;
    cfg.max_partition_fetch_bytes = crew.o.max_partition_fetch_bytes;
    cfg.fetch_max_wait = 100ms;
    cfg.request_timeout = 5s;
    cfg.metadata_max_age = 5s;
    cfg.session_timeout = 6s;
    cfg.heartbeat_interval = 1s;
    cfg.max_poll_interval = 60s;
    return cfg;
}

// commit_sync of `next` (the partitions still assigned), recorded as GroupWorkload does.
void crew_commit(Crew& crew, const std::string& name, client::Consumer& c, const client::OffsetMap& next,
                 env::Env& env) {
    client::OffsetMap offsets;
    std::map<sim::PartitionName, int64_t> recorded;
    for (const client::TopicPartitionName& tp : c.assignment()) {
        auto it = next.find(tp);
        if (it == next.end()) continue;
        offsets[tp] = it->second;
        recorded[{tp.topic, tp.partition.value()}] = it->second.value();
    }
    if (offsets.empty()) return;
    sim::GroupOpId id{-1};
    if (crew.record()) id = crew.history().invoke_commit(name, crew.o.group, c.group_metadata().generation_id, recorded, env.now());
    Status st = c.commit_sync(offsets, 10s);
    if (st.ok()) {
        crew.commits_ok++;
        for (const auto& [p, o] : recorded) crew.committed[p.partition] = std::max(crew.committed[p.partition], o);
        if (crew.record()) crew.history().ok_commit(id, env.now());
        return;
    }
    if (!crew.record()) return;
    Errc e = st.error().code;
    if (e == Errc::timeout || e == Errc::disconnected || e == Errc::closed) {
        crew.history().info(id, st.error().to_string(), env.now());
    } else {
        crew.history().fail(id, st.error().to_string(), env.now());
    }
}

// Hands one record to the application; a position that jumped is a reset first.
void crew_process(Crew& crew, CrewMember& m, const std::string& name, client::Consumer& c,
                  const client::ConsumerRecord& r, env::Env& env) {
    int32_t p = r.partition.value();
    int64_t o = r.offset.value();
    auto it = m.expect_next.find(p);
    bool jump = it != m.expect_next.end() ? o != it->second : o > 0;
    if (jump) {
        crew.jumps.push_back({p, it != m.expect_next.end() ? it->second : -1, o, env.now()});
        if (crew.record()) crew.history().reset(name, crew.o.group, {r.topic, p}, o, env.now());
    }
    m.expect_next[p] = o + 1;
    crew.processed[p].insert(o);
    if (crew.record()) {
        std::string v = r.value ? std::string(r.value->begin(), r.value->end()) : std::string();
        crew.history().processed(name, crew.o.group, c.group_metadata().generation_id, {r.topic, p}, o, v, env.now());
    }
}

// One poll's records: commit-then-process or process-then-commit.
void crew_batch(Crew& crew, CrewMember& m, const std::string& name, client::Consumer& c,
                const std::vector<client::ConsumerRecord>& records, env::Env& env) {
    if (records.empty()) return;
    client::OffsetMap next;
    for (const auto& r : records) next[{r.topic, r.partition}] = r.offset + 1;
    if (crew.o.commit_first) {
        crew_commit(crew, name, c, next, env);
        m.in_window = true;
    }
    m.pending = records.size();
    for (const auto& r : records) {
        if (crew.o.per_record > Duration(0)) env.executor().sleep_for(crew.o.per_record);
        crew_process(crew, m, name, c, r, env);
        m.pending--;
    }
    m.in_window = false;
    if (!crew.o.commit_first) crew_commit(crew, name, c, next, env);
}

// The story's controls (pause / resume, seek) and the committed offsets of new partitions.
void crew_controls(Crew& crew, CrewMember& m, const std::string& name, client::Consumer& c, env::Env& env) {
    if (crew.paused && c.paused().empty() && !c.assignment().empty()) (void)c.pause(c.assignment());
    if (!crew.paused && !c.paused().empty()) c.resume(c.paused());
    if (m.seeks_done < crew.seeks && !c.assignment().empty()) {
        m.seeks_done = crew.seeks;
        for (const auto& tp : c.assignment()) {
            if (!c.seek(tp, Offset(crew.seek_to)).ok()) continue;
            m.expect_next[tp.partition.value()] = crew.seek_to;
            crew.jumps.push_back({tp.partition.value(), -2, crew.seek_to, env.now()});
            if (crew.record()) crew.history().reset(name, crew.o.group, {tp.topic, tp.partition.value()}, crew.seek_to, env.now());
        }
    }
    if (!m.fresh) return;
    m.fresh = false;
    auto r = c.committed(c.assignment(), 10s);
    if (!r.ok()) return;
    for (const auto& tp : c.assignment()) {
        auto it = r->find(tp);
        if (it != r->end()) m.expect_next[tp.partition.value()] = it->second.value();
    }
}

void crew_member(const std::shared_ptr<Crew>& crew, const std::string& name, env::Env& env) {
    CrewMember& m = crew->members[name];
    m = CrewMember{};
    m.done = false;
    client::Consumer* cp = nullptr;
    struct Guard {  // also when a crash unwinds the node
        CrewMember& m;
        client::Consumer*& cp;
        ~Guard() {
            m.done = true;
            m.in_window = false;
            cp = nullptr;
        }
    } guard{m, cp};
    CrewListener listener(*crew, m, name, env, cp);
    client::Consumer c(env, crew_config(*crew, name));
    cp = &c;
    if (!c.subscribe({crew->o.topic}, &listener).ok()) return;
    while (!crew->stop) {
        crew_controls(*crew, m, name, c, env);
        auto r = c.poll(500ms);
        if (!r.ok()) {
            env.executor().sleep_for(100ms);
            continue;
        }
        if (m.fresh) crew_controls(*crew, m, name, c, env);
        crew_batch(*crew, m, name, c, *r, env);
        if (crew->o.poll_gap > Duration(0) && !r->empty()) env.executor().sleep_for(crew->o.poll_gap);
    }
    c.close();
    cp = nullptr;
}

std::shared_ptr<Crew> add_crew(GroupStory& s, CrewOptions o) {
    auto crew = std::make_shared<Crew>();
    crew->o = std::move(o);
    crew->groups = s.groups;
    crew->bootstrap = s.cluster->bootstrap();
    for (int i = 1; i <= crew->o.members; i++) {
        std::string name = crew->o.group + "-m" + std::to_string(i);
        crew->members[name];
        s.w.add_node(name, [crew, name](env::Env& env) { crew_member(crew, name, env); }, crew->o.start);
    }
    return crew;
}

bool stop_crew(GroupStory& s, Crew& crew) {
    crew.stop = true;
    return s.w.run_until(
        [&] { return std::all_of(crew.members.begin(), crew.members.end(), [](const auto& m) { return m.second.done; }); },
        30s);
}

// A producer node sending one record every `interval` with key(n), acks=all, idempotent.
struct KeyedProducer {
    std::string name;
    std::string topic;
    Duration interval = 10ms;
    std::function<std::string(int64_t)> key;
    std::shared_ptr<GroupWorkload> groups;  // acknowledged records go into its history
    bool stop = false;
    bool done = false;
    std::map<int32_t, int64_t> acked;            // partition → records acknowledged
    std::map<std::string, int32_t> partition_of;  // key → partition (murmur2)
};

void keyed_producer_main(const std::shared_ptr<KeyedProducer>& kp, std::vector<env::Address> bootstrap,
                         env::Env& env) {
    client::ProducerConfig cfg;
    cfg.bootstrap = std::move(bootstrap);
    cfg.client_id = kp->name;
    cfg.delivery_timeout = 30s;
    cfg.request_timeout = 5s;
    cfg.metadata_max_age = 5s;
    client::Producer producer(env, cfg);
    std::deque<std::tuple<std::string, std::string, env::Future<client::RecordMetadata>>> pending;
    auto collect = [&](bool wait) {
        while (!pending.empty() && (wait || std::get<2>(pending.front()).ready())) {
            auto& [k, v, f] = pending.front();
            auto r = f.get(env.now() + 40s);
            if (r.ok() && r->offset.value() >= 0) {
                kp->acked[r->partition.value()]++;
                kp->partition_of[k] = r->partition.value();
                kp->groups->history().acked({kp->topic, r->partition.value()}, r->offset.value(), v);
            }
            pending.pop_front();
        }
    };
    for (int64_t n = 0; !kp->stop; n++) {
        client::ProducerRecord rec;
        rec.topic = kp->topic;
        std::string k = kp->key(n), v = kp->name + "-" + std::to_string(n);
        rec.key = to_bytes(k);
        rec.value = to_bytes(v);
        pending.emplace_back(k, v, producer.send(std::move(rec)));
        collect(false);
        env.executor().sleep_for(kp->interval);
    }
    (void)producer.flush(40s);
    collect(true);
    producer.close();
    kp->done = true;
}

std::shared_ptr<KeyedProducer> add_producer(GroupStory& s, std::string name, std::string topic, Duration interval,
                                            std::function<std::string(int64_t)> key) {
    auto kp = std::make_shared<KeyedProducer>();
    kp->name = std::move(name);
    kp->topic = std::move(topic);
    kp->interval = interval;
    kp->key = std::move(key);
    kp->groups = s.groups;
    auto bootstrap = s.cluster->bootstrap();
    s.w.add_node(kp->name, [kp, bootstrap](env::Env& env) { keyed_producer_main(kp, bootstrap, env); });
    return kp;
}

bool stop_producer(GroupStory& s, KeyedProducer& kp) {
    kp.stop = true;
    return s.w.run_until([&] { return kp.done; }, 60s);
}

// partition → {log start offset, high watermark} of `topic` as its leaders see them now.
std::map<int32_t, std::pair<int64_t, int64_t>> log_bounds(DataCluster& cluster, const std::string& topic) {
    std::map<int32_t, std::pair<int64_t, int64_t>> out;
    const controller::MetadataImage* img = cluster.active_image();
    const controller::TopicState* t = img != nullptr ? img->topic_by_name(topic) : nullptr;
    if (t == nullptr) return out;
    for (const auto& [index, p] : t->partitions) {
        broker::Partition* leader = cluster.replica(p.leader, t->id, index.value());
        if (leader != nullptr) out[index.value()] = {leader->log_start().value(), leader->high_watermark().value()};
    }
    return out;
}

std::map<int32_t, int64_t> high_watermarks(DataCluster& cluster, const std::string& topic) {
    std::map<int32_t, int64_t> out;
    for (const auto& [p, b] : log_bounds(cluster, topic)) out[p] = b.second;
    return out;
}

int64_t total(const std::map<int32_t, int64_t>& m) {
    int64_t n = 0;
    for (const auto& [p, v] : m) n += v;
    return n;
}

std::string offsets_text(const std::map<int32_t, int64_t>& m) {
    std::string s;
    for (const auto& [p, v] : m) s += (s.empty() ? "p" : ", p") + std::to_string(p) + "@" + std::to_string(v);
    return s.empty() ? "none" : s;
}


// Records `group` processed again after event `mark` that it had processed before it, and
// when the earliest of those was first processed.
struct Redelivery {
    size_t records = 0;
    Instant first_original = Instant::max();
};
Redelivery redelivered(const sim::GroupHistory& h, const std::string& group, size_t mark) {
    std::map<std::pair<int32_t, int64_t>, Instant> before;
    Redelivery r;
    for (const sim::GroupEvent& e : h.events()) {
        if (e.group != group || e.kind != sim::GroupEventKind::processed) continue;
        std::pair<int32_t, int64_t> key{e.partition.partition, e.offset};
        if (e.index < mark) {
            before.emplace(key, e.at);
            continue;
        }
        auto it = before.find(key);
        if (it == before.end()) continue;
        r.records++;
        r.first_original = std::min(r.first_original, it->second);
        before.erase(it);
    }
    return r;
}

// Lag per partition sampled once a second.
struct LagSeries {
    std::vector<double> t;                          // seconds
    std::map<int32_t, std::vector<int64_t>> lag;    // partition → samples
    int64_t max_of(int32_t p) const {
        auto it = lag.find(p);
        return it == lag.end() || it->second.empty() ? 0 : *std::max_element(it->second.begin(), it->second.end());
    }
};

// A hand-written SVG line chart of the series, the hot partition drawn thick.
std::string lag_svg(const LagSeries& s, int32_t hot) {
    const double w = 760, h = 380, l = 70, r = 130, top = 40, bottom = 50;
    double tmin = s.t.empty() ? 0 : s.t.front(), tmax = s.t.empty() ? 1 : std::max(s.t.back(), tmin + 1);
    int64_t ymax = 1;
    for (const auto& [p, v] : s.lag) ymax = std::max(ymax, s.max_of(p));
    auto x = [&](double t) { return l + (t - tmin) / (tmax - tmin) * (w - l - r); };
    auto y = [&](double v) { return h - bottom - v / static_cast<double>(ymax) * (h - top - bottom); };
    const char* colors[] = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f"};
    std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"380\" font-family=\"sans-serif\" "
                      "font-size=\"12\">\n<rect width=\"760\" height=\"380\" fill=\"white\"/>\n"
                      "<text x=\"380\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">SC-32: consumer lag per partition "
                      "(high watermark - committed offset)</text>\n";
    out += "<line x1=\"70\" y1=\"" + fmt("%.1f", y(0)) + "\" x2=\"" + fmt("%.1f", w - r) + "\" y2=\"" + fmt("%.1f", y(0)) +
           "\" stroke=\"black\"/>\n<line x1=\"70\" y1=\"" + fmt("%.1f", top) + "\" x2=\"70\" y2=\"" + fmt("%.1f", y(0)) +
           "\" stroke=\"black\"/>\n";
    for (int i = 0; i <= 4; i++) {
        double v = static_cast<double>(ymax) * i / 4;
        out += "<text x=\"64\" y=\"" + fmt("%.1f", y(v) + 4) + "\" text-anchor=\"end\">" + fmt("%.0f", v) + "</text>\n";
        double t = tmin + (tmax - tmin) * i / 4;
        out += "<text x=\"" + fmt("%.1f", x(t)) + "\" y=\"" + fmt("%.1f", y(0) + 18) + "\" text-anchor=\"middle\">" +
               fmt("%.0fs", t) + "</text>\n";
    }
    out += "<text x=\"" + fmt("%.1f", (l + w - r) / 2) + "\" y=\"370\" text-anchor=\"middle\">virtual time</text>\n";
    out += "<text x=\"16\" y=\"" + fmt("%.1f", (top + h - bottom) / 2) + "\" transform=\"rotate(-90 16 " +
           fmt("%.1f", (top + h - bottom) / 2) + ")\" text-anchor=\"middle\">lag (records)</text>\n";
    int i = 0;
    for (const auto& [p, v] : s.lag) {
        const char* c = colors[i++ % 8];
        std::string pts;
        for (size_t k = 0; k < v.size() && k < s.t.size(); k++) {
            pts += fmt("%.1f,", x(s.t[k])) + fmt("%.1f ", y(static_cast<double>(v[k])));
        }
        out += "<polyline fill=\"none\" stroke=\"" + std::string(c) + "\" stroke-width=\"" + (p == hot ? "3" : "1.5") +
               "\" points=\"" + pts + "\"/>\n";
        double ly = top + 10 + 18 * (i - 1);
        out += "<line x1=\"" + fmt("%.1f", w - r + 12) + "\" y1=\"" + fmt("%.1f", ly) + "\" x2=\"" +
               fmt("%.1f", w - r + 32) + "\" y2=\"" + fmt("%.1f", ly) + "\" stroke=\"" + c + "\" stroke-width=\"3\"/>\n";
        out += "<text x=\"" + fmt("%.1f", w - r + 38) + "\" y=\"" + fmt("%.1f", ly + 4) + "\">p" + std::to_string(p) +
               (p == hot ? " (hot key)" : "") + "</text>\n";
    }
    return out + "</svg>\n";
}

}  // namespace
}  // namespace keel::scenarios

using keel::scenarios::GroupSpec;
using namespace std::chrono_literals;
namespace ks = keel::scenarios;

KEEL_SCENARIO("sc-29",
              "SC-29: commit ordering. A commit-then-process member killed between its commit and the end of its "
              "batch loses the rest of the batch (at-most-once); an auto-committing member that dies between two "
              "auto-commits has its records redelivered (at-least-once), none lost") {
    GroupSpec autog{"auto", 2, {"range"}};
    autog.commit = GroupSpec::Commit::auto_commit;
    auto s = ks::start_group_story(ctx, {autog}, 4);
    ks::CrewOptions lo;
    lo.group = "ledger";
    lo.commit_first = true;
    lo.per_record = 5ms;
    lo.poll_gap = 1s;
    auto ledger = ks::add_crew(s, lo);
    s.w.run_for(12s);
    s.say("ledger (one member, commits each batch's end offsets, then processes it at 5 ms a record) has committed " +
          ks::offsets_text(ledger->committed) + "; auto (auto.commit.interval.ms 5 s): auto-m1 " +
          s.assignment("auto-m1") + ", auto-m2 " + s.assignment("auto-m2"));
    ks::CrewMember& lm = ledger->members["ledger-m1"];
    bool window = s.w.run_until([&] { return lm.in_window && lm.pending >= 10; }, 20s);
    size_t pending = lm.pending;
    s.say("ledger-m1 committed " + ks::offsets_text(ledger->committed) + " and has " + std::to_string(pending) +
          " records of that batch still to process: kill -9, restarted 1 s later");
    ctx.expect(window, "ledger-m1 is caught between its commit and the end of its batch");
    s.w.crash("ledger-m1");
    s.w.run_for(1s);
    s.w.start("ledger-m1");
    s.w.run_for(3s);
    size_t mark = s.now_index();
    keel::Instant crash_at = s.w.now();
    // The auto-committing member stops dead (SIGSTOP) rather than being killed: to the group
    // it is the same crash (it is expelled after session.timeout.ms and its partitions move on
    // from the last auto-commit). A kill -9 would unwind its Consumer through close(), whose
    // auto-commit retries without virtual time advancing on a dying node (reported).
    s.say("auto-m1 owns " + s.assignment("auto-m1") + " and has processed records since its last auto-commit: it "
          "stops dead (SIGSTOP) for 12 s, past its 6 s session timeout");
    s.w.pause("auto-m1");
    bool moved = s.w.run_until([&] { return s.owned("auto-m2") == 4; }, 11s);
    s.say(moved ? "auto-m2 took over " + s.assignment("auto-m2") + " from the last auto-committed offsets"
                : "auto-m2 did not take over auto-m1's partitions");
    ctx.expect(moved, "the stopped member's partitions move to the other member");
    s.w.run_for(crash_at + 12s - s.w.now());
    s.w.resume("auto-m1");
    s.w.run_for(12s);
    ctx.expect(ks::stop_crew(s, *ledger), "ledger's member closes");
    size_t lost = ledger->never_processed();
    size_t seen = 0, distinct = 0;
    for (const auto& [p, offs] : ledger->processed) seen += offs.size(), distinct += std::set<int64_t>(offs.begin(), offs.end()).size();
    s.say("ledger: committed " + ks::offsets_text(ledger->committed) + "; " + std::to_string(lost) +
          " records below its committed offsets were never processed by anyone (at-most-once: the crash window "
          "was the batch after the commit), " + std::to_string(seen - distinct) + " processed twice");
    auto rd = ks::redelivered(s.groups->history(), "auto", mark);
    double window_s = rd.records ? static_cast<double>((crash_at - rd.first_original).count()) / 1e9 : 0;
    s.say("auto: " + std::to_string(rd.records) + " records processed before auto-m1 stopped were processed again: "
          "those of the " + ks::fmt("%.1f", window_s) + " s since its last auto-commit (at-least-once)");
    ctx.expect(lost > 0, "commit-then-process loses the records between the commit and the crash");
    ctx.expect(lost == pending, "exactly the unprocessed rest of the batch is lost");
    ctx.expect(seen == distinct, "commit-then-process never processes a record twice");
    ctx.expect(rd.records > 0, "auto-commit redelivers what was processed after the last auto-commit");
    ctx.metric("commit_first_lost", static_cast<double>(lost));
    ctx.metric("auto_commit_redelivered", static_cast<double>(rd.records));
    ctx.metric("auto_commit_window_ms", window_s * 1000);
    auto r = ks::finish_group_story(s);  // auto as process-then-commit: nothing acknowledged lost
    ctx.expect(r.valid() && r.acked_checked > 0, "the auto-commit group lost no acknowledged record");
}

KEEL_SCENARIO("sc-30",
              "SC-30: auto.offset.reset. Two new groups join a topic that already holds records: earliest replays "
              "all of them, latest skips all of them; a seek back to offset 0 (a reset) replays them deliberately") {
    auto s = ks::start_group_story(ctx, {}, 4);
    ks::CrewOptions eo;
    eo.group = "replay";
    eo.start = false;
    auto replay = ks::add_crew(s, eo);
    ks::CrewOptions lo = eo;
    lo.group = "tail";
    lo.reset = keel::client::OffsetReset::latest;
    auto tail = ks::add_crew(s, lo);
    s.w.run_for(15s);
    auto hw = ks::high_watermarks(*s.cluster, "orders");
    int64_t before = ks::total(hw);
    s.say(std::to_string(before) + " records in orders (" + ks::offsets_text(hw) +
          ") before groups replay (auto.offset.reset=earliest) and tail (latest) start");
    s.w.start("replay-m1");
    s.w.start("tail-m1");
    s.w.run_for(10s);
    size_t r_old = replay->processed_below(hw, true), t_old = tail->processed_below(hw, true);
    std::map<int32_t, int64_t> tail_start;
    for (const ks::Jump& j : tail->jumps) tail_start.emplace(j.partition, j.to);
    s.say("replay processed " + std::to_string(r_old) + " of the " + std::to_string(before) +
          " older records; tail processed " + std::to_string(t_old) + ": it started at the log end, " +
          ks::offsets_text(tail_start));
    ctx.expect(r_old == static_cast<size_t>(before), "earliest replays every record produced before the group");
    ctx.expect(t_old == 0, "latest skips every record produced before the group");
    ctx.expect(!tail_start.empty(), "tail's start was recorded as a reset");
    size_t mark = s.now_index();
    tail->seek_to = 0;
    tail->seeks++;
    s.say("tail-m1 seeks every partition back to offset 0 (recorded as a reset)");
    s.w.run_for(10s);
    size_t t_replayed = tail->processed_below(hw, true);
    auto rd = ks::redelivered(s.groups->history(), "tail", mark);
    s.say("after the seek tail processed " + std::to_string(t_replayed) + " of the older records, and " +
          std::to_string(rd.records) + " records it had already processed once");
    ctx.expect(t_replayed == static_cast<size_t>(before), "a seek back replays the older records");
    ctx.expect(rd.records > 0, "a seek back reprocesses what was processed before");
    ctx.metric("produced_before_join", static_cast<double>(before));
    ctx.metric("earliest_replayed", static_cast<double>(r_old));
    ctx.metric("latest_consumed_before_join", static_cast<double>(t_old));
    ctx.metric("seek_replayed", static_cast<double>(t_replayed));
    ctx.expect(ks::stop_crew(s, *replay) && ks::stop_crew(s, *tail), "the members close");
    auto r = ks::finish_group_story(s);
    ctx.expect(r.resets > 0, "the checker saw the resets");
}

KEEL_SCENARIO("sc-31",
              "SC-31: a consumer falls behind retention. Its partition keeps only ~16 KB (retention.bytes); the "
              "member pauses, retention deletes the segments under its position, and on resume the fetch gets "
              "OFFSET_OUT_OF_RANGE: auto.offset.reset=earliest jumps to the log start and the records between are "
              "never processed") {
    auto s = ks::start_group_story(ctx, {}, 4);
    ks::DataTopic t{"events", 1, 3, {}};
    t.configs = {{"min.insync.replicas", "2"}, {"flush.messages", "1"}, {"segment.bytes", "4096"},
                 {"retention.bytes", "16384"}};
    ctx.expect(s.cluster->create_topics({t}, 30s), "topic events created");
    auto kp = ks::add_producer(s, "events-producer", "events", 10ms, [](int64_t n) { return "e" + std::to_string(n % 8); });
    ks::CrewOptions o;
    o.group = "audit";
    o.topic = "events";
    auto audit = ks::add_crew(s, o);
    s.w.run_for(12s);
    auto b = ks::log_bounds(*s.cluster, "events");
    s.say("events-0 holds offsets " + std::to_string(b[0].first) + ".." + std::to_string(b[0].second) +
          " (retention.bytes 16384, segment.bytes 4096); audit has committed " + ks::offsets_text(audit->committed));
    audit->paused = true;
    s.w.run_for(1s);
    int64_t position = audit->committed.count(0) ? audit->committed[0] : -1;
    s.say("audit-m1 pauses its partition (consumer.pause; it keeps heartbeating) at position " + std::to_string(position));
    s.w.run_for(20s);
    b = ks::log_bounds(*s.cluster, "events");
    s.say("20 s later events-0 holds " + std::to_string(b[0].first) + ".." + std::to_string(b[0].second) +
          ": retention deleted the segments under audit's position " + std::to_string(position) + "; it resumes");
    ctx.expect(b[0].first > position, "retention moved the log start past the paused member's position");
    audit->paused = false;
    s.w.run_for(5s);
    ks::Jump jump;
    for (const ks::Jump& j : audit->jumps) if (j.from >= 0) jump = j;
    size_t skipped = audit->never_processed();
    s.say("the fetch at " + std::to_string(jump.from) + " got OFFSET_OUT_OF_RANGE; auto.offset.reset=earliest moved it to " +
          std::to_string(jump.to) + ": " + std::to_string(skipped) + " records were never processed (the group's lag "
          "dropped with them, hiding the loss)");
    ctx.expect(jump.from == position && jump.to > position, "the member's position jumped forward past the deleted records");
    ctx.expect(skipped > 0, "records deleted by retention before the member read them are never processed");
    ctx.metric("skipped_by_retention", static_cast<double>(skipped));
    ctx.expect(ks::stop_producer(s, *kp), "events-producer finishes");
    ctx.expect(ks::stop_crew(s, *audit), "audit's member closes");
    ks::finish_group_story(s);  // the skipped records lie below the reset: not lost
}

KEEL_SCENARIO("sc-32",
              "SC-32: a hot key. 80% of the records carry one key, so murmur2 puts them all in one partition; a "
              "group of 3 members (20 ms per record) keeps up with every partition but that one, whose lag "
              "(high watermark - committed) grows; --param lag_svg=PATH draws the lag over time") {
    auto s = ks::start_group_story(ctx, {}, 6);
    auto kp = ks::add_producer(s, "hot-producer", "orders", 10ms,
                               [](int64_t n) { return n % 5 == 0 ? "k" + std::to_string(n % 7) : std::string("hot"); });
    ks::CrewOptions o;
    o.group = "reports";
    o.members = 3;
    o.per_record = 20ms;
    o.max_partition_fetch_bytes = 2048;
    auto reports = ks::add_crew(s, o);
    s.w.run_for(10s);
    s.say("hot-producer sends 100 records/s, 80% with key \"hot\", on top of the story's 50 records/s over 6 "
          "partitions; group reports has 3 members processing 50 records/s each");
    ks::LagSeries series;
    for (int i = 0; i < 40; i++) {
        s.w.run_for(1s);
        series.t.push_back(ks::secs(s.w.now()));
        for (const auto& [p, hw] : ks::high_watermarks(*s.cluster, "orders")) {
            int64_t c = reports->committed.count(p) ? reports->committed[p] : 0;
            series.lag[p].push_back(std::max<int64_t>(0, hw - c));
        }
    }
    int32_t hot = kp->partition_of.count("hot") ? kp->partition_of["hot"] : -1;
    int64_t hot_max = series.max_of(hot), others = 0;
    std::string per;
    for (const auto& [p, v] : series.lag) {
        if (p != hot) others = std::max(others, series.max_of(p));
        per += (per.empty() ? "p" : ", p") + std::to_string(p) + " " + std::to_string(series.max_of(p));
    }
    s.say("key \"hot\" hashes (murmur2) to partition " + std::to_string(hot) + ", which got " +
          std::to_string(kp->acked[hot]) + " of hot-producer's " + std::to_string(ks::total(kp->acked)) + " records");
    std::string owner = "nobody";
    for (const auto& [name, m] : reports->members) {
        for (const auto& pn : s.groups->assignment_of(name).second) owner = pn.partition == hot ? name : owner;
    }
    s.say("max lag over 40 s per partition: " + per + "; the hot partition's owner " + owner + " (" +
          s.assignment(owner) + ") cannot keep up, and the other members cannot take part of one partition");
    std::string svg = ctx.param("lag_svg", "");
    if (!svg.empty()) {
        std::ofstream f(svg);
        f << ks::lag_svg(series, hot);
        s.say("lag chart written to " + svg);
    }
    ctx.metric("hot_partition", hot);
    ctx.metric("lag_max_hot", static_cast<double>(hot_max));
    ctx.metric("lag_max_others", static_cast<double>(others));
    ctx.expect(hot >= 0, "the hot key's partition is known");
    ctx.expect(hot_max > 5 * std::max<int64_t>(others, 1), "the hot partition's lag exceeds 5x every other's");
    ctx.expect(ks::stop_producer(s, *kp), "hot-producer finishes");
    ctx.expect(ks::stop_crew(s, *reports), "reports' members close");
    ks::finish_group_story(s);
}
