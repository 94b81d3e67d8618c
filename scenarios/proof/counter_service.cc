#include "scenarios/proof/counter_service.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include "core/base/bytes.h"
#include "core/env/sync.h"

namespace keel::proof {

namespace {

enum Type : uint8_t { kInc = 1, kRead = 2, kOk = 3, kValue = 4, kErr = 5, kRepl = 6, kQuery = 7, kAck = 8 };

constexpr uint32_t kMagic = 0x4b434e54;  // 'KCNT'
constexpr size_t kRecordBytes = 20;
constexpr size_t kCompactAfterRecords = 256;
const std::string kFile = "counter.dat";
const std::string kTemp = "counter.tmp";

uint64_t fnv1a(uint32_t magic, uint64_t value) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < 4; i++) h = (h ^ ((magic >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
    for (int i = 0; i < 8; i++) h = (h ^ ((value >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
    return h;
}

Bytes record(uint64_t value) {
    ByteWriter w;
    w.u32(kMagic);
    w.u64(value);
    w.u64(fnv1a(kMagic, value));
    return w.take();
}

Bytes message(Type t, uint64_t a = 0, uint64_t b = 0) {
    ByteWriter w;
    w.u8(t);
    w.u64(a);
    w.u64(b);
    return w.take();
}

struct Message {
    Type type;
    uint64_t a;
    uint64_t b;
};

std::optional<Message> parse(const Bytes& frame) {
    ByteReader r(frame);
    uint8_t t = r.u8();
    uint64_t a = r.u64();
    uint64_t b = r.u64();
    if (!r.ok() || !r.at_end() || t < kInc || t > kAck) return std::nullopt;
    return Message{static_cast<Type>(t), a, b};
}

// The counter file: append-and-sync records, recover the largest valid one.
class CounterStore {
public:
    explicit CounterStore(env::Disk& disk) : disk_(disk) {}

    // The recovered value, or nullopt when there is no counter file (fresh or lost disk).
    Result<std::optional<uint64_t>> recover() {
        KEEL_TRY_ASSIGN(bool tmp_exists, disk_.exists(kTemp));
        if (tmp_exists) KEEL_TRY(disk_.remove(kTemp));  // an interrupted compaction
        KEEL_TRY_ASSIGN(bool exists, disk_.exists(kFile));
        if (!exists) return std::optional<uint64_t>();
        KEEL_TRY_ASSIGN(file_, disk_.open(kFile, env::OpenMode::read_write));
        KEEL_TRY_ASSIGN(uint64_t size, file_->size());
        KEEL_TRY_ASSIGN(Bytes bytes, file_->read(0, size));
        uint64_t best = 0;
        size_t valid_end = 0;
        for (size_t off = 0; off + kRecordBytes <= bytes.size(); off += kRecordBytes) {
            ByteReader r(ByteView(bytes).subspan(off, kRecordBytes));
            uint32_t magic = r.u32();
            uint64_t value = r.u64();
            uint64_t check = r.u64();
            if (magic == kMagic && check == fnv1a(magic, value)) {
                best = std::max(best, value);
                valid_end = off + kRecordBytes;
            }
        }
        // Drop a torn tail so the next append starts on a record boundary.
        if (valid_end != size) KEEL_TRY(file_->truncate(valid_end));
        records_ = valid_end / kRecordBytes;
        return std::optional<uint64_t>(best);
    }

    // Makes `value` durable: append + sync (compacting now and then; buggify: often).
    Status persist(uint64_t value, env::Env& env) {
        bool compact = records_ >= kCompactAfterRecords ||
                       (records_ >= 2 && KEEL_BUGGIFY(env, "counter.store.compact_early"));
        if (!file_ || compact) return rewrite(value);
        Bytes rec = record(value);
        KEEL_TRY_ASSIGN(uint64_t size, file_->size());
        uint64_t aligned = size - size % kRecordBytes;
        KEEL_TRY(file_->write(aligned, rec));
        KEEL_TRY(file_->sync());
        records_++;
        return {};
    }

private:
    Status rewrite(uint64_t value) {
        file_.reset();
        {
            KEEL_TRY_ASSIGN(auto tmp, disk_.open(kTemp, env::OpenMode::create));
            KEEL_TRY(tmp->truncate(0));
            KEEL_TRY(tmp->write(0, record(value)));
            KEEL_TRY(tmp->sync());
        }
        KEEL_TRY(disk_.rename(kTemp, kFile));
        KEEL_TRY(disk_.sync_dir(""));
        KEEL_TRY_ASSIGN(file_, disk_.open(kFile, env::OpenMode::read_write));
        records_ = 1;
        return {};
    }

    env::Disk& disk_;
    std::unique_ptr<env::File> file_;
    size_t records_ = 0;
};

// Ask one backup for its value (recovery).
std::optional<uint64_t> query_backup(env::Env& env, const env::Address& addr, Duration timeout) {
    Instant deadline = env.now() + timeout;
    auto conn = env.network().connect(addr, deadline);
    if (!conn.ok()) return std::nullopt;
    if (!(*conn)->send(message(kQuery)).ok()) return std::nullopt;
    auto reply = (*conn)->receive(deadline);
    if (!reply.ok()) return std::nullopt;
    auto m = parse(*reply);
    if (!m || m->type != kAck) return std::nullopt;
    return m->a;
}

class Primary {
public:
    Primary(env::Env& env, const CounterConfig& config)
        : env_(env), config_(config), store_(env.disk()), mutex_(env.executor()) {}

    void run() {
        if (!recover()) return;
        auto listener = env_.network().listen(config_.primary);
        if (!listener.ok()) {
            env_.tracer().log(env::Level::error, "primary cannot listen: " + listener.error().to_string());
            return;
        }
        while (true) {
            auto conn = (*listener)->accept();
            if (!conn.ok()) return;
            auto shared = std::shared_ptr<env::Connection>(std::move(*conn));
            env_.executor().spawn("client-conn", [this, shared] { serve(*shared); });
        }
    }

private:
    bool recover() {
        while (true) {
            auto local = store_.recover();
            if (local.ok()) {
                std::optional<uint64_t> v = *local;
                std::optional<uint64_t> from_backups = query_backups(/*need_all=*/!v.has_value());
                if (v || from_backups) {
                    value_ = std::max(v.value_or(0), from_backups.value_or(0));
                    if (store_.persist(value_, env_).ok()) {
                        committed_ = value_;
                        env_.tracer().log(env::Level::info, "primary recovered value " + std::to_string(value_));
                        return true;
                    }
                }
            }
            env_.executor().sleep_for(200ms);  // disk trouble or backups unreachable: retry
        }
    }

    // Max over the backups' values; nullopt if none answered, or if need_all and one did not.
    std::optional<uint64_t> query_backups(bool need_all) {
        if (config_.backups.empty()) return uint64_t{0};
        std::optional<uint64_t> best;
        for (const auto& b : config_.backups) {
            auto v = query_backup(env_, b, config_.recovery_query_timeout);
            if (!v) {
                if (need_all) return std::nullopt;
                continue;
            }
            best = std::max(best.value_or(0), *v);
        }
        return best;
    }

    void serve(env::Connection& conn) {
        while (true) {
            auto frame = conn.receive();
            if (!frame.ok()) return;
            auto m = parse(*frame);
            if (!m) return;  // malformed: drop the connection
            Bytes reply;
            if (m->type == kInc) {
                reply = increment(m->a);
            } else if (m->type == kRead) {
                reply = message(kValue, m->a, committed_);
            } else {
                return;
            }
            // Buggify: a slow reply, so the client's timeout and the next request overlap.
            if (KEEL_BUGGIFY(env_, "counter.primary.slow_reply")) {
                env_.executor().sleep_for(env_.random().uniform(Duration(1ms), Duration(3s)));
            }
            if (!conn.send(std::move(reply)).ok()) return;
        }
    }

    Bytes increment(uint64_t req) {
        env::LockGuard lock(mutex_);
        if (!lock.held()) return message(kErr, req);
        uint64_t next = value_ + 1;
        value_ = next;  // from here the increment may survive even if we answer ERR
        if (config_.bug_ack_before_persist) {
            committed_ = next;
            return message(kOk, req, next);
        }
        if (!store_.persist(next, env_).ok()) return message(kErr, req);
        if (!replicate(next)) return message(kErr, req);
        committed_ = std::max(committed_, next);
        return message(kOk, req, next);
    }

    // True once one backup has persisted `v` (any backup; they are tried in turn).
    bool replicate(uint64_t v) {
        for (size_t i = 0; i < config_.backups.size(); i++) {
            size_t b = (next_backup_ + i) % config_.backups.size();
            if (replicate_to(b, v)) {
                next_backup_ = b;
                return true;
            }
        }
        return false;
    }

    bool replicate_to(size_t b, uint64_t v) {
        Instant deadline = env_.now() + config_.replicate_timeout;
        auto& conn = backup_conns_[b];
        if (!conn) {
            auto c = env_.network().connect(config_.backups[b], deadline);
            if (!c.ok()) return false;
            conn = std::move(*c);
        }
        if (!conn->send(message(kRepl, v)).ok()) {
            conn.reset();
            return false;
        }
        while (true) {
            auto reply = conn->receive(deadline);
            if (!reply.ok()) {
                conn.reset();
                return false;
            }
            auto m = parse(*reply);
            if (m && m->type == kAck && m->a >= v) return true;  // older ACKs are stale
        }
    }

    env::Env& env_;
    const CounterConfig& config_;
    CounterStore store_;
    env::Mutex mutex_;
    uint64_t value_ = 0;
    uint64_t committed_ = 0;
    size_t next_backup_ = 0;
    std::map<size_t, std::unique_ptr<env::Connection>> backup_conns_;
};

class Backup {
public:
    Backup(env::Env& env, env::Address listen)
        : env_(env), listen_(std::move(listen)), store_(env.disk()), mutex_(env.executor()) {}

    void run() {
        while (true) {
            auto v = store_.recover();
            if (v.ok()) {
                value_ = v->value_or(0);
                break;
            }
            env_.executor().sleep_for(200ms);
        }
        auto listener = env_.network().listen(listen_);
        if (!listener.ok()) return;
        while (true) {
            auto conn = (*listener)->accept();
            if (!conn.ok()) return;
            auto shared = std::shared_ptr<env::Connection>(std::move(*conn));
            env_.executor().spawn("primary-conn", [this, shared] { serve(*shared); });
        }
    }

private:
    void serve(env::Connection& conn) {
        while (true) {
            auto frame = conn.receive();
            if (!frame.ok()) return;
            auto m = parse(*frame);
            if (!m) return;
            if (m->type == kRepl) {
                env::LockGuard lock(mutex_);
                if (!lock.held()) return;
                if (m->a > value_) {
                    if (!store_.persist(m->a, env_).ok()) return;  // no ACK for what is not durable
                    value_ = m->a;
                }
            } else if (m->type != kQuery) {
                return;
            }
            if (!conn.send(message(kAck, value_)).ok()) return;
        }
    }

    env::Env& env_;
    env::Address listen_;
    CounterStore store_;
    env::Mutex mutex_;
    uint64_t value_ = 0;
};

}  // namespace

void run_counter_primary(env::Env& env, const CounterConfig& config) { Primary(env, config).run(); }

void run_counter_backup(env::Env& env, const env::Address& listen) { Backup(env, listen).run(); }

void run_counter_client(env::Env& env, const CounterConfig& config, int ops, Duration think_time,
                        Instant ops_until, Instant final_read_deadline,
                        CounterHistory& history) {
    std::unique_ptr<env::Connection> conn;
    uint64_t req = 0;
    // Wait for the service to come up (listening) before the first operation.
    for (Instant give_up = env.now() + 30s; env.now() < give_up;) {
        auto c = env.network().connect(config.primary, env.now() + 1s);
        if (c.ok()) {
            conn = std::move(*c);
            break;
        }
        env.executor().sleep_for(100ms);
    }
    auto call = [&](Type type, Duration timeout) -> std::optional<Message> {
        Instant deadline = env.now() + timeout;
        if (!conn) {
            auto c = env.network().connect(config.primary, deadline);
            if (!c.ok()) return std::nullopt;
            conn = std::move(*c);
        }
        uint64_t id = ++req;
        if (!conn->send(message(type, id)).ok()) {
            conn.reset();
            return std::nullopt;
        }
        while (true) {
            auto frame = conn->receive(deadline);
            if (!frame.ok()) {
                conn.reset();  // a late answer must not be taken for the next request's
                return std::nullopt;
            }
            auto m = parse(*frame);
            if (m && m->a == id) return m;
        }
    };
    for (int i = 0; i < ops && env.now() < ops_until; i++) {
        CounterOp op;
        op.kind = i % 4 == 3 ? CounterOp::Kind::read : CounterOp::Kind::inc;
        op.invoked = env.now();
        auto reply = call(op.kind == CounterOp::Kind::inc ? kInc : kRead, 2s);
        op.completed = env.now();
        if (reply && (reply->type == kOk || reply->type == kValue)) {
            op.outcome = CounterOp::Outcome::ok;
            op.value = reply->b;
        } else {
            // An increment whose answer never came (or said ERR) may still have happened.
            op.outcome = op.kind == CounterOp::Kind::inc ? CounterOp::Outcome::info : CounterOp::Outcome::fail;
        }
        history.ops.push_back(op);
        env.executor().sleep_for(reply ? think_time : think_time + 100ms);
    }
    while (env.now() < final_read_deadline) {
        auto reply = call(kRead, 1s);
        if (reply && reply->type == kValue) {
            history.final_read = reply->b;
            return;
        }
        env.executor().sleep_for(200ms);
    }
}

std::vector<std::string> check_counter_history(const CounterHistory& h) {
    std::vector<std::string> v;
    uint64_t attempted = 0;
    uint64_t acked_max = 0;
    std::map<uint64_t, int> acked_values;
    // Values known durable (OK increments, successful reads) by completion time.
    std::vector<std::pair<Instant, uint64_t>> observed;
    for (const auto& op : h.ops) {
        if (op.kind == CounterOp::Kind::inc) {
            attempted++;
            if (op.outcome == CounterOp::Outcome::ok) {
                acked_max = std::max(acked_max, op.value);
                if (++acked_values[op.value] == 2) {
                    v.push_back("duplicate-ack: two increments acknowledged with value " + std::to_string(op.value));
                }
            }
        }
        if (op.outcome == CounterOp::Outcome::ok) observed.emplace_back(op.completed, op.value);
    }
    for (const auto& op : h.ops) {
        if (op.kind != CounterOp::Kind::read || op.outcome != CounterOp::Outcome::ok) continue;
        for (const auto& [done, value] : observed) {
            if (done < op.invoked && value > op.value) {
                v.push_back("nonmonotonic-read: read " + std::to_string(op.value) + " after " +
                            std::to_string(value) + " had completed");
                break;
            }
        }
    }
    if (!h.final_read) {
        v.push_back("no-final-read: the counter never answered after the faults healed");
        return v;
    }
    if (*h.final_read < acked_max) {
        v.push_back("lost-increment: final value " + std::to_string(*h.final_read) +
                    " is below acknowledged value " + std::to_string(acked_max));
    }
    if (*h.final_read > attempted) {
        v.push_back("phantom-increment: final value " + std::to_string(*h.final_read) + " exceeds the " +
                    std::to_string(attempted) + " increments attempted");
    }
    return v;
}

}  // namespace keel::proof
