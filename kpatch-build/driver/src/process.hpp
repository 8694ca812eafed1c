// Running other programs (make, patch, diff, the differ, apt-get) and capturing what they
// say (licence: GPL-2.0-only).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <kpatch/expected.hpp>

namespace kpatch::driver {

struct Command {
    Command(std::vector<std::string> args) : argv(std::move(args)) {}

    std::vector<std::string> argv;
    std::string cwd;                          // empty = inherit
    std::map<std::string, std::string> env;   // added to (or overriding) the environment
    std::string stdin_file;                   // empty = /dev/null
    std::string log_file;                     // non-empty: stdout+stderr appended there too
};

struct Outcome {
    int status = -1;       // exit status; 128+N when killed by signal N
    std::string output;    // stdout and stderr, interleaved as written
};

// Runs to completion. An Error only when the program could not be started; a non-zero
// exit is an Outcome for the caller to judge.
Expected<Outcome> run(const Command &cmd);

// Runs and requires exit 0; the error quotes the command and the tail of its output.
Expected<Outcome> run_checked(const Command &cmd, const std::string &what);

// Last `lines` lines of text (for error messages quoting long build logs).
std::string tail_lines(const std::string &text, size_t lines);

// A shell-quoted rendering for messages and logs.
std::string render(const std::vector<std::string> &argv);

} // namespace kpatch::driver
