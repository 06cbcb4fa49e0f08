"""A condition that reads unmapped memory cannot be decided by the
server: it reports the hit, and gdb, testing the condition itself, shows
the error there and stops at the first hit (n == 0)."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from condtest import (bp_address, expect, expect_eq,  # noqa: E402
                      log, new_breakpoint, resume, run, start, value)


def body():
    start()
    b = new_breakpoint("break visit if *(long *)0x7ff000000000 == 1")
    log(f"breakpoint address {bp_address(b):#x}")
    out = gdb.execute("continue", to_string=True)
    expect("gdb reports the condition's error",
           "Error in testing" in out, out)
    expect_eq("n at the stop", value("n"), 0)
    b.delete()
    ev = resume("continue")
    expect_eq("the guest then runs to its exit", ev, ("exited", 1))


run(body)
