"""A breakpoint whose condition the server evaluates: it stops exactly at
the first hit where the condition holds, with the guest state of that hit,
and only one stop reply reaches gdb (the driver counts them). The
breakpoint command and the expected values come from the driver:
KVMDBG_BREAK ("break visit if n == 7777"), KVMDBG_EXPR/KVMDBG_WANT pairs
separated by ';'."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from condtest import (env, expect_eq, expect_exit, measured,  # noqa: E402
                      new_breakpoint, run, source_line, start, value)


def body():
    start()
    cmd = env("KVMDBG_BREAK").replace("@call", str(source_line("@call")))
    b = new_breakpoint(cmd)
    measured("cont", "continue", lambda ev: expect_eq(
        "continue: event", ev, ("breakpoint", [b.number])))
    for pair in env("KVMDBG_WANT").split(";"):
        expr, want = pair.split("=")
        expect_eq(f"{expr} at the stop", value(expr), int(want))
    expect_eq("hit count", b.hit_count, 1)
    b.delete()
    expect_exit("continue", 1)


run(body)
