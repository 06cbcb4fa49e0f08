"""The stdio transport (`target remote | kvmdbg --stdio GUEST`): registers
read, stepi moves pc by one instruction, and the guest runs to exit code 1.
The driver checks that the guest console went to kvmdbg's stderr."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdbtest import (connect, env, expect_eq, expect_exit, pc,  # noqa: E402
                     reg, resume, run)
from elfimage import Image  # noqa: E402


def body():
    img = Image(env("KVMDBG_GUEST"))
    expect_eq("the stop on connecting", connect(), ("stop", None))
    expect_eq("pc at the entry", pc(), img.entry)
    expect_eq("$rdi", reg("rdi"), 0x7000)
    expect_eq("$cr3", reg("cr3"), 0x1000)
    length = gdb.selected_frame().architecture().disassemble(pc())[0][
        "length"]
    expect_eq("stepi", resume("stepi"), ("stop", None))
    expect_eq("pc after stepi", pc(), img.entry + length)
    expect_exit("continue", 1)


run(body)
