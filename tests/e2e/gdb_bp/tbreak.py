"""`tbreak accumulate`: a temporary breakpoint stops once, in accumulate
with v = 0, as a BreakpointEvent for it; after that stop gdb no longer has
it, and continue runs the guest to its exit (code 1)."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (bp_address, connect, expect_eq,  # noqa: E402
                    expect_exit, expect_stop, function, new_breakpoint,
                    numbers, pc, run, value)


def body():
    connect()
    bp = new_breakpoint("tbreak accumulate")
    expect_eq("temporary", bp.temporary, True)
    expect_eq("breakpoint type", bp.type, gdb.BP_BREAKPOINT)
    num, addr = bp.number, bp_address(bp)
    expect_stop("continue", [num])
    expect_eq("pc at the stop", pc(), addr)
    expect_eq("function at the stop", function(), "accumulate")
    expect_eq("v at the stop", value("v"), 0)
    expect_eq("total at the stop", value("total"), 0)
    expect_eq(f"breakpoints after the stop (tbreak {num} gone)", numbers(),
              [])
    expect_eq("the gdb.Breakpoint is no longer valid", bp.is_valid(),
              False)
    expect_exit("continue", 1)


run(body)
