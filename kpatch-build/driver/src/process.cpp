// Running other programs and capturing their output (licence: GPL-2.0-only).
#include "process.hpp"

#include <kpatch/driver/driver.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace kpatch::driver {

namespace {

// Set by the handler of SIGINT/SIGTERM/SIGHUP: the run stops at the next command so that
// every step's cleanup (work directory, temporary trees) runs on the way out.
volatile sig_atomic_t g_stop_signal = 0;
// The commands running now, which the handler passes the signal on to (a terminal's ^C
// reaches them anyway; a SIGTERM from a service manager or kill only reaches us). One
// slot per thread that runs commands: "build objects" runs two makes at once, and a
// signal passed to only one would leave the other building until it is done.
std::atomic<pid_t> g_children[4];
static_assert(std::atomic<pid_t>::is_always_lock_free, "read in a signal handler");

extern "C" void on_stop_signal(int sig)
{
    int saved = errno;
    g_stop_signal = sig;
    for (auto &slot : g_children)
        if (pid_t child = slot.load(); child > 0)
            kill(child, sig);
    errno = saved;
}

// Takes a free slot for CHILD; none free only means the signal is not passed on to it.
std::atomic<pid_t> *track_child(pid_t child)
{
    for (auto &slot : g_children) {
        pid_t none = 0;
        if (slot.compare_exchange_strong(none, child))
            return &slot;
    }
    return nullptr;
}

Error interrupted()
{
    const char *name = sigabbrev_np(g_stop_signal);
    return make_error(name ? std::string("interrupted by SIG") + name : std::string("interrupted by a signal"));
}

} // namespace

void install_stop_handlers()
{
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a blocking wait returns EINTR and sees the flag
    for (int s : {SIGINT, SIGTERM, SIGHUP})
        sigaction(s, &sa, nullptr);
}

int stop_signal()
{
    return g_stop_signal;
}

std::string render(const std::vector<std::string> &argv)
{
    std::string out;
    for (const auto &a : argv) {
        if (!out.empty())
            out += ' ';
        bool plain = !a.empty() && a.find_first_of(" \t\n'\"$\\*?&;|<>()") == std::string::npos;
        out += plain ? a : "'" + a + "'";
    }
    return out;
}

std::string tail_lines(const std::string &text, size_t lines)
{
    size_t pos = text.size();
    if (pos && text[pos - 1] == '\n')
        --pos;
    while (lines-- && pos != std::string::npos && pos > 0)
        pos = text.rfind('\n', pos - 1);
    return pos == std::string::npos || pos == 0 ? text : text.substr(pos + 1);
}

Expected<Outcome> run(const Command &cmd)
{
    if (cmd.argv.empty())
        return make_error("internal: empty command");
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return make_error(std::string("pipe: ") + std::strerror(errno));

    // Build argv/envp before fork: only async-signal-safe calls after it.
    std::vector<char *> argv;
    for (const auto &a : cmd.argv)
        argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> env_store;
    for (char **e = environ; *e; ++e) {
        std::string entry(*e);
        std::string key = entry.substr(0, entry.find('='));
        if (!cmd.env.count(key))
            env_store.push_back(entry);
    }
    for (const auto &[k, v] : cmd.env)
        env_store.push_back(k + "=" + v);
    std::vector<char *> envp;
    for (auto &e : env_store)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    const char *in_path = cmd.stdin_file.empty() ? "/dev/null" : cmd.stdin_file.c_str();

    if (g_stop_signal)
        return interrupted();
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return make_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        // A kpatch-build killed outright (SIGKILL, the OOM killer) takes the command with
        // it instead of leaving a make writing into a work tree nobody owns any more.
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(126);
        int in = ::open(in_path, O_RDONLY);
        if (in < 0 || dup2(in, 0) < 0 || dup2(pipefd[1], 1) < 0 || dup2(pipefd[1], 2) < 0)
            _exit(126);
        if (!cmd.cwd.empty() && chdir(cmd.cwd.c_str()) < 0)
            _exit(126);
        execvpe(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    std::atomic<pid_t> *slot = track_child(pid);
    if (int sig = g_stop_signal)
        kill(pid, sig);  // the signal came between the check above and track_child
    close(pipefd[1]);
    Outcome out;
    std::ofstream log;
    if (!cmd.log_file.empty()) {
        log.open(cmd.log_file, std::ios::app);
        log << "$ " << render(cmd.argv) << "\n";
    }
    char buf[65536];
    for (;;) {
        ssize_t n = read(pipefd[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        out.output.append(buf, static_cast<size_t>(n));
        if (log)
            log.write(buf, n);
    }
    close(pipefd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (slot)
        slot->store(0);
    if (g_stop_signal)
        return interrupted();
    out.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (out.status == 127 && out.output.empty())
        return make_error("cannot run '" + cmd.argv[0] + "': not found or not executable");
    return out;
}

Expected<Outcome> run_checked(const Command &cmd, const std::string &what)
{
    auto out = run(cmd);
    if (!out)
        return out.error();
    if (out->status != 0) {
        std::string msg = "Failed to " + what + " (" + render(cmd.argv) + ", exit " +
                          std::to_string(out->status) + ")";
        std::string tail = tail_lines(out->output, 20);
        if (!tail.empty())
            msg += ":\n" + tail;
        return make_error(msg);
    }
    return out;
}

} // namespace kpatch::driver
