"""Memory reads against the image: the bytes at $pc (read_memory, the x
command, an expression) and every loaded segment (text, data, the zeroed
bss) as kvmdbg loaded them; unmapped, non-canonical and past-the-end-of-RAM
addresses raise gdb.MemoryError, and so does a read that runs off the end
of RAM. Then the guest runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdbtest import (Failure, connect, env, expect_eq,  # noqa: E402
                     expect_exit, pc, read, run)
from elfimage import Image  # noqa: E402

RAM_END = 128 << 20  # kvmdbg's default --mem


def expect_memory_error(what, addr, n):
    try:
        got = read(addr, n)
    except gdb.MemoryError:
        return
    raise Failure(f"{what}: reading {n} bytes at {addr:#x} returned "
                  f"{got.hex()} instead of raising gdb.MemoryError")


def body():
    img = Image(env("KVMDBG_GUEST"))
    connect()
    here = pc()
    expect_eq("pc at the entry", here, img.entry)
    expect_eq("16 bytes at $pc", read(here, 16).hex(),
              img.bytes_at(here, 16).hex())
    # The x command prints what it reads: "0x107059 <_start64>:\t0xfa...".
    text = gdb.execute("x/16xb $pc", to_string=True)
    shown = bytes(int(b, 16) for ln in text.splitlines()
                  for b in ln.split(":", 1)[1].split())
    expect_eq("x/16xb $pc", shown.hex(), img.bytes_at(here, 16).hex())
    word = int(gdb.parse_and_eval("*(unsigned int *)$pc")) & 0xffffffff
    expect_eq("*(unsigned int *)$pc", word,
              int.from_bytes(img.bytes_at(here, 4), "little"))
    for vaddr, memsz, want in img.segments:
        got = read(vaddr, memsz)
        if got != want:
            bad = next(i for i in range(memsz) if got[i] != want[i])
            raise Failure(
                f"segment at {vaddr:#x} ({memsz} bytes) differs first at "
                f"{vaddr + bad:#x}:\n  got:  {got[bad:bad + 16].hex()}\n"
                f"  want: {want[bad:bad + 16].hex()}")
    # start_info, which kvmdbg wrote, not the image.
    expect_eq("start_info magic", read(0x7000, 4).hex(),
              (0x336ec578).to_bytes(4, "little").hex())
    expect_memory_error("non-canonical", 0xdead00000000, 8)
    expect_memory_error("canonical, above the 4 GiB identity map",
                        0x100000000, 8)
    expect_memory_error("kernel half", 0xffffffff80000000, 8)
    expect_memory_error("mapped by the page tables, past the end of RAM",
                        RAM_END, 8)
    expect_eq("the last 8 bytes of RAM read", len(read(RAM_END - 8, 8)), 8)
    expect_memory_error("a read that runs past the end of RAM",
                        RAM_END - 8, 16)
    expect_exit("continue", 1)


run(body)
