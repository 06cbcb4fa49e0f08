#!/usr/bin/env python3
"""The arm64 boot tier: the cross-built kvmdbg boots the arm64 test guests
on real arm64 KVM inside ../shared/realkvm/run-arm64, with exact console
output and exit status; the same images under qemu-system-aarch64 -M virt
give the same output; bad images fail with one line and exit 2; the host
probe prints the arm64 table. A missing harness is a failure, not a
skip."""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kvmdbg_test import Failure, expect_eq, expect_in, main, run  # noqa

KVMDBG = os.environ.get("KVMDBG", "kvmdbg")
GUESTS = os.environ.get("GUESTS", ".")
RUN_ARM64 = os.environ.get("REALKVM_RUN_ARM64", "../shared/realkvm/run-arm64")

HELLO = ("Hello from the kvmdbg test guest\n"
         "hello: cmdline={}\n")

EXPECT = {
    "hello": (HELLO.format(""), 1),
    # 5 rounds of the guest's own BRK #0 and BRK #0x7d; marker(i) adds
    # i + 1.
    "selfdebug": ("selfdebug: brk0=5 brk7d=5 marker=15 bad=0\n", 1),
}


def guest(name):
    return os.path.join(GUESTS, name + ".elf")


def harness():
    if not os.access(RUN_ARM64, os.X_OK):
        raise Failure(f"{RUN_ARM64} is missing: the arm64 tier needs "
                      "../shared/realkvm (setup-arm64)")
    return RUN_ARM64


def in_vm(files, args, timeout=240):
    """kvmdbg ARGS inside the arm64 VM; files are (host path, name) pairs
    that appear as /job/name."""
    cmd = [harness(), "--timeout", str(timeout - 30)]
    for path, name in files:
        cmd += ["--file", f"{path}:/job/{name}"]
    r = run(cmd + ["--", KVMDBG, *args], timeout=timeout)
    if r.returncode == 125:
        raise Failure(f"run-arm64 failed:\n{r.stderr.decode()}")
    return r


def boot(name, smp="1", extra=()):
    return in_vm([(guest(name), name + ".elf")],
                 ["--no-wait", "--listen", "none", "--smp", smp, *extra,
                  f"/job/{name}.elf"])


def qemu(image, append=None, smp=1, timeout=120):
    """The image under qemu-system-aarch64 -M virt (TCG), for comparison."""
    q = shutil.which("qemu-system-aarch64")
    if not q:
        raise Failure("qemu-system-aarch64 is missing (setup-arm64 "
                      "installs qemu-system-arm)")
    cmd = [q, "-M", "virt", "-cpu", "max", "-m", "128", "-smp", str(smp),
           "-nographic", "-nodefaults", "-serial", "stdio", "-no-reboot",
           "-kernel", image]
    if append is not None:
        cmd += ["-append", append]
    return run(cmd, timeout=timeout)


def stderr_lines(r):
    return [ln for ln in r.stderr.decode().splitlines()
            if not ln.startswith("kvmdbg: listening on ")]


def case_boot(name, smp):
    r = boot(name, smp)
    out = r.stdout.decode()
    if name == "smp":
        n = int(smp)
        lines = out.splitlines()
        want = sorted(f"smp: cpu {i} of {n} online" for i in range(n))
        expect_eq("smp cpu lines", sorted(lines[:-1]), want)
        expect_eq("smp last line", lines[-1], f"smp: all {n} cpus online")
        expect_eq("smp exit status", r.returncode, 1)
    elif name == "loop":
        # The checksum covers the image after the loop ran: take it from
        # the same image under QEMU, which shares nothing with kvmdbg.
        q = qemu(guest("loop"))
        expect_eq("loop under QEMU exits", q.returncode, 0)
        want = q.stdout.decode()
        if not re.fullmatch(r"loop: iters=100 counter=100 total=4950\n"
                            r"loop: checksum=0x[0-9a-f]{16}\n", want):
            raise Failure(f"loop under QEMU printed {want!r}")
        expect_eq("loop serial output", out, want)
        expect_eq("loop exit status", r.returncode, 1)
    else:
        want_out, want_status = EXPECT[name]
        expect_eq(f"{name} serial output", out, want_out)
        expect_eq(f"{name} exit status", r.returncode, want_status)
    expect_eq(f"{name} stderr", stderr_lines(r), [])


def case_append():
    r = boot("hello", "1", ["--append", "console=ttyAMA0 iters=7"])
    expect_eq("output", r.stdout.decode(),
              HELLO.format("console=ttyAMA0 iters=7"))
    expect_eq("status", r.returncode, 1)


