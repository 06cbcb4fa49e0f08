"""One 32-byte write watchpoint, `watch buffer[0]@32` (gdb sends a single
Z2 of length 32), set when fill_buffer(n) is entered for n = FIRST_N
(a breakpoint with an ignore count gets there). From there the guest runs
to its exit; fill_buffer(n) writes buffer[(n + k) % 64] = 8n + k for k =
0..7. gdb must stop exactly once for each of those writes that lands in
buffer[0..32) and changes the byte, the last byte of the range (index 31)
included, and never for the writes to buffer[32..64): at each stop n and
k are those of the write and the whole of buffer is what the loop's
arithmetic says after it. The driver checks the packet log too, where
gdb's own filtering cannot hide a stop reply for an outside write."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (connect, env, expect, expect_eq,  # noqa: E402
                    expect_exit, expect_stop, function, log,
                    new_breakpoint, read, run, symbol_address, value)


def simulate(iters, first_n):
    """buffer when fill_buffer(first_n) starts, and the writes from there
    on that gdb reports: [(n, k, index, buffer after the write)]."""
    buf = bytearray(64)
    events = []
    for n in range(iters):
        for k in range(8):
            idx, v = (n + k) % 64, (n * 8 + k) & 0xff
            report = n >= first_n and idx < 32 and buf[idx] != v
            buf[idx] = v
            if report:
                events.append((n, k, idx, bytes(buf)))
        if n == first_n - 1:
            start = bytes(buf)
    return start, events


def body():
    iters, first_n = int(env("KVMDBG_ITERS")), int(env("KVMDBG_FIRST_N"))
    start, events = simulate(iters, first_n)
    expect("a write to the range's last byte is among them",
           any(e[2] == 31 for e in events))
    expect("the loop writes past the range too", iters + 7 > 32)
    connect()
    buf = symbol_address("buffer")
    bp = new_breakpoint("break fill_buffer")
    bp.ignore_count = first_n
    expect_stop("continue", [bp])
    expect_eq("n at the breakpoint", value("n"), first_n)
    bp.delete()
    expect_eq("buffer when fill_buffer(FIRST_N) starts", read(buf, 64),
              start)
    gdb.execute("set debug remote 1")
    wp = new_breakpoint("watch buffer[0]@32")
    expect_eq("watchpoint type", wp.type, gdb.BP_HARDWARE_WATCHPOINT)
    for i, (n, k, idx, after) in enumerate(events):
        what = f"stop {i + 1} of {len(events)} (n={n} k={k}: buffer[{idx}])"
        expect_stop("continue", [wp])
        expect_eq(f"{what}: function", function(), "fill_buffer")
        expect_eq(f"{what}: (n, k)", (value("n"), value("k")), (n, k))
        expect_eq(f"{what}: buffer", read(buf, 64), after)
    log(f"{len(events)} stops, the last at buffer[{events[-1][2]}]")
    expect_exit("continue", 1)
    expect_eq("hit_count", wp.hit_count, len(events))


run(body)
