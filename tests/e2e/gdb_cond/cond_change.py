"""Conditions change while the breakpoint exists: `condition N n == 20`
after a stop at n == 10 moves the next stop to n == 20; `condition N`
(none) makes the very next hit stop; a second breakpoint at the same
place with its own condition ORs with the first (gdb sends both in one
Z0)."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from condtest import (expect_eq, expect_exit, expect_stop,  # noqa: E402
                      new_breakpoint, run, start, value)


def body():
    start()
    b = new_breakpoint("break visit if n == 10")
    expect_stop("continue", [b])
    expect_eq("n at the first stop", value("n"), 10)
    gdb.execute(f"condition {b.number} n == 20")
    expect_stop("continue", [b])
    expect_eq("n after condition n == 20", value("n"), 20)
    gdb.execute(f"condition {b.number}")
    expect_stop("continue", [b])
    expect_eq("n with the condition removed", value("n"), 21)
    gdb.execute(f"condition {b.number} n == 300")
    c = new_breakpoint("break visit if visits == 100")
    # gdb's stop event names every breakpoint at the location; its hit
    # counts (and its "Breakpoint N," line) name the one whose
    # condition held.
    expect_stop("continue", [b, c])
    expect_eq("n at the second breakpoint's stop", value("n"), 100)
    expect_eq("hit counts (first, second)", (b.hit_count, c.hit_count),
              (3, 1))
    expect_stop("continue", [b, c])
    expect_eq("n at the first breakpoint's stop", value("n"), 300)
    expect_eq("hit counts (first, second)", (b.hit_count, c.hit_count),
              (4, 1))
    b.delete()
    c.delete()
    expect_exit("continue", 1)


run(body)
