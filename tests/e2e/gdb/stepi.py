"""Single steps on hello64 from its native entry, each checked exactly:
before each stepi the instruction at pc is decoded with gdb's disassembler
and where it must end is computed (x86step.predict: the next instruction,
a call/jmp/ljmp target, a conditional jump from EFLAGS, the return address
at $rsp for ret). A call must also push its return address. At least
KVMDBG_STEPS steps and until a ret has been checked; then the guest runs
to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdbtest import (Failure, connect, env, expect, expect_eq,  # noqa: E402
                     expect_exit, log, pc, read, reg, resume, run)
import x86step  # noqa: E402
from elfimage import Image  # noqa: E402

MAX_STEPS = 3000


def body():
    img = Image(env("KVMDBG_GUEST"))
    min_steps = int(env("KVMDBG_STEPS", "50"))
    connect()
    expect_eq("pc at the entry", pc(), img.entry)
    arch = gdb.selected_frame().architecture()

    def length(addr):
        return arch.disassemble(addr)[0]["length"]

    seen = {}
    for i in range(MAX_STEPS):
        if i >= min_steps and "ret" in seen:
            break
        here = pc()
        insn = arch.disassemble(here)[0]
        mnemonic, operands = x86step.split_gdb_asm(insn["asm"])
        if mnemonic.split()[-1] in ("out", "outb", "hlt"):
            raise Failure(f"step {i}: reached {insn['asm']!r} at {here:#x} "
                          f"before a ret; kinds seen: {seen}")
        try:
            kind, want = x86step.predict(mnemonic, operands,
                                         insn["length"], here, reg, read,
                                         length)
        except x86step.Unsupported as e:
            raise Failure(f"step {i} at {here:#x}: cannot predict "
                          f"{insn['asm']!r}: {e}")
        ev = resume("stepi")
        expect_eq(f"step {i}: event after stepi at {here:#x} "
                  f"({insn['asm']})", ev, ("stop", None))
        got = pc()
        if got not in want:
            raise Failure(
                f"step {i}: stepi at {here:#x} ({insn['asm']!r}, "
                f"{insn['length']} bytes, {kind}):\n"
                f"  got:  pc={got:#x}\n"
                f"  want: pc in {{{', '.join(hex(w) for w in want)}}}")
        if kind == "call":
            ret = int.from_bytes(read(reg("rsp"), 8), "little")
            expect_eq(f"step {i}: return address pushed by the call at "
                      f"{here:#x}", ret, here + insn["length"])
        seen[kind] = seen.get(kind, 0) + 1
    expect(f"at least {min_steps} steps and a ret within {MAX_STEPS}",
           "ret" in seen, f"kinds seen: {seen}")
    for kind in ("plain", "call", "ret", "jcc", "ljmp"):
        expect(f"a {kind} instruction among the steps", kind in seen,
               f"kinds seen: {seen}")
    log(f"checked {sum(seen.values())} steps: {seen}")
    expect_exit("continue", 1)


run(body)
