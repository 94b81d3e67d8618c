#include "core/raft/raft_types.h"

namespace keel::raft {

bool is_request(const Body& b) {
    return std::visit(
        [](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            return T::name.ends_with("Request");
        },
        b);
}

protocol::ApiKey api_key_of(const Body& b) {
    return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::api_key; }, b);
}

std::string describe(const Message& m) {
    std::string name =
        std::visit([](const auto& x) { return std::string(std::decay_t<decltype(x)>::name); }, m.body);
    return name + " " + std::to_string(m.from.value()) + "->" + std::to_string(m.to.value()) +
           " #" + std::to_string(m.correlation_id);
}

std::string_view role_name(Role r) {
    switch (r) {
        case Role::unattached: return "unattached";
        case Role::prospective: return "prospective";
        case Role::candidate: return "candidate";
        case Role::leader: return "leader";
        case Role::follower: return "follower";
    }
    return "unknown";
}

}  // namespace keel::raft
