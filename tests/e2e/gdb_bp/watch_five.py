"""Five watchpoints at once on loop.elf (iters=N, N >= 58 so that the
loop's fill_buffer wraps around to buffer[0]): watch counter, watch total,
watch buffer[0], rwatch buffer[9], awatch buffer[20], all on one page.
The guest runs to its exit under them. Each stop is a BreakpointEvent for
exactly one of them and it is the right one: a write watchpoint's value
changed since the last stop and no other watched value did; the read
watchpoint stops only in image_checksum (the one reader of buffer[9]); the
access watchpoint stops in fill_buffer when buffer[20] changes to
8n + k, or in image_checksum. Per watchpoint, the number of stops is
exactly what the loop's arithmetic gives:
  counter: N (every tick), total: N - 1 (accumulate(0) stores 0 over 0),
  buffer[0]: the n = 57.. writes that change it (index (n + k) % 64 = 0),
  buffer[9]: 1 (the checksum's read), buffer[20]: 8 writes (n = 13..20)
  plus the checksum's read."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (Failure, connect, env, exits, expect,  # noqa: E402
                    expect_eq, function, log, new_breakpoint, resume, run,
                    value, where)


def expected_counts(iters):
    buf = [0] * 64
    changes = {0: 0, 20: 0}
    for n in range(iters):
        for k in range(8):
            idx, v = (n + k) % 64, (n * 8 + k) & 0xff
            if idx in changes and buf[idx] != v:
                changes[idx] += 1
            buf[idx] = v
    return {"counter": iters, "total": iters - 1, "buffer[0]": changes[0],
            "buffer[9]": 1, "buffer[20]": changes[20] + 1}


def body():
    iters = int(env("KVMDBG_ITERS"))
    expect(f"iters={iters} reaches buffer[0] again", iters >= 58)
    connect()
    wps = {}
    for cmd, expr in (("watch", "counter"), ("watch", "total"),
                      ("watch", "buffer[0]"), ("rwatch", "buffer[9]"),
                      ("awatch", "buffer[20]")):
        wps[expr] = new_breakpoint(f"{cmd} {expr}")
    by_number = {b.number: expr for expr, b in wps.items()}
    writes = ("counter", "total", "buffer[0]")
    want = expected_counts(iters)
    counts = dict.fromkeys(wps, 0)
    last = {e: value(e) for e in wps}
    for step in range(sum(want.values()) + 5):
        ev = resume("continue")
        if ev[0] == "exited":
            break
        if ev[0] != "breakpoint" or len(ev[1]) != 1:
            raise Failure(f"stop {step}: want a BreakpointEvent for one "
                          f"watchpoint, got {ev} at {where()}")
        expr = by_number[ev[1][0]]
        counts[expr] += 1
        now = {e: value(e) for e in wps}
        changed = sorted(e for e in writes + ("buffer[20]",)
                         if now[e] != last[e])
        fn = function()
        what = f"stop {step} ({expr} reported, at {where()})"
        if expr in writes:
            expect_eq(f"{what}: the watched values that changed", changed,
                      [expr])
            expect_eq(f"{what}: function", fn, {
                "counter": "tick", "total": "accumulate",
                "buffer[0]": "fill_buffer"}[expr])
        elif expr == "buffer[9]":
            expect_eq(f"{what}: function", fn, "image_checksum")
            expect_eq(f"{what}: the watched values that changed", changed,
                      [])
        elif fn == "fill_buffer":
            expect_eq(f"{what}: the watched values that changed", changed,
                      ["buffer[20]"])
            expect_eq(f"{what}: buffer[20] = 8n + k", now["buffer[20]"],
                      (value("n") * 8 + value("k")) & 0xff)
        else:
            expect_eq(f"{what}: function", fn, "image_checksum")
            expect_eq(f"{what}: the watched values that changed", changed,
                      [])
        expect_eq(f"{what}: hit_count", wps[expr].hit_count, counts[expr])
        last = now
    log(f"stops per watchpoint: {counts}")
    expect_eq("the run's end", exits[-1:], [1])
    expect_eq("stops per watchpoint", counts, want)


run(body)
