#!/usr/bin/env python3
"""Per-hit round trip of `continue` to a breakpoint inside the loop guest,
with the server inside ../shared/realkvm's nested VM: kvmdbg --stdio, and
Debian's QEMU with KVM, stopped at reset (-S), with its gdbstub on the
same line. gdb runs on this host against the relayed port.
  x86_64 (`run`, real kvm_amd): qemu-system-x86_64 -enable-kvm, the stub
    on ttyS1; scenarios `break tick`, `hbreak tick`, `watch counter`.
  arm64 (`run-arm64`, real arm64 KVM; needs `setup-arm64 qemu-system-arm`):
    qemu-system-aarch64 -M virt -accel kvm, the stub on hvc0, gdb-multiarch;
    scenarios `break tick`, `watch counter` and `stepi` (per step).
Servers alternate A B A B; medians of the rounds.
Usage: bench/realkvm_bp.py [--arch x86_64|arm64] [--rounds R] [--hits N]
                           [--realkvm DIR] KVMDBG LOOP.elf"""
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
# A stub that starts slowly behind the relay must not see retransmits.
gdb.execute("set remotetimeout 60")
gdb.execute("file %(image)s")
gdb.execute("target remote 127.0.0.1:%(port)d")
try:
    n = %(hits)d
    if "%(cmd)s" == "stepi":
        # From inside the loop, so the guest's own start is not measured.
        gdb.execute("tbreak tick")
        cont()
        pc0 = int(gdb.parse_and_eval("$pc"))
        t = time.perf_counter()
        for _ in range(n):
            gdb.execute("stepi", to_string=True)
        dt = (time.perf_counter() - t) / n
        if int(gdb.parse_and_eval("$pc")) == pc0:
            raise gdb.error("stepi did not move the pc")
    else:
        gdb.execute("%(cmd)s")
        cont()
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

SCENARIOS = {"x86_64": [("break", "break tick"), ("hbreak", "hbreak tick"),
                        ("watch", "watch counter")],
             "arm64": [("break", "break tick"), ("hbreak", "hbreak tick"),
                       ("watch", "watch counter"),
                       ("stepi", "stepi")]}
QEMU_FW = ["/usr/share/seabios/bios-256k.bin", "/usr/share/qemu/kvmvapic.bin",
           "/usr/share/qemu/pvh.bin"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def server_cmd(arch, kind, kvmdbg, guest, iters):
    if kind == "kvmdbg":
        return [f"--file", f"{guest}:{guest}", "--",
                os.path.abspath(kvmdbg), "--stdio", "-a", iters, guest]
    if arch == "arm64":
        # The sysroot's aarch64 QEMU; the stub on the relayed virtio
        # console, the guest's PL011 to nowhere as kvmdbg's --stdio has it.
        return ["--file", f"{guest}:{guest}", "--", "qemu-system-aarch64",
                "-M", "virt,gic-version=3", "-accel", "kvm", "-cpu", "host",
                "-m", "64", "-display", "none", "-nodefaults", "-serial",
                "null", "-kernel", guest, "-append", iters, "-S",
                "-chardev", "serial,id=g0,path=/dev/hvc0",
                "-gdb", "chardev:g0"]
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


def run(arch, run_prog, kind, kvmdbg, guest, cmd, hits):
    port = free_port()
    iters = f"iters={hits * 2 + 10}"
    with tempfile.TemporaryDirectory() as d:
        err = open(os.path.join(d, "server.err"), "w+")
        srv = subprocess.Popen([run_prog, "--port", str(port), "--timeout",
                                "600"] + server_cmd(arch, kind, kvmdbg, guest,
                                                    iters),
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
            gdb = "gdb-multiarch" if arch == "arm64" else "gdb"
            r = subprocess.run([gdb, "-batch", "-nx", "-x", script],
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
    ap.add_argument("--arch", choices=sorted(SCENARIOS), default="x86_64")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--hits", type=int, default=200)
    ap.add_argument("--realkvm", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
        "realkvm"))
    ap.add_argument("kvmdbg")
    ap.add_argument("guest")
    a = ap.parse_args()
    run_prog = os.path.join(a.realkvm,
                            "run-arm64" if a.arch == "arm64" else "run")
    scenarios = SCENARIOS[a.arch]
    guest = os.path.abspath(a.guest)
    kinds = ["kvmdbg", "qemu"]
    res = {(k, n): [] for k in kinds for n, _ in scenarios}
    errors = {}
    for _ in range(a.rounds):
        for name, cmd in scenarios:
            for k in kinds:
                if (k, name) in errors:
                    continue
                v, err = run(a.arch, run_prog, k, a.kvmdbg, guest, cmd,
                             a.hits)
                print(f"# {k} {name}: {v if v else err}", flush=True)
                if v is None:
                    errors[(k, name)] = err
                else:
                    res[(k, name)].append(v)
    print(f"{'scenario':8} {'kvmdbg µs/hit':>14} {'qemu µs/hit':>12} ratio")
    for name, _ in scenarios:
        k, q = (statistics.median(res[(s, name)]) if res[(s, name)] else None
                for s in kinds)
        ratio = f"{k / q:.3f}" if k and q else "-"
        fmt = lambda v: f"{v:.1f}" if v else "failed"  # noqa: E731
        print(f"{name:8} {fmt(k):>14} {fmt(q):>12} {ratio}")
    for (s, name), err in errors.items():
        print(f"{s} {name}: {err}")


if __name__ == "__main__":
    main()
