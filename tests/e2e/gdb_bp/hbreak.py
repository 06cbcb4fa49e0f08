"""`hbreak fill_buffer`: a hardware breakpoint (gdb.BP_HARDWARE_BREAKPOINT,
sent as Z1) stops at fill_buffer's first line three times, with n = 0, 1,
2, at its address; the code there reads as the image's bytes (nothing
patched). Then it goes and the guest runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (Image, bp_address, connect, env, expect_eq,  # noqa
                    expect_exit, expect_stop, function, new_breakpoint,
                    pc, read, run, value)


def body():
    img = Image(env("KVMDBG_GUEST"))
    connect()
    gdb.execute("set breakpoint always-inserted on")
    bp = new_breakpoint("hbreak fill_buffer")
    expect_eq("breakpoint type", bp.type, gdb.BP_HARDWARE_BREAKPOINT)
    addr = bp_address(bp)
    expect_eq("code at the inserted hw breakpoint", read(addr, 8).hex(),
              img.bytes_at(addr, 8).hex())
    for n in range(3):
        expect_stop("continue", [bp])
        expect_eq(f"hit {n + 1}: pc", pc(), addr)
        expect_eq(f"hit {n + 1}: function", function(), "fill_buffer")
        expect_eq(f"hit {n + 1}: n", value("n"), n)
        expect_eq(f"hit {n + 1}: counter", value("counter"), n + 1)
        expect_eq(f"hit {n + 1}: hit_count", bp.hit_count, n + 1)
    bp.delete()
    expect_exit("continue", 1)


run(body)
