// kpatchctl: load, unload, list, install and inspect live patches; see kpatchctl(8) (licence: GPL-2.0-only).
#include "cli.hpp"

#include <iostream>

int main(int argc, char **argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    auto kernel = kpatch::loader::make_system_kernel();
    kpatch::ctl::RunEnv env{kpatch::loader::config_from_env({}), *kernel};
    kpatch::ctl::Io io{std::cout, std::cerr};
    return kpatch::ctl::run(args, env, io);
}
