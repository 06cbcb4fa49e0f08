#!/usr/bin/env python3
"""Debugger round trips, kvmdbg against QEMU's gdbstub on the same guest
and the same gdb script, alternating A B A B: the time of one `stepi` and
the throughput of `dump binary memory` over 16 MiB.
Usage: bench/rsp.py [--rounds N] [--steps N] [--dump-mib N] KVMDBG GUEST.elf"""
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
gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("target remote 127.0.0.1:%(port)d")
steps = %(steps)d
t = time.perf_counter()
for _ in range(steps):
    gdb.execute("stepi", to_string=True)
step = (time.perf_counter() - t) / steps
t = time.perf_counter()
gdb.execute("dump binary memory %(out)s 0x100000 %(end)#x")
dump = time.perf_counter() - t
print("RESULT step_us=%%.1f dump_s=%%.4f" %% (step * 1e6, dump))
gdb.execute("kill")
'''


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_kvmdbg(kvmdbg, guest, extra=()):
    p = subprocess.Popen([kvmdbg, "--listen", "127.0.0.1:0", "--serial",
                          "none", *extra, guest], stderr=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    line = p.stderr.readline().decode()
    m = re.search(r"listening on tcp 127\.0\.0\.1 (\d+)", line)
    if not m:
        raise SystemExit(f"kvmdbg did not start: {line!r}")
    return p, int(m.group(1))


def start_qemu(guest, extra=()):
    port = free_port()
    p = subprocess.Popen([shutil.which("qemu-system-x86_64"), "-M", "pc",
                          "-enable-kvm", "-m", "128", "-display", "none",
                          "-nodefaults", "-serial", "null", "-device",
                          "isa-debug-exit,iobase=0xf4,iosize=0x04",
                          "-kernel", guest, "-S", "-gdb",
                          f"tcp:127.0.0.1:{port}", *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    return p, port


def measure(start, args, steps, mib):
    server, port = start(*args)
    with tempfile.TemporaryDirectory() as d:
        script = os.path.join(d, "bench.py")
        out = os.path.join(d, "dump.bin")
        open(script, "w").write(GDB_SCRIPT % {
            "port": port, "steps": steps, "out": out,
            "end": 0x100000 + (mib << 20)})
        r = subprocess.run(["gdb", "-batch", "-nx", "-x", script],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=600)
        size = os.path.getsize(out) if os.path.exists(out) else 0
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    m = re.search(r"RESULT step_us=([\d.]+) dump_s=([\d.]+)", r.stdout.decode())
    if not m or size != mib << 20:
        raise SystemExit(f"gdb run failed (dump {size} bytes):\n"
                         + r.stdout.decode()[-2000:])
    return float(m.group(1)), (mib << 20) / float(m.group(2)) / (1 << 20)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--dump-mib", type=int, default=16)
    ap.add_argument("kvmdbg")
    ap.add_argument("guest")
    a = ap.parse_args()
    runs = {"kvmdbg": (start_kvmdbg, (a.kvmdbg, a.guest))}
    if shutil.which("qemu-system-x86_64"):
        runs["qemu"] = (start_qemu, (a.guest,))
    res = {k: [] for k in runs}
    for _ in range(a.rounds):
        for k, (start, args) in runs.items():
            res[k].append(measure(start, args, a.steps, a.dump_mib))
    print(f"{'':8} {'stepi µs (median)':>18} {'dump MiB/s (median)':>20}")
    med = {}
    for k, r in res.items():
        med[k] = (statistics.median(x[0] for x in r),
                  statistics.median(x[1] for x in r))
        print(f"{k:8} {med[k][0]:18.1f} {med[k][1]:20.1f}")
    if "qemu" in med:
        print(f"stepi time ratio kvmdbg/qemu = "
              f"{med['kvmdbg'][0] / med['qemu'][0]:.3f}")
        print(f"dump time ratio kvmdbg/qemu = "
              f"{med['qemu'][1] / med['kvmdbg'][1]:.3f}")


if __name__ == "__main__":
    main()
