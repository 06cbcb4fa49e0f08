"""Where one x86_64 single step must land, from the instruction at pc and
the machine state before the step. Pure Python, shared by the gdb scripts
and the lldb tests: each passes the instruction as its disassembler prints
it (AT&T syntax) and callbacks that read registers and memory.

The prediction is exact: a set of one pc, except where the architecture
itself allows two (the step after a write to SS, see below)."""
import re

# Flag bits of RFLAGS.
CF, PF, ZF, SF, OF = 1 << 0, 1 << 2, 1 << 6, 1 << 7, 1 << 11

PREFIXES = {"rep", "repz", "repe", "repnz", "repne", "lock", "notrack",
            "bnd", "data16", "addr32", "rex", "rex.w", "rex.W", "ds", "cs"}

JCC = {
    "jo": lambda f: f & OF,
    "jno": lambda f: not f & OF,
    "jb": lambda f: f & CF, "jc": lambda f: f & CF, "jnae": lambda f: f & CF,
    "jae": lambda f: not f & CF, "jnb": lambda f: not f & CF,
    "jnc": lambda f: not f & CF,
    "je": lambda f: f & ZF, "jz": lambda f: f & ZF,
    "jne": lambda f: not f & ZF, "jnz": lambda f: not f & ZF,
    "jbe": lambda f: f & (CF | ZF), "jna": lambda f: f & (CF | ZF),
    "ja": lambda f: not f & (CF | ZF), "jnbe": lambda f: not f & (CF | ZF),
    "js": lambda f: f & SF,
    "jns": lambda f: not f & SF,
    "jp": lambda f: f & PF, "jpe": lambda f: f & PF,
    "jnp": lambda f: not f & PF, "jpo": lambda f: not f & PF,
    "jl": lambda f: bool(f & SF) != bool(f & OF),
    "jnge": lambda f: bool(f & SF) != bool(f & OF),
    "jge": lambda f: bool(f & SF) == bool(f & OF),
    "jnl": lambda f: bool(f & SF) == bool(f & OF),
    "jle": lambda f: f & ZF or bool(f & SF) != bool(f & OF),
    "jng": lambda f: f & ZF or bool(f & SF) != bool(f & OF),
    "jg": lambda f: not f & ZF and bool(f & SF) == bool(f & OF),
    "jnle": lambda f: not f & ZF and bool(f & SF) == bool(f & OF),
}

# lldb (LLVM) spells some mnemonics with an operand-size suffix.
ALIASES = {"callq": "call", "calll": "call", "retq": "ret", "retl": "ret",
           "jmpq": "jmp", "jmpl": "jmp", "ljmpl": "ljmp", "ljmpq": "ljmp",
           "ljmpw": "ljmp", "lcalll": "lcall", "lretq": "lret",
           "lretl": "lret"}

STRING_OPS = ("movs", "stos", "lods", "ins", "outs", "cmps", "scas")

MASK64 = (1 << 64) - 1


class Unsupported(Exception):
    """An instruction whose successor this module does not compute."""


def split_gdb_asm(asm):
    """gdb's 'call   0x1071a5 <guest_start>' or 'ljmp *-0x10(%rip)  # 0x..'
    as (mnemonic with prefixes, operands) without annotations."""
    text = asm.split("#", 1)[0]
    text = re.sub(r"<[^>]*>", "", text).strip()
    parts = text.split(None, 1)
    words = [parts[0]]
    rest = parts[1] if len(parts) > 1 else ""
    # Prefixes come first as separate words: "rep stos %al,%es:(%rdi)".
    while words[-1] in PREFIXES and rest:
        more = rest.split(None, 1)
        words.append(more[0])
        rest = more[1] if len(more) > 1 else ""
    return " ".join(words), rest.strip()


