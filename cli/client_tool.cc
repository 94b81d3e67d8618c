#include "cli/client_tool.h"

#include <cstdio>

#include "cli/cluster_probe.h"
#include "prod/prod_node.h"
#include "prod/temp_dir.h"

namespace keel::cli {

std::optional<std::vector<env::Address>> bootstrap_of(const Args& args) {
    return parse_bootstrap(args.value("--bootstrap-server").value_or("localhost:9092"));
}

int run_client(const std::string& command, const std::function<int(env::Env&)>& fn) {
    int rc = 1;
    prod::TempDir dir("keel-" + command + "-");
    prod::ProdNodeOptions options;
    options.log.min_level = env::Level::warn;  // a command's output, not a server's log
    prod::ProdNode node(command, dir.path(), options);
    Status st = node.run_blocking([&](env::Env& env) {
        rc = fn(env);
        node.request_stop();
    });
    if (!st.ok()) return client_error(command, st.error().to_string());
    return rc;
}

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

int client_error(const std::string& command, const std::string& message) {
    std::fprintf(stderr, "keel %s: %s\n", command.c_str(), message.c_str());
    return 1;
}

}  // namespace keel::cli
