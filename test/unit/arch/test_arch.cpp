// The per-architecture interface (kpatch-build/arch/) exercised alone, on hand-written code bytes (licence: GPL-2.0-only).
#include <catch2/catch.hpp>

#include <elf.h>

#include "arch/arch.hpp"
#include "arch/kernel_layout.hpp"

using namespace kpatch::arch;

namespace {

std::unique_ptr<Arch> x86_64()
{
    auto a = Arch::for_machine(EM_X86_64);
    REQUIRE(a);
    return std::move(*a);
}

// endbr64; call rel32; jmp rel32; jne rel32; jmp rel8; lock incl (%rax); ret
const uint8_t kCode[] = {
    0xf3, 0x0f, 0x1e, 0xfa,             // 0: endbr64
    0xe8, 0x00, 0x00, 0x00, 0x00,       // 4: call
    0xe9, 0x00, 0x00, 0x00, 0x00,       // 9: jmp rel32
    0x0f, 0x85, 0x00, 0x00, 0x00, 0x00, // 14: jne rel32
    0xeb, 0x00,                         // 20: jmp rel8
    0xf0, 0xff, 0x00,                   // 22: lock incl (%rax)
    0xc3,                               // 25: ret
};

} // namespace

TEST_CASE("an architecture is chosen by e_machine, and only supported ones", "[arch]")
{
    CHECK(x86_64()->name() == "x86_64");
    auto other = Arch::for_machine(EM_AARCH64);
    REQUIRE_FALSE(other);
    CHECK_THAT(other.error().message, Catch::Contains("unsupported architecture"));
}

TEST_CASE("x86-64 relocations: width, PC-relativity, the 64-bit absolute type", "[arch]")
{
    auto a = x86_64();
    CHECK(a->width(R_X86_64_64) == 8);
    CHECK(a->width(R_X86_64_PLT32) == 4);
    CHECK(a->width(R_X86_64_PC8) == 1);
    CHECK(a->width(0xffff) == 0);
    CHECK(a->is_pc_relative(R_X86_64_PC32));
    CHECK_FALSE(a->is_pc_relative(R_X86_64_32S));
    CHECK(a->absolute64() == R_X86_64_64);
    CHECK(a->type_name(R_X86_64_PLT32) == "R_X86_64_PLT32");
}

TEST_CASE("x86-64 decoding gives instruction boundaries, and the PC bias of a field", "[arch]")
{
    auto a = x86_64();
    auto insns = a->decode(kCode, sizeof kCode);
    REQUIRE(insns);
    std::vector<std::pair<uint32_t, uint8_t>> got;
    for (auto &i : *insns)
        got.emplace_back(i.offset, i.size);
    CHECK(got == std::vector<std::pair<uint32_t, uint8_t>>{{0, 4}, {4, 5}, {9, 5}, {14, 6}, {20, 2}, {22, 3}, {25, 1}});
    // The call's field at 5 ends its instruction 4 bytes later: a call's -4.
    CHECK(a->pc_bias(*insns, 5, R_X86_64_PLT32) == 4);
    CHECK(a->pc_bias(*insns, 16, R_X86_64_PC32) == 4);
    // Past the code: the field's width.
    CHECK(a->pc_bias(*insns, 100, R_X86_64_PC32) == 4);
}

TEST_CASE("x86-64: only long jumps are relaxable, never calls or short jumps", "[arch]")
{
    auto a = x86_64();
    auto insns = a->decode(kCode, sizeof kCode);
    REQUIRE(insns);
    std::vector<uint32_t> relaxable;
    for (auto &i : *insns)
        if (a->is_relaxable_jump(kCode + i.offset, i))
            relaxable.push_back(i.offset);
    CHECK(relaxable == std::vector<uint32_t>{9, 14});
}

TEST_CASE("x86-64: code differing only in an immediate is told apart from other changes", "[arch]")
{
    auto a = x86_64();
    const uint8_t mov1[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3};   // mov $1, %eax; ret
    const uint8_t mov2[] = {0xb8, 0x02, 0x00, 0x00, 0x00, 0xc3};   // mov $2, %eax; ret
    const uint8_t movb[] = {0xbb, 0x01, 0x00, 0x00, 0x00, 0xc3};   // mov $1, %ebx; ret
    auto imm = a->immediate_changes(mov1, mov2, sizeof mov1);
    REQUIRE(imm);
    REQUIRE(imm->size() == 1);
    CHECK((*imm)[0].offset == 0);
    CHECK((*imm)[0].original == 1);
    CHECK((*imm)[0].patched == 2);
    CHECK_FALSE(a->immediate_changes(mov1, movb, sizeof mov1));
}

