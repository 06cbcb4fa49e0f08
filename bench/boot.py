#!/usr/bin/env python3
"""Launch-to-exit time of a guest under kvmdbg --no-wait and under
qemu-system-x86_64 -enable-kvm -kernel (same image), alternating A B A B,
and each one's peak RSS (from wait4's ru_maxrss). Prints medians and the
ratio. Usage: bench/boot.py [--rounds N] KVMDBG GUEST.elf"""
import argparse
import shutil
import statistics
import subprocess
import sys
import time


def run(cmd):
    """Wall time from launch to exit, peak RSS and exit status. The RSS
    comes from GNU time in the child: wait4's ru_maxrss here would include
    the forked Python copy before exec."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M %x", *cmd],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    rss, status = p.stderr.decode().strip().splitlines()[-1].split()[-2:]
    return dt, int(rss), int(status)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("kvmdbg")
    ap.add_argument("guest")
    a = ap.parse_args()
    qemu = shutil.which("qemu-system-x86_64")
    cmds = {
        "kvmdbg": [a.kvmdbg, "--no-wait", "--listen", "none", a.guest],
    }
    if qemu:
        cmds["qemu"] = [qemu, "-M", "pc", "-enable-kvm", "-m", "128",
                        "-display", "none", "-nodefaults", "-no-reboot",
                        "-serial", "null", "-device",
                        "isa-debug-exit,iobase=0xf4,iosize=0x04",
                        "-kernel", a.guest]
    res = {k: [] for k in cmds}
    for _ in range(a.rounds):
        for k, c in cmds.items():
            res[k].append(run(c))
    print(f"{'':8} {'median s':>9} {'min s':>8} {'max s':>8} "
          f"{'peak RSS KiB':>13} status")
    for k, r in res.items():
        ts = [x[0] for x in r]
        print(f"{k:8} {statistics.median(ts):9.4f} {min(ts):8.4f} "
              f"{max(ts):8.4f} {max(x[1] for x in r):13d} "
              f"{sorted(set(x[2] for x in r))}")
    if "qemu" in res:
        k = statistics.median(x[0] for x in res["kvmdbg"])
        q = statistics.median(x[0] for x in res["qemu"])
        print(f"time ratio kvmdbg/qemu = {k / q:.4f}")
        kr = max(x[1] for x in res["kvmdbg"])
        qr = max(x[1] for x in res["qemu"])
        print(f"peak RSS ratio kvmdbg/qemu = {kr / qr:.4f}")


if __name__ == "__main__":
    main()
