// The differ's verification data (.kpatch.verify): original bytes and the mask of what the running kernel may rewrite (licence: GPL-2.0-only).
#include <cstring>
#include <elf.h>

#include "diff/kpatch_abi.hpp"
#include "diff/passes.hpp"
#include "fixtures.hpp"

using namespace kpatch;
using fixtures::symbol;

namespace {

// struct kpatch_funcs_entry (kmod/include/kpatch.h).
using namespace diff::abi;
constexpr uint64_t entry_size = funcs_entry_size, old_size_field = OldSize, flags_field = Flags,
                   bytes_field = VerifyBytes, mask_field = VerifyMask, len_field = VerifyLen;

struct VerifyEntry {
    uint64_t old_size = 0, flags = 0;
    std::vector<uint8_t> bytes, mask;
};

uint64_t u64_at(const elf::Section &s, uint64_t at)
{
    uint64_t v = 0;
    REQUIRE(at + 8 <= s.data.size());
    std::memcpy(&v, s.data.data() + at, 8);
    return v;
}

// The addend of the relocation at `at` in `s`, which must point into .kpatch.verify.
uint64_t verify_pointer(const elf::Section &s, uint64_t at)
{
    REQUIRE(s.relocations);
    for (auto &r : s.relocations->entries)
        if (r.offset == at) {
            REQUIRE(r.symbol);
            REQUIRE(r.symbol->is_section_symbol());
            CHECK(r.symbol->section->name == ".kpatch.verify");
            CHECK(r.type == R_X86_64_64);
            return static_cast<uint64_t>(r.addend);
        }
    FAIL("no relocation at .kpatch.funcs+" << at);
    return 0;
}

// The verification data of .kpatch.funcs entry `index` of a diff's output.
VerifyEntry entry(const elf::Object &out, unsigned index)
{
    const elf::Section *funcs = out.find_section(".kpatch.funcs");
    const elf::Section *verify = out.find_section(".kpatch.verify");
    REQUIRE(funcs);
    REQUIRE(verify);
    CHECK(funcs->data.size() % entry_size == 0);
    uint64_t at = index * entry_size;
    VerifyEntry e;
    e.old_size = u64_at(*funcs, at + old_size_field);
    e.flags = u64_at(*funcs, at + flags_field);
    uint64_t len = u64_at(*funcs, at + len_field);
    uint64_t b = verify_pointer(*funcs, at + bytes_field), m = verify_pointer(*funcs, at + mask_field);
    REQUIRE(b + len <= verify->data.size());
    REQUIRE(m + len <= verify->data.size());
    e.bytes.assign(verify->data.begin() + b, verify->data.begin() + b + len);
    e.mask.assign(verify->data.begin() + m, verify->data.begin() + m + len);
    return e;
}

std::vector<uint8_t> original_bytes(const elf::Symbol &f)
{
    auto &d = f.section->data;
    return {d.begin() + f.value, d.begin() + f.value + f.size};
}

// The mask the function must get, from the original object alone: 0 at every relocated
// field, at the ftrace call (the first 5 bytes) and at each `jmp __x86_return_thunk`
// (a return site, whole), plus the `extra` ranges; 0xff elsewhere.
std::vector<uint8_t> expected_mask(const elf::Symbol &f, std::vector<std::pair<uint64_t, uint64_t>> extra)
{
    std::vector<uint8_t> mask(f.size, 0xff);
    extra.push_back({0, 5});
    for (auto &r : f.section->relocations->entries) {
        if (r.offset < f.value || r.offset >= f.value + f.size)
            continue;
        uint64_t at = r.offset - f.value;
        REQUIRE((r.type == R_X86_64_PLT32 || r.type == R_X86_64_PC32 || r.type == R_X86_64_32S));
        extra.push_back({at, at + 4});
        if (r.symbol && r.symbol->name == "__x86_return_thunk")
            extra.push_back({at - 1, at});
    }
    for (auto [from, to] : extra)
        for (uint64_t i = from; i < to; i++)
            mask.at(i) = 0;
    return mask;
}

// A fixture whose one changed function is `function`: the run, the original's symbol and
// the function's verification data.
struct OneChange {
    fixtures::Run run;
    const elf::Symbol *orig = nullptr;
    VerifyEntry e;
};

OneChange diff_one(const std::string &name, const std::string &function)
{
    OneChange c;
    c.run = fixtures::diff(name);
    REQUIRE(c.run.result.outcome == diff::Outcome::Changed);
    REQUIRE(c.run.result.changed.size() == 1);
    c.orig = symbol(*c.run.orig, function);
    REQUIRE(c.orig);
    c.e = entry(*c.run.result.output, 0);
    return c;
}

} // namespace

