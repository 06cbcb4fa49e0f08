"""`monitor breakpoints` shows where each inserted request is served. With
`breakpoint always-inserted on` (else gdb removes everything at a stop):
`break tick` is a software breakpoint at tick's guest-physical address
(identity-mapped in this guest), `hbreak accumulate` takes debug register
0, and `watch counter` takes register 1 where the host's data breakpoints
fire, else page protection on counter's page (the strategy line of
`monitor caps`, the host probe's, says which). The exact text is compared. A second
`break tick` changes nothing (gdb sends the Z0 again; Z packets are
idempotent). Then everything goes, the listing is
empty, and the guest runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (bp_address, connect, expect_eq,  # noqa: E402
                    expect_exit, new_breakpoint, run, value)


def body():
    connect()
    gdb.execute("set breakpoint always-inserted on")
    sw = bp_address(new_breakpoint("break tick"))
    hw = bp_address(new_breakpoint("hbreak accumulate"))
    new_breakpoint("watch counter")
    counter = value("(unsigned long)&counter")
    caps = gdb.execute("monitor caps", to_string=True)
    strategy = [ln for ln in caps.splitlines() if ln.startswith("strategy:")]
    expect_eq("one strategy line in monitor caps", len(strategy), 1)
    pages = "watchpoints by page protection" in strategy[0]
    want = ["software breakpoints: 1",
            f"  {sw:#x} at gpa {sw:#x}, 1 reference",
            "debug register slots: 4, %d used" % (1 if pages else 2),
            f"  0: execute {hw:#x}"]
    if pages:
        want += ["page-protection watchpoints: 1 on 1 page",
                 f"  write {counter:#x} len 8"]
    else:
        want += [f"  1: write {counter:#x} len 8",
                 "page-protection watchpoints: 0 on 0 pages"]
    got = gdb.execute("monitor breakpoints", to_string=True).splitlines()
    expect_eq("monitor breakpoints", got, want)
    new_breakpoint("break tick")
    got = gdb.execute("monitor breakpoints", to_string=True).splitlines()
    expect_eq("a second break tick", got[1],
              f"  {sw:#x} at gpa {sw:#x}, 1 reference")
    gdb.execute("delete")
    got = gdb.execute("monitor breakpoints", to_string=True).splitlines()
    expect_eq("after delete", got,
              ["software breakpoints: 0", "debug register slots: 4, 0 used",
               "page-protection watchpoints: 0 on 0 pages"])
    expect_exit("continue", 1)


run(body)
