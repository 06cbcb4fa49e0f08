#!/usr/bin/env python3
"""Per-hit round trip of `continue` to a breakpoint inside the loop guest,
with the server inside ../shared/realkvm's nested VM (real kvm_amd): kvmdbg
--stdio, and Debian's qemu-system-x86_64 -enable-kvm -S with its gdbstub on
the same serial line. gdb runs on this host against the relayed port.
Scenarios `break tick`, `hbreak tick`, `watch counter`; servers alternate
A B A B; medians of the rounds.
Usage: bench/realkvm_bp.py [--rounds R] [--hits N] [--realkvm DIR] KVMDBG LOOP.elf"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

GDB_SCRIPT = r'''
import gdb, time
stops = []
gdb.events.stop.connect(lambda ev: stops.append(ev))


def cont():
    del stops[:]
    gdb.execute("continue", to_string=True)
    ev = stops[-1] if stops else None
    if not isinstance(ev, gdb.BreakpointEvent):
        sig = getattr(ev, "stop_signal", None)
        raise gdb.error("stopped by %%s, not the breakpoint" %% (sig or ev))


gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("set tcp connect-timeout 120")
gdb.execute("file %(image)s")
gdb.execute("target remote 127.0.0.1:%(port)d")
try:
    gdb.execute("%(cmd)s")
    cont()
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
QEMU_FW = ["/usr/share/seabios/bios-256k.bin", "/usr/share/qemu/kvmvapic.bin",
           "/usr/share/qemu/pvh.bin"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def server_cmd(kind, kvmdbg, guest, iters):
    if kind == "kvmdbg":
        return [f"--file", f"{guest}:{guest}", "--",
                os.path.abspath(kvmdbg), "--stdio", "-a", iters, guest]
    files = []
    for f in QEMU_FW:
        files += ["--file", f"{os.path.realpath(f)}:/job/fw/{os.path.basename(f)}"]
    return files + ["--file", f"{guest}:{guest}", "--",
                    shutil.which("qemu-system-x86_64"), "-L", "/job/fw",
                    "-M", "pc", "-enable-kvm", "-m", "64", "-display", "none",
                    "-nodefaults", "-serial", "null", "-device",
                    "isa-debug-exit,iobase=0xf4,iosize=0x04",
                    "-kernel", guest, "-append", iters, "-S",
                    "-chardev", "serial,id=g0,path=/dev/ttyS1",
                    "-gdb", "chardev:g0"]


def run(run_prog, kind, kvmdbg, guest, cmd, hits):
    port = free_port()
    iters = f"iters={hits * 2 + 10}"
    with tempfile.TemporaryDirectory() as d:
        err = open(os.path.join(d, "server.err"), "w+")
        srv = subprocess.Popen([run_prog, "--port", str(port), "--timeout",
                                "600"] + server_cmd(kind, kvmdbg, guest, iters),
                               stdout=err, stderr=err,
                               stdin=subprocess.DEVNULL)
        script = os.path.join(d, "bp.py")
        open(script, "w").write(GDB_SCRIPT % {"port": port, "cmd": cmd,
                                              "hits": hits, "image": guest})
        deadline = time.monotonic() + 120
        while srv.poll() is None and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.2)
        try:
            r = subprocess.run(["gdb", "-batch", "-nx", "-x", script],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=600)
            out = r.stdout.decode()
        except subprocess.TimeoutExpired:
            out = "FAILED no stop within 600 s"
        try:
            srv.wait(30)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
        err.seek(0)
        serr = err.read()
    m = re.search(r"RESULT per_hit_us=([\d.]+) counter=(\d+)", out)
    if m:
        return float(m.group(1)), None
    f = re.search(r"FAILED (.*)", out)
    why = f.group(1) if f else " | ".join(out.strip().splitlines()[-2:])
    return None, why + " [server: " + " | ".join(serr.strip().splitlines()[-3:]) + "]"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--hits", type=int, default=200)
    ap.add_argument("--realkvm", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
        "realkvm"))
    ap.add_argument("kvmdbg")
    ap.add_argument("guest")
    a = ap.parse_args()
    run_prog = os.path.join(a.realkvm, "run")
    guest = os.path.abspath(a.guest)
    kinds = ["kvmdbg", "qemu"]
    res = {(k, n): [] for k in kinds for n, _ in SCENARIOS}
    errors = {}
    for _ in range(a.rounds):
        for name, cmd in SCENARIOS:
            for k in kinds:
                if (k, name) in errors:
                    continue
                v, err = run(run_prog, k, a.kvmdbg, guest, cmd, a.hits)
                print(f"# {k} {name}: {v if v else err}", flush=True)
                if v is None:
                    errors[(k, name)] = err
                else:
                    res[(k, name)].append(v)
    print(f"{'scenario':8} {'kvmdbg µs/hit':>14} {'qemu µs/hit':>12} ratio")
    for name, _ in SCENARIOS:
        k, q = (statistics.median(res[(s, name)]) if res[(s, name)] else None
                for s in kinds)
        ratio = f"{k / q:.3f}" if k and q else "-"
        fmt = lambda v: f"{v:.1f}" if v else "failed"  # noqa: E731
        print(f"{name:8} {fmt(k):>14} {fmt(q):>12} {ratio}")
    for (s, name), err in errors.items():
        print(f"{s} {name}: {err}")


if __name__ == "__main__":
    main()
