"""The two arm64 register pools, full at once: KVM reports 6 breakpoint
and 4 watchpoint registers here, and kvmdbg gives gdb all ten. With
`breakpoint always-inserted on`, six `hbreak`s and four one-variable
`watch`es are inserted together; `monitor breakpoints` must show every
breakpoint slot and every watchpoint slot used, at gdb's addresses, and
nothing on page protection. A seventh hbreak has no register left: gdb
must say so and the six stay. Then the guest runs into them: main, then
per loop iteration the hbreaks in tick, accumulate and fill_buffer and
the watchpoints on counter, total and buffer[0], each at its own stop
with the value the loop's arithmetic gives."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from a64test import (address, connect, expect, expect_eq,  # noqa: E402
                     expect_exit, expect_stop, function, new_breakpoint,
                     pc, run, value)


def monitor(cmd):
    return gdb.execute(f"monitor {cmd}", to_string=True)


def body():
    connect()
    gdb.execute("set breakpoint always-inserted on")
    names = ["main", "tick", "accumulate", "fill_buffer", "image_checksum"]
    hb = {n: new_breakpoint(f"hbreak *{address(n)}") for n in names}
    # The sixth: the instruction after tick's first.
    hb["tick+4"] = new_breakpoint(f"hbreak *{address('tick') + 4}")
    watched = ["counter", "total", "buffer[0]", "buffer[63]"]
    wp = {w: new_breakpoint(f"watch {w}") for w in watched}
    for w, b in wp.items():
        expect_eq(f"watch {w}: type", b.type, gdb.BP_HARDWARE_WATCHPOINT)

    exec_lines = sorted(
        f"execute {int(b.locations[0].address):#x}"
        for b in hb.values())
    data_lines = sorted(
        f"write {value(f'(unsigned long)&{w}'):#x} len "
        f"{value(f'sizeof({w})')}" for w in watched)
    text = monitor("breakpoints")
    print(text)
    lines = text.splitlines()
    expect("breakpoint slots: 6, 6 used" in lines, "6 of 6 used", text)
    expect("watchpoint slots: 4, 4 used" in lines, "4 of 4 used", text)
    expect("page-protection watchpoints: 0 on 0 pages" in lines,
           "no page protection", text)
    got = sorted(s.split(": ", 1)[1] for s in lines
                 if s.startswith("  ") and ": " in s)
    expect_eq("slot contents", got, sorted(exec_lines + data_lines))

    # A seventh hardware breakpoint has no register: gdb reports the
    # failed insertion and kvmdbg's slots are unchanged.
    try:
        gdb.execute(f"hbreak *{address('image_checksum') + 4}",
                    to_string=True)
        err = ""
    except gdb.error as e:
        err = str(e)
    expect("the seventh hbreak is refused", "Could not insert" in err, err)
    extra = [b for b in gdb.breakpoints()
             if b.number not in {x.number for x in hb.values()} |
             {x.number for x in wp.values()}]
    for b in extra:
        b.delete()
    expect_eq("slots after the refusal", monitor("breakpoints"), text)

    expect_stop("continue", [hb["main"]])
    # Iteration 0: tick, tick+4, counter 0 -> 1; accumulate (0 over 0:
    # gdb does not report an unchanged value); fill_buffer(0) writes
    # buffer[0] = 0 over 0 (unchanged as well).
    expect_stop("continue", [hb["tick"]])
    expect_stop("continue", [hb["tick+4"]])
    expect_stop("continue", [wp["counter"]])
    expect_eq("counter after the first tick", value("counter"), 1)
    expect_eq("in tick", function(), "tick")
    expect_stop("continue", [hb["accumulate"]])
    expect_stop("continue", [hb["fill_buffer"]])
    # Iteration 1: total 0 -> 1 in accumulate.
    expect_stop("continue", [hb["tick"]])
    expect_stop("continue", [hb["tick+4"]])
    expect_stop("continue", [wp["counter"]])
    expect_eq("counter after the second tick", value("counter"), 2)
    expect_stop("continue", [hb["accumulate"]])
    expect_stop("continue", [wp["total"]])
    expect_eq("total after accumulate(1)", value("total"), 1)
    expect_eq("in accumulate", function(), "accumulate")
    expect_stop("continue", [hb["fill_buffer"]])
    # fill_buffer(1) writes buffer[1..8]: buffer[0] is not touched.
    expect_stop("continue", [hb["tick"]])
    expect(f"pc at tick ({pc():#x})", pc() == address("tick"))
    for b in gdb.breakpoints():
        b.delete()
    expect_eq("nothing left", monitor("breakpoints").splitlines()[:1],
              ["software breakpoints: 0"])
    expect_exit("continue", 1)


run(body)
