// keel nemesis: the simulator's checks on a real cluster. On a seeded schedule
// (prod/nemesis_schedule.h) it kills (-9), pauses (SIGSTOP ... SIGCONT) and restarts
// (SIGTERM, then start) the server processes of a cluster that `keel cluster up` started,
// and isolates or slows a server's traffic with the other servers (through each server's
// --net-faults control file, prod/net_fault_control.h), never more than one at a time, while a workload (nemesis_workload.h) produces through
// Keel's client library and reads everything back once the faults healed; the history goes
// to the simulator's log checker. Exit 0: no anomaly; 1: anomalies (or the run could not
// be checked); 2: usage.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <thread>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cluster_probe.h"
#include "cli/commands.h"
#include "cli/nemesis_workload.h"
#include "cli/client_tool.h"
#include "prod/local_cluster.h"
#include "prod/nemesis_schedule.h"
#include "prod/net_fault_control.h"
#include "prod/prod_node.h"
#include "prod/temp_dir.h"
#include "sim/checkers/log_checker.h"

namespace keel::cli {

namespace {

const char* kNemesisHelp = R"(usage: keel nemesis --cluster D [--duration 60s] [--seed N]
                    [--faults kill,pause,restart,partition,slow] [--acks all|1]
                    [--rate N] [--topic T] [--json FILE]

Faults the servers of the local cluster in D (started by 'keel cluster up --dir D') on a
seeded schedule while a workload runs through real sockets, then checks the history with
the simulator's log checker (lost acknowledged writes, duplicates, offset and order
consistency; docs/checker.md).

