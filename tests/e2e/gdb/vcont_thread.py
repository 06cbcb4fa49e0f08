"""Per-thread resumption on --smp 2 (smp.elf): with scheduler-locking
step, stepi on thread 2 sends vCont;s:2 (the driver finds it in gdb's
`set debug remote 1` log) and moves only thread 2, by exactly one
instruction each time, while thread 1 stays at the entry; then the same the
other way round. Without the lock (vCont;s:2;c), thread 2 still steps
exactly and reports the stops. Then the guest runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdbtest import (connect, env, expect_eq, expect_exit, pc,  # noqa: E402
                     resume, run)
from elfimage import Image  # noqa: E402

# The first instructions of _start32 (32-bit code): cli, cld,
# mov %ebx,%edi. gdb's amd64 disassembler would misread 32-bit code, so
# the lengths come from the image's bytes.
FIRST = [(b"\xfa", 1), (b"\xfc", 1), (b"\x89\xdf", 2)]


def pcs():
    out = {}
    cur = gdb.selected_thread().num
    for t in gdb.selected_inferior().threads():
        gdb.execute(f"thread {t.num}", to_string=True)
        out[t.num] = pc()
    gdb.execute(f"thread {cur}", to_string=True)
    return out


def step(tid, other, entry, img, alone):
    """stepi thread tid through FIRST; with alone, other must not move."""
    gdb.execute(f"thread {tid}", to_string=True)
    want = entry
    for code, length in FIRST:
        expect_eq(f"bytes at {want:#x}", img.bytes_at(want, len(code)), code)
        gdb.execute("set debug remote 1")
        ev = resume("stepi")
        gdb.execute("set debug remote 0")
        expect_eq(f"thread {tid} stepi", ev, ("stop", None))
        expect_eq("thread of the stop", gdb.selected_thread().num, tid)
        want += length
        got = pcs()
        expect_eq(f"thread {tid} pc after its stepi", got[tid], want)
        if alone:
            expect_eq(f"thread {other} pc while thread {tid} steps",
                      got[other], entry)


def body():
    img = Image(env("KVMDBG_GUEST"))
    entry = img.symbols["_start32"]
    connect()
    expect_eq("pcs at the start", pcs(), {1: entry, 2: entry})
    gdb.execute("set scheduler-locking step")
    step(2, 1, entry, img, alone=True)
    # Put thread 2 back at the entry so thread 1 can be checked against
    # an unmoved partner in the same way.
    gdb.execute("thread 2", to_string=True)
    gdb.execute(f"set $pc = {entry:#x}")
    step(1, 2, entry, img, alone=True)
    # Both back at the entry (re-running cli, cld and a mov is harmless).
    for tid in (2, 1):
        gdb.execute(f"thread {tid}", to_string=True)
        gdb.execute(f"set $pc = {entry:#x}")
    # Without the lock gdb sends vCont;s:2;c: thread 2 still steps
    # exactly and reports the stop while thread 1 runs (where it gets to
    # is not checked).
    gdb.execute("set scheduler-locking off")
    step(2, 1, entry, img, alone=False)
    gdb.execute("thread 1", to_string=True)
    expect_exit("continue", 1)


run(body)
