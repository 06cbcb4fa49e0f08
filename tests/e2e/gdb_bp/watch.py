"""`watch total`, set at the entry (paging still off): a hardware write
watchpoint. accumulate(0) stores 0 over 0, which gdb does not report (a
write watchpoint stops on a change); so three continues stop in
accumulate(1), (2), (3): each a BreakpointEvent for the watchpoint, v and
main's i equal to j, total's old value the previous stop's (0, 1, 3) and
its new value j(j+1)/2 (1, 3, 6), the pc right after the instruction that
stores total. Then the watchpoint goes and the guest runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (access, connect, expect_eq, expect_exit,  # noqa: E402
                    expect_stop, function, function_range, insn_before,
                    new_breakpoint, pc, run, value)


def body():
    connect()
    wp = new_breakpoint("watch total")
    expect_eq("watchpoint type", wp.type, gdb.BP_HARDWARE_WATCHPOINT)
    expect_eq("watchpoint expression", wp.expression, "total")
    start, end = function_range("accumulate")
    old = value("total")
    expect_eq("total before running", old, 0)
    for j in range(1, 4):
        expect_stop("continue", [wp])
        here = pc()
        expect_eq(f"stop {j}: function", function(), "accumulate")
        expect_eq(f"stop {j}: pc inside accumulate",
                  start <= here < end, True)
        insn = insn_before(here)
        expect_eq(f"stop {j}: the instruction before pc ({insn['asm']}) "
                  f"writes total", access(insn, "total"), "write")
        expect_eq(f"stop {j}: v", value("v"), j)
        expect_eq(f"stop {j}: main's i",
                  int(gdb.selected_frame().older().read_var("i")), j)
        new = value("total")
        expect_eq(f"stop {j}: old value (the last stop's)", old,
                  (j - 1) * j // 2)
        expect_eq(f"stop {j}: new value", new, j * (j + 1) // 2)
        expect_eq(f"stop {j}: hit_count", wp.hit_count, j)
        old = new
    wp.delete()
    expect_exit("continue", 1)


run(body)
