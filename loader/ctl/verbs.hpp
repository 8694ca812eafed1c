// kpatchctl's verb handlers: each calls the loader once and renders its result (licence: GPL-2.0-only).
#pragma once

#include "cli.hpp"

namespace kpatch::ctl {

int verb_load(const Verb &, const Options &, loader::Context &, Io &);
int verb_unload(const Verb &, const Options &, loader::Context &, Io &);
int verb_list(const Verb &, const Options &, loader::Context &, Io &);
int verb_install(const Verb &, const Options &, loader::Context &, Io &);
int verb_uninstall(const Verb &, const Options &, loader::Context &, Io &);
int verb_info(const Verb &, const Options &, loader::Context &, Io &);
int verb_verify(const Verb &, const Options &, loader::Context &, Io &);
int verb_status(const Verb &, const Options &, loader::Context &, Io &);

} // namespace kpatch::ctl
