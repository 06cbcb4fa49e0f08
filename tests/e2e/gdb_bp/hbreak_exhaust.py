"""x86 has four debug address registers: with five `hbreak`s (tick,
accumulate, fill_buffer, image_checksum and main's `for` line) gdb cannot
insert them all, and `continue` fails: gdb warns "Cannot insert hardware
breakpoint 5. Could not insert hardware breakpoints: You may have
requested too many hardware breakpoints/watchpoints." and raises gdb.error
("Command aborted."); the guest has not moved. After deleting one (main's), the
other four work: continue stops at tick, accumulate, fill_buffer in turn.
In the packet log of the failed continue, kvmdbg accepted four Z1 and
refused the fifth with an error reply. Then they go and the guest runs to
its exit."""
import os
import re
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (connect, exits, expect, expect_eq,  # noqa
                    expect_exit, expect_stop, function, log,
                    new_breakpoint, pc, run, source_line, stops, value)


class Catch(gdb.Command):
    """kvmdbg-catch COMMAND: run COMMAND; print a gdb.error it raises."""

    def __init__(self):
        super().__init__("kvmdbg-catch", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        try:
            gdb.execute(arg)
        except gdb.error as e:
            print(f"gdb.error: {e}")


def body():
    Catch()
    connect()
    entry = pc()
    main_for = source_line("for (i = 0; i < iters; i++)")
    bps = {}
    for where in ("tick", "accumulate", "fill_buffer", "image_checksum",
                  f"loop.c:{main_for}"):
        bps[where] = new_breakpoint(f"hbreak {where}")
        expect_eq(f"hbreak {where}: type", bps[where].type,
                  gdb.BP_HARDWARE_BREAKPOINT)
    ns, ne = len(stops), len(exits)
    # gdb prints why as a warning and raises gdb.error("Command
    # aborted."); catching the error inside a command run with to_string
    # keeps both.
    gdb.execute("set debug remote 1")
    out = gdb.execute("kvmdbg-catch continue", to_string=True)
    gdb.execute("set debug remote 0")
    log("continue with five hbreaks:\n" + "".join(
        ln for ln in out.splitlines(True) if "[remote]" not in ln))
    # The debug log went into the captured text as well.
    replies = re.findall(r"Sending packet: \$Z1,[0-9a-f]+,1#[0-9a-f]{2}\n"
                         r"\s*\[remote\] Packet received: ([^\n]*)", out)
    expect_eq("kvmdbg's replies to the first four Z1", replies[:4],
              ["OK"] * 4)
    expect("kvmdbg refused the fifth Z1 with an error",
           len(replies) == 5 and re.fullmatch(r"E[0-9a-f]{2}", replies[4]),
           str(replies))
    expect("continue raised gdb.error", "gdb.error: " in out, out)
    expect("gdb names the hardware breakpoint limit",
           "Could not insert hardware breakpoint" in out and
           "too many hardware breakpoints" in out, out)
    expect_eq("events from the failed continue", (stops[ns:], exits[ne:]),
              ([], []))
    expect_eq("pc after the failed continue", pc(), entry)
    bps.pop(f"loop.c:{main_for}").delete()
    for i, fn in enumerate(("tick", "accumulate", "fill_buffer")):
        expect_stop("continue", [bps[fn]])
        expect_eq(f"stop {i + 1}: function", function(), fn)
        expect_eq(f"stop {i + 1}: counter", value("counter"), 1 if i else 0)
    expect_stop("continue", [bps["tick"]])
    expect_eq("counter at the second tick", value("counter"), 1)
    for bp in bps.values():
        bp.delete()
    expect_exit("continue", 1)


run(body)
