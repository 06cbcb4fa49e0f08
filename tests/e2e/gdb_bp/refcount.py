"""The server counts references per address: gdb inserts one Z0 at tick,
and a raw `maint packet Z0` adds a second one at the same address. gdb
stops there (counter 0) and deletes its breakpoint; the other reference
keeps the trap in place: the guest stops at tick again (counter 1), which
gdb, having no breakpoint there, reports as a SIGTRAP at that pc. A raw z0
removes the last reference; the second raw z0 is refused (no such
breakpoint) and the guest runs to its exit with its memory as it was (the
driver compares the checksum). The same for Z1: a raw second Z1 at
fill_buffer outlives gdb's hbreak there.

gdb ignores a swbreak/hwbreak stop where it has no breakpoint (it takes it
for a breakpoint it removed a moment ago), so this script turns both stop
reasons off: the raw breakpoints' stops then come as plain SIGTRAPs (a
gdb.StopEvent that is no BreakpointEvent or SignalEvent)."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (bp_address, connect, expect, expect_eq,  # noqa: E402
                    expect_exit, expect_stop, new_breakpoint, pc, resume,
                    run, value)


def packet(text):
    out = gdb.execute(f"maint packet {text}", to_string=True)
    # "sending: ...\nreceived: \"OK\"\n"
    return out.rsplit("received: ", 1)[-1].strip().strip('"')


def body():
    gdb.execute("set remote swbreak-feature-packet off")
    gdb.execute("set remote hwbreak-feature-packet off")
    connect()
    bp = new_breakpoint("break tick")
    addr = bp_address(bp)
    expect_eq("raw Z0 at tick", packet(f"Z0,{addr:x},1"), "OK")
    expect_stop("continue", [bp])
    expect_eq("pc", pc(), addr)
    expect_eq("counter at gdb's breakpoint", value("counter"), 0)
    bp.delete()
    ev = resume("continue")
    # A SIGTRAP stop comes as a plain StopEvent: gdb takes SIGTRAP for
    # its own.
    expect_eq("the stop at the raw breakpoint", ev, ("stop", None))
    expect_eq("pc at the raw breakpoint", pc(), addr)
    expect_eq("counter at the raw breakpoint", value("counter"), 1)
    expect_eq("raw z0 at tick", packet(f"z0,{addr:x},1"), "OK")
    reply = packet(f"z0,{addr:x},1")
    expect(f"a second raw z0 at tick is refused: {reply!r}",
           reply.startswith("E"))

    hb = new_breakpoint("hbreak fill_buffer")
    faddr = bp_address(hb)
    expect_eq("raw Z1 at fill_buffer", packet(f"Z1,{faddr:x},1"), "OK")
    expect_stop("continue", [hb])
    expect_eq("n at gdb's hbreak", value("n"), 1)
    hb.delete()
    ev = resume("continue")
    expect_eq("the stop at the raw hw breakpoint", ev, ("stop", None))
    expect_eq("pc at the raw hw breakpoint", pc(), faddr)
    expect_eq("n at the raw hw breakpoint", value("n"), 2)
    expect_eq("raw z1 at fill_buffer", packet(f"z1,{faddr:x},1"), "OK")
    expect_exit("continue", 1)


run(body)