def _mem_address(op, pc, length, reg):
    """The address of an AT&T memory operand disp(base,index,scale)."""
    m = re.fullmatch(r"(-?(?:0x)?[0-9a-f]*)\(\s*(%\w+)?\s*(?:,\s*(%\w+)\s*"
                     r"(?:,\s*(\d+))?)?\s*\)", op)
    if m:
        disp = int(m.group(1), 0) if m.group(1) not in ("", "-") else 0
        base, index, scale = m.group(2), m.group(3), m.group(4)
        addr = disp
        if base == "%rip":
            addr += pc + length  # rip-relative: from the next instruction
        elif base:
            addr += reg(base[1:])
        if index:
            addr += reg(index[1:]) * int(scale or 1)
        return addr & MASK64
    m = re.fullmatch(r"(0x[0-9a-f]+)", op)  # absolute
    if m:
        return int(m.group(1), 16)
    raise Unsupported(f"memory operand {op!r}")


def _le(b):
    return int.from_bytes(bytes(b), "little")


def _target(op, pc, length, reg, mem):
    """A branch target: immediate, *%reg or *memory."""
    op = op.strip()
    if not op.startswith("*"):
        m = re.match(r"(?:\$)?(0x[0-9a-f]+)", op)
        if not m:
            raise Unsupported(f"branch operand {op!r}")
        return int(m.group(1), 16)
    op = op[1:].strip()
    if op.startswith("%") and "(" not in op and ":" not in op:
        return reg(op[1:])
    return _le(mem(_mem_address(op, pc, length, reg), 8))


def predict(mnemonic, operands, length, pc, reg, mem, next_length=None):
    """Returns (kind, set of pcs a single step may end at). reg(name) reads
    a register ("rsp", "rcx", "eflags", ...) as an unsigned int; mem(addr, n)
    reads n bytes; next_length(addr) is the length of the instruction at
    addr (only needed after a write to SS)."""
    words = mnemonic.lower().split()
    prefixes = set(words[:-1])
    op = ALIASES.get(words[-1], words[-1])
    op = op.split(",", 1)[0]  # "jne,pt" branch hints
    nxt = (pc + length) & MASK64

    if prefixes & {"rep", "repz", "repe", "repnz", "repne"} and \
            op.startswith(STRING_OPS):
        # A repeated string instruction traps after each iteration with
        # rip still on it, until the count runs out.
        rcx = reg("rcx")
        if op.startswith(("cmps", "scas")):
            return "rep", {pc, nxt} if rcx > 1 else {nxt}
        return "rep", {pc} if rcx > 1 else {nxt}
    if op == "call":
        return "call", {_target(operands, pc, length, reg, mem)}
    if op == "jmp":
        return "jmp", {_target(operands, pc, length, reg, mem)}
    if op == "ljmp":
        # ljmp *m16:32 (or m16:64 with REX.W): the offset comes first.
        if not operands.startswith("*"):
            raise Unsupported(f"direct far jump {operands!r}")
        width = 8 if prefixes & {"rex.w"} else 4
        addr = _mem_address(operands[1:].strip(), pc, length, reg)
        return "ljmp", {_le(mem(addr, width))}
    if op == "ret":
        return "ret", {_le(mem(reg("rsp"), 8))}
    if op in JCC:
        taken = JCC[op](reg("eflags"))
        return "jcc", {_target(operands, pc, length, reg, mem)
                       if taken else nxt}
    if op in ("jrcxz", "jecxz"):
        count = reg("rcx") if op == "jrcxz" else reg("rcx") & 0xffffffff
        return "jcc", {_target(operands, pc, length, reg, mem)
                       if count == 0 else nxt}
    if op in ("loop", "loopq", "loopl"):
        return "jcc", {_target(operands, pc, length, reg, mem)
                       if (reg("rcx") - 1) & MASK64 else nxt}
    if op in ("lcall", "lret", "iret", "iretq", "iretd", "int", "int3",
              "into", "syscall", "sysret", "sysretq", "sysenter",
              "sysexit", "ud2", "hlt", "jmpf", "callf"):
        raise Unsupported(f"{mnemonic} {operands}")
    if op.startswith("mov") and re.search(r",\s*%ss$", operands):
        # A write to SS holds off debug traps until after the next
        # instruction (Intel SDM 6.8.3): real hardware steps over both;
        # an emulator may stop right after the mov.
        both = nxt + (next_length(nxt) if next_length else 0)
        return "mov-ss", {nxt, both & MASK64}
    return "plain", {nxt}
