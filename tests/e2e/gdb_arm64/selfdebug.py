"""The self-debugging guest under gdb: a breakpoint on marker between the
guest's own BRK #0 and BRK #0x7d. Five continues stop at marker with
round = 0..4; kvmdbg delivers each of the guest's own BRKs to it (its
counts, checked by the driver from the console, come out exact). Then the
breakpoint goes and the guest runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from a64test import (connect, expect_eq, expect_exit,  # noqa: E402
                     expect_stop, function, new_breakpoint, run, value)


def body():
    connect()
    bp = new_breakpoint("break marker")
    for i in range(5):
        expect_stop("continue", [bp])
        expect_eq(f"stop {i}: function", function(), "marker")
        expect_eq(f"stop {i}: round", int(gdb.parse_and_eval("round")), i)
        expect_eq(f"stop {i}: the guest's BRK #0 count", value("brk0_count"),
                  i + 1)
    bp.delete()
    expect_exit("continue", 1)


run(body)
