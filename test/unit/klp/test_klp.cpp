// kpatch-klp-convert: placeholder references become .klp.rela sections the 6.1 loader accepts (licence: GPL-2.0-only).
#include <cstring>
#include <elf.h>

#include <map>
#include <set>

#include "fake_module_kernel.hpp"
#include "fixtures.hpp"
#include "klp/klp_convert.hpp"

using namespace kpatch;

namespace {

// The differ's output for `name` (no exports known: every kernel symbol is a placeholder).
std::unique_ptr<elf::Object> patch_object(const std::string &name)
{
    auto r = fixtures::diff(name);
    REQUIRE(r.result.outcome == diff::Outcome::Changed);
    return std::move(r.result.output);
}

} // namespace

TEST_CASE("placeholder relocations move to .klp.rela sections with zeroed targets", "[klp]")
{
    REQUIRE_FIXTURES();
    auto obj = patch_object("newfunc");
    size_t placeholders = 0;
    for (auto &s : obj->symbols)
        placeholders += s->name.rfind(".klp.sym.", 0) == 0;
    REQUIRE(placeholders > 0);
    // Make the targets nonzero first, as a linker that applied an addend might.
    for (auto &sec : obj->sections)
        if (sec->type == SHT_RELA)
            for (auto &r : static_cast<elf::RelocationSection &>(*sec).entries)
                if (r.symbol && r.symbol->name.rfind(".klp.sym.", 0) == 0)
                    std::memset(static_cast<elf::RelocationSection &>(*sec).target->data.data() + r.offset, 0xff, 4);

    auto stats = klp::convert(*obj);
    REQUIRE(stats);
    CHECK(stats->symbols == placeholders);
    CHECK(stats->relocations >= placeholders);

    size_t klp_sections = 0;
    for (auto &sec : obj->sections) {
        if (sec->type != SHT_RELA)
            continue;
        auto &rs = static_cast<elf::RelocationSection &>(*sec);
        bool is_klp = sec->name.rfind(".klp.rela.", 0) == 0;
        for (auto &r : rs.entries) {
            bool against_klp = r.symbol && r.symbol->name.rfind(".klp.sym.", 0) == 0;
            CHECK(against_klp == is_klp);   // none left in ordinary .rela sections
            if (against_klp)
                for (int i = 0; i < 4; i++)
                    CHECK(rs.target->data[r.offset + i] == 0);
        }
        if (is_klp) {
            klp_sections++;
            CHECK(sec->flags == (SHF_ALLOC | SHF_INFO_LINK | elf::SHF_RELA_LIVEPATCH));
            CHECK((sec->name == ".klp.rela.kpatch-vmlinux." + rs.target->name ||
                   sec->name == ".klp.rela.vmlinux." + rs.target->name));
        }
    }
    CHECK(klp_sections == stats->sections);
    for (auto &s : obj->symbols)
        if (s->name.rfind(".klp.sym.", 0) == 0)
            CHECK(s->placement == elf::Placement::Livepatch);

    // Written and read back, the symbols carry SHN_LIVEPATCH.
    char tmpl[] = "/tmp/test-klp-XXXXXX";
    int fd = mkstemp(tmpl);
    close(fd);
    REQUIRE(elf::write_object(*obj, tmpl));
    auto back = elf::read_object(tmpl);
    unlink(tmpl);
    REQUIRE(back);
    size_t livepatch = 0;
    for (auto &s : (*back)->symbols)
        livepatch += s->placement == elf::Placement::Livepatch;
    CHECK(livepatch == placeholders);
    // A second run finds nothing left to do.
    auto again = klp::convert(**back);
    REQUIRE(again);
    CHECK(again->relocations == 0);
}

TEST_CASE("a malformed placeholder name is an error", "[klp][errors]")
{
    REQUIRE_FIXTURES();
    auto obj = patch_object("newfunc");
    for (auto &s : obj->symbols)
        if (s->name.rfind(".klp.sym.", 0) == 0)
            s->name = ".klp.sym.vmlinux.nopos";
    auto stats = klp::convert(*obj);
    REQUIRE(!stats);
    CHECK_THAT(stats.error().message, Catch::Contains("nopos"));
}

TEST_CASE("placeholders of a module get .klp.rela.<module> sections of their own", "[klp]")
{
    REQUIRE_FIXTURES();
    auto obj = patch_object("newfunc");
    // Alternate the placeholders between vmlinux and a module (as a patch of both has).
    size_t n = 0, module_syms = 0;
    for (auto &s : obj->symbols) {
        if (s->name.rfind(".klp.sym.vmlinux.", 0) != 0 || n++ % 2)
            continue;
        s->name = ".klp.sym.modtarget." + s->name.substr(std::strlen(".klp.sym.vmlinux."));
        module_syms++;
    }
    REQUIRE(module_syms > 0);
    auto stats = klp::convert(*obj);
    REQUIRE(stats);
    size_t module_relocs = 0;
    for (auto &sec : obj->sections) {
        if (sec->type != SHT_RELA || sec->name.rfind(".klp.rela.", 0) != 0)
            continue;
        auto &rs = static_cast<elf::RelocationSection &>(*sec);
        bool module_sec = sec->name == ".klp.rela.modtarget." + rs.target->name;
        CHECK((module_sec || sec->name == ".klp.rela.kpatch-vmlinux." + rs.target->name ||
               sec->name == ".klp.rela.vmlinux." + rs.target->name));
        // The kernel refuses a vmlinux symbol in a module's section and the reverse
        // would resolve in the wrong object: each section holds its own object's.
        for (auto &r : rs.entries) {
            CHECK(r.symbol->name.rfind(module_sec ? ".klp.sym.modtarget." : ".klp.sym.vmlinux.", 0) == 0);
            module_relocs += module_sec;
        }
    }
    CHECK(module_relocs >= module_syms);
}

