// Partition's produce path and the idempotent producer's state (the contract at the top of
// producer_state.h): validate, check the sequence, append, update — one produce at a time.
#include "core/broker/partition.h"
#include "core/protocol/error_codes.h"

namespace keel::broker {

ProduceOutcome Partition::append_produce(ByteView records, const ValidationConfig& validation) {
    ProduceOutcome out;
    env::LockGuard guard(append_mutex_);
    if (!guard.held()) {
        out.error = protocol::ErrorCode::request_timed_out;
        out.reason = "the broker is stopping";
        return out;
    }
    if (role_ != ReplicaRole::leader) {
        out.error = protocol::ErrorCode::not_leader_or_follower;
        return out;
    }
    auto v = validate_produce_records(records, validation);
    if (!v.ok()) {
        out.error = v.error().code;
        out.reason = v.error().reason;
        return out;
    }
    SequenceCheck c = producers_.check(*v, /*is_leader=*/true);
    if (config_.bugs.ignore_idempotence_window && c.outcome == SequenceOutcome::duplicate) {
        out.duplicate_appended = true;  // the planted bug: the retry goes in again
    } else {
        if (c.outcome == SequenceOutcome::duplicate && c.duplicate) {
            out.duplicate = true;
            trace_append(*v, out);
            out.base_offset = c.duplicate->first_offset;
            out.last_offset = c.duplicate->last_offset;
            out.log_append_time_ms = c.duplicate->max_timestamp_ms;
            return out;
        }
        if (!c.accepted()) {
            out.error = c.error_code();
            out.reason = c.reason;
            return out;
        }
    }
    auto appended = log_->append(records, leader_epoch_);
    if (!appended.ok()) {
        out.error = protocol::to_error_code(appended.error().code);
        out.reason = appended.error().message;
        if (!append_failing_) {
            append_failing_ = true;
            env_.tracer().log(env::Level::warn, tp_.to_string() + ": appends fail, producers get " +
                                                    protocol::error_code_name(out.error) + ": " +
                                                    appended.error().to_string());
        }
        return out;
    }
    if (append_failing_) {
        append_failing_ = false;
        env_.tracer().log(env::Level::info, tp_.to_string() + ": appends succeed again");
    }
    Offset base = appended->base_offset;
    for (const ValidatedBatch& b : v->batches) {
        log::BatchHeader stored = b.header;
        if (appended->log_append_time_ms != log::batch_format::kNoTimestamp) {
            stored.max_timestamp = appended->log_append_time_ms;
        }
        producers_.update(stored, base);
        base = base + (stored.last_offset_delta + 1);
    }
    out.base_offset = appended->base_offset;
    out.last_offset = appended->last_offset;
    out.log_append_time_ms = appended->log_append_time_ms;
    trace_append(*v, out);
    maybe_advance_high_watermark();
    changed_.notify_all();
    return out;
}

// "broker.produce" trace events: what the leader did with a producer's batch.
void Partition::trace_append(const ValidatedBatches& v, const ProduceOutcome& o) {
    if (!env_.tracer().enabled()) return;
    env_.tracer().event("broker.produce",
                        "{\"tp\":\"" + tp_.to_string() + "\",\"epoch\":" + std::to_string(leader_epoch_.value()) +
                            ",\"pid\":" + std::to_string(v.producer_id()) + ",\"seq\":" +
                            std::to_string(v.base_sequence()) + ",\"records\":" + std::to_string(v.record_count) +
                            ",\"offset\":" + std::to_string(o.base_offset.value()) +
                            (o.duplicate ? ",\"duplicate\":true}" : "}"));
}

Status Partition::rebuild_producer_state() {
    log::PartitionLog& log = *log_;
    auto reader = [&log](Offset from, const BatchHeaderVisitor& visit) -> Status {
        Offset at = from;
        while (at < log.log_end_offset()) {
            KEEL_TRY_ASSIGN(log::ReadResult r, log.read(at, 1 << 20));
            if (r.records.empty() || r.next_offset <= at) break;
            ByteView rest(r.records.data(), r.records.size());
            while (rest.size() >= log::batch_format::kLogOverhead) {
                KEEL_TRY_ASSIGN(log::BatchHeader h, log::parse_batch_header(rest));
                if (h.size_bytes() > rest.size()) break;
                if (h.last_offset() >= from) visit(h);
                rest = rest.subspan(h.size_bytes());
            }
            at = r.next_offset;
        }
        return ok_status();
    };
    auto r = producers_.rebuild(env_.disk(), log.dir(), log.log_start_offset(), log.log_end_offset(),
                                env_.clock().wall_now().ms(), reader);
    if (!r.ok()) return r.error();
    if (env_.tracer().enabled()) {
        env_.tracer().event("broker.producer_state_rebuilt",
                            "{\"tp\":\"" + tp_.to_string() + "\",\"snapshot\":" +
                                std::to_string(r->snapshot_offset ? r->snapshot_offset->value() : -1) +
                                ",\"replayed\":" + std::to_string(r->batches_replayed) + ",\"producers\":" +
                                std::to_string(producers_.producer_count()) + ",\"log_end\":" +
                                std::to_string(log.log_end_offset().value()) + "}");
    }
    for (const std::string& why : r->rejected_snapshots) {
        env_.tracer().log(env::Level::warn, tp_.to_string() + ": producer snapshot ignored: " + why);
    }
    return ok_status();
}

void Partition::expire_producers() { producers_.remove_expired_producers(env_.clock().wall_now().ms()); }

}  // namespace keel::broker
