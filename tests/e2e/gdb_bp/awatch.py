"""`awatch total`: an access watchpoint (Z4) stops on both halves of
`total += v`, for every i including 0 (an access watchpoint reports a
store of an unchanged value too): first right after the load of total
(total still the old sum), then right after the store (the new sum), for
i = 0, 1, 2: six BreakpointEvents for the watchpoint, in accumulate, the
instruction before pc reading then writing total. Then the watchpoint
goes and the guest runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (access, connect, expect, expect_eq,  # noqa: E402
                    expect_exit, expect_stop, function, insn_before,
                    new_breakpoint, pc, run, value)


def body():
    connect()
    wp = new_breakpoint("awatch total")
    expect_eq("watchpoint type", wp.type, gdb.BP_ACCESS_WATCHPOINT)
    pcs = {"read": set(), "write": set()}
    hits = 0
    for i in range(3):
        for kind, want in (("read", i * (i - 1) // 2),
                           ("write", i * (i + 1) // 2)):
            expect_stop("continue", [wp])
            hits += 1
            what = f"accumulate({i}), {kind}"
            expect_eq(f"{what}: function", function(), "accumulate")
            expect_eq(f"{what}: v", value("v"), i)
            insn = insn_before(pc())
            expect_eq(f"{what}: the access of the instruction before pc "
                      f"({insn['asm']})", access(insn, "total"), kind)
            expect_eq(f"{what}: total", value("total"), want)
            expect_eq(f"{what}: hit_count", wp.hit_count, hits)
            pcs[kind].add(pc())
    expect_eq("one pc for all reads, one for all writes",
              (len(pcs["read"]), len(pcs["write"])), (1, 1))
    expect("the read stops before the write",
           min(pcs["read"]) < min(pcs["write"]), str(pcs))
    wp.delete()
    expect_exit("continue", 1)


run(body)
