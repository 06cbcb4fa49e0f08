"""Attach with no local file: gdb learns the image through qXfer:exec-file
(kvmdbg was started from another directory with a relative path), loads
its symbols, and they agree with the ELF's symbol table. Then the guest
runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdbtest import (connect, env, expect, expect_eq, expect_exit,  # noqa
                     pc, run)
from elfimage import Image  # noqa: E402


def body():
    guest = env("KVMDBG_GUEST")
    img = Image(guest)
    expect_eq("no file before connecting", gdb.current_progspace().filename,
              None)
    stop = connect()
    expect_eq("the stop on connecting", stop, ("stop", None))
    expect_eq("the file gdb loaded", gdb.current_progspace().filename,
              os.path.realpath(guest))
    expect_eq("pc at the guest's entry", pc(), img.entry)
    names = env("KVMDBG_SYMBOLS").split(",")
    for name in names:
        sym = gdb.lookup_global_symbol(name)
        expect(f"gdb.lookup_global_symbol({name!r})", sym is not None,
               "not found")
        expect_eq(f"address of {name}", int(sym.value().address),
                  img.symbols[name])
    func = gdb.selected_frame().function()
    expect("the entry frame has a function", func is not None)
    expect_eq("the entry frame's function", func.name,
              env("KVMDBG_ENTRY_FUNCTION"))
    expect_exit("continue", 1)


run(body)
