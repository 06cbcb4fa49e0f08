"""A read (or access) watchpoint on a variable that one instruction reads
and writes (`addq $1, bumps`): each of the 20 bumps stops once, after the
instruction, with the new value in memory; the guest's own count at its
exit (checked by the driver against a debugger-free run) proves that no
write was lost. The watch command comes from the driver
(KVMDBG_WATCH: rwatch or awatch)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from condtest import (env, expect_eq, expect_exit,  # noqa: E402
                      expect_stop, function, new_breakpoint, run, start,
                      value)


def body():
    start()
    wp = new_breakpoint(f"{env('KVMDBG_WATCH')} bumps")
    for n in range(1, 21):
        expect_stop("continue", [wp])
        expect_eq(f"function at bump {n}", function(), "bump")
        expect_eq(f"bumps at stop {n}", value("bumps"), n)
    wp.delete()
    expect_exit("continue", 1)


run(body)
