"""`rwatch counter`: a read watchpoint (Z3) stops right after tick's load
of counter, before the increment stores it: three continues stop in tick
with counter = 0, 1, 2, each a BreakpointEvent for the watchpoint, the
instruction before pc reading counter. Stores to counter (tick's own
increment) do not stop it. Then the watchpoint goes and the guest runs to
its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (access, connect, expect_eq, expect_exit,  # noqa: E402
                    expect_stop, function, insn_before, new_breakpoint, pc,
                    run, value)


def body():
    connect()
    wp = new_breakpoint("rwatch counter")
    expect_eq("watchpoint type", wp.type, gdb.BP_READ_WATCHPOINT)
    where = None
    for j in range(3):
        expect_stop("continue", [wp])
        expect_eq(f"stop {j + 1}: function", function(), "tick")
        insn = insn_before(pc())
        expect_eq(f"stop {j + 1}: the instruction before pc "
                  f"({insn['asm']}) reads counter", access(insn, "counter"),
                  "read")
        expect_eq(f"stop {j + 1}: pc the same each time",
                  pc() if where is None else where, pc())
        where = pc()
        expect_eq(f"stop {j + 1}: counter", value("counter"), j)
        expect_eq(f"stop {j + 1}: hit_count", wp.hit_count, j + 1)
    wp.delete()
    expect_exit("continue", 1)


run(body)
