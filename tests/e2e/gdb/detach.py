"""detach lets the guest run on: after a stepi, `detach` ends the session
with the guest still to run; the driver checks that kvmdbg then runs it to
its end (status 1, the same console output as a debugger-free run)."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdbtest import connect, expect_eq, resume, run  # noqa: E402


def body():
    connect()
    expect_eq("stepi", resume("stepi"), ("stop", None))
    gdb.execute("detach")
    expect_eq("inferior after detach", gdb.selected_inferior().pid, 0)


run(body)
