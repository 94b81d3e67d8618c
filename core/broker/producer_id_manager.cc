#include "core/broker/producer_id_manager.h"

#include <limits>
#include <string>
#include <utility>

#include "core/env/sync.h"

namespace keel::broker {

using controller::ProducerIdBlock;

// Shared with the fetch fiber, so that it may outlive the manager.
struct ProducerIdManager::State {
    explicit State(env::Executor& ex, FetchBlock f) : fetch(std::move(f)), fetch_done(ex) {}

    FetchBlock fetch;
    std::optional<ProducerIdBlock> current;
    int64_t next_id = 0;  // the next id of `current` to hand out
    std::optional<ProducerIdBlock> next;
    // Every block accepted lies at or above this (the end of the last accepted block).
    int64_t accepted_end = 0;
    bool in_flight = false;
    bool stopped = false;
    std::optional<Instant> retry_after;
    std::optional<Error> last_error;
    ProducerIdManagerStats stats;
    env::Event fetch_done;

    // Takes a fetched block in reserve, or records why not.
    void accept(Result<ProducerIdBlock> r, Instant now, Duration backoff) {
        if (r.ok()) {
            const ProducerIdBlock& b = *r;
            bool sane = b.size > 0 && b.first_id >= 0 && b.first_id <= std::numeric_limits<int64_t>::max() - b.size;
            if (sane && b.first_id >= accepted_end) {
                accepted_end = b.next_block_first_id();
                next = b;
                retry_after.reset();
                last_error.reset();
                return;
            }
            r = Error{Errc::invalid_request, "the block [" + std::to_string(b.first_id) + ", +" +
                                                 std::to_string(b.size) + ") is empty or not above " +
                                                 std::to_string(accepted_end)};
        }
        stats.fetch_failures++;
        last_error = r.error();
        retry_after = now + backoff;
    }
};

ProducerIdManager::ProducerIdManager(env::Executor& executor, FetchBlock fetch, ProducerIdManagerOptions options)
    : executor_(executor), options_(options), state_(std::make_shared<State>(executor, std::move(fetch))) {
    KEEL_ASSERT(state_->fetch);
    KEEL_ASSERT(options_.prefetch_percent >= 1 && options_.prefetch_percent <= 100);
    state_->fetch_done.set();  // nothing in flight
}

ProducerIdManager::~ProducerIdManager() { state_->stopped = true; }

Result<int64_t> ProducerIdManager::generate_producer_id() {
    State& s = *state_;
    for (;;) {
        if (s.current && s.next_id < s.current->next_block_first_id()) {
            int64_t id = s.next_id++;
            int64_t prefetch_at = s.current->first_id + int64_t{s.current->size} * options_.prefetch_percent / 100;
            if (id >= prefetch_at) maybe_fetch();
            s.stats.ids_generated++;
            return id;
        }
        if (!s.next) break;
        // The current block is used up: the reserve becomes current (never empty, see accept).
        s.current = s.next;
        s.next.reset();
        s.next_id = s.current->first_id;
    }
    maybe_fetch();
    s.stats.not_ready++;
    std::string why = "no producer id block yet";
    if (s.in_flight) why += ", fetching one";
    if (s.last_error) why += "; the last fetch failed: " + s.last_error->to_string();
    return Error{Errc::coordinator_load_in_progress, why};
}

void ProducerIdManager::prefetch() { maybe_fetch(); }

void ProducerIdManager::maybe_fetch() {
    State& s = *state_;
    if (s.stopped || s.in_flight || s.next) return;
    if (s.retry_after && executor_.now() < *s.retry_after) return;
    s.in_flight = true;
    s.stats.fetches++;
    s.fetch_done.reset();
    std::shared_ptr<State> shared = state_;
    env::Executor& ex = executor_;
    Duration backoff = options_.retry_backoff;
    env::FiberId f = ex.spawn("producer-id-fetch", [shared, &ex, backoff] {
        // Clears the flight also when a crash unwinds this fiber.
        struct Landed {
            State& s;
            ~Landed() {
                s.in_flight = false;
                s.fetch_done.set();
            }
        } landed{*shared};
        Result<ProducerIdBlock> r = shared->fetch();
        shared->accept(std::move(r), ex.now(), backoff);
    });
    if (f == 0) {  // the node is dying
        s.in_flight = false;
        s.fetch_done.set();
    }
}

void ProducerIdManager::stop() {
    state_->stopped = true;
    state_->fetch_done.wait();
}

bool ProducerIdManager::fetch_in_flight() const { return state_->in_flight; }
std::optional<ProducerIdBlock> ProducerIdManager::current_block() const { return state_->current; }
std::optional<ProducerIdBlock> ProducerIdManager::next_block() const { return state_->next; }
const ProducerIdManagerStats& ProducerIdManager::stats() const { return state_->stats; }

}  // namespace keel::broker