def case_qemu_hello():
    """The same image boots on QEMU's virt machine: device tree at the base
    of RAM, PL011, and PSCI SYSTEM_OFF where kvmdbg's exit device is a
    hole."""
    r = qemu(guest("hello"), append="x=1")
    expect_eq("output", r.stdout.decode(), HELLO.format("x=1"))
    expect_eq("status", r.returncode, 0)


def make_image(elf, out):
    """hello as an arm64 Linux Image: a 4 KiB header page whose code0
    branches to the ELF's entry page, loaded at RAM + 0x1ff000 so the
    code lands where it was linked (0x40200000)."""
    binf = out + ".bin"
    subprocess.run(["aarch64-linux-gnu-objcopy", "-O", "binary", elf,
                    binf], check=True)
    body = open(binf, "rb").read()
    size = 0x1000 + len(body) + 0x100000  # room for .bss and stacks
    hdr = struct.pack("<IIQQQQQQII", 0x14000000 | (0x1000 // 4), 0,
                      0x1ff000, size, 0xa, 0, 0, 0, 0x644d5241, 0)
    open(out, "wb").write(hdr.ljust(0x1000, b"\0") + body)


def case_image():
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "hello.Image")
        make_image(guest("hello"), img)
        r = in_vm([(img, "hello.Image")],
                  ["--no-wait", "--listen", "none", "--append", "y=2",
                   "/job/hello.Image"])
    expect_eq("output", r.stdout.decode(), HELLO.format("y=2"))
    expect_eq("status", r.returncode, 1)


def case_bad_image():
    with tempfile.TemporaryDirectory() as d:
        x86 = os.path.join(d, "x86.elf")
        # An ELF64 header for x86-64 (EM_X86_64, 62) and nothing else.
        eh = struct.pack("<4sBBBBB7sHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1,
                         0, 0, b"", 2, 62, 1, 0x40200000, 64, 0, 0, 64,
                         56, 0, 64, 0, 0)
        open(x86, "wb").write(eh)
        bad = os.path.join(d, "bad.Image")
        # An Image header whose text offset is not 4 KiB aligned.
        open(bad, "wb").write(struct.pack(
            "<IIQQQQQQII", 0x14000000, 0, 0x123, 0x10000, 0xa, 0, 0, 0,
            0x644d5241, 0).ljust(4096, b"\0"))
        r1 = in_vm([(x86, "x86.elf")], ["--no-wait", "/job/x86.elf"])
        r2 = in_vm([(bad, "bad.Image")], ["--no-wait", "/job/bad.Image"])
    expect_eq("x86 image status", r1.returncode, 2)
    expect_in("x86 image message", "x86-64", r1.stderr.decode())
    expect_in("x86 image message", "EM_AARCH64", r1.stderr.decode())
    expect_eq("bad Image status", r2.returncode, 2)
    expect_in("bad Image message", "text offset 0x123",
              r2.stderr.decode())


def case_probe():
    r = in_vm([], ["--probe", "-v"])
    out = r.stdout.decode()
    expect_eq("probe status", r.returncode, 0)
    for label, result in [("BRK exit", "works"), ("guest BRK", "delivered"),
                          ("hw breakpoint", "works"),
                          ("watchpoint write", "works"),
                          ("watchpoint read", "works"),
                          ("single-step", "works"),
                          ("read-only memslot", "works"),
                          ("unmapped read", "works")]:
        if not re.search(rf"^{re.escape(label)} +{result} ", out, re.M):
            raise Failure(f"probe row {label!r} is not {result!r}:\n{out}")
    m = re.search(r"^debug registers: (\d+) hardware breakpoints, (\d+) "
                  r"watchpoints", out, re.M)
    if not m:
        raise Failure(f"no debug register line:\n{out}")
    kv = dict(t.split("=", 1) for t in out.splitlines()[-1].split())
    expect_eq("breakpoints in the table and the kv form",
              m.group(1), kv.get("cap_guest_debug_hw_bps"))
    expect_eq("watchpoints in the table and the kv form",
              m.group(2), kv.get("cap_guest_debug_hw_wps"))
    # What this harness's KVM (Linux 6.1 on QEMU's -cpu max) has; the
    # README's arm64 section says so too.
    expect_eq("hardware breakpoints", m.group(1), "6")
    expect_eq("watchpoints", m.group(2), "4")
    expect_eq("strategy", kv.get("strategy_watch"), "debug_regs_then_pages")


if __name__ == "__main__":
    main({"boot": case_boot, "append": case_append, "probe": case_probe,
          "bad-image": case_bad_image, "qemu-hello": case_qemu_hello,
          "image": case_image})
