"""A write watchpoint across a page boundary: 16 bytes from 8 below the
page that starts with `counter` (the tail of the code and rodata page, and
counter), one Z2. Each tick's store to counter stops it in tick, with
counter 1, 2, 3; the reported stop is a BreakpointEvent for the
watchpoint. Then it goes and the guest runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (connect, expect_eq, expect_exit,  # noqa: E402
                    expect_stop, function, new_breakpoint, run,
                    symbol_address, value)

PAGE = 4096


def body():
    connect()
    counter = symbol_address("counter")
    expect_eq("counter starts a page (the layout this case needs)",
              counter % PAGE, 0)
    start = counter - 8
    wp = new_breakpoint(f"watch -location *(unsigned char (*)[16]){start:#x}")
    expect_eq("watchpoint type", wp.type, gdb.BP_HARDWARE_WATCHPOINT)
    for j in range(1, 4):
        expect_stop("continue", [wp])
        expect_eq(f"stop {j}: function", function(), "tick")
        expect_eq(f"stop {j}: counter", value("counter"), j)
    wp.delete()
    expect_exit("continue", 1)


run(body)
