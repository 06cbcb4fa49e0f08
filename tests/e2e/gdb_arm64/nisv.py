"""Page-protection watchpoints on arm64 under accesses KVM cannot decode
(the ldst guest): with the four watchpoint registers taken by `filler`
(a page below), `watch watched.pair[1]`, `rwatch watched.pair[0]`,
`watch watched.post` and `watch -l *(uint64_t *)&watched.q[8]` are
served by page protection on watched's page (`monitor breakpoints`
says so, with always-inserted on). Each stop must be the one a
watchpoint register gives: reported right after the one instruction
that made the access (ldst_stp, ldst_ldp, ldst_str_post, ldst_str_q:
pc = label + 4), with the new value for writes. The store and load
pairs on `near`, on the same page but unwatched, stop nothing, and a
`stepi` over ldst_near_stp moves the pc by 4 and stores both words.
The driver compares the guest's output with a debugger-free run's."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from a64test import (address, connect, expect, expect_eq,  # noqa: E402
                     expect_exit, expect_stop, new_breakpoint, pc, run,
                     value)


def body():
    connect()
    gdb.execute("set breakpoint always-inserted on")
    for k in range(4):
        new_breakpoint(f"watch filler.v[{k}]")
    wp = {
        "pair1": new_breakpoint("watch watched.pair[1]"),
        "pair0": new_breakpoint("rwatch watched.pair[0]"),
        "post": new_breakpoint("watch watched.post"),
        "q": new_breakpoint("watch -l *(unsigned long *)&watched.q[8]"),
    }
    text = gdb.execute("monitor breakpoints", to_string=True)
    print(text)
    page = value("(unsigned long)&watched")
    lines = text.splitlines()
    expect("watchpoint slots: 4, 4 used" in lines, "filler's four", text)
    expect("page-protection watchpoints: 4 on 1 page" in lines,
           "watched's four on one page", text)
    for what, off, ln in (("write", 8, 8), ("read", 0, 8),
                          ("write", 16, 8), ("write", 40, 8)):
        want = f"  {what} {page + off:#x} len {ln}"
        expect(f"page protection serves {want.strip()!r}", want in lines,
               text)
    gdb.execute("set breakpoint always-inserted off")

    def at(label):
        expect_eq(f"pc right after {label}", pc(), address(label) + 4)

    expect_stop("continue", [wp["pair1"]])
    at("ldst_stp")
    expect_eq("pair[1] stored", value("watched.pair[1]"),
              0x2222222222222222)
    expect_stop("continue", [wp["pair0"]])
    at("ldst_ldp")
    expect_stop("continue", [wp["post"]])
    at("ldst_str_post")
    expect_eq("post stored", value("watched.post"), 0x3333333333333333)
    expect_stop("continue", [wp["q"]])
    at("ldst_str_q")
    expect_eq("q's high half stored",
              value("*(unsigned long *)&watched.q[8]"), 0x5555555555555555)

    # Unwatched bytes of the watched page: no stop, and a stepi over the
    # store pair completes it.
    stp = new_breakpoint(f"break *{address('ldst_near_stp')}")
    expect_stop("continue", [stp])
    stp.delete()
    gdb.execute("stepi")
    expect_eq("stepi over ldst_near_stp", pc(), address("ldst_near_stp") + 4)
    expect_eq("near[0]", value("watched.near[0]"), 0x66)
    expect_eq("near[1]", value("watched.near[1]"), 0x77)
    gdb.execute("delete")
    expect_exit("continue", 1)


run(body)
