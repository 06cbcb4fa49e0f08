"""Helpers for kvmdbg's gdb test scripts, which run inside `gdb -batch -nx
-x SCRIPT`. Stops and exits are observed through gdb.events (STYLE.md:
gdb 13 may print stop notices outside what to_string captures) and state is
read with parse_and_eval. A script ends through run(): `quit 0` when its
body returns, `quit 1` after printing "FAIL: ..." when it raises.

The driver (tests/e2e/test_gdb.py) passes parameters in the environment:
KVMDBG_REMOTE (what follows `target remote`), KVMDBG_GUEST (the image)."""
import os
import sys
import traceback

import gdb

MASK64 = (1 << 64) - 1


class Failure(Exception):
    pass


# Every stop and exit since the script started, oldest first. A stop is
# ("signal", "SIGINT") for a gdb.SignalEvent, ("breakpoint", numbers) for a
# gdb.BreakpointEvent and ("stop", None) for any other stop (a finished
# stepi).
stops = []
exits = []


def _on_stop(ev):
    if isinstance(ev, gdb.SignalEvent):
        stops.append(("signal", ev.stop_signal))
    elif isinstance(ev, gdb.BreakpointEvent):
        stops.append(("breakpoint", [b.number for b in ev.breakpoints]))
    else:
        stops.append(("stop", None))


def _on_exit(ev):
    exits.append(ev.exit_code if hasattr(ev, "exit_code") else None)


gdb.events.stop.connect(_on_stop)
gdb.events.exited.connect(_on_exit)


def env(name, default=None):
    v = os.environ.get(name, default)
    if v is None:
        raise Failure(f"the driver did not set {name}")
    return v


def log(msg):
    print(msg)
    sys.stdout.flush()


def _bytes_diff(got, want):
    """Where two byte strings first differ, with some context."""
    n = min(len(got), len(want))
    at = next((i for i in range(n) if got[i] != want[i]), n)
    lo = max(0, at - 8)
    return (f"lengths {len(got)} and {len(want)}, first difference at "
            f"offset {at}:\n  got[{lo}:]:  {got[lo:lo + 32].hex()}\n"
            f"  want[{lo}:]: {want[lo:lo + 32].hex()}")


def expect_eq(what, got, want):
    if got != want:
        if isinstance(got, bytes) and isinstance(want, bytes) and \
                max(len(got), len(want)) > 32:
            raise Failure(f"{what}: {_bytes_diff(got, want)}")
        if isinstance(got, int) and isinstance(want, int):
            raise Failure(f"{what}:\n  got:  {got:#x} ({got})\n"
                          f"  want: {want:#x} ({want})")
        raise Failure(f"{what}:\n  got:  {got!r}\n  want: {want!r}")


def expect(what, cond, detail=""):
    if not cond:
        raise Failure(f"{what}{': ' + detail if detail else ''}")


def connect(remote=None):
    """target remote, and the stop event it brings. A stub's SIGTRAP stop
    comes as a plain ("stop", None): gdb takes SIGTRAP for its own."""
    n = len(stops)
    gdb.execute("target remote " + (remote or env("KVMDBG_REMOTE")))
    expect("a stop event on connecting", len(stops) > n,
           f"events: {stops!r}")
    return stops[-1]


def reg(name):
    """A register of the selected thread as an unsigned 64-bit int."""
    v = gdb.parse_and_eval("$" + name)
    if v.is_optimized_out:
        raise Failure(f"${name} is unavailable")
    return int(v) & MASK64


def pc():
    return reg("pc")


def read(addr, n):
    return bytes(gdb.selected_inferior().read_memory(addr, n))


def symbol_address(name):
    sym = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
    if sym is None:
        raise Failure(f"no symbol {name!r}")
    return int(sym.value().address) & MASK64


def resume(cmd):
    """Run a resuming command; return what ended it: ("exited", code) or
    the stop tuple. Exactly one event must arrive."""
    ns, ne = len(stops), len(exits)
    gdb.execute(cmd)
    new = [("exited", c) for c in exits[ne:]] + stops[ns:]
    if len(new) != 1:
        raise Failure(f"{cmd!r}: want one stop or exit event, got {new!r}")
    return new[0]


def expect_exit(cmd, code):
    ev = resume(cmd)
    expect_eq(f"{cmd!r}: event", ev, ("exited", code))


def interrupt_after(seconds):
    """SIGINT to this gdb after a delay, as a person's Ctrl-C would send."""
    import signal
    import threading

    t = threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGINT))
    t.start()
    return t


def run(body):
    try:
        body()
    except Failure as f:
        log(f"FAIL: {f}")
        gdb.execute("quit 1")
    except Exception:  # noqa: B902 - a gdb.error, a bug in the script
        log("FAIL: exception:\n" + traceback.format_exc())
        gdb.execute("quit 1")
    log("gdb script: PASS")
    gdb.execute("quit 0")
