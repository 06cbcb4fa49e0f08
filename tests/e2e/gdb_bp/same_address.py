"""Two breakpoints at one address. `break tick` twice: both report the hit
(one BreakpointEvent naming both, both hit counts grow); after deleting one
the other still stops. Then `hbreak tick` next to the remaining `break
tick` (a Z0 and a Z1 at the same pc): both report hits; deleting the
software one keeps the hardware one working; deleting both lets the guest
run to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (bp_address, connect, expect_eq,  # noqa: E402
                    expect_exit, expect_stop, new_breakpoint, numbers, pc,
                    run, value)


def hit(bps, counter):
    expect_stop("continue", bps)
    expect_eq(f"pc at the hit with counter {counter}", pc(), addr)
    expect_eq("counter", value("counter"), counter)


def body():
    global addr
    connect()
    b1 = new_breakpoint("break tick")
    b2 = new_breakpoint("break tick")
    addr = bp_address(b1)
    expect_eq("both at one address", bp_address(b2), addr)
    hit([b1, b2], 0)
    expect_eq("hit counts", (b1.hit_count, b2.hit_count), (1, 1))
    hit([b1, b2], 1)
    b1.delete()
    hit([b2], 2)
    expect_eq("hit count of the one left", b2.hit_count, 3)

    h = new_breakpoint("hbreak tick")
    expect_eq("hbreak type", h.type, gdb.BP_HARDWARE_BREAKPOINT)
    expect_eq("hbreak at the same address", bp_address(h), addr)
    hit([b2, h], 3)
    expect_eq("hit counts", (b2.hit_count, h.hit_count), (4, 1))
    hit([b2, h], 4)
    b2.delete()
    hit([h], 5)
    expect_eq("hbreak hit count", h.hit_count, 3)
    h.delete()
    expect_eq("breakpoints left", numbers(), [])
    expect_exit("continue", 1)


run(body)
