// x86-64: relocation types and Capstone decoding (licence: GPL-2.0-only).
#include "arch/arch.hpp"

#include <capstone/capstone.h>
#include <cstring>
#include <elf.h>

namespace kpatch::arch {
namespace {

class CapstoneHandle {
public:
    ~CapstoneHandle() { if (open_) cs_close(&handle_); }
    // Opened on first use; false if Capstone cannot be initialised.
    bool get(csh &out)
    {
        if (!tried_) {
            tried_ = true;
            open_ = cs_open(CS_ARCH_X86, CS_MODE_64, &handle_) == CS_ERR_OK;
            if (open_)
                cs_option(handle_, CS_OPT_DETAIL, CS_OPT_ON);
        }
        out = handle_;
        return open_;
    }

private:
    csh handle_ = 0;
    bool tried_ = false, open_ = false;
};

class X86_64 final : public Arch {
public:
    std::string name() const override { return "x86_64"; }

    unsigned width(uint32_t type) const override
    {
        switch (type) {
        case R_X86_64_64: case R_X86_64_PC64: case R_X86_64_GOTOFF64: case R_X86_64_GOTPC64:
        case R_X86_64_GOT64: case R_X86_64_GOTPCREL64: case R_X86_64_PLTOFF64:
            return 8;
        case R_X86_64_PC32: case R_X86_64_PLT32: case R_X86_64_32: case R_X86_64_32S:
        case R_X86_64_GOTPCREL: case R_X86_64_GOTPCRELX: case R_X86_64_REX_GOTPCRELX:
        case R_X86_64_GOT32: case R_X86_64_GOTPC32:
            return 4;
        case R_X86_64_16: case R_X86_64_PC16: return 2;
        case R_X86_64_8: case R_X86_64_PC8: return 1;
        default: return 0;
        }
    }

    bool is_pc_relative(uint32_t type) const override
    {
        switch (type) {
        case R_X86_64_PC32: case R_X86_64_PLT32: case R_X86_64_PC64: case R_X86_64_PC16:
        case R_X86_64_PC8: case R_X86_64_GOTPCREL: case R_X86_64_GOTPCRELX:
        case R_X86_64_REX_GOTPCRELX: case R_X86_64_GOTPC32:
            return true;
        default:
            return false;
        }
    }

    uint32_t absolute64() const override { return R_X86_64_64; }

    std::string type_name(uint32_t type) const override
    {
        switch (type) {
        case R_X86_64_64: return "R_X86_64_64";
        case R_X86_64_PC32: return "R_X86_64_PC32";
        case R_X86_64_PLT32: return "R_X86_64_PLT32";
        case R_X86_64_32: return "R_X86_64_32";
        case R_X86_64_32S: return "R_X86_64_32S";
        case R_X86_64_PC64: return "R_X86_64_PC64";
        default: return "R_X86_64_" + std::to_string(type);
        }
    }

    Expected<std::vector<Insn>> decode(const uint8_t *code, size_t size) const override
    {
        csh h;
        if (!capstone_.get(h))
            return Error{"cannot initialise Capstone for x86-64"};
        std::vector<Insn> out;
        cs_insn *insn = cs_malloc(h);
        const uint8_t *p = code;
        size_t left = size;
        uint64_t addr = 0;
        while (left > 0) {
            if (!cs_disasm_iter(h, &p, &left, &addr, insn)) {
                // Data or padding inside a text section (e.g. after ud2): step one byte.
                out.push_back(Insn{static_cast<uint32_t>(addr), 1});
                p++, left--, addr++;
                continue;
            }
            out.push_back(Insn{static_cast<uint32_t>(insn->address), static_cast<uint8_t>(insn->size)});
        }
        cs_free(insn, 1);
        return out;
    }

    int64_t pc_bias(const std::vector<Insn> &insns, uint64_t field, uint32_t type) const override
    {
        // The instruction holding the field: the last one starting at or before it.
        size_t lo = 0, hi = insns.size();
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (insns[mid].offset <= field) lo = mid + 1; else hi = mid;
        }
        if (lo > 0) {
            const Insn &i = insns[lo - 1];
            if (field < i.offset + i.size)
                return static_cast<int64_t>(i.offset + i.size - field);
        }
        return width(type);
    }

