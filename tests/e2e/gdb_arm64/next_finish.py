"""Source-level stepping on arm64: break at main's `tick();` line, `next`
goes to `accumulate(i);` and `fill_buffer((unsigned)i);` by line number,
`step` enters fill_buffer at its loop, `finish` returns to main at the
call's return address (the for line's i++) with the loop's i unchanged.
Then the guest runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from a64test import (connect, expect_eq, expect_exit, expect_step,  # noqa
                     expect_stop, function, line, new_breakpoint, pc, run,
                     source_line, value)


def body():
    connect()
    l_tick = source_line("tick();", symbol="main", exact=True)
    l_acc = source_line("accumulate(i);", symbol="main", exact=True)
    l_fill = source_line("fill_buffer((unsigned)i);", symbol="main",
                         exact=True)
    l_for = source_line("for (i = 0; i < iters; i++) {", symbol="main",
                        exact=True)
    bp = new_breakpoint(f"break loop.c:{l_tick}")
    expect_stop("continue", [bp])
    expect_eq("first stop: line", line(), l_tick)
    bp.delete()
    expect_step("next")
    expect_eq("after next: function", function(), "main")
    expect_eq("after next: line", line(), l_acc)
    expect_eq("counter after tick()", value("counter"), 1)
    expect_step("next")
    expect_eq("after second next: line", line(), l_fill)
    expect_eq("total after accumulate(0)", value("total"), 0)
    expect_step("step")
    expect_eq("step enters", function(), "fill_buffer")
    expect_eq("in fill_buffer: n", value("n"), 0)
    ret = int(gdb.selected_frame().older().pc())
    expect_step("finish")
    expect_eq("finish returns to", function(), "main")
    expect_eq("finish returns to the return address", pc(), ret)
    # The call is the loop body's last statement: at -O0 the code after
    # the bl is the loop's i++, which the line table gives to the for.
    expect_eq("finish returns to the line", line(), l_for)
    expect_eq("main's i", value("i"), 0)
    expect_eq("buffer[7] after fill_buffer(0)", value("buffer[7]"), 7)
    expect_exit("continue", 1)


run(body)
