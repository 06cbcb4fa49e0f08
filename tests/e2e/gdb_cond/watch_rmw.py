"""A read (or access) watchpoint on a variable that one instruction reads
and writes (`addq $1, bumps`): each of the 20 bumps stops once, after the
instruction, with the new value in memory; the guest's own count at its
exit (checked by the driver against a debugger-free run) proves that no
write was lost. The watch command comes from the driver
(KVMDBG_WATCH: rwatch or awatch).

With KVMDBG_RMW_SEEN=0 (an rwatch served by a debug register, on hosts
where those fire): x86 debug registers cannot watch reads alone, so a read
watch is an access watch whose hits that change the value count as writes,
as in gdb's own x86 support; an instruction that reads and writes is then
not reported. The first stop is main's plain read of bumps, all 20 done."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from condtest import (env, expect_eq, expect_exit,  # noqa: E402
                      expect_stop, function, new_breakpoint, run, start,
                      value)


def body():
    start()
    wp = new_breakpoint(f"{env('KVMDBG_WATCH')} bumps")
    if env("KVMDBG_RMW_SEEN") == "0":
        expect_stop("continue", [wp])
        expect_eq("function at the first stop", function(), "main")
        expect_eq("bumps at the first stop", value("bumps"), 20)
        wp.delete()
        expect_exit("continue", 1)
        return
    for n in range(1, 21):
        expect_stop("continue", [wp])
        expect_eq(f"function at bump {n}", function(), "bump")
        expect_eq(f"bumps at stop {n}", value("bumps"), n)
    wp.delete()
    expect_exit("continue", 1)


run(body)
