#include "core/env/network.h"

#include <charconv>

namespace keel::env {

std::optional<Address> Address::parse(std::string_view s) {
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 >= s.size()) return std::nullopt;
    std::string_view host = s.substr(0, colon);
    std::string_view port = s.substr(colon + 1);
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || p != port.data() + port.size() || value > 65535) return std::nullopt;
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return Address{std::string(host), static_cast<uint16_t>(value)};
}

}  // namespace keel::env
