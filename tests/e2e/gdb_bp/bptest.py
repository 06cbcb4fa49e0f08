"""Helpers for kvmdbg's breakpoint and watchpoint gdb scripts, on top of
tests/e2e/gdb/gdbtest.py (imported by path, unchanged): stops are still
observed through gdb.events and state read with parse_and_eval. Adds what
breakpoint tests need: a breakpoint's address, the function and source line
of the selected frame, line numbers found by searching the guest's C source
for marker text, and the instruction that ended right before a pc (to check
which access a watchpoint reported)."""
import os
import re
import sys

import gdb

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "gdb"))
from gdbtest import (MASK64, Failure, connect, env, exits,  # noqa: E402,F401
                     expect, expect_eq, expect_exit, log, pc, read, reg,
                     resume, run, stops, symbol_address)
from elfimage import Image  # noqa: E402,F401


def value(expr):
    """An integer expression in the guest, as a Python int."""
    return int(gdb.parse_and_eval(expr))


def bp_address(bp):
    """The address of a code breakpoint with exactly one location."""
    locs = bp.locations
    expect(f"breakpoint {bp.number} ({bp.location}) has one location",
           len(locs) == 1, f"{len(locs)} locations")
    return int(locs[0].address) & MASK64


def new_breakpoint(cmd):
    """Run a breakpoint-creating command (`hbreak tick`, `rwatch counter`)
    and return the gdb.Breakpoint it made."""
    before = {b.number for b in gdb.breakpoints()}
    gdb.execute(cmd)
    made = [b for b in gdb.breakpoints() if b.number not in before]
    expect(f"{cmd!r} made one breakpoint", len(made) == 1,
           f"made {[b.number for b in made]}")
    return made[0]


def numbers():
    """The numbers of the breakpoints gdb still has."""
    return sorted(b.number for b in gdb.breakpoints())


def function():
    """The name of the selected frame's function."""
    return gdb.selected_frame().name()


def line():
    return gdb.selected_frame().find_sal().line


def where():
    """The selected frame as text, for failure messages."""
    f = gdb.selected_frame()
    return f"{f.name()} line {f.find_sal().line} pc {pc():#x}"


def expect_stop(cmd, bps):
    """cmd ends with a BreakpointEvent for exactly the breakpoints bps
    (gdb.Breakpoints or their numbers, in any order)."""
    want = sorted(b if isinstance(b, int) else b.number for b in bps)
    ev = resume(cmd)
    if ev[0] == "breakpoint":
        ev = ("breakpoint", sorted(ev[1]))
    expect_eq(f"{cmd!r}: the stop (now at "
              f"{where() if ev[0] != 'exited' else 'the exit'})",
              ev, ("breakpoint", want))
    return ev


def expect_step(cmd):
    """cmd (next, step, finish, until, stepi, nexti) ends with a plain stop,
    not a breakpoint, signal or exit."""
    ev = resume(cmd)
    expect_eq(f"{cmd!r}: event", ev, ("stop", None))


_source = {}


def source_lines(symbol="main"):
    """The lines of the C file that defines symbol, read from disk through
    the path in the debug info."""
    sym = gdb.lookup_global_symbol(symbol)
    expect(f"symbol {symbol} with a symtab", sym is not None and
           sym.symtab is not None)
    path = sym.symtab.fullname()
    if path not in _source:
        with open(path) as f:
            _source[path] = f.read().splitlines()
    return _source[path]


def source_line(marker, after=0, symbol="main", exact=False):
    """The 1-based number of the first line after line `after` of
    symbol's source file that contains marker (or, with exact, is marker
    once stripped)."""
    lines = source_lines(symbol)
    for i in range(after, len(lines)):
        text = lines[i].strip() if exact else lines[i]
        if (text == marker) if exact else (marker in text):
            return i + 1
    raise Failure(f"no line {marker!r} after line {after} in the source of "
                  f"{symbol}")


def function_range(name):
    """[start, end) of a function, from its block."""
    start = symbol_address(name)
    block = gdb.block_for_pc(start)
    while block is not None and block.function is None:
        block = block.superblock
    expect(f"a block for {name}", block is not None)
    return int(block.start), int(block.end)


def insn_before(addr):
    """The instruction that ends exactly at addr, found by disassembling
    its function from the start: {"addr", "length", "asm"}."""
    block = gdb.block_for_pc(addr - 1)
    while block is not None and block.function is None:
        block = block.superblock
    expect(f"a function around {addr:#x}", block is not None)
    arch = gdb.selected_frame().architecture()
    for insn in arch.disassemble(int(block.start), addr - 1):
        if insn["addr"] + insn["length"] == addr:
            return {"addr": insn["addr"], "length": insn["length"],
                    "asm": insn["asm"]}
    raise Failure(f"no instruction of {block.function.name} ends at "
                  f"{addr:#x}")


def access(insn, symbol):
    """How an AT&T-syntax instruction touches a global symbol: "read" when
    its memory operand is the source, "write" when it is the destination
    (the last operand); None when it does not name symbol."""
    if f"<{symbol}>" not in insn["asm"] and \
            f"<{symbol}+" not in insn["asm"]:
        return None
    ops = insn["asm"].split("#")[0].split(None, 1)
    operands = ops[1] if len(ops) > 1 else ""
    # Split on commas outside parentheses: "0x1f3f(%rip),%rax".
    parts = re.split(r",(?![^()]*\))", operands.strip())
    return "write" if "(" in parts[-1] else "read"
