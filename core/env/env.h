// Env: everything a node may use to touch the world. A node's logic receives one Env and
// nothing else; the simulator and production each provide an implementation.
#pragma once

#include <string>

#include "core/base/types.h"
#include "core/env/buggify.h"
#include "core/env/clock.h"
#include "core/env/disk.h"
#include "core/env/executor.h"
#include "core/env/network.h"
#include "core/env/random.h"
#include "core/env/tracer.h"

namespace keel::env {

class Env {
public:
    virtual ~Env() = default;
    virtual Clock& clock() = 0;
    virtual Executor& executor() = 0;
    virtual Network& network() = 0;
    virtual Disk& disk() = 0;
    virtual Random& random() = 0;
    virtual Buggify& buggify() = 0;
    virtual Tracer& tracer() = 0;
    // The node's name ("c1", "b2", or the host in production); stable across restarts.
    virtual const std::string& node_name() const = 0;

    Instant now() { return clock().monotonic_now(); }
};

}  // namespace keel::env
