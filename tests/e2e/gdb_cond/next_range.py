"""`next` over the one-line loop of sum_to(): gdb range-steps it (one
vCont;r, checked by the driver in the packet log) and lands on the next
line with the loop's sum complete; `step` from the call line in main
enters visit(); `finish` returns to main."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from condtest import (ITERS, expect_eq, expect_exit,  # noqa: E402
                      expect_step, expect_stop, function, line, measured,
                      new_breakpoint, run, source_line, start, value)


def body():
    start()
    call = source_line("@call")
    b = new_breakpoint(f"break cond.c:{call}")
    expect_stop("continue", [b])
    expect_eq("i at the call line", value("i"), 0)
    expect_step("step")
    expect_eq("function after step", function(), "visit")
    expect_eq("line after step", line(), source_line("@visit"))
    expect_eq("n in visit", value("n"), 0)
    expect_step("finish")
    expect_eq("function after finish", function(), "main")
    gdb_delete(b)
    loop = new_breakpoint(f"break cond.c:{source_line('@loopline')}")
    expect_stop("continue", [loop])
    expect_eq("function at the loop line", function(), "sum_to")
    measured("next", "next",
             lambda ev: expect_eq("next: event", ev, ("stop", None)))
    expect_eq("line after next", line(), source_line("@after"))
    expect_eq("acc after next", value("acc"), 3 * ITERS * (ITERS - 1) // 2)
    expect_eq("k after next", value("k"), ITERS)
    gdb_delete(loop)
    expect_exit("continue", 1)


def gdb_delete(b):
    b.delete()


run(body)
