"""Registers of an arm64 vCPU at its entry and in main: the boot contract
(pc = the ELF entry, EL1h with D/A/I/F masked, x0 = the device tree at the
base of RAM, MMU off), then in main what crt0 set up (SCTLR_EL1.M, TCR_EL1,
TTBR0_EL1 = guest_l1_table, VBAR_EL1 = vectors, sp inside guest_stacks),
and register writes read back: x9, v0 (128 bits), and sp, which is SP_EL1
at EL1h."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from a64test import (connect, expect, expect_eq, expect_stop,  # noqa: E402
                     new_breakpoint, pc, reg, run, address)


def body():
    connect()
    expect_eq("pc at entry", pc(), address("_start"))
    expect_eq("cpsr at entry (EL1h, DAIF masked)", reg("cpsr"), 0x3c5)
    expect_eq("x0 at entry (the device tree)", reg("x0"), 0x40000000)
    expect_eq("SCTLR_EL1.M at entry", reg("sctlr_el1") & 1, 0)
    text = gdb.execute("info registers sctlr_el1 tcr_el1 ttbr0_el1 "
                       "ttbr1_el1 vbar_el1 esr_el1 far_el1 elr_el1 "
                       "spsr_el1", to_string=True)
    for name in ["sctlr_el1", "tcr_el1", "ttbr0_el1", "ttbr1_el1",
                 "vbar_el1", "esr_el1", "far_el1", "elr_el1", "spsr_el1"]:
        expect(f"info registers shows {name}", name in text, text)
    bp = new_breakpoint("break main")
    expect_stop("continue", [bp])
    expect_eq("SCTLR_EL1.M in main", reg("sctlr_el1") & 1, 1)
    expect_eq("TCR_EL1", reg("tcr_el1"), 0x803520)
    expect_eq("TTBR0_EL1", reg("ttbr0_el1"),
              address("guest_l1_table"))
    expect_eq("VBAR_EL1", reg("vbar_el1"), address("vectors"))
    stacks = address("guest_stacks")
    expect("sp in CPU 0's stack",
           stacks < reg("sp") <= stacks + 16384, f"sp {reg('sp'):#x}")
    expect_eq("sp is SP_EL1 at EL1h", reg("sp"), reg("sp_el1"))
    gdb.execute("set $x9 = 0x1122334455667788")
    expect_eq("x9 written", reg("x9"), 0x1122334455667788)
    gdb.execute("set $v0.d.u[1] = 0x0102030405060708")
    gdb.execute("set $v0.d.u[0] = 0x090a0b0c0d0e0f10")
    expect_eq("v0.b.u[0]", int(gdb.parse_and_eval("$v0.b.u[0]")), 0x10)
    expect_eq("v0.s.u[3]", int(gdb.parse_and_eval("$v0.s.u[3]")),
              0x01020304)
    expect_eq("v0.d.u[1]", int(gdb.parse_and_eval("$v0.d.u[1]")),
              0x0102030405060708)
    expect_eq("v0.d.u[0]", int(gdb.parse_and_eval("$v0.d.u[0]")),
              0x090a0b0c0d0e0f10)
    # Written back and read again from KVM after a step.
    gdb.execute("stepi")
    expect_eq("x9 after a step", reg("x9"), 0x1122334455667788)
    expect_eq("v0.d.u[1] after a step",
              int(gdb.parse_and_eval("$v0.d.u[1]")), 0x0102030405060708)
    bp.delete()
    gdb.execute("kill")


run(body)
