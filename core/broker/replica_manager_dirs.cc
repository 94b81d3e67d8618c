// ReplicaManager's partition directories on disk: deleting a replica crash-safely, telling a
// directory of a deleted topic from one of a new topic of the same name, and sweeping what a
// crash left behind.
//
// Deleting (Kafka's LogManager.asyncDelete): the directory `<topic>-<p>` is first renamed to
// `<topic>-<p>.<topic id hex>-delete` and the rename made durable; only then are its files
// removed: for a deleted replica after file.delete.delay.ms (BrokerConfig::file_delete_delay,
// the deleter fiber; Kafka's deleteLogs), for leftovers at once. A crash before the rename
// leaves `<topic>-<p>` of a topic the image no longer has (the sweep deletes it); a crash
// after it leaves a `-delete` directory (the sweep finishes it). Neither is ever opened as a
// log again, so a deleted topic cannot come back.
//
// Topic ids (Kafka's partition.metadata, partition_metadata.h): every partition directory
// holds `partition.metadata` ("version: 0" and "topic_id: <22 base64url characters>", as
// Kafka writes it; Keel's older 32 hex digits are read too, and the file is rewritten in
// Kafka's form when the replica opens). A directory whose file names another id belongs to
// a deleted topic that was created again while this broker was away: it is deleted (at
// once) before the new topic's replica is created in its place.
//
// The sweep runs once, on the first reconcile (the broker has caught up with its own
// registration): every `-delete` directory, and every partition directory this broker does
// not host per the image, is deleted at once. __cluster_metadata-0 and files are never
// touched.
#include <cctype>

#include "core/broker/partition_metadata.h"
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

Status ReplicaManager::delete_dir(const std::string& dir, const Uuid& topic_id, bool delayed) {
    std::string doomed = dir + "." + controller::uuid_to_string(topic_id) + std::string(kDeleteSuffix);
    KEEL_TRY_ASSIGN(bool leftover, env_.disk().exists(doomed));
    if (leftover) KEEL_TRY(remove_tree(doomed));
    doomed_.erase(doomed);
    KEEL_TRY(env_.disk().rename(dir, doomed));
    KEEL_TRY(env_.disk().sync_dir(config_.log_dir));  // from here on the topic cannot come back
    if (delayed && config_.file_delete_delay > Duration{0}) {
        doomed_[doomed] = env_.now() + config_.file_delete_delay;
        doomed_added_.set();
        return ok_status();
    }
    KEEL_TRY(remove_tree(doomed));
    return env_.disk().sync_dir(config_.log_dir);
}

// Removes each `-delete` directory once its file.delete.delay.ms has passed. A directory
// still waiting when the broker stops or crashes is removed by the next start's sweep; a
// disk error leaves it to that sweep too (the directory is never read again).
void ReplicaManager::deleter_loop() {
    while (!stopping_) {
        Instant next = Instant::max();  // stop() and delete_dir() wake it
        for (const auto& [dir, due] : doomed_) next = std::min(next, due);
        doomed_added_.wait(next);
        doomed_added_.reset();
        if (stopping_) return;
        std::vector<std::string> due;
        for (const auto& [dir, at] : doomed_) {
            if (at <= env_.now()) due.push_back(dir);
        }
        for (const std::string& dir : due) {
            doomed_.erase(dir);
            Status st = remove_tree(dir);
            if (st.ok()) st = env_.disk().sync_dir(config_.log_dir);
            if (!st.ok() && st.code() != Errc::not_found) {
                env_.tracer().log(env::Level::warn, dir + ": not removed (" + st.error().to_string() +
                                                        "); the next start's sweep will");
            }
            if (stopping_) return;
        }
    }
}

Result<std::optional<Uuid>> ReplicaManager::read_topic_id(const std::string& dir) {
    std::string path = env::join_path(dir, std::string(kPartitionMetadata));
    KEEL_TRY_ASSIGN(auto bytes, log::read_whole_file(env_.disk(), path));
    if (!bytes) return std::optional<Uuid>();
    auto id = parse_partition_metadata(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
    if (!id.ok()) {
        // As a directory without the file: it is stamped again with the image's topic id.
        env_.tracer().log(env::Level::warn, dir + ": " + id.error().message + "; ignored");
        return std::optional<Uuid>();
    }
    return std::optional<Uuid>(*id);
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
    std::string path = env::join_path(dir, std::string(kPartitionMetadata));
    std::string text = format_partition_metadata(topic_id);
    KEEL_TRY_ASSIGN(auto bytes, log::read_whole_file(env_.disk(), path));
    if (bytes && std::string(bytes->begin(), bytes->end()) == text) return ok_status();  // an older form is rewritten
    return log::write_file_atomically(env_.disk(), path,
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
