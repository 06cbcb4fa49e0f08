"""`delete`: `break tick` stops twice (counter 0, then 1); after
`delete`, gdb has no breakpoints and continue runs the guest to its exit
(code 1). The driver checks the guest's whole output, checksum
included."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (connect, expect_eq, expect_exit,  # noqa: E402
                    expect_stop, new_breakpoint, numbers, run, value)


def body():
    connect()
    bp = new_breakpoint("break tick")
    for i in range(2):
        expect_stop("continue", [bp])
        expect_eq(f"hit {i + 1}: counter", value("counter"), i)
    gdb.execute("delete")
    expect_eq("breakpoints after delete", numbers(), [])
    expect_exit("continue", 1)
    expect_eq("$_exitcode", value("$_exitcode"), 1)


run(body)
