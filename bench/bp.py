#!/usr/bin/env python3
"""Per-hit round trip of `continue` to a breakpoint inside a loop, for
kvmdbg and QEMU's gdbstub on the same guest (tests/guests/loop.elf) and the
same gdb script: `break tick`, `hbreak tick` and `watch counter`, N hits
each, alternating servers A B A B. A scenario a server cannot do is
reported with gdb's own words.
Usage: bench/bp.py [--rounds R] [--hits N] KVMDBG LOOP.elf"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rsp import start_kvmdbg, start_qemu  # noqa: E402

GDB_SCRIPT = r'''
import gdb, time
stops = []
gdb.events.stop.connect(lambda ev: stops.append(ev))


def cont():
    """continue, and insist the stop is the breakpoint: a signal (QEMU's
    SIGABRT on an emulation failure) ends the scenario."""
    del stops[:]
    gdb.execute("continue", to_string=True)
    ev = stops[-1] if stops else None
    if not isinstance(ev, gdb.BreakpointEvent):
        sig = getattr(ev, "stop_signal", None)
        raise gdb.error("stopped by %%s, not the breakpoint" %% (sig or ev))


gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("file %(image)s")
gdb.execute("target remote 127.0.0.1:%(port)d")
try:
    gdb.execute("%(cmd)s")
    cont()   # first hit: warm-up
    n = %(hits)d
    t = time.perf_counter()
    for _ in range(n):
        cont()
    dt = (time.perf_counter() - t) / n
    c = int(gdb.parse_and_eval("counter"))
    print("RESULT per_hit_us=%%.1f counter=%%d" %% (dt * 1e6, c))
except gdb.error as e:
    print("FAILED " + str(e).replace("\n", " | "))
gdb.execute("kill")
'''

SCENARIOS = [("break", "break tick"), ("hbreak", "hbreak tick"),
             ("watch", "watch counter")]


def run(start, args, cmd, hits, image):
    server, port = start(*args)
    with tempfile.TemporaryDirectory() as d:
        script = os.path.join(d, "bp.py")
        open(script, "w").write(GDB_SCRIPT % {"port": port, "cmd": cmd,
                                              "hits": hits, "image": image})
        try:
            r = subprocess.run(["gdb", "-batch", "-nx", "-x", script],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=300)
            out = r.stdout.decode()
        except subprocess.TimeoutExpired:
            out = "FAILED no stop within 300 s"
    server.kill()
    server.wait()
    m = re.search(r"RESULT per_hit_us=([\d.]+) counter=(\d+)", out)
    if m:
        return float(m.group(1)), None
    f = re.search(r"FAILED (.*)", out)
    return None, (f.group(1) if f else out.strip().splitlines()[-1:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--hits", type=int, default=1000)
    ap.add_argument("kvmdbg")
    ap.add_argument("guest")
    a = ap.parse_args()
    iters = f"iters={a.hits * 2 + 10}"
    servers = {"kvmdbg": (start_kvmdbg, (a.kvmdbg, a.guest), ["-a", iters])}
    if shutil.which("qemu-system-x86_64"):
        servers["qemu"] = (start_qemu, (a.guest,), ["-append", iters])
    res = {(s, n): [] for s in servers for n, _ in SCENARIOS}
    errors = {}
    for _ in range(a.rounds):
        for name, cmd in SCENARIOS:
            for s, (start, args, extra) in servers.items():
                if (s, name) in errors:
                    continue
                v, err = run(start, args + (extra,), cmd, a.hits,
                             os.path.abspath(a.guest))
                if v is None:
                    errors[(s, name)] = err
                else:
                    res[(s, name)].append(v)
    print(f"{'scenario':8} {'kvmdbg µs/hit':>14} {'qemu µs/hit':>12} ratio")
    for name, _ in SCENARIOS:
        cells = []
        for s in ("kvmdbg", "qemu"):
            if (s, name) in errors:
                cells.append(None)
            elif res.get((s, name)):
                cells.append(statistics.median(res[(s, name)]))
            else:
                cells.append(None)
        k, q = cells
        ratio = f"{k / q:.3f}" if k and q else "-"
        fmt = lambda v: f"{v:.1f}" if v else "failed"  # noqa: E731
        print(f"{name:8} {fmt(k):>14} {fmt(q):>12} {ratio}")
    for (s, name), err in errors.items():
        print(f"{s} {name}: {err}")


if __name__ == "__main__":
    main()
