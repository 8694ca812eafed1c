// Verification data: the original bytes of a replaced function and which of them the running kernel must match (licence: GPL-2.0-only).
//
// The core compares a replaced function's code in the running kernel with these bytes
// before it enables a patch, so a patch built from other source or for another build of
// the same release is refused. The mask is 0 wherever the running code legitimately
// differs from the object:
//   - relocated fields (the object holds zeros, the kernel the linked values);
//   - the ftrace site (__mcount_loc): `call __fentry__`, a 5-byte NOP at run time or a
//     call to a trampoline while someone (another patch included) traces the function;
//   - sites the kernel rewrites at boot or at run time, as the architecture describes
//     them (Arch::site_rewrite; on x86-64 alternatives, paravirt calls, jump labels,
//     static calls, retpoline, return-thunk and call-depth sites, lock prefixes, sealed
//     ENDBR), and a landing pad at the entry it may seal (Arch::entry_rewrite).
// The object is built with -ffunction-sections, vmlinux is not: a jump (not a call) to
// another function that vmlinux has in the same section was resolved by the kernel's
// assembler, which shortens it when the target is near (Arch::is_relaxable_jump).
// Everything from such a jump on may have moved, so only the bytes before it are
// compared, and the size is not checked (the core checks the size only when the whole
// function is covered).
#include <algorithm>
#include <iterator>

#include "diff/passes.hpp"

namespace kpatch::diff {
namespace {

// The section a function's input section is part of when the same file is compiled
// without -ffunction-sections (gcc's names); a section named explicitly (.sched.text,
// .noinstr.text) is the same in both builds.
std::string_view assembler_section(std::string_view name)
{
    for (std::string_view prefix : {".text.unlikely.", ".text.hot.", ".text.startup.", ".text.exit.", ".text."})
        if (name.starts_with(prefix))
            return name.substr(0, prefix.size() - 1);
    return name;
}

class MaskBuilder {
public:
    MaskBuilder(const Symbol &func, const arch::Arch &arch)
        : func_(func), arch_(arch), base_(func.value), size_(func.size) {}

    Expected<FunctionCheck> build(const SpecialLayout &special);

private:
    void ignore(uint64_t offset, uint64_t len)
    {
        for (uint64_t i = offset; i < offset + len; i++)
            if (i >= base_ && i < base_ + size_)
                check_.mask[i - base_] = 0;
    }
    // Length of the instruction that starts at section offset `offset`, or 0.
    unsigned insn_at(uint64_t offset) const
    {
        const arch::Insn *i = insn_containing(offset);
        return i && base_ + i->offset == offset ? i->size : 0;
    }
    // The instruction covering section offset `offset` (decoded in address order, so a
    // binary search: this runs once per relocation and special entry).
    const arch::Insn *insn_containing(uint64_t offset) const
    {
        if (offset < base_)
            return nullptr;
        auto after = std::upper_bound(insns_.begin(), insns_.end(), offset - base_,
                                      [](uint64_t at, const arch::Insn &i) { return at < i.offset; });
        if (after == insns_.begin())
            return nullptr;
        const arch::Insn &i = *std::prev(after);
        return offset - base_ < i.offset + i.size ? &i : nullptr;
    }
    Expected<void> relocations();
    Expected<void> special_entry(const SpecialEntry &e);

    const Symbol &func_;
    const arch::Arch &arch_;
    uint64_t base_, size_;
    std::vector<arch::Insn> insns_;
    FunctionCheck check_;
    uint64_t compared_ = 0;     // bytes compared from the start (shrinks at a relaxable jump)
};

Expected<void> MaskBuilder::relocations()
{
    const Section &sec = *func_.section;
    if (!sec.relocations)
        return {};
    for (auto &r : sec.relocations->entries) {
        if (r.offset < base_ || r.offset >= base_ + size_)
            continue;
        unsigned width = arch_.width(r.type);
        if (r.type == 0)   // R_*_NONE: writes nothing (objtool and .reloc annotations)
            continue;
        if (!width)
            return Error{"relocation type " + arch_.type_name(r.type) + " at offset " +
                         std::to_string(r.offset - base_) + " has no known width"};
        ignore(r.offset, width);
        const Symbol *target = r.symbol;
        if (!target || !target->is_defined() || target->section == &sec ||
            !target->section->is_text() || !arch_.is_pc_relative(r.type) ||
            assembler_section(target->section->name) != assembler_section(sec.name))
            continue;
        const arch::Insn *insn = insn_containing(r.offset);
        if (insn && arch_.is_relaxable_jump(sec.data.data() + base_ + insn->offset, *insn))
            compared_ = std::min<uint64_t>(compared_, insn->offset);
    }
    return {};
}

Expected<void> MaskBuilder::special_entry(const SpecialEntry &e)
{
    const auto &data = e.section->data;
    // The entry's bytes that the section holds (a short last entry may lack its tail).
    size_t held = e.offset < data.size() ? std::min<size_t>(e.size, data.size() - e.offset) : 0;
    arch::SiteRewrite rw = arch_.site_rewrite(e.section->name, data.data() + e.offset, held);
    uint64_t at = e.owner_offset;
    if (rw.kind == arch::SiteRewrite::Kind::WholeInsn) {
        unsigned len = insn_at(at);
        if (!len)
            return Error{"no instruction starts at the " + e.section->name + " site at offset " +
                         std::to_string(at - base_)};
        ignore(at, len);
    } else if (rw.kind == arch::SiteRewrite::Kind::Bytes) {
        ignore(at, rw.length);
    }
    return {};
}

Expected<FunctionCheck> MaskBuilder::build(const SpecialLayout &special)
{
    const Section &sec = *func_.section;
    if (sec.data.size() < base_ + size_)
        return Error{"the function runs past the end of its section"};
    check_.bytes.assign(sec.data.begin() + base_, sec.data.begin() + base_ + size_);
    check_.mask.assign(size_, 0xff);
    auto insns = arch_.decode(check_.bytes.data(), size_);
    if (!insns)
        return insns.error();
    insns_ = std::move(*insns);
    compared_ = size_;
    if (auto ok = relocations(); !ok)
        return ok.error();
    if (auto it = special.by_owner.find(&sec); it != special.by_owner.end())
        for (const SpecialEntry *e : it->second)
            if (e->owner_offset >= base_ && e->owner_offset < base_ + size_)
                if (auto ok = special_entry(*e); !ok)
                    return ok.error();
    ignore(base_, arch_.entry_rewrite(check_.bytes.data(), size_));
    check_.bytes.resize(compared_);
    check_.mask.resize(compared_);
    check_.padded = compared_ == size_ && sec.addralign >= 16 && base_ % 16 == 0;
    return std::move(check_);
}

} // namespace

Expected<FunctionCheck> function_check(const Symbol &func, const arch::Arch &arch,
                                       const SpecialLayout &special)
{
    if (!func.is_defined() || !func.section)
        return Error{"`" + func.name + "` is not defined in the original object"};
    MaskBuilder b(func, arch);
    auto check = b.build(special);
    if (!check)
        return check.error().in("verification data for `" + func.name + "`");
    return check;
}

} // namespace kpatch::diff
