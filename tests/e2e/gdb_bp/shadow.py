"""A software breakpoint is invisible to memory reads and writes go
through it. With `breakpoint always-inserted on` the Z0 at tick stays in
guest memory while the guest is stopped (and gdb's code and stack caches
are off, so every read reaches kvmdbg):
- `x/1bx` at the breakpoint and a 16-byte read around it show the image's
  original bytes, not 0xcc;
- `set {unsigned char}ADDR = V` with the breakpoint inserted reads back V,
  and after deleting the breakpoint V is still there (kvmdbg wrote it into
  its saved copy, which the removal put back);
- writing the original byte back and breaking there again: the guest stops
  at it (the trap really is in memory) with counter 0.
Then the breakpoint goes and the guest runs to its exit; the driver
compares its checksum with a debugger-free run's."""
import os
import re
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (Image, bp_address, connect, env, expect_eq,  # noqa
                    expect_exit, expect_stop, new_breakpoint, pc, read,
                    run, value)


def x1(addr):
    """One byte through `x/1bx`, parsed from its output."""
    gdb.execute("maint flush dcache", to_string=True)
    out = gdb.execute(f"x/1bx {addr:#x}", to_string=True)
    m = re.search(r":\s*0x([0-9a-f]{2})\s*$", out)
    expect_eq(f"`x/1bx {addr:#x}` output format", bool(m), True)
    return int(m.group(1), 16)


def body():
    img = Image(env("KVMDBG_GUEST"))
    connect()
    gdb.execute("set breakpoint always-inserted on")
    gdb.execute("set code-cache off")
    gdb.execute("set stack-cache off")
    bp = new_breakpoint("break tick")
    addr = bp_address(bp)
    orig = img.bytes_at(addr - 4, 16)
    expect_eq("x/1bx at the inserted breakpoint", x1(addr), orig[4])
    expect_eq("16 bytes around the inserted breakpoint",
              read(addr - 4, 16).hex(), orig.hex())

    new = orig[4] ^ 0x5a
    gdb.execute(f"set {{unsigned char}}{addr:#x} = {new:#x}")
    expect_eq("x/1bx after writing over the breakpoint", x1(addr), new)
    expect_eq("16 bytes around it", read(addr - 4, 16).hex(),
              (orig[:4] + bytes([new]) + orig[5:]).hex())
    bp.delete()
    expect_eq("x/1bx after deleting the breakpoint", x1(addr), new)

    gdb.execute(f"set {{unsigned char}}{addr:#x} = {orig[4]:#x}")
    expect_eq("x/1bx after writing the original byte back", x1(addr),
              orig[4])
    bp = new_breakpoint("break tick")
    expect_eq("x/1bx at the new breakpoint", x1(addr), orig[4])
    expect_stop("continue", [bp])
    expect_eq("pc at the hit", pc(), addr)
    expect_eq("counter at the hit", value("counter"), 0)
    expect_eq("x/1bx at the breakpoint after the hit", x1(addr), orig[4])
    bp.delete()
    expect_eq("16 bytes around the deleted breakpoint",
              read(addr - 4, 16).hex(), orig.hex())
    expect_exit("continue", 1)


run(body)
