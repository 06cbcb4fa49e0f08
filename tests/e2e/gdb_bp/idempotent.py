"""Z packets are idempotent, as gdb's protocol asks: a second Z for a
breakpoint in place changes nothing, and one z removes it. gdb relies on
it: it sends a Z again to update a breakpoint's conditions, and with
`breakpoint always-inserted on` whenever the breakpoints at a location
change, then removes the location with a single z.

1. gdb's `break tick` plus a raw `maint packet Z0` at the same address:
   gdb stops there (counter 0); once gdb deleted its breakpoint the guest
   no longer stops at tick, and a raw z0 is refused (nothing there).
2. The same for Z1 at fill_buffer.
3. always-inserted on: `break accumulate`, a condition set and cleared,
   a second `break accumulate`, `hbreak tick`, `watch counter` (gdb
   re-sends Z0 for each change), then `delete`: `monitor breakpoints`
   shows nothing left, and the guest runs to its exit without a stop.
The driver compares the guest's output, checksum included."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (bp_address, connect, expect, expect_eq,  # noqa: E402
                    expect_exit, expect_stop, new_breakpoint, pc, run,
                    value)


def packet(text):
    out = gdb.execute(f"maint packet {text}", to_string=True)
    # "sending: ...\nreceived: \"OK\"\n"
    return out.rsplit("received: ", 1)[-1].strip().strip('"')


def body():
    connect()
    bp = new_breakpoint("break tick")
    addr = bp_address(bp)
    expect_eq("raw Z0 at tick", packet(f"Z0,{addr:x},1"), "OK")
    expect_stop("continue", [bp])
    expect_eq("pc", pc(), addr)
    expect_eq("counter at gdb's breakpoint", value("counter"), 0)
    bp.delete()
    reply = packet(f"z0,{addr:x},1")
    expect(f"a raw z0 at tick finds nothing there: {reply!r}",
           reply.startswith("E"))

    hb = new_breakpoint("hbreak fill_buffer")
    faddr = bp_address(hb)
    expect_eq("raw Z1 at fill_buffer", packet(f"Z1,{faddr:x},1"), "OK")
    expect_stop("continue", [hb])
    expect_eq("n at gdb's hbreak", value("n"), 0)
    hb.delete()
    reply = packet(f"z1,{faddr:x},1")
    expect(f"a raw z1 at fill_buffer finds nothing there: {reply!r}",
           reply.startswith("E"))

    gdb.execute("set breakpoint always-inserted on")
    acc = new_breakpoint("break accumulate")
    gdb.execute(f"condition {acc.number} v == 2")
    gdb.execute(f"condition {acc.number}")
    new_breakpoint("break accumulate")
    new_breakpoint("hbreak tick")
    new_breakpoint("watch counter")
    gdb.execute("delete")
    got = gdb.execute("monitor breakpoints", to_string=True).splitlines()
    expect_eq("nothing left after delete",
              [ln for ln in got if ln.startswith("  ")], [])
    expect_exit("continue", 1)


run(body)
