"""`break tick` by name on loop.elf: five continues stop at it, each a
BreakpointEvent for that breakpoint alone, at its address, inside tick,
with counter = 0, 1, 2, 3, 4 (tick has not counted yet) and hit_count
1..5. Then the breakpoint goes and the guest runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (bp_address, connect, expect, expect_eq,  # noqa: E402
                    expect_exit, expect_stop, function, numbers, pc, run,
                    symbol_address, value)


def body():
    connect()
    bp = gdb.Breakpoint("tick")
    expect_eq("breakpoint type", bp.type, gdb.BP_BREAKPOINT)
    addr = bp_address(bp)
    tick = symbol_address("tick")
    expect(f"the breakpoint {addr:#x} is past tick's prologue, near "
           f"{tick:#x}", tick < addr < tick + 16)
    for i in range(5):
        expect_stop("continue", [bp])
        expect_eq(f"hit {i + 1}: pc", pc(), addr)
        expect_eq(f"hit {i + 1}: function", function(), "tick")
        expect_eq(f"hit {i + 1}: counter", value("counter"), i)
        expect_eq(f"hit {i + 1}: hit_count", bp.hit_count, i + 1)
    expect_eq("hit_count after five continues", bp.hit_count, 5)
    bp.delete()
    expect_eq("breakpoints left", numbers(), [])
    expect_exit("continue", 1)


run(body)
