"""A read watchpoint on data that shares its page with code: loop.elf's
"iters" string (main's key for guest_cmdline_ulong) sits in .rodata right
after .text, on a page that also holds code (strlen's instructions). A
page-protection read watch makes its page inaccessible, yet code on it
must still run: kvmdbg maps the page read-only for the one step of each
instruction fetched from it. What such an instruction itself reads from
that page cannot be seen: strlen's load of the string (movzbl at an
address on the same page) is one. So the first read reported is the next
one made from elsewhere: image_checksum, which hashes the whole image,
reading the string's first byte, as a BreakpointEvent for the watchpoint.
Then the watchpoint goes and the guest runs to its exit, its output equal
to a plain run's (the driver compares), so the lifted page cost the guest
nothing. Where the probe found data debug registers that fire (real KVM),
the read watch takes a debug register instead and strlen's own read is
the first one reported."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (Failure, connect, expect, expect_eq,  # noqa: E402
                    expect_exit, expect_stop, function, new_breakpoint,
                    read, run, symbol_address, value, where)

PAGE = 4096


def key_address():
    """The immediate main passes as guest_cmdline_ulong's key (%esi)."""
    start = symbol_address("main")
    arch = gdb.selected_frame().architecture()
    key = None
    for insn in arch.disassemble(start, start + 0x100):
        asm = insn["asm"]
        if asm.startswith("mov") and asm.endswith(",%esi") and "$0x" in asm:
            key = int(asm.split("$")[1].split(",")[0], 16)
        if "<guest_cmdline_ulong>" in asm:
            if key is None:
                break
            return key
    raise Failure("no `mov $KEY,%esi` before main's call to "
                  "guest_cmdline_ulong")


def body():
    connect()
    key = key_address()
    expect_eq("the key string", read(key, 6), b"iters\0")
    page = key & ~(PAGE - 1)
    code = [a for a in range(page, key)
            if gdb.block_for_pc(a) is not None and
            gdb.block_for_pc(a).function is not None]
    expect(f"(precondition) code on the key's page {page:#x}", code,
           "the image layout changed; pick another datum")
    strlen = symbol_address("strlen")
    load = [i["addr"] for i in gdb.selected_frame().architecture()
            .disassemble(strlen, strlen + 0x40) if "(%rax)" in i["asm"]]
    expect(f"(precondition) strlen's load is on the key's page {page:#x}",
           load and load[0] & ~(PAGE - 1) == page,
           "the image layout changed: strlen's load is elsewhere")
    caps = gdb.execute("monitor caps", to_string=True)
    by_dr = "watchpoints by debug registers" in caps
    rw = new_breakpoint(f"rwatch *(char *){key:#x}")
    expect_stop("continue", [rw])
    if by_dr:
        # Where data debug registers fire (real VMX/SVM KVM), the read
        # watch takes an access slot and strlen's own load is seen.
        expect_eq(f"function at the read ({where()})", function(), "strlen")
        expect_eq("strlen's argument", value("s") & ((1 << 64) - 1), key)
    else:
        expect_eq(f"function at the read ({where()})", function(),
                  "image_checksum")
    rw.delete()
    expect_exit("continue", 1)


run(body)
