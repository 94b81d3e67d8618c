// The process side of local_cluster.h: spawning detached `keel server` processes, signals,
// and telling whether a pid is still the node's server (/proc).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "prod/local_cluster.h"

namespace keel::prod {

namespace {

// What the grandchild needs, built before fork: after a fork in a threaded process only
// async-signal-safe calls are allowed (no allocation).
struct ExecPlan {
    std::string keel, log, dir, config, net_faults;
};

// In the grandchild: a new session, the log as stdout/stderr, then exec. Never returns.
[[noreturn]] void exec_server(const ExecPlan& p) {
    ::setsid();
    int log = ::open(p.log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int null = ::open("/dev/null", O_RDONLY);
    if (log >= 0) {
        ::dup2(log, 1);
        ::dup2(log, 2);
    }
    if (null >= 0) ::dup2(null, 0);
    if (::chdir(p.dir.c_str()) != 0) ::_exit(126);
    const char* argv[] = {p.keel.c_str(), "server", "--config", p.config.c_str(), "--net-faults", p.net_faults.c_str(),
                          nullptr};
    ::execv(p.keel.c_str(), const_cast<char* const*>(argv));
    ::_exit(127);
}

}  // namespace

Result<int64_t> spawn_server(const std::string& keel_binary, const ClusterNode& n) {
    ExecPlan plan{keel_binary, n.log_path(), n.dir, n.config_path(), n.net_faults_path()};
    int fds[2];
    if (::pipe(fds) != 0) return Error{Errc::io_error, std::string("pipe: ") + std::strerror(errno)};
    pid_t child = ::fork();
    if (child < 0) return Error{Errc::io_error, std::string("fork: ") + std::strerror(errno)};
    if (child == 0) {
        // Double fork: the server is not our child, so it outlives us and init reaps it.
        ::close(fds[0]);
        pid_t grandchild = ::fork();
        if (grandchild == 0) {
            // The write end stays open until the exec (close-on-exec): the parent reads
            // to EOF, so it returns only once the pid is the server's (its cmdline names
            // the config, which server_alive checks).
            ::fcntl(fds[1], F_SETFD, FD_CLOEXEC);
            exec_server(plan);
        }
        int64_t pid = grandchild;
        (void)!::write(fds[1], &pid, sizeof pid);
        ::_exit(grandchild > 0 ? 0 : 1);
    }
    ::close(fds[1]);
    int64_t pid = -1;
    ssize_t got = ::read(fds[0], &pid, sizeof pid);
    for (char rest = 0;;) {  // EOF: the server has exec'd (or died)
        ssize_t r = ::read(fds[0], &rest, 1);
        if (r == 0 || (r < 0 && errno != EINTR)) break;
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    if (got != static_cast<ssize_t>(sizeof pid) || pid <= 0)
        return Error{Errc::io_error, "could not start keel server for node " + std::to_string(n.id)};
    KEEL_TRY(write_text_file(n.dir + "/server.pid", std::to_string(pid) + "\n"));
    return pid;
}

namespace {

// The state letter of /proc/<pid>/stat ('R', 'S', 'T', 'Z', ...); 0 if no such process.
char proc_state(int64_t pid) {
    bool ok = false;
    std::string stat = read_text_file("/proc/" + std::to_string(pid) + "/stat", &ok);
    size_t close = stat.rfind(')');
    if (!ok || close == std::string::npos || close + 2 >= stat.size()) return 0;
    return stat[close + 2];
}

}  // namespace

bool server_alive(const ClusterNode& n) {
    if (n.pid <= 0) return false;
    char state = proc_state(n.pid);
    if (state == 0 || state == 'Z' || state == 'X') return false;
    std::string cmdline = read_text_file("/proc/" + std::to_string(n.pid) + "/cmdline");
    for (char& ch : cmdline)
        if (ch == '\0') ch = ' ';
    return cmdline.find(n.config_path()) != std::string::npos;
}

bool process_stopped(int64_t pid) {
    char s = proc_state(pid);
    return s == 'T' || s == 't';
}

bool send_signal(int64_t pid, int sig) { return pid > 0 && ::kill(static_cast<pid_t>(pid), sig) == 0; }

bool wait_exit(const ClusterNode& n, int64_t timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (server_alive(n)) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

bool log_says_port_taken(const ClusterNode& n) {
    return read_text_file(n.log_path()).find("Address already in use") != std::string::npos;
}

}  // namespace keel::prod
