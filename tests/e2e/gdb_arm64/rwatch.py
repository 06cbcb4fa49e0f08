"""Read and access watchpoints on arm64 (KVMDBG_KIND = rwatch or awatch)
on `counter` with iters=N. Its readers: tick's `counter++` (a load then a
store) N times, main's final printf once, and image_checksum's pass over
the image once. rwatch stops N + 2 times: in tick at each load, then in
main and image_checksum; awatch stops 2N + 2 times: at tick's load and
store each time, then the same two. Every stop is a BreakpointEvent for
the watchpoint, and the guest then runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from a64test import (env, expect_eq, expect_exit, expect_stop,  # noqa
                     connect, function, new_breakpoint, run, value)


def body():
    connect()
    kind = env("KVMDBG_KIND")
    n = int(env("KVMDBG_ITERS"))
    wp = new_breakpoint(f"{kind} counter")
    want_type = (gdb.BP_READ_WATCHPOINT if kind == "rwatch"
                 else gdb.BP_ACCESS_WATCHPOINT)
    expect_eq("watchpoint type", wp.type, want_type)
    per_tick = 1 if kind == "rwatch" else 2
    for i in range(n):
        for k in range(per_tick):
            expect_stop("continue", [wp])
            expect_eq(f"tick {i} hit {k}: function", function(), "tick")
            # After tick's load the counter still holds i; after its
            # store i + 1.
            expect_eq(f"tick {i} hit {k}: counter", value("counter"),
                      i + k)
    for f in ["main", "image_checksum"]:
        expect_stop("continue", [wp])
        expect_eq(f"the read in {f}: function", function(), f)
        expect_eq(f"counter in {f}", value("counter"), n)
    wp.delete()
    expect_exit("continue", 1)


run(body)
