// ReplicaManager's partition directories on disk: deleting a replica crash-safely, telling a
// directory of a deleted topic from one of a new topic of the same name, and sweeping what a
// crash left behind.
//
// Deleting (Kafka's LogManager.asyncDelete): the directory `<topic>-<p>` is first renamed to
// `<topic>-<p>.<topic id hex>-delete` and the rename made durable; only then are its files
// removed. A crash before the rename leaves `<topic>-<p>` of a topic the image no longer has
// (the sweep deletes it); a crash after it leaves a `-delete` directory (the sweep finishes
// it). Neither is ever opened as a log again, so a deleted topic cannot come back.
//
// Topic ids (Kafka's partition.metadata): every partition directory holds
// `partition.metadata` ("version: 0" and "topic_id: <32 hex digits>"). A directory whose file
// names another id belongs to a deleted topic that was created again while this broker was
// away: it is deleted before the new topic's replica is created in its place.
//
// The sweep runs once, on the first reconcile (the broker has caught up with its own
// registration): every `-delete` directory, and every partition directory this broker does
// not host per the image, is deleted. __cluster_metadata-0 and files are never touched.
#include <cctype>

#include "core/broker/replica_manager.h"
#include "core/controller/controller_logic.h"
#include "core/controller/metadata_records.h"
#include "core/log/checkpoint.h"

namespace keel::broker {
namespace {

constexpr std::string_view kPartitionMetadata = "partition.metadata";
constexpr std::string_view kDeleteSuffix = "-delete";

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool all_hex(std::string_view s) {
    for (char c : s) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

std::optional<Uuid> parse_uuid_hex(std::string_view s) {
    if (s.size() != 32 || !all_hex(s)) return std::nullopt;
    Uuid u;
    u.most = std::stoull(std::string(s.substr(0, 16)), nullptr, 16);
    u.least = std::stoull(std::string(s.substr(16)), nullptr, 16);
    return u;
}

// `<topic>-<p>.<32 hex>-delete`, as delete_dir names it.
bool is_delete_dir(std::string_view name) {
    if (!ends_with(name, kDeleteSuffix)) return false;
    std::string_view stem = name.substr(0, name.size() - kDeleteSuffix.size());
    return stem.size() > 33 && stem[stem.size() - 33] == '.' && all_hex(stem.substr(stem.size() - 32));
}

// `<topic>-<p>` with a legal topic name: the topic and partition.
std::optional<TopicPartitionName> parse_partition_dir(std::string_view name) {
    size_t dash = name.rfind('-');
    if (dash == std::string_view::npos || dash == 0 || dash + 1 == name.size() || name.size() - dash > 10) {
        return std::nullopt;
    }
    std::string_view digits = name.substr(dash + 1);
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
    }
    std::string topic(name.substr(0, dash));
    if (!controller::validate_topic_name(topic).ok()) return std::nullopt;
    return TopicPartitionName{topic, std::stoi(std::string(digits))};
}

}  // namespace

Status ReplicaManager::remove_tree(const std::string& path) {
    auto names = env_.disk().list(path);
    if (!names.ok()) return env_.disk().remove(path);  // a file
    for (const std::string& n : *names) KEEL_TRY(remove_tree(env::join_path(path, n)));
    return env_.disk().remove(path);
}

Status ReplicaManager::delete_dir(const std::string& dir, const Uuid& topic_id) {
    std::string doomed = dir + "." + controller::uuid_to_string(topic_id) + std::string(kDeleteSuffix);
    KEEL_TRY_ASSIGN(bool leftover, env_.disk().exists(doomed));
    if (leftover) KEEL_TRY(remove_tree(doomed));
    KEEL_TRY(env_.disk().rename(dir, doomed));
    KEEL_TRY(env_.disk().sync_dir(config_.log_dir));  // from here on the topic cannot come back
    KEEL_TRY(remove_tree(doomed));
    return env_.disk().sync_dir(config_.log_dir);
}

Result<std::optional<Uuid>> ReplicaManager::read_topic_id(const std::string& dir) {
    KEEL_TRY_ASSIGN(auto bytes, log::read_whole_file(env_.disk(), env::join_path(dir, std::string(kPartitionMetadata))));
    if (!bytes) return std::optional<Uuid>();
    std::string text(bytes->begin(), bytes->end());
    size_t at = text.find("topic_id: ");
    if (at == std::string::npos) return std::optional<Uuid>();
    return parse_uuid_hex(std::string_view(text).substr(at + 10, 32));
}

Status ReplicaManager::prepare_dir(const std::string& dir, const Uuid& topic_id) {
    KEEL_TRY_ASSIGN(bool present, env_.disk().exists(dir));
    if (!present) return ok_status();
    KEEL_TRY_ASSIGN(std::optional<Uuid> id, read_topic_id(dir));
    if (!id || *id == topic_id) return ok_status();
    stats_.stale_dirs_deleted++;
    env_.tracer().log(env::Level::info, dir + " belongs to a deleted topic (id " + controller::uuid_to_string(*id) +
                                            "): deleting it");
    return delete_dir(dir, *id);
}

Status ReplicaManager::stamp_topic_id(const std::string& dir, const Uuid& topic_id) {
    KEEL_TRY_ASSIGN(std::optional<Uuid> id, read_topic_id(dir));
    if (id == topic_id) return ok_status();
    std::string text = "version: 0\ntopic_id: " + controller::uuid_to_string(topic_id) + "\n";
    return log::write_file_atomically(env_.disk(), env::join_path(dir, std::string(kPartitionMetadata)),
                                      ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

Status ReplicaManager::sweep_stray_dirs(const std::set<TopicPartitionName>& keep) {
    auto names = env_.disk().list(config_.log_dir);
    if (!names.ok()) return names.code() == Errc::not_found ? ok_status() : Status(names.error());
    for (const std::string& name : *names) {
        std::string path = env::join_path(config_.log_dir, name);
        if (is_delete_dir(name)) {
            KEEL_TRY(remove_tree(path));
            stats_.stale_dirs_deleted++;
            continue;
        }
        auto tp = parse_partition_dir(name);
        if (!tp || tp->topic == "__cluster_metadata" || keep.count(*tp) != 0 || partitions_.count(*tp) != 0) continue;
        if (!env_.disk().list(path).ok()) continue;  // a file
        KEEL_TRY_ASSIGN(std::optional<Uuid> id, read_topic_id(path));
        env_.tracer().log(env::Level::info, path + " is not a replica of this broker: deleting it");
        KEEL_TRY(delete_dir(path, id.value_or(Uuid{})));
        stats_.stale_dirs_deleted++;
    }
    return env_.disk().sync_dir(config_.log_dir);
}

}  // namespace keel::broker
