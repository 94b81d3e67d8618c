// Buggify: named fault points inside core code (FoundationDB's BUGGIFY). In the
// simulator each site is enabled or not per run from the seed and, when enabled, fires
// with a probability on each pass; production's implementation always says no. A site
// pushes a tunable to an extreme or takes a rare-but-legal path (a shorter timeout, an
// early flush, a delayed reply) — never something production could not do.
//
//   if (KEEL_BUGGIFY(env, "log.flush_early")) flush();
//
// A knob (KEEL_BUGGIFY_KNOB) is a tunable pushed to an extreme for a whole run: it is on
// whenever its site is enabled in the run (no per-pass draw), as FoundationDB randomizes
// its knobs at start-up (`if (randomize && BUGGIFY) KNOB = extreme`).
#pragma once

#include <string_view>

namespace keel::env {

class Buggify {
public:
    virtual ~Buggify() = default;
    // Whether the named site fires now. Site names are string literals, dotted by area.
    virtual bool fire(std::string_view site) = 0;
    // Whether the named knob is pushed to its extreme in this run.
    virtual bool knob(std::string_view site) { return fire(site); }
};

class NoBuggify final : public Buggify {
public:
    bool fire(std::string_view) override { return false; }
    bool knob(std::string_view) override { return false; }
};

}  // namespace keel::env

#define KEEL_BUGGIFY(env, site) ((env).buggify().fire(site))
#define KEEL_BUGGIFY_KNOB(env, site) ((env).buggify().knob(site))
