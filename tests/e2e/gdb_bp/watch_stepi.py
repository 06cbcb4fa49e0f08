"""stepi over an instruction that sets off a watchpoint reports the
watchpoint: with `watch total` set in accumulate(1) before `total += v`,
stepi up to the store, then stepi over it: the stop is a BreakpointEvent
for the watchpoint (old value 0, new value 1) at the next instruction,
not a plain step. A read watchpoint likewise on the load: with `rwatch
counter`, stepi over tick's load of counter in tick(2) reports it. Then
they go and the guest runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (access, connect, expect_eq, expect_exit,  # noqa: E402
                    expect_step, expect_stop, new_breakpoint, pc, run,
                    value)


def insn():
    return gdb.selected_frame().architecture().disassemble(pc())[0]


def step_to(symbol, kind):
    """stepi until the instruction at pc reads or writes symbol."""
    for _ in range(10):
        i = insn()
        if access({"asm": i["asm"]}, symbol) == kind:
            return i
        expect_step("stepi")
    raise AssertionError(f"no {kind} of {symbol} within 10 instructions")


def body():
    connect()
    bp = new_breakpoint("break accumulate if v == 1")
    expect_stop("continue", [bp])
    bp.delete()
    wp = new_breakpoint("watch total")
    store = step_to("total", "write")
    expect_eq("total before the store", value("total"), 0)
    expect_stop("stepi", [wp])
    expect_eq("pc after stepping over the store", pc(),
              store["addr"] + store["length"])
    expect_eq("total after the store", value("total"), 1)
    wp.delete()

    bp = new_breakpoint("break tick if counter == 2")
    expect_stop("continue", [bp])
    bp.delete()
    rw = new_breakpoint("rwatch counter")
    load = step_to("counter", "read")
    expect_stop("stepi", [rw])
    expect_eq("pc after stepping over the load", pc(),
              load["addr"] + load["length"])
    expect_eq("counter at the read", value("counter"), 2)
    rw.delete()
    expect_exit("continue", 1)


run(body)
