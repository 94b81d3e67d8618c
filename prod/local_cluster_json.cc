// cluster.json: written and read by the keel cluster and nemesis commands (local_cluster.h).
// The reader accepts the JSON the writer produces (any key order, whitespace, unknown keys
// skipped) and names the field that is missing or malformed.
#include <cctype>
#include <map>
#include <set>

#include "prod/local_cluster.h"

namespace keel::prod {

namespace {

std::string escape(const std::string& s) {
    std::string out;
    for (char ch : s) {
        if (ch == '"' || ch == '\\') out += '\\';
        if (static_cast<unsigned char>(ch) < 0x20) continue;  // never in paths we write
        out += ch;
    }
    return out;
}

// A value: a string, an integer (as text), an array of objects, or an object.
struct JValue {
    std::string text;
    bool is_string = false;
    std::vector<std::map<std::string, JValue>> objects;  // an array's objects
};
using JObject = std::map<std::string, JValue>;

class Reader {
public:
    explicit Reader(const std::string& t) : t_(t) {}
    bool object(JObject& out) {
        if (!eat('{')) return false;
        if (eat('}')) return true;
        do {
            JValue key;
            if (!string(key.text) || !eat(':')) return false;
            if (!value(out[key.text])) return false;
        } while (eat(','));
        return eat('}');
    }
    bool at_end() {
        skip();
        return i_ == t_.size();
    }
    size_t offset() const { return i_; }

private:
    void skip() {
        while (i_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[i_]))) i_++;
    }
    bool eat(char c) {
        skip();
        if (i_ < t_.size() && t_[i_] == c) {
            i_++;
            return true;
        }
        return false;
    }
    bool string(std::string& out) {
        if (!eat('"')) return false;
        while (i_ < t_.size() && t_[i_] != '"') {
            if (t_[i_] == '\\' && i_ + 1 < t_.size()) i_++;
            out += t_[i_++];
        }
        return eat('"');
    }
    bool value(JValue& v) {
        skip();
        if (i_ < t_.size() && t_[i_] == '"') return v.is_string = true, string(v.text);
        if (eat('[')) {
            if (eat(']')) return true;
            do {
                v.objects.emplace_back();
                if (!object(v.objects.back())) return false;
            } while (eat(','));
            return eat(']');
        }
        size_t start = i_;
        while (i_ < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[i_])) || t_[i_] == '-' || t_[i_] == '.')) i_++;
        v.text = t_.substr(start, i_ - start);
        return i_ > start;
    }
    const std::string& t_;
    size_t i_ = 0;
};

Result<int64_t> integer(const JObject& o, const std::string& key, const std::string& where) {
    auto it = o.find(key);
    if (it == o.end()) return Error{Errc::invalid_argument, where + ": missing \"" + key + "\""};
    const std::string& s = it->second.text;
    bool ok = !it->second.is_string && !s.empty();
    int64_t v = 0;
    for (size_t i = 0; ok && i < s.size(); i++) {
        ok = std::isdigit(static_cast<unsigned char>(s[i])) && v < (int64_t{1} << 40);
        v = v * 10 + (s[i] - '0');
    }
    if (!ok) return Error{Errc::invalid_argument, where + ": \"" + key + "\" must be a non-negative integer"};
    return v;
}

Result<std::string> text(const JObject& o, const std::string& key, const std::string& where) {
    auto it = o.find(key);
    if (it == o.end() || !it->second.is_string)
        return Error{Errc::invalid_argument, where + ": \"" + key + "\" must be a string"};
    return it->second.text;
}

Result<ClusterNode> parse_node(const JObject& o, size_t index) {
    std::string where = "nodes[" + std::to_string(index) + "]";
    ClusterNode n;
    KEEL_TRY_ASSIGN(int64_t id, integer(o, "id", where));
    KEEL_TRY_ASSIGN(int64_t port, integer(o, "port", where));
    KEEL_TRY_ASSIGN(int64_t cport, integer(o, "controller_port", where));
    KEEL_TRY_ASSIGN(n.pid, integer(o, "pid", where));
    KEEL_TRY_ASSIGN(n.dir, text(o, "dir", where));
    KEEL_TRY_ASSIGN(std::string roles, text(o, "roles", where));
    if (id < 1 || id > INT32_MAX || port > 65535 || cport > 65535)
        return Error{Errc::invalid_argument, where + ": id or port out of range"};
    n.id = static_cast<int32_t>(id);
    n.port = static_cast<int32_t>(port);
    n.controller_port = static_cast<int32_t>(cport);
    n.broker = roles == "broker" || roles == "broker,controller";
    n.controller = roles == "controller" || roles == "broker,controller";
    if (!n.broker && !n.controller) return Error{Errc::invalid_argument, where + ": unknown roles \"" + roles + "\""};
    if ((n.broker && n.port == 0) || (n.controller && n.controller_port == 0))
        return Error{Errc::invalid_argument, where + ": a port of its roles is missing"};
    return n;
}

}  // namespace

std::string cluster_json(const ClusterLayout& c) {
    std::string out = "{\"dir\":\"" + escape(c.dir) + "\",\"cluster_id\":\"" + escape(c.cluster_id) +
                      "\",\"bootstrap\":\"" + c.bootstrap() + "\",\"nodes\":[";
    for (size_t i = 0; i < c.nodes.size(); i++) {
        const ClusterNode& n = c.nodes[i];
        out += (i ? ",\n  " : "\n  ") + std::string("{\"id\":") + std::to_string(n.id) + ",\"roles\":\"" + n.roles() +
               "\",\"port\":" + std::to_string(n.port) + ",\"controller_port\":" + std::to_string(n.controller_port) +
               ",\"pid\":" + std::to_string(n.pid) + ",\"dir\":\"" + escape(n.dir) + "\"}";
    }
    return out + "\n]}\n";
}

Result<ClusterLayout> parse_cluster_json(const std::string& json) {
    Reader r(json);
    JObject top;
    if (!r.object(top) || !r.at_end())
        return Error{Errc::invalid_argument, "cluster.json is not valid JSON (near byte " + std::to_string(r.offset()) + ")"};
    ClusterLayout c;
    KEEL_TRY_ASSIGN(c.dir, text(top, "dir", "cluster.json"));
    KEEL_TRY_ASSIGN(c.cluster_id, text(top, "cluster_id", "cluster.json"));
    auto nodes = top.find("nodes");
    if (nodes == top.end() || nodes->second.objects.empty())
        return Error{Errc::invalid_argument, "cluster.json: \"nodes\" must be a non-empty array"};
    std::set<int32_t> ids;
    for (size_t i = 0; i < nodes->second.objects.size(); i++) {
        KEEL_TRY_ASSIGN(ClusterNode n, parse_node(nodes->second.objects[i], i));
        if (!ids.insert(n.id).second)
            return Error{Errc::invalid_argument, "cluster.json: node id " + std::to_string(n.id) + " twice"};
        c.nodes.push_back(std::move(n));
    }
    return c;
}

}  // namespace keel::prod
