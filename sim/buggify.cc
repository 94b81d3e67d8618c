#include "sim/buggify.h"

namespace keel::sim {
namespace {
uint64_t fnv1a(std::string_view s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}
}  // namespace

BuggifySite& SimBuggify::site(std::string_view name) {
    auto it = sites_.find(name);
    if (it == sites_.end()) {
        BuggifySite s;
        env::SeededRandom decide(env::SeededRandom::derive_seed(seed_, fnv1a(name)));
        s.enabled = options_.enabled && decide.chance(options_.site_probability);
        it = sites_.emplace(std::string(name), s).first;
    }
    return it->second;
}

bool SimBuggify::knob(std::string_view name) {
    BuggifySite& s = site(name);
    s.passes++;
    if (s.enabled) s.fired++;
    return s.enabled;
}

bool SimBuggify::fire(std::string_view name) {
    BuggifySite& s = site(name);
    s.passes++;
    if (!s.enabled) return false;
    bool fire = rng_.chance(options_.fire_probability);
    if (fire) s.fired++;
    return fire;
}

}  // namespace keel::sim
