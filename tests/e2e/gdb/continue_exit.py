"""continue from the entry to the guest's exit: gdb.events.exited reports
exit code 1 (hello64 writes 0 to the exit port: status (0<<1)|1), and
$_exitcode agrees. The driver checks kvmdbg's status and console."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdbtest import connect, expect_eq, expect_exit, run  # noqa: E402


def body():
    expect_eq("the stop on connecting", connect(), ("stop", None))
    expect_exit("continue", 1)
    expect_eq("$_exitcode", int(gdb.parse_and_eval("$_exitcode")), 1)
    expect_eq("threads after the exit", len(gdb.selected_inferior()
                                            .threads()), 0)


run(body)
