#!/usr/bin/env python3
"""Breakpoints and watchpoints under a real lldb (`lldb -b`), one meson
test per case, driven like test_lldb.py: cli drives lldb's command line
and reads its output, script runs tests/e2e/lldb_bp/breakwatch.py inside
lldb's own Python. Both check lldb's exit status, then kvmdbg's exit
status, that the guest's output equals a debugger-free run's (checksum
included: breakpoints left no trace in guest memory) and kvmdbg's
stderr."""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "gdb"))
from kvmdbg_test import Failure, expect_eq, expect_in, main  # noqa: E402
from test_gdb import Kvmdbg, finish, guest, plain_run  # noqa: E402
from test_lldb import (need_lldb, need_lldb_python,  # noqa: E402
                       run_lldb)
from elfimage import Image  # noqa: E402

SCRIPTS = os.path.join(HERE, "lldb_bp")
LOOP_C = os.path.join(os.path.dirname(HERE), "guests", "loop.c")
ITERS = 4


def source_line(marker):
    with open(LOOP_C) as f:
        for i, text in enumerate(f, 1):
            if marker in text:
                return i
    raise Failure(f"no line {marker!r} in {LOOP_C}")


def sections(out):
    """(command, output) for each `-o` command, in order: from its echoed
    "(lldb) cmd" line to the next prompt."""
    parts = re.split(r"^\(lldb\) ", out, flags=re.M)
    result = []
    for p in parts[1:]:
        cmd, _, text = p.partition("\n")
        result.append((cmd, text))
    return result


def case_cli():
    """What a person types: break on tick, continue twice (counter 0,
    then 1), watch total, continue: "Watchpoint 1 hit: old value: 0, new
    value: 1" in accumulate(v=1); continue: tick again; continue: old
    value 1, new value 3; delete both; continue: exit status 1."""
    need_lldb()
    args = ["-a", f"iters={ITERS}"]
    want = plain_run("loop", *args)
    img = Image(guest("loop"))
    tick_line = source_line("counter++;")
    acc_end = source_line("total += v;") + 1
    with Kvmdbg(*args, guest("loop")) as k:
        cmds = [f"gdb-remote {k.remote}", "breakpoint set --name tick",
                "continue", "target variable counter", "continue",
                "target variable counter", "watchpoint set variable total",
                "continue", "target variable total", "continue",
                "target variable counter", "continue",
                "target variable total", "breakpoint delete 1",
                "watchpoint delete 1", "continue"]
        lldb_args = [guest("loop")]
        for c in cmds:
            lldb_args += ["-o", c]
        out, _ = run_lldb(lldb_args)
        got = [s for s in sections(out)
               if not s[0].startswith("target create ")]
        expect_eq("the commands lldb ran", [c for c, _ in got], cmds)
        text = [t for _, t in got]

        def tick_stop(i):
            expect_in(f"{cmds[i]} (#{i}): a breakpoint stop",
                      "stop reason = breakpoint 1.1", text[i])
            expect_in(f"{cmds[i]} (#{i}): in tick",
                      f"loop.elf`tick at loop.c:{tick_line}", text[i])

        def watch_stop(i, v, old, new):
            expect_in(f"{cmds[i]} (#{i}): the watchpoint's old and new "
                      f"values", f"Watchpoint 1 hit:\nold value: {old}\n"
                      f"new value: {new}\n", text[i])
            expect_in(f"{cmds[i]} (#{i}): a watchpoint stop",
                      "stop reason = watchpoint 1", text[i])
            expect_in(f"{cmds[i]} (#{i}): in accumulate",
                      f"loop.elf`accumulate(v={v}) at loop.c:{acc_end}",
                      text[i])

        def variable(i, name, want):
            expect_eq(f"{cmds[i]} (#{i})", text[i].strip(),
                      f"(volatile unsigned long) {name} = {want}")

        expect_in("breakpoint set", "Breakpoint 1: where = loop.elf`tick",
                  text[1])
        tick_stop(2)
        variable(3, "counter", 0)
        tick_stop(4)
        variable(5, "counter", 1)
        expect_in("watchpoint set",
                  f"Watchpoint created: Watchpoint 1: addr = "
                  f"0x{img.symbols['total']:08x} size = 8 state = enabled "
                  f"type = w", text[6])
        watch_stop(7, 1, 0, 1)
        variable(8, "total", 1)
        tick_stop(9)
        variable(10, "counter", 2)
        watch_stop(11, 2, 1, 3)
        variable(12, "total", 3)
        expect_in("continue to the exit",
                  "Process 1 exited with status = 1 (0x00000001)", text[15])
        finish(k, 1, want)


def case_script():
    env = need_lldb_python()
    args = ["-a", f"iters={ITERS}"]
    want = plain_run("loop", *args)
    with Kvmdbg(*args, guest("loop")) as k:
        e = dict(env, PYTHONDONTWRITEBYTECODE="1", KVMDBG_REMOTE=k.remote,
                 KVMDBG_GUEST=guest("loop"))
        out, err = run_lldb(["-o", "command script import " +
                             os.path.join(SCRIPTS, "breakwatch.py")], env=e)
        if "lldb script: PASS" not in out:
            raise Failure(f"lldb script breakwatch.py did not pass:\n{out}\n"
                          f"{err}\n--- kvmdbg stderr ---\n{k.stderr()}")
        finish(k, 1, want)


if __name__ == "__main__":
    main({"cli": case_cli, "script": case_script})
