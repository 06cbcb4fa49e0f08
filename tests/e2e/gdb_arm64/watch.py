"""Hardware write watchpoint on arm64: `watch total` from the entry
(MMU off, so the later stops also check the walk through the guest's own
tables). accumulate(0) stores 0 over 0, which gdb does not report; three
continues stop in accumulate(1), (2), (3), each a BreakpointEvent for the
watchpoint with the old and new value, right after the store (A64
watchpoints trap before the access; gdb steps over it). Then the
watchpoint goes and the guest runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from a64test import (connect, expect, expect_eq, expect_exit,  # noqa: E402
                     expect_stop, function, function_range, insn_at,
                     new_breakpoint, pc, run, value)


def body():
    connect()
    wp = new_breakpoint("watch total")
    expect_eq("watchpoint type", wp.type, gdb.BP_HARDWARE_WATCHPOINT)
    start, end = function_range("accumulate")
    old = value("total")
    for j in range(1, 4):
        expect_stop("continue", [wp])
        here = pc()
        expect_eq(f"stop {j}: function", function(), "accumulate")
        expect(f"stop {j}: pc inside accumulate", start <= here < end,
               f"{here:#x}")
        prev = insn_at(here - 4)
        expect(f"stop {j}: the instruction before pc stores ({prev})",
               prev.startswith("str"), prev)
        expect_eq(f"stop {j}: v", value("v"), j)
        new = value("total")
        expect_eq(f"stop {j}: old value", old, (j - 1) * j // 2)
        expect_eq(f"stop {j}: new value", new, j * (j + 1) // 2)
        expect_eq(f"stop {j}: hit_count", wp.hit_count, j)
        old = new
    wp.delete()
    expect_exit("continue", 1)


run(body)
