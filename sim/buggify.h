// SimBuggify: FoundationDB-style fault points. Each named site is enabled for the whole
// run or not, decided by a hash of (seed, site name) — so the decision does not depend
// on the order sites are first reached — and an enabled site fires on each pass with
// `fire_probability`, drawn from the world's random stream (part of the trace hash).
// Production links core/env/buggify.h's NoBuggify instead: always off.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/env/buggify.h"
#include "core/env/random.h"

namespace keel::sim {

struct BuggifyOptions {
    bool enabled = true;
    double site_probability = 0.25;  // share of sites enabled in a run (FDB default)
    double fire_probability = 0.25;  // per pass of an enabled site (FDB default)
};

struct BuggifySite {
    bool enabled = false;
    uint64_t passes = 0;
    uint64_t fired = 0;
};

class SimBuggify final : public env::Buggify {
public:
    SimBuggify(uint64_t seed, env::Random& rng, BuggifyOptions options)
        : seed_(seed), rng_(rng), options_(options) {}
    bool fire(std::string_view site) override;
    // On for the whole run when the site is enabled (counted as fired on each pass).
    bool knob(std::string_view site) override;
    // Every site reached in this run (sorted by name), for the summary's coverage report.
    const std::map<std::string, BuggifySite, std::less<>>& sites() const { return sites_; }

private:
    uint64_t seed_;
    env::Random& rng_;
    BuggifySite& site(std::string_view name);

    BuggifyOptions options_;
    std::map<std::string, BuggifySite, std::less<>> sites_;
};

}  // namespace keel::sim