TEST_CASE("a module's code reaching another module's export is relocated when its own module loads",
          "[klp][module]")
{
    REQUIRE_FIXTURES();
    fixtures::FakeModuleKernel k;
    auto r = fixtures::diff("module_part", fixtures::in_module(k));
    REQUIRE(r.result.outcome == diff::Outcome::Changed);
    auto obj = std::move(r.result.output);
    auto stats = klp::convert(*obj);
    REQUIRE(stats);
    std::set<std::string> in_ext4;
    for (auto &sec : obj->sections) {
        CHECK(sec->name.rfind(".klp.rela.jbd2.", 0) != 0);    // jbd2 is not what loads this code
        CHECK(sec->name.rfind(".klp.rela.kpatch-vmlinux.", 0) != 0); // vmlinux's exports stay plain
        CHECK(sec->name.rfind(".klp.rela.vmlinux.", 0) != 0);
        if (sec->name.rfind(".klp.rela.ext4.", 0) == 0)
            for (auto &rel : static_cast<elf::RelocationSection &>(*sec).entries)
                in_ext4.insert(rel.symbol->name);
    }
    CHECK(in_ext4.count(".klp.sym.jbd2.modpart_other_export,0"));
    CHECK(in_ext4.count(".klp.sym.ext4.modpart_scale,2"));
}

TEST_CASE("a module given .klp.rela sections says livepatch=Y in its .modinfo, once", "[klp]")
{
    REQUIRE_FIXTURES();
    auto obj = patch_object("newfunc");
    auto modinfo = std::make_unique<elf::Section>();
    modinfo->name = ".modinfo";
    modinfo->type = SHT_PROGBITS;
    const std::string before = std::string("license=GPL") + '\0' + "vermagic=6.1.0 SMP" + '\0';
    modinfo->data.assign(before.begin(), before.end());
    elf::Section &mi = obj->add_section(std::move(modinfo));
    auto stats = klp::convert(*obj);
    REQUIRE(stats);
    REQUIRE(stats->sections > 0);
    const std::string after = before + "livepatch=Y" + '\0';
    CHECK(std::string(mi.data.begin(), mi.data.end()) == after);
    // A module the driver already marked (it has a part for a module) keeps one entry.
    auto marked = patch_object("newfunc");
    auto modinfo2 = std::make_unique<elf::Section>();
    modinfo2->name = ".modinfo";
    modinfo2->type = SHT_PROGBITS;
    modinfo2->data.assign(after.begin(), after.end());
    elf::Section &mi2 = marked->add_section(std::move(modinfo2));
    REQUIRE(klp::convert(*marked));
    CHECK(std::string(mi2.data.begin(), mi2.data.end()) == after);
}

namespace {

// The .klp.rela section each placeholder relocation of .text.fixture_new_helper went to,
// by its offset.
std::map<uint64_t, std::string> helper_relocations(elf::Object &obj)
{
    std::map<uint64_t, std::string> out;
    for (auto &sec : obj.sections)
        if (sec->type == SHT_RELA && sec->name.rfind(".klp.rela.", 0) == 0) {
            auto &rs = static_cast<elf::RelocationSection &>(*sec);
            if (rs.target->name == ".text.fixture_new_helper")
                for (auto &r : rs.entries)
                    out[r.offset] = sec->name;
        }
    return out;
}

} // namespace

TEST_CASE("vmlinux relocations go to the core unless the loader rewrites their bytes first",
          "[klp]")
{
    REQUIRE_FIXTURES();
    // In the fixture (no exports known), the fentry call at +1 is a placeholder too, and
    // __mcount_loc points at it: ftrace rewrites that call at load, so the loader must
    // have written it; so is the return thunk jump at +0xd, which .return_sites points at.
    auto obj = patch_object("newfunc");
    REQUIRE(klp::convert(*obj));
    auto sites = helper_relocations(*obj);
    REQUIRE(sites.count(1));
    CHECK(sites[1] == ".klp.rela.vmlinux..text.fixture_new_helper");
    REQUIRE(sites.count(0xd));
    CHECK(sites[0xd] == ".klp.rela.vmlinux..text.fixture_new_helper");

    // Without the sections that point at them, the same relocations are the core's.
    auto plain = patch_object("newfunc");
    for (auto &sec : plain->sections)
        if (sec->type == SHT_RELA) {
            auto &rs = static_cast<elf::RelocationSection &>(*sec);
            if (rs.target && (rs.target->name == "__mcount_loc" || rs.target->name == ".return_sites"))
                rs.entries.clear();
        }
    REQUIRE(klp::convert(*plain));
    auto moved = helper_relocations(*plain);
    REQUIRE(moved.count(1));
    CHECK(moved[1] == ".klp.rela.kpatch-vmlinux..text.fixture_new_helper");
    CHECK(moved[0xd] == ".klp.rela.kpatch-vmlinux..text.fixture_new_helper");
}
