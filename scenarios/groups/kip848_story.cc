// The KIP-848 story (`keel sim run kip848`): a group on the "consumer" protocol
// (group.protocol=consumer), where the coordinator assigns (uniform assignor) and each
// member reconciles incrementally. A third member joins: only the partitions that move are
// revoked, and each is handed over only after its previous owner's heartbeat shows it gone.
// A member dies: after the session timeout (group.consumer.session.timeout.ms, 45 s) its
// partitions go to the others. Member epochs only grow (the group checker's
// member-epoch-regressed), no partition has two owners, every record is processed.
#include <algorithm>
#include <map>

#include "scenarios/groups/group_story.h"

using keel::scenarios::GroupSpec;
using keel::sim::GroupEventKind;
using namespace std::chrono_literals;

namespace {

// Each member's highest member epoch recorded so far.
std::string epochs_text(keel::scenarios::GroupStory& s) {
    std::map<std::string, int32_t> top;
    for (const auto& e : s.groups->history().events()) {
        if (e.kind == GroupEventKind::member_epoch) top[e.process] = std::max(top[e.process], e.generation);
    }
    std::string out;
    for (const auto& [p, epoch] : top) out += (out.empty() ? "" : ", ") + p + " " + std::to_string(epoch);
    return out;
}

size_t revoked_since(keel::scenarios::GroupStory& s, size_t mark) {
    size_t n = 0;
    const auto& ev = s.groups->history().events();
    for (size_t i = mark; i < ev.size(); i++) n += ev[i].kind == GroupEventKind::revoked ? ev[i].partitions.size() : 0;
    return n;
}

}  // namespace

KEEL_SCENARIO("kip848",
              "KIP-848: a consumer-protocol group (server-side uniform assignor, member epochs); a member joins and "
              "only the partitions that move are revoked, each handed over after its old owner let go; a member "
              "dies and its partitions move after the session timeout; member epochs never go back") {
    GroupSpec g{"kip", 3, {"range"}};
    g.protocol = "consumer";
    g.late = 1;
    auto s = keel::scenarios::start_group_story(ctx, {g}, 6);
    bool formed = s.w.run_until([&] { return s.owned("kip-m1") == 3 && s.owned("kip-m2") == 3; }, 40s);
    s.w.run_for(5s);
    s.say("kip-m1 owns " + s.assignment("kip-m1") + ", kip-m2 owns " + s.assignment("kip-m2") +
          " (the 'generation' is the member epoch); epochs: " + epochs_text(s));
    ctx.expect(formed, "the first two members share the 6 partitions, 3 each");
    size_t mark = s.now_index();
    s.say("kip-m3 starts: its first heartbeat (member epoch 0) bumps the group epoch and the coordinator computes a "
          "new target assignment");
    s.w.start("kip-m3");
    bool joined = s.w.run_until([&] { return s.owned("kip-m3") == 2; }, 40s);
    s.w.run_for(3s);
    size_t revoked = revoked_since(s, mark);
    s.say("kip-m1 " + s.assignment("kip-m1") + ", kip-m2 " + s.assignment("kip-m2") + ", kip-m3 " +
          s.assignment("kip-m3") + "; " + std::to_string(revoked) + " partition(s) revoked in all; epochs: " +
          epochs_text(s));
    ctx.expect(joined, "the new member gets its share (2 of 6)");
    ctx.expect(revoked == 2, "only the two partitions that moved were revoked (incremental, no stop-the-world)");
    s.say("kip-m1 is killed (kill -9): no leave heartbeat; the coordinator waits out the 45 s session timeout");
    s.w.crash("kip-m1");
    bool moved = s.w.run_until([&] { return s.owned("kip-m2") + s.owned("kip-m3") == 6; }, 70s);
    s.say("kip-m2 " + s.assignment("kip-m2") + ", kip-m3 " + s.assignment("kip-m3") + "; epochs: " + epochs_text(s));
    ctx.expect(moved, "the dead member's partitions move to the others after its session timeout");
    keel::scenarios::finish_group_story(s);
}
