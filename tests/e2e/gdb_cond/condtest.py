"""Helpers for the range-stepping and target-side condition scripts, on
top of tests/e2e/gdb_bp/bptest.py. The guest is tests/guests/cond.c; its
lines are found by their @ markers. mark() writes a line into gdb's packet
log (the driver turns `debug remote` on) so the driver can count the
packets of one command: everything between "@@begin NAME" and "@@end
NAME"."""
import os
import sys

import gdb

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "gdb_bp"))
from bptest import (bp_address, connect, env, expect,  # noqa: E402,F401
                    expect_eq, expect_exit, expect_step, expect_stop,
                    function, line, log, new_breakpoint, pc, resume, run,
                    source_line, value)

ITERS = int(env("KVMDBG_ITERS"))


def mark(text):
    gdb.write(f"@@{text}\n", gdb.STDLOG)


def measured(name, cmd, check):
    """Run cmd between packet-log marks; check(event) judges its end."""
    mark(f"begin {name}")
    ev = resume(cmd)
    mark(f"end {name}")
    check(ev)
    return ev


def start():
    gdb.execute("set debug remote 1")
    connect()
