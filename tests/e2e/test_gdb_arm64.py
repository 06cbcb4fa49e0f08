#!/usr/bin/env python3
"""The arm64 debugger tier: the cross-built kvmdbg --stdio inside
../shared/realkvm/run-arm64 (real arm64 KVM), gdb-multiarch and lldb on
this host through run-arm64's --port, one meson test per case. The
arch-neutral scripts of tests/e2e/gdb_bp and tests/e2e/gdb run unchanged;
tests/e2e/gdb_arm64 has the arm64 ones (registers, stepping, watchpoints
that trap before the access, PSCI threads, the self-debugging guest).
Each case checks the debugger's exit status, then kvmdbg's exit status,
its console output (equal to a debugger-free run's where the guest
prints a checksum of its image) and that kvmdbg said nothing unexpected.
A missing harness or debugger is a failure: this tier exists to run."""
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault(
    "REALKVM_RUN", os.environ.get("REALKVM_RUN_ARM64",
                                  "../shared/realkvm/run-arm64"))
os.environ.setdefault("GDB", "gdb-multiarch")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "gdb"))
from kvmdbg_test import Failure, expect_eq, expect_in, main, run  # noqa
import test_gdb  # noqa: E402
from test_gdb import GDB, KVMDBG, Kvmdbg, check_smp, finish  # noqa: E402

GUESTS = os.environ.get("GUESTS", ".")
LLDB = os.environ.get("LLDB", "lldb")
RUN = os.environ["REALKVM_RUN"]
SCRIPTS = {"a64": os.path.join(HERE, "gdb_arm64"),
           "bp": os.path.join(HERE, "gdb_bp"),
           "gdb": os.path.join(HERE, "gdb")}
HELLO = "Hello from the kvmdbg test guest\nhello: cmdline=\n"
SELFDEBUG = "selfdebug: brk0=5 brk7d=5 marker=15 bad=0\n"


def guest(name):
    return os.path.abspath(os.path.join(GUESTS, name + ".elf"))


def need():
    if not os.access(RUN, os.X_OK):
        raise Failure(f"{RUN} is missing: run ../shared/realkvm/setup-arm64")
    if not shutil.which(GDB):
        raise Failure(f"{GDB} is missing (setup-arm64 installs "
                      "gdb-multiarch)")


_plain = {}


def plain_run(name, *args):
    """A debugger-free run of the same guest inside the arm64 VM."""
    key = (name,) + args
    if key not in _plain:
        g = guest(name)
        r = run([RUN, "--timeout", "120", "--file", f"{g}:{g}", "--",
                 KVMDBG, "--no-wait", "--listen", "none", *args, g],
                timeout=180)
        expect_eq(f"plain run of {name}: status", r.returncode, 1)
        _plain[key] = r.stdout.decode()
    return _plain[key]


def run_gdb(where, script, k, timeout=200, **extra):
    env = {"PYTHONDONTWRITEBYTECODE": "1", "KVMDBG_REMOTE": k.remote}
    env.update({key: str(v) for key, v in extra.items()})
    # The port listens once kvmdbg starts; gdb retries until then.
    r = run([GDB, "-batch", "-nx", "-ex", "set tcp connect-timeout 120",
             "-x", os.path.join(SCRIPTS[where], script)],
            timeout=timeout, env=env)
    out, err = r.stdout.decode(), r.stderr.decode()
    print(f"--- gdb {script}: exit {r.returncode}\n{out}", end="")
    if r.returncode != 0 or "gdb script: PASS" not in out:
        raise Failure(f"gdb -x {script} exited with {r.returncode}\n"
                      f"--- gdb stdout ---\n{out}--- gdb stderr ---\n"
                      f"{err[-20000:]}--- kvmdbg stderr ---\n{k.stderr()}")
    return out, err


def loop_case(where, script, iters, *kvmdbg_args, **extra):
    """script on loop.elf with iters=N; the guest's output must equal a
    debugger-free run's, checksum included (guest memory untouched)."""
    need()
    args = [*kvmdbg_args, "-a", f"iters={iters}"]
    want = plain_run("loop", *args)
    with Kvmdbg(*args, guest("loop")) as k:
        out = run_gdb(where, script, k, KVMDBG_GUEST=guest("loop"),
                      KVMDBG_ITERS=iters, **extra)
        finish(k, 1, want, timeout=120)
    return out


def case_break_count():
    loop_case("bp", "break_count.py", 8)


def case_tbreak():
    loop_case("bp", "tbreak.py", 4)


def case_hbreak():
    loop_case("bp", "hbreak.py", 5)


def case_delete():
    loop_case("bp", "delete.py", 5)


def case_same_address():
    loop_case("bp", "same_address.py", 7)


def case_watch():
    loop_case("a64", "watch.py", 6)


