"""kvmdbg's monitor commands through `monitor` (qRcmd): help lists them,
vcpus shows the vCPU and its pc, gva2gpa translates (and reports an
unmapped address), an unknown command says so. `monitor phys on` makes
addresses guest-physical: with --mem 3200M, RAM continues at 4 GiB
physical, which hello64's page tables (4 GiB identity) do not map, so it
reads and writes only in phys mode; start_info's magic reads at 0x7000
either way. Then the guest runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdbtest import (Failure, connect, expect, expect_eq,  # noqa: E402
                     expect_exit, pc, read, run)

HIGH_RAM = 0x100000000  # physical RAM above the MMIO hole (--mem > 3 GiB)
MAGIC = (0x336ec578).to_bytes(4, "little")


def monitor(cmd):
    out = gdb.execute("monitor " + cmd, to_string=True)
    # gdb caches code and stack memory; a mode switch changes what an
    # address means without the target running.
    gdb.execute("maint flush dcache", to_string=True)
    return out


def unreadable(addr):
    try:
        got = read(addr, 8)
    except gdb.MemoryError:
        return True
    raise Failure(f"{addr:#x} read as {got.hex()}; want gdb.MemoryError")


def body():
    connect()
    here = pc()
    out = monitor("help")
    for cmd in ("help", "phys [on|off]", "gva2gpa ADDR", "vcpus", "log"):
        expect(f"`monitor help` lists {cmd!r}", cmd in out, out)
    expect_eq("monitor vcpus", monitor("vcpus"),
              f"vCPU 0 (thread 1): pc={here:#x} 64-bit, CPL 0\n")
    expect_eq("monitor gva2gpa", monitor(f"gva2gpa {here:#x}"),
              f"{here:#x} -> {here:#x} (vCPU 0)\n")
    expect_eq("monitor gva2gpa of a 2 MiB page's last byte",
              monitor("gva2gpa 0x3fffff"), "0x3fffff -> 0x3fffff (vCPU 0)\n")
    expect_eq("monitor gva2gpa unmapped",
              monitor("gva2gpa 0xdead00000000"),
              "0xdead00000000 is not mapped on vCPU 0\n")
    expect_eq("monitor unknown", monitor("frobnicate"),
              "unknown command 'frobnicate'; try 'monitor help'\n")
    expect_eq("monitor phys (query)", monitor("phys"),
              "memory addresses are guest-virtual\n")

    unreadable(HIGH_RAM)
    expect_eq("monitor phys on", monitor("phys on"),
              "memory addresses are guest-physical\n")
    expect_eq("start_info magic at physical 0x7000", read(0x7000, 4), MAGIC)
    expect_eq("high RAM reads as zeros", read(HIGH_RAM, 16), bytes(16))
    pattern = bytes(range(1, 17))
    gdb.selected_inferior().write_memory(HIGH_RAM, pattern)
    expect_eq("high RAM after a physical write", read(HIGH_RAM, 16),
              pattern)
    unreadable(200 << 30)  # no RAM there
    expect_eq("monitor phys off", monitor("phys off"),
              "memory addresses are guest-virtual\n")
    unreadable(HIGH_RAM)
    expect_eq("start_info magic at virtual 0x7000", read(0x7000, 4), MAGIC)
    expect_exit("continue", 1)


run(body)
