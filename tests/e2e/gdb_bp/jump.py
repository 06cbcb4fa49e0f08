"""`jump` onto a breakpoint stops there at once ("Execution stops again
immediately if there is a breakpoint there", gdb's manual): a breakpoint
(KVMDBG_BREAK: `break`, an INT3, or `hbreak`, a debug register) on main's
`call tick` stops with i = 0; stepi enters tick (gdb steps over
its own breakpoint); `jump *CALL` sets pc back to the call (pc is not
where the thread last stopped, so gdb does not step over the breakpoint:
it inserts it and continues) and the guest must stop right there, with i
and counter still 0, not one iteration later. Leaving tick's frame before
its prologue is harmless: main addresses its locals through rbp and
`leave` drops the extra return address. Then the breakpoint goes and the
guest runs to its exit, with tick called N times as in a plain run."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (bp_address, connect, env, expect, expect_eq,  # noqa: E402
                    expect_exit, expect_step, expect_stop, function,
                    new_breakpoint, pc, run, symbol_address, value)


def body():
    connect()
    call = None
    bp0 = new_breakpoint("break main")
    expect_stop("continue", [bp0])
    bp0.delete()
    arch = gdb.selected_frame().architecture()
    start = symbol_address("main")
    for insn in arch.disassemble(start, start + 0x100):
        if insn["asm"].split()[0].startswith("call") and \
                "<tick>" in insn["asm"]:
            call = insn["addr"]
            break
    expect("main calls tick", call is not None)
    bp = new_breakpoint(f"{env('KVMDBG_BREAK')} *{call:#x}")
    expect_eq("breakpoint address", bp_address(bp), call)
    expect_stop("continue", [bp])
    expect_eq("(i, counter) at the call", (value("i"), value("counter")),
              (0, 0))
    expect_step("stepi")
    expect_eq("stepi enters tick", (function(), pc()),
              ("tick", symbol_address("tick")))
    expect_stop(f"jump *{call:#x}", [bp])
    expect_eq("pc after the jump", pc(), call)
    expect_eq("(i, counter) after jumping onto the breakpoint",
              (value("i"), value("counter")), (0, 0))
    expect_eq("hit_count", bp.hit_count, 2)
    bp.delete()
    expect_exit("continue", 1)


run(body)
