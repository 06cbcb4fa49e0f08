"""--smp 2 on smp.elf: two threads, "vCPU 0" and "vCPU 1"; at the entry
vCPU 0 is at _start and vCPU 1 is powered off until the guest's PSCI
CPU_ON; a breakpoint on ap_main stops in thread 2 with x0 = 1 (its index)
and `info threads` shows both with their mode; then the guest runs to its
exit with both CPUs checked in."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from a64test import (connect, expect, expect_eq, expect_exit,  # noqa: E402
                     expect_stop, new_breakpoint, pc, run, address)


def body():
    connect()
    threads = sorted(gdb.selected_inferior().threads(), key=lambda t: t.num)
    expect_eq("thread numbers", [t.num for t in threads], [1, 2])
    expect_eq("thread names", [t.name for t in threads],
              ["vCPU 0", "vCPU 1"])
    text = gdb.execute("info threads", to_string=True)
    expect("info threads shows vCPU 1 powered off",
           "powered off" in text, text)
    expect_eq("vCPU 0 at _start", pc(), address("_start"))
    bp = new_breakpoint("break ap_main")
    expect_stop("continue", [bp])
    expect_eq("ap_main stops in thread", gdb.selected_thread().num, 2)
    expect_eq("ap_main's cpu", int(gdb.parse_and_eval("cpu")), 1)
    text = gdb.execute("info threads", to_string=True)
    expect("info threads shows EL1h with the MMU on",
           "EL1h, MMU on" in text, text)
    bp.delete()
    expect_exit("continue", 1)


run(body)
