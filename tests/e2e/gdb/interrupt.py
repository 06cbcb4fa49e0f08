"""Ctrl-C on the never-halting spin guest: continue, SIGINT to gdb after
two seconds, the stop is a SIGINT of thread 1 inside main (with --smp 2,
the other vCPU is stopped in its hlt park loop); `spins` grows across a
second continue and interrupt (the guest really ran between them). Then
kill."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdbtest import (connect, expect, expect_eq, interrupt_after,  # noqa
                     pc, resume, run)


def in_function(name):
    block = gdb.block_for_pc(pc())
    func = block.function if block else None
    expect(f"pc {pc():#x} in {name}()", func is not None and
           func.name == name, f"function: {func.name if func else None}")


def continue_and_interrupt():
    timer = interrupt_after(2.0)
    try:
        ev = resume("continue")
    finally:
        timer.cancel()
        timer.join()
    expect_eq("the stop after Ctrl-C", ev, ("signal", "SIGINT"))
    expect_eq("the thread that stopped", gdb.selected_thread().num, 1)
    in_function("main")
    # With --smp 2 the other vCPU is parked in hlt (blocked inside
    # KVM_RUN): it must have stopped too, and still be parked.
    for t in gdb.selected_inferior().threads():
        if t.num != 1:
            gdb.execute(f"thread {t.num}", to_string=True)
            in_function("guest_park")
    gdb.execute("thread 1", to_string=True)
    return int(gdb.parse_and_eval("spins"))


def body():
    connect()
    expect_eq("spins before running", int(gdb.parse_and_eval("spins")), 0)
    first = continue_and_interrupt()
    expect("spins after the first interrupt", first > 0, str(first))
    second = continue_and_interrupt()
    expect("spins grew across continue and interrupt", second > first,
           f"{first} then {second}")
    gdb.execute("kill")


run(body)