    std::optional<std::vector<ImmediateChange>>
    immediate_changes(const uint8_t *a, const uint8_t *b, size_t size) const override
    {
        csh h;
        if (!capstone_.get(h))
            return std::nullopt;
        std::vector<ImmediateChange> out;
        cs_insn *ia = cs_malloc(h);
        cs_insn *ib = cs_malloc(h);
        const uint8_t *pa = a, *pb = b;
        size_t la = size, lb = size;
        uint64_t aa = 0, ab = 0;
        bool ok = true;
        while (ok && la > 0) {
            bool da = cs_disasm_iter(h, &pa, &la, &aa, ia);
            bool db = cs_disasm_iter(h, &pb, &lb, &ab, ib);
            if (!da || !db) {
                ok = !da && !db && *pa == *pb;
                if (ok) pa++, pb++, la--, lb--, aa++, ab++;
                continue;
            }
            if (ia->size != ib->size || ia->id != ib->id) { ok = false; break; }
            if (std::memcmp(ia->bytes, ib->bytes, ia->size) == 0)
                continue;
            const cs_x86 &xa = ia->detail->x86, &xb = ib->detail->x86;
            if (xa.op_count != xb.op_count) { ok = false; break; }
            for (unsigned i = 0; ok && i < xa.op_count; i++) {
                const cs_x86_op &oa = xa.operands[i], &ob = xb.operands[i];
                if (oa.type != ob.type || oa.size != ob.size) { ok = false; break; }
                if (oa.type == X86_OP_IMM) {
                    if (oa.imm != ob.imm)
                        out.push_back(ImmediateChange{static_cast<uint32_t>(ia->address), oa.imm, ob.imm});
                } else if (oa.type == X86_OP_REG) {
                    ok = oa.reg == ob.reg;
                } else if (oa.type == X86_OP_MEM) {
                    ok = std::memcmp(&oa.mem, &ob.mem, sizeof oa.mem) == 0;
                }
            }
            // Same operands yet other bytes (prefixes, encodings): not an immediate change.
            if (ok && (out.empty() || out.back().offset != ia->address))
                ok = false;
        }
        cs_free(ia, 1);
        cs_free(ib, 1);
        if (!ok)
            return std::nullopt;
        return out;
    }

    std::optional<CallArgument> immediate_argument(const uint8_t *code, size_t size,
                                                   uint32_t offset) const override
    {
        csh h;
        if (!capstone_.get(h) || offset >= size)
            return std::nullopt;
        cs_insn *insn = cs_malloc(h);
        const uint8_t *p = code + offset;
        size_t left = size - offset;
        uint64_t addr = offset;
        std::optional<CallArgument> out;
        int arg = -1;
        // A few instructions at most set up the other arguments between the load and the call.
        for (int n = 0; n < 16 && cs_disasm_iter(h, &p, &left, &addr, insn); n++) {
            const cs_x86 &x = insn->detail->x86;
            if (n == 0) {
                if (insn->id != X86_INS_MOV || x.op_count != 2 || x.operands[0].type != X86_OP_REG ||
                    x.operands[1].type != X86_OP_IMM || (arg = argument_register(x.operands[0].reg)) < 0)
                    break;
                continue;
            }
            // A call, or a direct jmp: a tail call (the caller's callers check the target).
            if (insn->id == X86_INS_CALL || (insn->id == X86_INS_JMP && x.op_count == 1 &&
                                             x.operands[0].type == X86_OP_IMM)) {
                out = CallArgument{static_cast<uint32_t>(insn->address), static_cast<uint8_t>(insn->size),
                                   static_cast<unsigned>(arg)};
                break;
            }
            if (cs_insn_group(h, insn, CS_GRP_JUMP) || cs_insn_group(h, insn, CS_GRP_RET) ||
                cs_insn_group(h, insn, CS_GRP_INT) || cs_insn_group(h, insn, CS_GRP_IRET))
                break;
            cs_regs read, written;
            uint8_t nread = 0, nwritten = 0;
            if (cs_regs_access(h, insn, read, &nread, written, &nwritten) != CS_ERR_OK)
                break;
            bool clobbered = false;
            for (unsigned i = 0; i < nwritten; i++)
                clobbered |= argument_register(written[i]) == arg;
            if (clobbered)
                break;
        }
        cs_free(insn, 1);
        return out;
    }

private:
    // The SysV argument a register (any width) carries: 0 for rdi ... 5 for r9; -1 for others.
    static int argument_register(unsigned reg)
    {
        switch (reg) {
        case X86_REG_RDI: case X86_REG_EDI: case X86_REG_DI: case X86_REG_DIL: return 0;
        case X86_REG_RSI: case X86_REG_ESI: case X86_REG_SI: case X86_REG_SIL: return 1;
        case X86_REG_RDX: case X86_REG_EDX: case X86_REG_DX: case X86_REG_DL: case X86_REG_DH: return 2;
        case X86_REG_RCX: case X86_REG_ECX: case X86_REG_CX: case X86_REG_CL: case X86_REG_CH: return 3;
        case X86_REG_R8: case X86_REG_R8D: case X86_REG_R8W: case X86_REG_R8B: return 4;
        case X86_REG_R9: case X86_REG_R9D: case X86_REG_R9W: case X86_REG_R9B: return 5;
        default: return -1;
        }
    }

    mutable CapstoneHandle capstone_;
};

} // namespace

Expected<std::unique_ptr<Arch>> Arch::for_machine(uint16_t e_machine)
{
    if (e_machine == EM_X86_64)
        return std::unique_ptr<Arch>(std::make_unique<X86_64>());
    return Error{"unsupported architecture (e_machine " + std::to_string(e_machine) +
                 "); only x86-64 is supported"};
}

} // namespace kpatch::arch
