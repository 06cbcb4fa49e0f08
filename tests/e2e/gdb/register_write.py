"""Register writes reach the vCPU: on hello64 at its entry, $rax set to a
64-bit pattern reads back; a pattern in every general register survives a
stepi over an instruction that touches none of them (so it was written to
KVM, not just cached); $rip moved to the next instruction reads back and
the following stepi starts there; restored, the guest runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdbtest import (connect, env, expect_eq, expect_exit, pc,  # noqa: E402
                     reg, resume, run)
from elfimage import Image  # noqa: E402

GPRS = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9",
        "r10", "r11", "r12", "r13", "r14", "r15"]


def insn_length(addr):
    arch = gdb.selected_frame().architecture()
    return arch.disassemble(addr)[0]["length"]


def body():
    img = Image(env("KVMDBG_GUEST"))
    connect()
    entry = pc()
    expect_eq("pc at the entry", entry, img.entry)

    gdb.execute("set $rax = 0x1122334455667788")
    expect_eq("$rax after set", reg("rax"), 0x1122334455667788)

    saved = {r: reg(r) for r in GPRS}
    want = {r: (0x0101010101010101 * (i + 1)) ^ 0x8000000000000000
            for i, r in enumerate(GPRS)}
    for r, v in want.items():
        gdb.execute(f"set ${r} = {v:#x}")
    for r, v in want.items():
        expect_eq(f"${r} after set", reg(r), v)
    # The first instruction is cli: no general register changes.
    expect_eq("first instruction", gdb.selected_frame().architecture()
              .disassemble(entry)[0]["asm"].split()[0], "cli")
    ev = resume("stepi")
    expect_eq("stepi stop", ev, ("stop", None))
    expect_eq("pc after stepi over cli", pc(), entry + insn_length(entry))
    for r, v in want.items():
        expect_eq(f"${r} after a stepi", reg(r), v)
    for r, v in saved.items():
        gdb.execute(f"set ${r} = {v:#x}")
    for r, v in saved.items():
        expect_eq(f"${r} restored", reg(r), v)

    # Move rip one instruction on, step from there, then come back.
    here = pc()
    second = here + insn_length(here)
    gdb.execute(f"set $rip = {second:#x}")
    expect_eq("$rip after set", reg("rip"), second)
    expect_eq("$pc after set", pc(), second)
    ev = resume("stepi")
    expect_eq("stepi stop", ev, ("stop", None))
    expect_eq("pc after stepi from the moved rip", pc(),
              second + insn_length(second))
    gdb.execute(f"set $rip = {here:#x}")
    expect_eq("$rip set back", reg("rip"), here)
    ev = resume("stepi")
    expect_eq("pc after stepi from the restored rip", pc(),
              here + insn_length(here))
    expect_exit("continue", 1)


run(body)
