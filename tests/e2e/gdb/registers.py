"""Registers at the native entry of hello64 (docs/boot.md): long mode with
kvmdbg's page tables, rdi = start_info; the control registers and EFER are
in the target description and `info registers`; every general register
reads. Then the guest runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdbtest import (connect, env, expect, expect_eq, expect_exit,  # noqa
                     reg, run, symbol_address)
from elfimage import Image  # noqa: E402

CR0_PE, CR0_ET, CR0_PG = 1 << 0, 1 << 4, 1 << 31
EFER_LME, EFER_LMA = 1 << 8, 1 << 10
GENERAL = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8",
           "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags",
           "cs", "ss", "ds", "es", "fs", "gs", "fs_base", "gs_base"]
SYSTEM = ["cr0", "cr2", "cr3", "cr4", "cr8", "efer"]


def body():
    img = Image(env("KVMDBG_GUEST"))
    connect()
    arch = gdb.selected_frame().architecture()
    names = [r.name for r in arch.registers()]
    for name in GENERAL + SYSTEM:
        expect(f"register {name} in the target description", name in names,
               f"have {names}")
    info = gdb.execute("info registers", to_string=True)
    listed = [ln.split()[0] for ln in info.splitlines() if ln.strip()]
    for name in GENERAL + SYSTEM:
        expect(f"{name} in `info registers`", name in listed, info)
    # Every general register has a value (not <unavailable>).
    for name in GENERAL + SYSTEM:
        reg(name)
        gdb.selected_frame().read_register(name)

    expect_eq("$rip at the native entry", reg("rip"), img.entry)
    expect_eq("$rip is _start64", reg("rip"), symbol_address("_start64"))
    expect_eq("$pc", reg("pc"), reg("rip"))
    expect_eq("$rdi (start_info)", reg("rdi"), 0x7000)
    expect_eq("$rsp", reg("rsp"), 0)
    expect_eq("$eflags", reg("eflags"), 0x2)
    expect_eq("$cs", reg("cs"), 0x08)
    for seg in ("ss", "ds", "es", "fs", "gs"):
        expect_eq(f"${seg}", reg(seg), 0x18)
    expect_eq("$cr3", reg("cr3"), 0x1000)
    cr0 = reg("cr0")
    expect_eq("$cr0 PE|ET|PG", cr0 & (CR0_PE | CR0_ET | CR0_PG),
              CR0_PE | CR0_ET | CR0_PG)
    efer = reg("efer")
    expect_eq("$efer LME|LMA", efer & (EFER_LME | EFER_LMA),
              EFER_LME | EFER_LMA)
    expect_eq("$cr4 PAE", reg("cr4") & (1 << 5), 1 << 5)
    # The start_info magic is where rdi points.
    magic = int(gdb.parse_and_eval("*(unsigned int *)$rdi"))
    expect_eq("start_info magic at $rdi", magic, 0x336ec578)
    expect_exit("continue", 1)


run(body)