def case_rwatch():
    loop_case("a64", "rwatch.py", 3, KVMDBG_KIND="rwatch")


def case_awatch():
    loop_case("a64", "rwatch.py", 3, KVMDBG_KIND="awatch")


def case_watch_five():
    loop_case("bp", "watch_five.py", 60)


def case_watch_range():
    """A 32-byte write watchpoint on buffer[0..32) from fill_buffer(20) to
    the exit: a stop for each write that changes the watched bytes."""
    loop_case("bp", "watch_range.py", 34, KVMDBG_FIRST_N=20)


def case_pools():
    """Six hardware breakpoints and four watchpoints at once, each in a
    register of its own bank (gdb_arm64/pools.py)."""
    loop_case("a64", "pools.py", 3)


def case_nisv():
    """Page-protection watchpoints under accesses KVM gives no syndrome
    for: store/load pairs, writeback, SIMD (gdb_arm64/nisv.py)."""
    need()
    want = plain_run("ldst")
    with Kvmdbg(guest("ldst")) as k:
        run_gdb("a64", "nisv.py", k)
        finish(k, 1, want, timeout=120)


def case_stepi():
    loop_case("a64", "stepi.py", 2)


def case_next_finish():
    loop_case("a64", "next_finish.py", 2)


def case_detach_checksum(smp="1"):
    loop_case("bp", "detach_checksum.py", 12, "--smp", smp, KVMDBG_SMP=smp)


def case_registers():
    need()
    with Kvmdbg(guest("loop")) as k:
        run_gdb("a64", "registers.py", k)
        finish(k, 0, "", timeout=120)  # gdb killed the guest


def case_interrupt():
    need()
    with Kvmdbg(guest("spin")) as k:
        run_gdb("gdb", "interrupt.py", k)
        finish(k, 0, "spin: running\n", timeout=120)


def case_threads():
    need()
    with Kvmdbg("--smp", "2", guest("smp")) as k:
        run_gdb("a64", "threads.py", k)
        finish(k, 1, check_stdout=check_smp(2), timeout=120)


def case_smp_both():
    need()
    with Kvmdbg("--smp", "2", guest("smp")) as k:
        run_gdb("bp", "smp_both.py", k, KVMDBG_GUEST=guest("smp"))
        finish(k, 1, check_stdout=check_smp(2), timeout=120)


def case_selfdebug():
    need()
    with Kvmdbg(guest("selfdebug")) as k:
        run_gdb("a64", "selfdebug.py", k)
        finish(k, 1, SELFDEBUG, timeout=120)


def case_continue_exit():
    need()
    with Kvmdbg(guest("hello")) as k:
        run_gdb("gdb", "continue_exit.py", k)
        finish(k, 1, HELLO, timeout=120)


def case_lldb():
    """lldb connects, sets a breakpoint by name, continues to it (tick,
    counter 0, pc at tick), and continues to the exit."""
    need()
    if not shutil.which(LLDB):
        raise Failure(f"{LLDB} is missing")
    args = ["-a", "iters=3"]
    want = plain_run("loop", *args)
    with Kvmdbg(*args, guest("loop")) as k:
        cmds = [f"gdb-remote {k.remote}", "breakpoint set --name tick",
                "continue", "register read pc", "target variable counter",
                "breakpoint delete --force", "continue"]
        r = run([LLDB, "-b", guest("loop"),
                 *[a for c in cmds for a in ("-o", c)]], timeout=200)
        out = r.stdout.decode()
        print(out)
        expect_eq("lldb exit status", r.returncode, 0)
        expect_in("lldb stop", "stop reason = breakpoint 1.1", out)
        expect_in("lldb frame", "loop.elf`tick", out)
        m = re.search(r"pc = (0x[0-9a-f]+)\s+loop\.elf`tick", out)
        if not m:
            raise Failure(f"no pc in tick in lldb's output:\n{out}")
        expect_in("counter at the first tick", "(volatile unsigned long) "
                  "counter = 0", out)
        expect_in("the exit", "exited with status = 1", out)
        finish(k, 1, want, timeout=120)


if __name__ == "__main__":
    main({"break-count": case_break_count, "tbreak": case_tbreak,
          "hbreak": case_hbreak, "pools": case_pools, "nisv": case_nisv, "delete": case_delete,
          "same-address": case_same_address, "watch": case_watch,
          "rwatch": case_rwatch, "awatch": case_awatch,
          "watch-five": case_watch_five, "watch-range": case_watch_range,
          "stepi": case_stepi, "next-finish": case_next_finish,
          "detach-checksum": case_detach_checksum,
          "registers": case_registers, "interrupt": case_interrupt,
          "threads": case_threads, "smp-both": case_smp_both,
          "selfdebug": case_selfdebug, "continue-exit": case_continue_exit,
          "lldb": case_lldb})
