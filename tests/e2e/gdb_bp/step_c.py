"""Source-level stepping on loop.elf from `break fill_buffer`; the line
numbers come from searching loop.c's text for each line's content.
- the breakpoint stops at the `for` line of fill_buffer (n = 0);
- `next` goes to the body line (k = 0), `next` back to the `for` line,
  `next` to the body again (k = 1);
- `next` to the `for` line, then `until` leaves the loop: the closing
  brace of fill_buffer, k = 8, buffer[0..8) filled;
- `finish` returns to main at the return address. At -O0 each call in
  main's loop is the last instruction of its line, so the return address
  starts the line after it: finish from fill_buffer lands on main's `for`
  line (the i++), finish from tick on the accumulate(i) line;
- `next` from the `for` line goes to the tick() line (i = 1), `step`
  enters tick (its counter++ line), `finish` returns to main;
- `stepi` over each instruction up to the call: pc moves by the
  instruction's length; `nexti` over `call accumulate` stays in main at the
  next instruction (the fill_buffer line's first), with accumulate
  done (total = 1);
- `stepi` up to `call fill_buffer`, then `stepi` into it: pc is
  fill_buffer's first instruction and the call pushed its return address.
Then the breakpoint goes and the guest runs to its exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (MASK64, Failure, connect, expect, expect_eq,  # noqa
                    expect_exit, expect_step, expect_stop, function, line,
                    new_breakpoint, pc, read, reg, run, source_line,
                    symbol_address, value)


def at(what, func, want_line):
    expect_eq(f"{what}: (function, line)", (function(), line()),
              (func, want_line))


def insn():
    return gdb.selected_frame().architecture().disassemble(pc())[0]


def stepi_to_call(what):
    """stepi, each landing on the next instruction in main, until pc is at
    a call; returns that call."""
    for _ in range(20):
        i = insn()
        if i["asm"].split()[0].startswith("call"):
            return i
        expect_step("stepi")
        expect_eq(f"{what}: pc after stepi over {i['asm']!r}", pc(),
                  i["addr"] + i["length"])
        expect_eq(f"{what}: function after stepi", function(), "main")
    raise Failure(f"{what}: no call within 20 instructions")


def body():
    connect()
    l_fill_for = source_line("for (k = 0; k < 8; k++)")
    l_fill_body = source_line("buffer[(n + k) % sizeof(buffer)]",
                              l_fill_for)
    l_fill_end = source_line("}", l_fill_body, exact=True)
    l_counter = source_line("counter++;")
    l_main_for = source_line("for (i = 0; i < iters; i++)")
    l_tick = source_line("tick();", l_main_for)
    l_acc = source_line("accumulate(i);", l_main_for)
    l_fill = source_line("fill_buffer((unsigned)i);", l_main_for)

    bp = new_breakpoint("break fill_buffer")
    expect_stop("continue", [bp])
    at("at the breakpoint", "fill_buffer", l_fill_for)
    expect_eq("n", value("n"), 0)
    ret = gdb.selected_frame().older().pc()
    expect_step("next")
    at("next into the loop body", "fill_buffer", l_fill_body)
    expect_eq("k in the first pass", value("k"), 0)
    expect_step("next")
    at("next to the loop's increment", "fill_buffer", l_fill_for)
    expect_step("next")
    at("next into the body again", "fill_buffer", l_fill_body)
    expect_eq("k in the second pass", value("k"), 1)
    expect_step("next")
    at("next to the loop's increment", "fill_buffer", l_fill_for)
    expect_step("until")
    at("until leaves the loop", "fill_buffer", l_fill_end)
    expect_eq("k after the loop", value("k"), 8)
    expect_eq("buffer[0..8) after fill_buffer(0)",
              read(symbol_address("buffer"), 8), bytes(range(8)))

    expect_step("finish")
    at("finish from fill_buffer", "main", l_main_for)
    expect_eq("pc after finish (the return address)", pc(), ret)
    expect_eq("main's i", value("i"), 0)
    expect_step("next")
    at("next to tick()", "main", l_tick)
    expect_eq("main's i", value("i"), 1)
    expect_step("step")
    at("step into tick", "tick", l_counter)
    expect_eq("counter in tick", value("counter"), 1)
    expect_step("finish")
    at("finish from tick", "main", l_acc)
    expect_eq("counter after tick", value("counter"), 2)
    expect_eq("pc at the start of the accumulate(i) line",
              gdb.selected_frame().find_sal().pc, pc())

    call = stepi_to_call("to call accumulate")
    expect("the call is to accumulate", "<accumulate>" in call["asm"],
           call["asm"])
    expect_eq("total before the call", value("total"), 0)
    expect_step("nexti")
    expect_eq("pc after nexti over the call", pc(),
              call["addr"] + call["length"])
    expect_eq("function after nexti over the call", function(), "main")
    expect_eq("total after nexti (accumulate(1) ran)", value("total"), 1)
    expect_eq("line after nexti", line(), l_fill)

    call = stepi_to_call("to call fill_buffer")
    expect("the call is to fill_buffer", "<fill_buffer>" in call["asm"],
           call["asm"])
    expect_step("stepi")
    expect_eq("pc after stepi into the call", pc(),
              symbol_address("fill_buffer"))
    expect_eq("function after stepi into the call", function(),
              "fill_buffer")
    expect_eq("return address pushed by the call",
              int.from_bytes(read(reg("rsp"), 8), "little") & MASK64,
              call["addr"] + call["length"])
    bp.delete()
    expect_exit("continue", 1)


run(body)
