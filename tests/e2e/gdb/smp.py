"""--smp 2 on smp.elf: two threads named "vCPU 0" and "vCPU 1" (numbers
1 and 2), each at the PVH entry with ebx = start_info, each with its own
registers; then the guest runs to its exit (both CPUs check in)."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdbtest import (connect, env, expect_eq, expect_exit, pc,  # noqa: E402
                     reg, run)
from elfimage import Image  # noqa: E402


def body():
    img = Image(env("KVMDBG_GUEST"))
    entry = img.symbols["_start32"]
    connect()
    threads = sorted(gdb.selected_inferior().threads(), key=lambda t: t.num)
    expect_eq("thread numbers", [t.num for t in threads], [1, 2])
    expect_eq("thread names", [t.name for t in threads],
              ["vCPU 0", "vCPU 1"])
    expect_eq("thread ids (lwp)", [t.ptid[1] for t in threads], [1, 2])
    expect_eq("selected thread", gdb.selected_thread().num, 1)
    for t in threads:
        gdb.execute(f"thread {t.num}")
        expect_eq("selected thread", gdb.selected_thread().num, t.num)
        expect_eq(f"thread {t.num} pc at the PVH entry", pc(), entry)
        expect_eq(f"thread {t.num} $rbx (start_info)", reg("rbx"), 0x7000)
    # Registers are per vCPU: a write to thread 2 leaves thread 1 alone.
    gdb.execute("thread 2")
    gdb.execute("set $rax = 0x2222")
    gdb.execute("thread 1")
    gdb.execute("set $rax = 0x1111")
    expect_eq("thread 1 $rax", reg("rax"), 0x1111)
    gdb.execute("thread 2")
    expect_eq("thread 2 $rax", reg("rax"), 0x2222)
    gdb.execute("thread 1")
    expect_exit("continue", 1)


run(body)
