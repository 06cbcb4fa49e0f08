"""Breakpoints and watchpoints, then detach, leave guest memory as it was:
break tick (INT3), hbreak fill_buffer (DR), watch total and rwatch counter
(page protection). Seven continues stop in the order the loop dictates:
  tick (i=0), the read of counter in tick, fill_buffer(0) -- total's
  store of 0 over 0 is no change --, tick (i=1), the read of counter,
  the store of total = 1, fill_buffer(1);
each stop on vCPU 0 (thread 1). Then `detach` with all four still set:
the driver checks the guest's output, whose checksum covers its text and
data, equals a debugger-free run's. With KVMDBG_SMP=2 (loop.elf parks its
other vCPU) there are two threads, "vCPU 0" and "vCPU 1", and every stop
is still on thread 1."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (bp_address, connect, env, expect, expect_eq,  # noqa
                    expect_stop, function, new_breakpoint, pc, run, value)


def body():
    smp = int(env("KVMDBG_SMP", "1"))
    connect()
    threads = sorted(gdb.selected_inferior().threads(), key=lambda t: t.num)
    expect_eq("threads", [(t.num, t.name) for t in threads],
              [(i + 1, f"vCPU {i}") for i in range(smp)])
    listing = gdb.execute("info threads", to_string=True)
    for i in range(smp):
        expect(f"`info threads` shows vCPU {i}", f"vCPU {i}" in listing,
               listing)
    brk = new_breakpoint("break tick")
    hbr = new_breakpoint("hbreak fill_buffer")
    wtot = new_breakpoint("watch total")
    rcnt = new_breakpoint("rwatch counter")
    tick, fill = bp_address(brk), bp_address(hbr)
    order = [(brk, "tick", 0, 0), (rcnt, "tick", 0, 0),
             (hbr, "fill_buffer", 1, 0), (brk, "tick", 1, 0),
             (rcnt, "tick", 1, 0), (wtot, "accumulate", 2, 1),
             (hbr, "fill_buffer", 2, 1)]
    for i, (bp, fn, counter, total) in enumerate(order):
        expect_stop("continue", [bp])
        what = (f"stop {i + 1} (breakpoint {bp.number}, "
                f"{bp.location or bp.expression})")
        expect_eq(f"{what}: thread", gdb.selected_thread().num, 1)
        expect_eq(f"{what}: function", function(), fn)
        expect_eq(f"{what}: (counter, total)",
                  (value("counter"), value("total")), (counter, total))
        if bp is brk:
            expect_eq(f"{what}: pc", pc(), tick)
        if bp is hbr:
            expect_eq(f"{what}: pc", pc(), fill)
    expect_eq("breakpoints still set", len(gdb.breakpoints()), 4)
    gdb.execute("detach")
    expect_eq("inferior after detach", gdb.selected_inferior().pid, 0)


run(body)
