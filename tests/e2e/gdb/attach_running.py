"""Attaching to a guest that runs (kvmdbg --no-wait on spin.elf): the
connection stops it with SIGINT inside its spin loop, after it has
counted; continue and Ctrl-C work; detach lets it run on (the driver
checks kvmdbg is still running and stops it)."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdbtest import (connect, expect, expect_eq, interrupt_after,  # noqa
                     pc, resume, run)


def in_main():
    block = gdb.block_for_pc(pc())
    func = block.function if block else None
    expect(f"pc {pc():#x} inside main", func is not None and
           func.name == "main", f"function: {func.name if func else None}")


def body():
    expect_eq("the stop on attaching", connect(), ("signal", "SIGINT"))
    in_main()
    spins = int(gdb.parse_and_eval("spins"))
    expect("the guest counted before the attach", spins > 0, str(spins))
    again = int(gdb.parse_and_eval("spins"))
    expect_eq("spins while stopped", again, spins)
    timer = interrupt_after(1.0)
    ev = resume("continue")
    timer.join()
    expect_eq("the stop after Ctrl-C", ev, ("signal", "SIGINT"))
    in_main()
    later = int(gdb.parse_and_eval("spins"))
    expect("spins grew across continue", later > spins,
           f"{spins} then {later}")
    gdb.execute("detach")


run(body)
