"""Second half of the reconnect tests: a new gdb finds the guest stopped
where the dropped connection left it (KVMDBG_EXPECT_PC), reported with the
SIGTRAP of its last stop; stepping and continuing to the exit still
work."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdbtest import (connect, env, expect_eq, expect_exit, pc,  # noqa: E402
                     resume, run)


def body():
    stop = connect()
    expect_eq("pc after reconnecting", pc(), int(env("KVMDBG_EXPECT_PC"), 0))
    expect_eq("the stop on reconnecting", stop, ("stop", None))
    expect_eq("stepi", resume("stepi"), ("stop", None))
    expect_exit("continue", 1)


run(body)
