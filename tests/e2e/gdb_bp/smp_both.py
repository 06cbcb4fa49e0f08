"""smp.elf under --smp 2: both vCPUs call check_in() (vCPU 0 from main,
vCPU 1 from ap_main). `break check_in` stops twice, once on each thread, in
either order: each a BreakpointEvent for it at its address, on the thread
whose vCPU runs it (check_in's cpu argument = thread number - 1, ncpus =
2). Then the breakpoint goes and the guest runs to its exit (both CPUs
check in)."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (bp_address, connect, expect_eq,  # noqa: E402
                    expect_exit, expect_stop, function, log, new_breakpoint,
                    pc,
                    run, value)


def pcs():
    """Every thread's pc, for the log: when both vCPUs reach check_in at
    once, both sit at the breakpoint when the first hit is reported."""
    cur = gdb.selected_thread().num
    out = {}
    for t in gdb.selected_inferior().threads():
        gdb.execute(f"thread {t.num}", to_string=True)
        out[t.num] = hex(pc())
    gdb.execute(f"thread {cur}", to_string=True)
    return out


def body():
    connect()
    expect_eq("threads", len(gdb.selected_inferior().threads()), 2)
    bp = new_breakpoint("break check_in")
    addr = bp_address(bp)
    seen = []
    for i in range(2):
        expect_stop("continue", [bp])
        t = gdb.selected_thread().num
        log(f"hit {i + 1} on thread {t}; pcs: {pcs()}")
        what = f"hit {i + 1} (thread {t})"
        expect_eq(f"{what}: pc", pc(), addr)
        expect_eq(f"{what}: function", function(), "check_in")
        expect_eq(f"{what}: check_in's cpu", value("cpu"), t - 1)
        expect_eq(f"{what}: check_in's ncpus", value("ncpus"), 2)
        seen.append(t)
    expect_eq("the threads that hit check_in", sorted(seen), [1, 2])
    expect_eq("hit_count", bp.hit_count, 2)
    bp.delete()
    expect_exit("continue", 1)


run(body)
