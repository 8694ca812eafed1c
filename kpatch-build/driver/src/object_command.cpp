// Compiling one object with the command kbuild recorded for it (licence: GPL-2.0-only).
#include "object_command.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "context.hpp"
#include "process.hpp"

namespace kpatch::driver {

namespace fs = std::filesystem;

namespace {

std::string record_path(const std::string &tree, const std::string &object, const char *suffix)
{
    fs::path p(object);
    return tree + "/" + p.parent_path().string() + "/." + p.filename().string() + suffix;
}

// Splits at ';' (kbuild joins the compiler and objtool with " ; ").
std::vector<std::string> parts_of(const std::string &command)
{
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t semi; (semi = command.find(';', start)) != std::string::npos; start = semi + 1)
        parts.push_back(trim(command.substr(start, semi - start)));
    parts.push_back(trim(command.substr(start)));
    return parts;
}

// What this module reruns: a compile whose output is OBJECT, then objtool on OBJECT.
// Anything else (a shell pipeline, a redirection, a command substitution, kbuild's
// recordmcount run after a compiler without -mrecord-mcount) is left to make.
bool rerunnable(const std::string &command, const std::string &object)
{
    if (command.find_first_of("`$|&<>\n") != std::string::npos)
        return false;
    auto parts = parts_of(command);
    const std::string &compile = parts.front();
    if (compile.find(" -c ") == std::string::npos ||
        compile.find(" -o " + object + " ") == std::string::npos)
        return false;
    if (compile.find(" -pg ") != std::string::npos &&
        compile.find(" -mrecord-mcount ") == std::string::npos)
        return false;
    for (size_t i = 1; i < parts.size(); ++i) {
        const std::string &p = parts[i];
        if (p.empty())
            continue;
        if (!p.starts_with("./tools/objtool/objtool ") || !p.ends_with(" " + object))
            return false;
    }
    return true;
}

Command shell(const std::string &tree, const std::string &command,
              const std::map<std::string, std::string> &env, const std::string &log)
{
    Command cmd({"/bin/sh", "-c", command});
    cmd.cwd = tree;
    cmd.env = env;
    cmd.log_file = log;
    return cmd;
}

bool same_bytes(const std::string &a, const std::string &b)
{
    auto x = read_text(a), y = read_text(b);
    return x && y && *x == *y;
}

void append_log(const std::string &log, const std::string &line)
{
    std::ofstream(log, std::ios::app) << line << "\n";
}

} // namespace

std::optional<std::string> recorded_command(const std::string &tree, const std::string &object)
{
    auto text = read_text(record_path(tree, object, ".cmd"));
    if (!text)
        return std::nullopt;
    std::string line = text->substr(0, text->find('\n'));
    std::string command;
    for (std::string prefix : {"cmd_" + object + " := ", "savedcmd_" + object + " := "})
        if (line.starts_with(prefix))
            command = trim(line.substr(prefix.size()));
    if (command.empty() || !rerunnable(command, object))
        return std::nullopt;
    return command;
}

std::string cached_command_path(const PreparedTree &tree, const std::string &object)
{
    return tree.objects + "/" + object + ".command";
}

std::optional<std::string> cached_command(const PreparedTree &tree, const std::string &object)
{
    auto text = read_text(cached_command_path(tree, object));
    if (!text)
        return std::nullopt;
    std::string command = trim(*text);
    if (command.empty() || !rerunnable(command, object))
        return std::nullopt;
    return command;
}

bool prove_command(const std::string &tree, const std::string &object,
                   const std::map<std::string, std::string> &env,
                   const std::string &cache_file, const std::string &log)
{
    auto command = recorded_command(tree, object);
    if (!command) {
        append_log(log, "kpatch-build: no rerunnable command recorded for " + object +
                           "; it is built with make every time");
        return false;
    }
    std::string built = tree + "/" + object, aside = built + ".by-make";
    std::error_code ec;
    fs::rename(built, aside, ec);
    if (ec)
        return false;
    auto out = run(shell(tree, *command, env, log));
    bool same = out && out->status == 0 && same_bytes(built, aside);
    fs::remove(record_path(tree, object, ".d"), ec);
    fs::rename(aside, built, ec);  // make's object stays, whatever the rerun left
    if (!same) {
        append_log(log, "kpatch-build: the recorded command for " + object +
                           " did not reproduce make's object; it is built with make every time");
        return false;
    }
    fs::create_directories(fs::path(cache_file).parent_path(), ec);
    return bool(write_text_atomic(cache_file, *command + "\n"));
}

std::vector<std::string> compile_directly(const std::string &tree,
                                          const std::map<std::string, std::string> &commands,
                                          const std::map<std::string, std::string> &env,
                                          unsigned jobs, const std::string &log)
{
    std::vector<std::pair<std::string, std::string>> work(commands.begin(), commands.end());
    std::vector<char> failed(work.size(), 0);
    std::atomic<size_t> next{0};
    auto worker = [&] {
        for (size_t i; (i = next++) < work.size();) {
            const auto &[object, command] = work[i];
            // New files, never writes through a link into the prepared tree: the work
            // tree's copies of object records are private, and these names are unlinked.
            std::error_code ec;
            fs::remove(tree + "/" + object, ec);
            fs::remove(record_path(tree, object, ".cmd"), ec);
            auto out = run(shell(tree, command, env, log));
            fs::remove(record_path(tree, object, ".d"), ec);
            // kbuild's record, which later steps read (the module an object belongs to).
            bool ok = out && out->status == 0 && exists(tree + "/" + object) &&
                      write_text_atomic(record_path(tree, object, ".cmd"),
                                        "cmd_" + object + " := " + command + "\n");
            if (!ok)
                fs::remove(tree + "/" + object, ec);  // make builds it from scratch
            failed[i] = !ok;
        }
    };
    std::vector<std::thread> threads;
    for (unsigned t = 1; t < std::max(1u, jobs) && t < work.size(); ++t)
        threads.emplace_back(worker);
    worker();
    for (auto &t : threads)
        t.join();
    std::vector<std::string> out;
    for (size_t i = 0; i < work.size(); ++i)
        if (failed[i])
            out.push_back(work[i].first);
    return out;
}

} // namespace kpatch::driver