TEST_CASE("x86-64 special sections: Linux 6.1 entry sizes and the bug table's line", "[arch]")
{
    auto a = x86_64();
    auto size_of = [&](std::string_view name) -> unsigned {
        for (auto &s : a->special_sections())
            if (name == s.name)
                return s.entry_size;
        return 0;
    };
    CHECK(size_of("__jump_table") == 16);
    CHECK(size_of(".altinstructions") == 12);
    CHECK(size_of(".orc_unwind") == 6);
    CHECK(size_of(".data") == 0);
    CHECK_THAT(a->special_layout_name(), Catch::Contains("x86-64"));
    CHECK(a->line_field("__bug_table") == std::pair<unsigned, unsigned>{8, 10});
    CHECK(a->line_field("__ex_table") == std::pair<unsigned, unsigned>{0, 0});
}

TEST_CASE("x86-64: what the kernel rewrites at a site and at a function's entry", "[arch]")
{
    using Kind = SiteRewrite::Kind;
    auto a = x86_64();
    uint8_t alt[12] = {};
    alt[10] = 7;   // struct alt_instr.instrlen
    uint8_t para[16] = {};
    para[9] = 6;   // struct paravirt_patch_site.len
    CHECK(a->site_rewrite(".altinstructions", alt, sizeof alt).kind == Kind::Bytes);
    CHECK(a->site_rewrite(".altinstructions", alt, sizeof alt).length == 7);
    CHECK(a->site_rewrite(".parainstructions", para, sizeof para).length == 6);
    // An entry too short to hold its length field: nothing is known to be rewritten.
    CHECK(a->site_rewrite(".altinstructions", alt, 10).kind == Kind::None);
    CHECK(a->site_rewrite("__jump_table", nullptr, 0).kind == Kind::WholeInsn);
    CHECK(a->site_rewrite("__mcount_loc", nullptr, 0).kind == Kind::WholeInsn);
    CHECK(a->site_rewrite(".smp_locks", nullptr, 0).length == 1);
    CHECK(a->site_rewrite(".ibt_endbr_seal", nullptr, 0).length == 4);
    CHECK(a->site_rewrite("__ex_table", nullptr, 0).kind == Kind::None);

    CHECK(a->entry_rewrite(kCode, sizeof kCode) == 4);        // endbr64
    CHECK(a->entry_rewrite(kCode + 4, sizeof kCode - 4) == 0); // a call
    CHECK(a->entry_rewrite(kCode, 3) == 0);                    // too short for one
}

TEST_CASE("kernel layouts: by e_machine, and the host's", "[arch]")
{
    const KernelLayout *x = kernel_layout(EM_X86_64);
    REQUIRE(x);
    CHECK(std::string(x->name) == "x86_64");
    CHECK(std::string(x->srcarch) == "x86");
    CHECK(std::string(x->bits) == "64");
    CHECK(x->arch_dir() == "arch/x86");
    CHECK(x->module_name_offset == 24);
    CHECK(kernel_layout(EM_AARCH64) == nullptr);
    CHECK(&host_kernel_layout() == x);
    // The differ's Arch and the layout name the same architecture.
    CHECK(x86_64()->name() == x->name);
}

TEST_CASE("x86-64: every struct-entry table kpatch-build measures is a special section the differ cuts",
          "[arch]")
{
    auto a = x86_64();
    const KernelLayout &x = *kernel_layout(EM_X86_64);
    REQUIRE(x.entry_structs.size() == 7);
    for (const EntryStruct &e : x.entry_structs) {
        INFO(e.section);
        CHECK(std::string(e.type).size() > 0);
        CHECK(std::string(e.header).ends_with(".h"));
        bool known = false;
        for (auto &s : a->special_sections())
            known |= std::string_view(s.name) == e.section;
        CHECK(known);
    }
}
