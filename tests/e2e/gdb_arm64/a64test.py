"""Helpers for kvmdbg's arm64 gdb scripts (gdb-multiarch against kvmdbg on
real arm64 KVM): tests/e2e/gdb_bp/bptest.py's, plus A64 specifics."""
import os
import sys

import gdb  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "gdb_bp"))
from bptest import (MASK64, Failure, bp_address, connect, env,  # noqa
                    exits, expect, expect_eq, expect_exit, expect_step,
                    expect_stop, function, function_range, line, log,
                    new_breakpoint, pc, read, reg, resume, run,
                    source_line, stops, symbol_address, value, where)


def insn_at(addr):
    """The A64 instruction at addr, as gdb disassembles it."""
    arch = gdb.selected_frame().architecture()
    return arch.disassemble(addr)[0]["asm"]


def address(name):
    """A symbol's address, with or without debug info (crt0's labels
    have none)."""
    return int(gdb.parse_and_eval(f"(unsigned long)&{name}")) & MASK64
