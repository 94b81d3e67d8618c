// What the client tools (keel topics, produce, consume, groups) share: the bootstrap
// addresses from --bootstrap-server, a throwaway production node to run the core client
// library on (real sockets, the real clock), and JSON string quoting for --json output.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/args.h"
#include "core/env/env.h"

namespace keel::cli {

// --bootstrap-server HOST:PORT[,HOST:PORT...] (default localhost:9092), as Kafka's tools take
// it: brokers to ask first, in order; nullopt on a malformed value.
std::optional<std::vector<env::Address>> bootstrap_of(const Args& args);

// Runs fn on the first fiber of a production node and returns its exit code; prints
// "keel COMMAND: error" and returns 1 when the node cannot run.
int run_client(const std::string& command, const std::function<int(env::Env&)>& fn);

// A JSON string literal: quotes, backslashes and control characters escaped; bytes that
// are not valid UTF-8 pass through as they are.
std::string json_string(std::string_view s);

// Prints "keel COMMAND: message" to stderr and returns 1 (a failed request).
int client_error(const std::string& command, const std::string& message);

}  // namespace keel::cli
