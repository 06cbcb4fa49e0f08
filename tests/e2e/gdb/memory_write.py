"""Memory writes on loop.elf before it runs: raw bytes into `buffer` and a
page-crossing block of free RAM read back equal; a write to an unmapped
address raises gdb.MemoryError and changes nothing; `counter` set to 1000
through an expression is what the guest then counts from (the driver checks
it prints counter=1100)."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdbtest import (Failure, connect, expect_eq, expect_exit,  # noqa: E402
                     read, run, symbol_address)

SCRATCH = 0x400000  # free RAM: above the image, below the default 128 MiB


def body():
    connect()
    inf = gdb.selected_inferior()
    buf = symbol_address("buffer")
    expect_eq("buffer before", read(buf, 64), bytes(64))
    pattern = bytes(range(0xa0, 0xa8))
    inf.write_memory(buf, pattern)
    expect_eq("buffer[0..8) after write_memory", read(buf, 8), pattern)
    gdb.execute("set var buffer[8] = 0x5a")
    gdb.execute("set {unsigned char[4]}(buffer + 9) = {1, 2, 3, 4}")
    expect_eq("buffer[8..13) after set", read(buf + 8, 5),
              bytes([0x5a, 1, 2, 3, 4]))
    expect_eq("buffer[8] through parse_and_eval",
              int(gdb.parse_and_eval("buffer[8]")), 0x5a)

    # 3 pages of data straddling page boundaries, in one write.
    block = bytes((i * 7 + 3) & 0xff for i in range(3 * 4096 + 100))
    start = SCRATCH + 4096 - 50
    inf.write_memory(start, block)
    expect_eq("page-crossing block read back", read(start, len(block)),
              block)

    before = read(0x7ffff8, 8)
    # loop.elf starts in 32-bit protected mode without paging: addresses
    # are physical and, as on the CPU (and in QEMU's gdbstub), 32 bits
    # wide, so the unmapped address must lie below 4 GiB, past RAM.
    try:
        inf.write_memory(0x10000000, b"\x11" * 8)
        raise Failure("writing to 0x10000000 (past RAM) did not raise")
    except gdb.MemoryError:
        pass
    # All or nothing: a write that runs off the end of RAM writes nothing.
    ram_end = 128 << 20
    tail = read(ram_end - 4, 4)
    try:
        inf.write_memory(ram_end - 4, b"\x22" * 8)
        raise Failure(f"writing past the end of RAM at {ram_end - 4:#x} "
                      "did not raise")
    except gdb.MemoryError:
        pass
    expect_eq("RAM before a failed write", read(ram_end - 4, 4), tail)
    expect_eq("unrelated RAM", read(0x7ffff8, 8), before)

    gdb.execute("set var counter = 1000")
    expect_eq("counter", int(gdb.parse_and_eval("counter")), 1000)
    expect_exit("continue", 1)


run(body)