  faults     kill: SIGKILL, then a restart on the same data; pause: SIGSTOP, then SIGCONT;
             restart: SIGTERM (controlled shutdown), then a start; partition: the node
             and every other node stop talking to each other (clients still reach it);
             slow: every message between the node and the others is delayed 50-300 ms.
             One node at a time (a minority), each for 1-5 s; each is verified to have
             taken effect (the process died, stopped, came back; the servers acknowledged
             the network fault and counted connections refused or closed, or sends
             delayed, while it lasted). The network faults are made by the servers'
             own network code (keel server --net-faults, which keel cluster up sets),
             not the kernel: no iptables or tc needed.
  workload   Keel's producer (acks=all, idempotent; or --acks 1) sends unique values to a
             new topic (RF 3, min ISR 2 from the cluster's defaults); after the faults
             healed and the ISRs are full again, a consumer reads every partition from
             offset 0 up to its high watermark.

options:
  --cluster D        the cluster's directory (required)
  --duration T       how long faults go on: 60s, 90000ms, 2m (default 60s)
  --seed N           the schedule's seed (default: from the clock; printed for replay)
  --faults LIST      kill,pause,restart,partition,slow (default all five), and lone-kill:
                     pause every other node for 1 s, kill -9 this one, resume the others
                     (more than a minority, briefly; acks=1 loses what only the killed
                     leader had)
  --acks all|1       the producer's acks (default all, with idempotence). acks=1 under
                     kill -9 may lose acknowledged writes: reported as anomalies
  --rate N           records per second the producer sends (default 100)
  --topic T          the topic (default nemesis-<seed>-<unix time>; must not exist)
  --json FILE        the result as JSON
  --help             this text

Ctrl-C (SIGINT) or SIGTERM during the faults: the faults not begun are skipped, those
begun are healed at once (resume, start, heal network), and what ran is checked as usual.

Exit 0: zero anomalies; 1: anomalies, or the run could not be checked; 2: usage.
)";

struct NemesisArgs {
    std::string dir;
    int64_t duration_ms = 60'000;
    uint64_t seed = 0;
    std::set<prod::FaultKind> faults;
    int16_t acks = -1;
    std::string topic;
    int rate = 100;
    std::optional<std::string> json;
};

struct AppliedFault {
    prod::FaultStep step;
    int64_t applied_ms = 0;
    bool effect = false;
    std::string note;
    std::optional<prod::NetFaultCounters> bite;  // a network fault's heal: what it did meanwhile
};

// Parses the options; exit code 2 (and a message) on a usage error, else 0.
int parse_args(Args& args, NemesisArgs& out) {
    if (!args.positionals().empty()) return usage_error("nemesis", "unexpected argument '" + args.positionals()[0] + "'");
    auto dir = args.value("--cluster");
    if (!dir) return usage_error("nemesis", "--cluster D is required (a directory of 'keel cluster up')");
    out.dir = *dir;
    auto duration = prod::parse_duration_ms(args.value("--duration").value_or("60s"));
    if (!duration.ok()) return usage_error("nemesis", "--duration: " + duration.error().message);
    out.duration_ms = *duration;
    if (out.duration_ms < 5'000) return usage_error("nemesis", "--duration must be at least 5s");
    auto faults = prod::parse_fault_kinds(args.value("--faults").value_or("kill,pause,restart,partition,slow"));
    if (!faults.ok()) return usage_error("nemesis", "--faults: " + faults.error().message);
    out.faults = *faults;
    std::string acks = args.value("--acks").value_or("all");
    if (acks != "all" && acks != "-1" && acks != "1") return usage_error("nemesis", "--acks must be all or 1");
    out.acks = acks == "1" ? int16_t{1} : int16_t{-1};
    auto seed = args.u64("--seed");
    auto rate = args.u64("--rate");
    if (!args.ok()) return usage_error("nemesis", args.error());
    if (rate && (*rate < 1 || *rate > 100'000)) return usage_error("nemesis", "--rate must be 1..100000 records/s");
    out.rate = static_cast<int>(rate.value_or(100));
    out.seed = seed.value_or(static_cast<uint64_t>(std::time(nullptr)) ^ (static_cast<uint64_t>(::getpid()) << 32));
    out.topic = args.value("--topic").value_or("nemesis-" + std::to_string(out.seed) + "-" + std::to_string(std::time(nullptr)));
    out.json = args.value("--json");
    return 0;
}

// Polls `cond` every 20 ms for up to timeout_ms.
template <typename F>
bool eventually(F cond, int64_t timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!cond()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

std::string keel_binary() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("/proc/self/exe");
}

// Starts the node again and records its new pid in cluster.json.
bool start_node(prod::ClusterLayout& c, prod::ClusterNode& n, std::string& note) {
    if (prod::server_alive(n)) {  // a SIGTERM still in its controlled shutdown
        if (!prod::wait_exit(n, 30'000)) {
            prod::send_signal(n.pid, SIGKILL);
            prod::wait_exit(n, 10'000);
            note += "did not stop on SIGTERM within 30 s: killed; ";
        }
    }
    auto pid = prod::spawn_server(keel_binary(), n);
    if (!pid.ok()) {
        note += pid.error().to_string();
        return false;
    }
    n.pid = *pid;
    (void)prod::write_text_file(c.dir + "/cluster.json", prod::cluster_json(c));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    if (!prod::server_alive(n)) {
        note += "exited right after its start; see " + n.log_path();
        return false;
    }
    note += "pid " + std::to_string(n.pid);
    return true;
}

// Pauses every other node, lets ~1 s of writes reach `n` alone, kills it (-9), resumes
// the others (prod/nemesis_schedule.h: lone_kill). True if each signal took effect.
bool lone_kill(prod::ClusterLayout& c, prod::ClusterNode& n, std::string& note) {
    bool ok = true;
    std::vector<prod::ClusterNode*> others;
    for (prod::ClusterNode& o : c.nodes) {
        if (o.id == n.id || !prod::server_alive(o)) continue;
        others.push_back(&o);
        ok = prod::send_signal(o.pid, SIGSTOP) && eventually([&] { return prod::process_stopped(o.pid); }, 5'000) && ok;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    bool killed = prod::send_signal(n.pid, SIGKILL) && prod::wait_exit(n, 10'000);
    for (prod::ClusterNode* o : others)
        ok = prod::send_signal(o->pid, SIGCONT) && eventually([&] { return !prod::process_stopped(o->pid); }, 5'000) && ok;
    note = std::to_string(others.size()) + " other node(s) paused 1 s, " +
           (killed ? "pid " + std::to_string(n.pid) + " gone" : "the process did not die") + (ok ? "" : ", a pause failed");
    return ok && killed;
}

// ---- network faults: each server's control file (prod/net_fault_control.h) -------------

// Writes the rules of each node in `rules` (the others get none) with a new generation
// and waits until every node acknowledged it. The generations grow across runs (they
// start from the clock), so an acknowledgement is never an old one.
class NetFaultDriver {
public:
    explicit NetFaultDriver(prod::ClusterLayout& c) : c_(c) {}

    // True when every node acknowledged (or, unless `wait`, once written); else `note`
    // names those that did not.
    bool set(const std::map<int32_t, prod::NetFaultRules>& rules, std::string& note, bool wait = true) {
        int64_t gen = ++generation_;
        for (prod::ClusterNode& n : c_.nodes) {
            auto it = rules.find(n.id);
            Status st = prod::write_text_file(n.net_faults_path(),
                                              prod::net_fault_file_text(gen, it == rules.end() ? prod::NetFaultRules{} : it->second));
            if (!st.ok()) {
                note += st.error().message;
                return false;
            }
        }
        if (!wait) return true;
        std::string late;
        for (prod::ClusterNode& n : c_.nodes) {
            if (!eventually([&] { return ack(n) && ack(n)->generation == gen; }, 15'000))
                late += (late.empty() ? "" : ",") + std::to_string(n.id);
        }
        if (!late.empty()) {
            note += "node(s) " + late + " did not acknowledge generation " + std::to_string(gen) +
                    " in " + "net-faults.ack (a server started without --net-faults?)";
            return false;
        }
        note += "acknowledged (generation " + std::to_string(gen) + ")";
        return true;
    }

    // Node `node` cut off from every other node, both ways; or slowed both ways.
    std::map<int32_t, prod::NetFaultRules> rules_for(const prod::FaultStep& s) const {
        std::map<int32_t, prod::NetFaultRules> out;
        const prod::ClusterNode* x = nullptr;
        for (const prod::ClusterNode& n : c_.nodes)
            if (n.id == s.node) x = &n;
        for (const prod::ClusterNode& peer : c_.nodes) {
            if (peer.id == s.node) continue;
            auto add = [&](int32_t on, const prod::ClusterNode& to) {
                for (const std::string& a : to.peer_addresses()) {
                    env::Address addr = *env::Address::parse(a);
                    if (s.fault == prod::FaultKind::partition) out[on].cut.insert(addr);
                    else out[on].slow[addr] = ms(s.delay_ms);
                }
            };
            add(x->id, peer);
            add(peer.id, *x);
        }
        return out;
    }

    // The counters of every node since the generation in force (none when a node has no
    // readable acknowledgement of the current generation).
    std::optional<prod::NetFaultCounters> bite() const {
        prod::NetFaultCounters sum;
        for (const prod::ClusterNode& n : c_.nodes) {
            auto a = ack(n);
            if (!a || a->generation != generation_) return std::nullopt;
            sum.connects_refused += a->since.connects_refused;
            sum.connections_closed += a->since.connections_closed;
            sum.sends_delayed += a->since.sends_delayed;
        }
        return sum;
    }

private:
    static std::optional<prod::NetFaultAck> ack(const prod::ClusterNode& n) {
        bool ok = false;
        std::string text = prod::read_text_file(n.net_faults_path() + ".ack", &ok);
        return ok ? prod::parse_net_fault_ack(text) : std::nullopt;
    }

    prod::ClusterLayout& c_;
    int64_t generation_ = static_cast<int64_t>(std::time(nullptr)) * 1000;
};

bool uses_network(const std::set<prod::FaultKind>& kinds) {
    return kinds.count(prod::FaultKind::partition) || kinds.count(prod::FaultKind::slow);
}

// Begins a partition or slow fault: every node acknowledged its rules.
void begin_net_fault(NetFaultDriver& net, const prod::FaultStep& s, AppliedFault& a) {
    auto rules = net.rules_for(s);
    size_t addresses = 0;
    for (const auto& [id, r] : rules) addresses += r.cut.size() + r.slow.size();
    a.note = std::to_string(addresses) + " peer address(es) " +
             (s.fault == prod::FaultKind::partition ? "cut" : "delayed " + std::to_string(s.delay_ms) + " ms") +
             " on " + std::to_string(rules.size()) + " node(s), ";
    a.effect = net.set(rules, a.note);
}

// Heals a network fault. It took effect if, while it lasted, the servers refused or
// closed connections (partition) or delayed sends (slow); the heal must be acknowledged.
void heal_net_fault(NetFaultDriver& net, const prod::FaultStep& s, AppliedFault& a) {
    a.bite = net.bite();
    bool bit = false;
    if (!a.bite) {
        a.note = "NO ACKNOWLEDGED COUNTERS for the fault; ";
    } else if (s.fault == prod::FaultKind::partition) {
        bit = a.bite->connects_refused + a.bite->connections_closed > 0;
        a.note = "meanwhile " + std::to_string(a.bite->connects_refused) + " connect(s) refused, " +
                 std::to_string(a.bite->connections_closed) + " connection(s) closed" + (bit ? "; " : ": THE CUT NEVER BIT; ");
    } else {
        bit = a.bite->sends_delayed > 0;
        a.note = "meanwhile " + std::to_string(a.bite->sends_delayed) + " send(s) delayed" +
                 (bit ? "; " : ": THE DELAY NEVER BIT; ");
    }
    bool healed = net.set({}, a.note);
    a.effect = bit && healed;
}

// Applies one step to its node; whether it took effect (the process really died, stopped,
// continued, or runs again; the network fault was acknowledged, bit, and was healed).
AppliedFault apply(prod::ClusterLayout& c, NetFaultDriver& net, const prod::FaultStep& s) {
    AppliedFault a{s, 0, false, "", std::nullopt};
    prod::ClusterNode& n = *c.node(s.node);
    switch (s.action) {
        case prod::StepAction::kill:
            a.effect = prod::send_signal(n.pid, SIGKILL) && prod::wait_exit(n, 10'000);
            a.note = a.effect ? "pid " + std::to_string(n.pid) + " gone" : "the process did not die";
            break;
        case prod::StepAction::pause:
            a.effect = prod::send_signal(n.pid, SIGSTOP) && eventually([&] { return prod::process_stopped(n.pid); }, 5'000);
            a.note = a.effect ? "stopped (state T)" : "the process did not stop";
            break;
        case prod::StepAction::stop:
            a.effect = prod::send_signal(n.pid, SIGTERM);
            a.note = a.effect ? "SIGTERM sent" : "no such process";
            break;
        case prod::StepAction::resume:
            a.effect = prod::send_signal(n.pid, SIGCONT) && eventually([&] { return !prod::process_stopped(n.pid); }, 5'000);
            a.note = a.effect ? "running again" : "the process did not continue";
            break;
        case prod::StepAction::start:
            a.effect = start_node(c, n, a.note);
            break;
        case prod::StepAction::lone_kill:
            a.effect = lone_kill(c, n, a.note);
            break;
        case prod::StepAction::isolate:
        case prod::StepAction::slow:
            begin_net_fault(net, s, a);
            break;
        case prod::StepAction::heal:
            heal_net_fault(net, s, a);
            break;
    }
    return a;
}

}  // namespace

namespace {

// Runs the steps at their times (from `start`), printing each; waits for the workload's
// first acknowledged write first.
std::atomic<bool> g_interrupted{false};  // SIGINT/SIGTERM: heal what is faulted, then check

extern "C" void on_interrupt(int) { g_interrupted.store(true); }

void catch_interrupts() {
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

using prod::begins_fault;

// Runs the steps at their times (from now), printing each. Interrupted (SIGINT/SIGTERM),
// it skips the faults not begun and applies at once the heals of those that were.
std::vector<AppliedFault> run_schedule(prod::ClusterLayout& c, NetFaultDriver& net,
                                       const std::vector<prod::FaultStep>& steps) {
    std::vector<AppliedFault> applied;
    std::set<int32_t> faulted;
    auto start = std::chrono::steady_clock::now();
    for (const prod::FaultStep& s : steps) {
        auto at = start + std::chrono::milliseconds(s.at_ms);
        while (!g_interrupted.load() && std::chrono::steady_clock::now() < at)
            std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(at - std::chrono::steady_clock::now(),
                                                                                      std::chrono::milliseconds(100)));
        bool begins = begins_fault(s.action);
        if (g_interrupted.load() && (begins || !faulted.count(s.node))) continue;
        if (begins) faulted.insert(s.node);
        else faulted.erase(s.node);
        AppliedFault a = apply(c, net, s);
        a.applied_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
        std::printf("%7.1fs  node %d  %-17s %s%s\n", static_cast<double>(a.applied_ms) / 1000.0, s.node,
                    std::string(prod::name_of(s.action)).c_str(), a.effect ? "" : "NO EFFECT: ", a.note.c_str());
        std::fflush(stdout);
        applied.push_back(std::move(a));
    }
    if (g_interrupted.load()) std::printf("interrupted: the faults begun were healed; checking what ran\n");
    return applied;
}

// Sends (ok, info) from the history: the producer's view of the run.
std::pair<int64_t, int64_t> send_outcomes(const sim::History& h) {
    int64_t ok = 0, info = 0;
    for (const sim::Operation& op : h.ops()) {
        if (op.f != sim::OpFunction::send) continue;
        (op.outcome == sim::OpType::ok ? ok : info)++;
    }
    return {ok, info};
}

struct FaultTally {
    std::map<std::string, int> begun;        // fault kind → faults begun
    std::map<std::string, int> kind_effect;  // fault kind → faults with effect
    int begun_total = 0;
    int with_effect = 0;  // faults whose begin and heal both took effect
    int failed_steps = 0;
};

FaultTally tally(const std::vector<AppliedFault>& applied) {
    FaultTally t;
    std::map<int32_t, bool> open;  // node → its current fault's begin took effect
    for (const AppliedFault& a : applied) {
        bool begins = begins_fault(a.step.action);
        std::string kind(prod::name_of(a.step.fault));
        if (!a.effect) t.failed_steps++;
        if (begins) {
            t.begun[kind]++;
            t.kind_effect[kind] += 0;
            t.begun_total++;
            open[a.step.node] = a.effect;
        } else if (open[a.step.node] && a.effect) {
            t.with_effect++;
            t.kind_effect[kind]++;
        }
    }
    return t;
}

std::string result_json(const NemesisArgs& o, const NemesisWorkload& w, const sim::LogCheckResult& r,
                        const std::vector<AppliedFault>& applied) {
    auto [ok, info] = send_outcomes(w.history);
    FaultTally t = tally(applied);
    std::string s = "{\"seed\":" + std::to_string(o.seed) + ",\"duration_ms\":" + std::to_string(o.duration_ms) +
                    ",\"acks\":\"" + (o.acks == -1 ? "all" : "1") + "\",\"topic\":\"" + o.topic +
                    "\",\"sends\":" + std::to_string(w.sends) + ",\"sends_ok\":" + std::to_string(ok) +
                    ",\"sends_indeterminate\":" + std::to_string(info) +
                    ",\"final_reads_complete\":" + (w.final_reads_complete ? "true" : "false") +
                    ",\"faults\":" + std::to_string(t.begun_total) + ",\"faults_with_effect\":" + std::to_string(t.with_effect) +
                    ",\"faults_by_kind\":{";
    bool first = true;
    for (const auto& [kind, n] : t.begun) {
        s += std::string(first ? "" : ",") + "\"" + kind + "\":{\"begun\":" + std::to_string(n) +
             ",\"with_effect\":" + std::to_string(t.kind_effect.at(kind)) + "}";
        first = false;
    }
    s += "},\"steps\":[";
    for (size_t i = 0; i < applied.size(); i++) {
        const AppliedFault& a = applied[i];
        s += std::string(i ? "," : "") + "{\"at_ms\":" + std::to_string(a.applied_ms) + ",\"node\":" +
             std::to_string(a.step.node) + ",\"action\":\"" + std::string(prod::name_of(a.step.action)) +
             "\",\"effect\":" + (a.effect ? "true" : "false") + ",\"fault\":\"" +
             std::string(prod::name_of(a.step.fault)) + "\"";
        if (a.step.fault == prod::FaultKind::slow) s += ",\"delay_ms\":" + std::to_string(a.step.delay_ms);
        if (a.bite) {
            s += ",\"connects_refused\":" + std::to_string(a.bite->connects_refused) +
                 ",\"connections_closed\":" + std::to_string(a.bite->connections_closed) +
                 ",\"sends_delayed\":" + std::to_string(a.bite->sends_delayed);
        }
        s += ",\"note\":" + json_string(a.note) + "}";
    }
    return s + "],\"check\":" + r.to_json() + "}\n";
}

std::string replay_command(const NemesisArgs& o) {
    std::string faults;
    for (prod::FaultKind k : o.faults) faults += (faults.empty() ? "" : ",") + std::string(prod::name_of(k));
    std::string d = o.duration_ms % 1000 == 0 ? std::to_string(o.duration_ms / 1000) + "s" : std::to_string(o.duration_ms) + "ms";
    return "keel nemesis --cluster " + o.dir + " --duration " + d + " --seed " + std::to_string(o.seed) + " --faults " +
           faults + (o.acks == 1 ? " --acks 1" : "") + (o.rate != 100 ? " --rate " + std::to_string(o.rate) : "");
}

void print_report(const NemesisArgs& o, const NemesisWorkload& w, const sim::LogCheckResult& r,
                  const std::vector<AppliedFault>& applied) {
    auto [ok, info] = send_outcomes(w.history);
    FaultTally t = tally(applied);
    std::string kinds;
    for (const auto& [k, n] : t.begun) kinds += (kinds.empty() ? "" : ", ") + k + " " + std::to_string(n);
    std::printf("\nfaults: %d (%s), %d with effect (the process really died/stopped and came back; the network "
                "cut or slowed traffic and was healed)%s\n",
                t.begun_total, kinds.c_str(), t.with_effect, t.failed_steps ? ", SOME STEPS HAD NO EFFECT" : "");
    std::printf("sends: %llu: %lld acknowledged, %lld indeterminate (acks=%s%s)\n", static_cast<unsigned long long>(w.sends),
                static_cast<long long>(ok), static_cast<long long>(info), o.acks == -1 ? "all" : "1",
                o.acks == -1 ? ", idempotent" : "");
    std::printf("final read: %s\n", w.final_note.c_str());
    std::printf("ops: %lld ok, %lld failed, %lld indeterminate; %lld records polled\n", static_cast<long long>(r.ops_ok),
                static_cast<long long>(r.ops_fail), static_cast<long long>(r.ops_info), static_cast<long long>(r.records_polled));
    std::printf("check: %s", r.summary().c_str());
    std::printf("anomalies: %lld%s\n", static_cast<long long>(r.anomaly_total()), r.valid() ? "" : " (see above)");
    std::printf("replay: %s\n", replay_command(o).c_str());
}

// Every node of the cluster runs and is not paused; false with a message otherwise.
bool cluster_running(const prod::ClusterLayout& c) {
    for (const prod::ClusterNode& n : c.nodes) {
        if (prod::server_alive(n) && !prod::process_stopped(n.pid)) continue;
        std::fprintf(stderr, "keel nemesis: node %d of %s is not running ('keel cluster status --dir %s')\n", n.id,
                     c.dir.c_str(), c.dir.c_str());
        return false;
    }
    return true;
}


// The run: the workload on a client node (its own thread), the schedule on this thread.
int run_nemesis(const NemesisArgs& o, prod::ClusterLayout& c) {
    std::vector<int32_t> ids;
    for (const prod::ClusterNode& n : c.nodes) ids.push_back(n.id);
    auto steps = prod::plan_nemesis({.seed = o.seed, .duration_ms = o.duration_ms, .nodes = ids, .faults = o.faults, .max_down = 1});
    if (!steps.ok()) return usage_error("nemesis", steps.error().message);
    NetFaultDriver net(c);
    // No network fault left by an interrupted run; with partition or slow, the servers must
    // answer (a cluster started by an older keel has no --net-faults).
    std::string reset_note;
    bool need_net = uses_network(o.faults);
    if (!net.set({}, reset_note, need_net) && need_net) {
        std::fprintf(stderr, "keel nemesis: network faults: %s; restart the cluster with this keel\n", reset_note.c_str());
        return 1;
    }
    std::printf("nemesis: seed %llu, %lld s, %zu steps on %zu nodes of %s, topic %s, acks=%s\n",
                static_cast<unsigned long long>(o.seed), static_cast<long long>(o.duration_ms / 1000), steps->size(),
                c.nodes.size(), c.dir.c_str(), o.topic.c_str(), o.acks == -1 ? "all" : "1");
    std::printf("replay: %s\n", replay_command(o).c_str());
    std::fflush(stdout);
    NemesisWorkload w;
    w.options.bootstrap = *parse_bootstrap(c.bootstrap());
    w.options.topic = o.topic;
    w.options.acks = o.acks;
    w.options.rate = o.rate;
    w.options.expected_brokers = c.brokers().size();
    prod::TempDir tmp("keel-nemesis-");
    prod::ProdNodeOptions node_options;
    node_options.log.min_level = env::Level::error;  // the report is the output
    prod::ProdNode node("nemesis", tmp.path(), node_options);
    if (Status st = node.start([&w](env::Env& env) { w.run(env); }); !st.ok()) {
        std::fprintf(stderr, "keel nemesis: %s\n", st.error().to_string().c_str());
        return 1;
    }
    eventually([&] { return w.ready.load(std::memory_order_acquire); }, 180'000);
    std::vector<AppliedFault> applied;
    catch_interrupts();
    if (w.ready.load(std::memory_order_acquire) && w.error.empty()) applied = run_schedule(c, net, *steps);
    w.stop_sending.store(true, std::memory_order_release);
    if (!applied.empty()) std::printf("faults healed; waiting for the producer, full ISRs and the final read\n");
    std::fflush(stdout);
    bool done = eventually([&] { return w.finished.load(std::memory_order_acquire); }, 600'000);
    node.stop();
    if (!done || !w.error.empty()) {
        std::fprintf(stderr, "keel nemesis: %s\n", done ? w.error.c_str() : "the workload did not finish within 10 minutes");
        return 1;
    }
    sim::LogCheckResult r = sim::check_history(
        w.history, {.idempotence = o.acks == -1, .final_reads_complete = w.final_reads_complete});
    print_report(o, w, r, applied);
    if (o.json && !write_file(*o.json, result_json(o, w, r, applied))) return 1;
    return r.valid() && tally(applied).failed_steps == 0 ? 0 : 1;
}

}  // namespace

int cmd_nemesis(int argc, char** argv) {
    Args args(argc, argv, 2,
              ArgSpec{{"--cluster", "--duration", "--seed", "--faults", "--acks", "--rate", "--topic", "--json"}, {"--help"}, {}});
    if (!args.ok()) return usage_error("nemesis", args.error());
    if (args.flag("--help")) {
        std::fputs(kNemesisHelp, stdout);
        return 0;
    }
    NemesisArgs o;
    if (int rc = parse_args(args, o); rc != 0) return rc;
    bool read_ok = false;
    std::string text = prod::read_text_file(o.dir + "/cluster.json", &read_ok);
    if (!read_ok) return usage_error("nemesis", "no cluster in " + o.dir + " (start one with 'keel cluster up --dir " + o.dir + "')");
    auto layout = prod::parse_cluster_json(text);
    if (!layout.ok()) return usage_error("nemesis", o.dir + "/cluster.json: " + layout.error().message);
    if (!cluster_running(*layout)) return 1;
    return run_nemesis(o, *layout);
}

}  // namespace keel::cli