TEST_CASE("verification data: original bytes, relocated fields, the ftrace call and return sites masked",
          "[diff][verify]")
{
    REQUIRE_FIXTURES();
    auto [r, f, e] = diff_one("changed", "fixture_show");
    CHECK(e.old_size == f->size);
    CHECK(e.bytes == original_bytes(*f));
    // 0-4 call __fentry__, 8-11 the string's address (32S), 13-16 seq_puts, 19-23 the return.
    CHECK(e.mask == expected_mask(*f, {}));
    CHECK(e.mask[12] == 0xff);    // the opcode of `call seq_puts` must match
    // Whole and 16-byte aligned: the core may require padding after it.
    CHECK(f->section->addralign == 16);
    CHECK(e.flags == flag_verify_padding);
}

TEST_CASE("verification data: a jump-label site is masked as a whole instruction", "[diff][verify]")
{
    REQUIRE_FIXTURES();
    auto [r, f, e] = diff_one("jump_label", "fixture_branch");
    CHECK(e.bytes == original_bytes(*f));
    // The static branch right after the ftrace call: objtool made it a 2-byte NOP.
    REQUIRE(e.bytes.size() > 7);
    CHECK((e.bytes[5] == 0x66 && e.bytes[6] == 0x90));
    CHECK(e.mask == expected_mask(*f, {{5, 7}}));
}

TEST_CASE("verification data: an alternative's original instruction is masked for its length",
          "[diff][verify]")
{
    REQUIRE_FIXTURES();
    auto [r, f, e] = diff_one("alternative", "fixture_alt");
    CHECK(e.bytes == original_bytes(*f));
    // alternative("", "lfence", ...): three NOPs (instrlen 3) after `mov (%rdi),%eax`.
    CHECK(e.mask == expected_mask(*f, {{7, 10}}));
}

TEST_CASE("verification data: a jump to a cold part in another section keeps the whole function",
          "[diff][verify]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("cold");
    REQUIRE(r.result.outcome == diff::Outcome::Changed);
    const elf::Section *funcs = r.result.output->find_section(".kpatch.funcs");
    REQUIRE(funcs);
    for (unsigned i = 0; i < funcs->data.size() / entry_size; i++) {
        VerifyEntry e = entry(*r.result.output, i);
        CHECK(e.bytes.size() == e.old_size);   // .text.unlikely is apart in vmlinux too
    }
}

TEST_CASE("verification data: only the part before a tail call within the section is compared",
          "[diff][verify]")
{
    REQUIRE_FIXTURES();
    auto [r, f, e] = diff_one("verify_tail", "fixture_tail");
    CHECK(e.old_size == f->size);
    CHECK(e.flags == 0);    // only a prefix: nothing is known about what follows it
    REQUIRE(e.bytes.size() < f->size);
    std::vector<uint8_t> all = original_bytes(*f);
    CHECK(std::equal(e.bytes.begin(), e.bytes.end(), all.begin()));
    // What follows is the jump to the helper, which vmlinux has in the same .text.
    CHECK((all[e.bytes.size()] == 0xe9 || (all[e.bytes.size()] == 0x0f && (all[e.bytes.size() + 1] & 0xf0) == 0x80)));
    bool warned = false;
    for (auto &w : r.result.warnings)
        warned |= w.find("fixture_tail") != std::string::npos && w.find("only its first") != std::string::npos;
    CHECK(warned);
}

TEST_CASE("verification data: a function the original does not define is an error", "[diff][verify]")
{
    REQUIRE_FIXTURES();
    auto orig = fixtures::load("orig", "changed");
    auto arch = arch::Arch::for_machine(orig->machine);
    REQUIRE(arch);
    elf::Symbol undefined;
    undefined.name = "nowhere";
    diff::SpecialLayout none;
    auto check = diff::function_check(undefined, **arch, none);
    REQUIRE(!check);
    CHECK(check.error().message.find("nowhere") != std::string::npos);
}
