#include "prod/net_fault_control.h"

#include <cctype>
#include <map>
#include <sstream>

#include "prod/local_cluster.h"

namespace keel::prod {

namespace {

constexpr Duration kPollInterval = 100ms;
constexpr int64_t kSlowMaxMs = 60'000;

std::vector<std::string> words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

// A non-negative decimal below 2^53; nullopt otherwise.
std::optional<int64_t> number(const std::string& s) {
    if (s.empty() || s.size() > 15) return std::nullopt;
    int64_t v = 0;
    for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

NetFaultCounters minus(const NetFaultCounters& a, const NetFaultCounters& b) {
    return {a.connects_refused - b.connects_refused, a.connections_closed - b.connections_closed,
            a.sends_delayed - b.sends_delayed};
}

}  // namespace

NetFaultFile parse_net_fault_file(const std::string& text) {
    NetFaultFile out;
    std::istringstream in(text);
    int line_no = 0;
    for (std::string line; std::getline(in, line);) {
        line_no++;
        std::vector<std::string> w = words(line);
        if (w.empty() || w[0][0] == '#') continue;
        auto bad = [&](const std::string& why) {
            out.malformed.push_back("line " + std::to_string(line_no) + " '" + line + "': " + why);
        };
        if (w[0] == "generation") {
            auto g = w.size() == 2 ? number(w[1]) : std::nullopt;
            if (!g) bad("expected 'generation N'");
            else out.generation = *g;
        } else if (w[0] == "cut") {
            auto a = w.size() == 2 ? env::Address::parse(w[1]) : std::nullopt;
            if (!a) bad("expected 'cut HOST:PORT'");
            else out.rules.cut.insert(*a);
        } else if (w[0] == "slow") {
            auto a = w.size() == 3 ? env::Address::parse(w[1]) : std::nullopt;
            auto d = w.size() == 3 ? number(w[2]) : std::nullopt;
            if (!a || !d || *d < 1 || *d > kSlowMaxMs) bad("expected 'slow HOST:PORT MS' with MS in 1..60000");
            else out.rules.slow[*a] = ms(*d);
        } else {
            bad("unknown directive '" + w[0] + "' (generation, cut, slow)");
        }
    }
    return out;
}

std::string net_fault_file_text(int64_t generation, const NetFaultRules& rules) {
    std::string out = "# keel network faults (a test facility: prod/net_fault_control.h)\n";
    out += "generation " + std::to_string(generation) + "\n";
    for (const env::Address& a : rules.cut) out += "cut " + a.to_string() + "\n";
    for (const auto& [a, d] : rules.slow) out += "slow " + a.to_string() + " " + std::to_string(to_ms(d)) + "\n";
    return out;
}

std::string net_fault_ack_text(const NetFaultAck& a) {
    auto line = [](const char* k, uint64_t v) { return std::string(k) + " " + std::to_string(v) + "\n"; };
    return line("generation", static_cast<uint64_t>(a.generation)) + line("cut", static_cast<uint64_t>(a.cut)) +
           line("slow", static_cast<uint64_t>(a.slow)) + line("malformed", static_cast<uint64_t>(a.malformed)) +
           line("refused", a.since.connects_refused) + line("closed", a.since.connections_closed) +
           line("delayed", a.since.sends_delayed) + line("total_refused", a.total.connects_refused) +
           line("total_closed", a.total.connections_closed) + line("total_delayed", a.total.sends_delayed);
}

std::optional<NetFaultAck> parse_net_fault_ack(const std::string& text) {
    std::map<std::string, int64_t> kv;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        std::vector<std::string> w = words(line);
        if (w.empty()) continue;
        auto v = w.size() == 2 ? number(w[1]) : std::nullopt;
        if (!v) return std::nullopt;
        kv[w[0]] = *v;
    }
    NetFaultAck a;
    auto get = [&](const char* k, auto& field) {
        auto it = kv.find(k);
        if (it == kv.end()) return false;
        field = static_cast<std::remove_reference_t<decltype(field)>>(it->second);
        return true;
    };
    bool ok = get("generation", a.generation) && get("cut", a.cut) && get("slow", a.slow) &&
              get("malformed", a.malformed) && get("refused", a.since.connects_refused) &&
              get("closed", a.since.connections_closed) && get("delayed", a.since.sends_delayed) &&
              get("total_refused", a.total.connects_refused) && get("total_closed", a.total.connections_closed) &&
              get("total_delayed", a.total.sends_delayed);
    if (!ok) return std::nullopt;
    return a;
}

void run_net_fault_control(env::Env& env, NetFaults& faults, const std::string& path) {
    env.tracer().log(env::Level::warn, "network faults enabled (a test facility): control file " + path);
    std::optional<std::string> applied_text;  // the control text in force
    NetFaultAck ack;
    NetFaultCounters base;  // the counters when this generation was applied
    std::string written;    // the ack text last written
    std::string write_error;  // the last failure to write it, logged once
    for (;;) {
        bool exists = false;
        std::string text = read_text_file(path, &exists);
        if (!exists) text.clear();
        if (!applied_text || text != *applied_text) {
            NetFaultFile f = parse_net_fault_file(text);
            for (const std::string& m : f.malformed)
                env.tracer().log(env::Level::warn, "net-faults " + path + ": ignored " + m);
            base = faults.counters();
            faults.set_rules(f.rules);  // closes what is cut now: counted in `since`
            ack.generation = f.generation;
            ack.cut = static_cast<int64_t>(f.rules.cut.size());
            ack.slow = static_cast<int64_t>(f.rules.slow.size());
            ack.malformed = static_cast<int64_t>(f.malformed.size());
            if (applied_text || !f.rules.empty()) {
                env.tracer().log(env::Level::info, "net-faults generation " + std::to_string(f.generation) + ": " +
                                                       std::to_string(ack.cut) + " address(es) cut, " +
                                                       std::to_string(ack.slow) + " slow");
            }
            applied_text = std::move(text);
        }
        ack.total = faults.counters();
        ack.since = minus(ack.total, base);
        std::string out = net_fault_ack_text(ack);
        if (out != written) {
            Status st = write_text_file(path + ".ack", out);
            if (st.ok()) {
                written = std::move(out);
                write_error.clear();
            } else if (st.error().message != write_error) {  // once, not every 100 ms
                write_error = st.error().message;
                env.tracer().log(env::Level::warn, "net-faults: " + write_error);
            }
        }
        env.executor().sleep_for(kPollInterval);
    }
}

}  // namespace keel::prod
