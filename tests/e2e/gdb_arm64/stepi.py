"""stepi on A64: from tick's first instruction, each stepi moves the pc
by exactly 4 bytes while the code runs straight on, each a plain stop;
`x/i $pc` names the instruction. Then the guest runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from a64test import (expect_eq, expect_exit, expect_step,  # noqa: E402
                     expect_stop, connect, function_range, insn_at,
                     new_breakpoint, pc, run)


def body():
    connect()
    bp = new_breakpoint("break *tick")
    expect_stop("continue", [bp])
    start, end = function_range("tick")
    expect_eq("stopped at tick", pc(), start)
    bp.delete()
    here = pc()
    for i in range(5):
        insn = insn_at(here)
        expect_step("stepi")
        expect_eq(f"stepi {i + 1} over {insn!r}", pc(), here + 4)
        here = pc()
    expect_exit("continue", 1)


run(body)
