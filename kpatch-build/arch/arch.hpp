// What differs per architecture, behind one interface chosen once from e_machine (licence: GPL-2.0-only).
//
// The differ asks four kinds of question: how wide and how relative a relocation is,
// where instructions begin and end (Capstone), whether two instruction streams differ
// only in immediate operands (the line-number test in diff/compare.cpp), and what the
// kernel's tables of per-instruction entries look like and which bytes the kernel
// rewrites at the sites they list (diff/special.cpp, diff/verify.cpp). Capstone is
// opened on first use, so a run that never decodes does not pay for it. What the driver
// and the loader need (kbuild's SRCARCH, struct module) is in kernel_layout.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kpatch/expected.hpp>

namespace kpatch::arch {

struct Insn {
    uint32_t offset;
    uint8_t size;
};

// A pair of immediate operands that differ at the same instruction (original, patched).
struct ImmediateChange {
    uint32_t offset;
    int64_t original;
    int64_t patched;
};

// An immediate that becomes a call's argument (the no-DWARF line-number test in
// diff/line_calls.cpp): the call that takes it, and which argument it is (0 = first).
struct CallArgument {
    uint32_t call_offset;
    uint8_t call_size;
    unsigned argument;
};

// A special section: a kernel table with one entry per instruction site (or per record),
// and its entry size in the kernel release the tables are known for (the last resort of
// diff/entry_size.cpp, after what the object itself says).
struct SpecialSection {
    const char *name;
    unsigned entry_size;
};

// What the running kernel may rewrite at a site a special section lists.
struct SiteRewrite {
    enum class Kind {
        None,        // nothing (the entry describes, say, an exception fixup)
        WholeInsn,   // the instruction starting at the site
        Bytes,       // `length` bytes from the site
    } kind = Kind::None;
    unsigned length = 0;
};

class Arch {
public:
    virtual ~Arch() = default;
    // The architecture of an object; an error for machines we do not support.
    static Expected<std::unique_ptr<Arch>> for_machine(uint16_t e_machine);

    virtual std::string name() const = 0;
    // Bytes a relocation of this type writes; 0 for types the differ does not know.
    virtual unsigned width(uint32_t type) const = 0;
    virtual bool is_pc_relative(uint32_t type) const = 0;
    // The 64-bit absolute type, used for the pointers of .kpatch.funcs.
    virtual uint32_t absolute64() const = 0;
    virtual std::string type_name(uint32_t type) const = 0;

    // Instruction boundaries of `size` bytes of code; an error where decoding fails.
    virtual Expected<std::vector<Insn>> decode(const uint8_t *code, size_t size) const = 0;
    // Distance from a relocated field at `field` to the end of its instruction, the bias
    // that a PC-relative addend carries (-4 for a plain call). Falls back to the field
    // width when the code cannot be decoded.
    virtual int64_t pc_bias(const std::vector<Insn> &insns, uint64_t field, uint32_t type) const = 0;
    // When two equally long code buffers have the same instructions and differ only in
    // immediate operands, those operands; std::nullopt when anything else differs.
    virtual std::optional<std::vector<ImmediateChange>>
    immediate_changes(const uint8_t *a, const uint8_t *b, size_t size) const = 0;
    // When the instruction at `offset` of `size` bytes of code loads an immediate into an
    // argument register and the next call (or direct jmp: a tail call) takes it there, with
    // no other branch and no other write of that register in between, that call (its
    // target is for the caller to check); std::nullopt otherwise.
    virtual std::optional<CallArgument> immediate_argument(const uint8_t *code, size_t size,
                                                           uint32_t offset) const = 0;

    // Whether the instruction `insn` (its bytes at `code`) is a jump (not a call) with the
    // long displacement an assembler shortens when the target is near: in vmlinux, built
    // without -ffunction-sections, such a jump to a function of the same section may be
    // shorter than in the object.
    virtual bool is_relaxable_jump(const uint8_t *code, const Insn &insn) const = 0;

    // The special sections of this architecture's kernel.
    virtual std::span<const SpecialSection> special_sections() const = 0;
    // Where SpecialSection::entry_size comes from, as a message names it.
    virtual std::string special_layout_name() const = 0;
    // Byte range [first, second) of a `section` entry that holds a source line number
    // (the bug table), or {0, 0}.
    virtual std::pair<unsigned, unsigned> line_field(std::string_view section) const = 0;
    // What the kernel may rewrite at the site of an entry of `section` (the entry's
    // `size` bytes at `entry`: some entries give the length).
    virtual SiteRewrite site_rewrite(std::string_view section, const uint8_t *entry, size_t size) const = 0;
    // Bytes at the start of a function (its `size` bytes at `code`) that the kernel may
    // rewrite whatever the tables say (a sealed landing pad); 0 for none.
    virtual unsigned entry_rewrite(const uint8_t *code, size_t size) const = 0;
};

} // namespace kpatch::arch
