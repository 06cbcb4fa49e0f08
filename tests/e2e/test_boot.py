#!/usr/bin/env python3
"""Boot every test guest under kvmdbg --no-wait and check its exact serial
output and exit status; bad images and options must fail with one line and
exit 2; a missing /dev/kvm exits 3."""
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kvmdbg_test import (Failure, SKIP, expect_eq, expect_in, main,  # noqa
                         need_kvm, run)

KVMDBG = os.environ.get("KVMDBG", "kvmdbg")
GUESTS = os.environ.get("GUESTS", ".")

HELLO = ("Hello from the kvmdbg test guest\n"
         "hello: cmdline={}\n")

EXPECT = {
    "hello": (lambda n: HELLO.format(""), 1),
    "hello64": (lambda n: HELLO.format(""), 1),
    "loop": (lambda n: "loop: iters=100 counter=100 total=4950\n"
             "loop: checksum=0x%016x\n" % LOOP_CHECKSUM, 1),
    "smp": (None, 1),
    "timer": (lambda n: "timer: got 10 ticks\n", 1),
    # 5 INT3s; 7 #DBs per TF-stepped block (4 nop, pushf, andq, and the
    # popf that clears TF, which still traps), 5 blocks.
    "selfdebug": (lambda n: "selfdebug: bp=5 db=35 marker=15\n", 1),
}


def kvmdbg(*args):
    """kvmdbg on a port the OS picks, so tests never collide."""
    return [KVMDBG, "--listen", "127.0.0.1:0", *args]


def stderr_of(r):
    """kvmdbg's stderr without the machine-readable listening line."""
    return "".join(ln for ln in r.stderr.decode().splitlines(True)
                   if not ln.startswith("kvmdbg: listening on "))


def guest(name):
    return os.path.join(GUESTS, name + ".elf")


def loop_checksum():
    """The loop guest's checksum depends on its image; take it from a plain
    run under --smp 1 and compare every other run against it."""
    r = run(kvmdbg("--no-wait", guest("loop")), timeout=60)
    for line in r.stdout.decode().splitlines():
        if line.startswith("loop: checksum=0x"):
            return int(line.split("=0x")[1], 16)
    raise Failure(f"loop printed no checksum: {r.stdout!r} {r.stderr!r}")


LOOP_CHECKSUM = None


def case_boot(name, smp):
    global LOOP_CHECKSUM
    need_kvm()
    if name == "loop":
        LOOP_CHECKSUM = loop_checksum()
    r = run(kvmdbg("--no-wait", "--smp", smp, guest(name)), timeout=60)
    out = r.stdout.decode()
    if name == "smp":
        n = int(smp)
        lines = out.splitlines()
        want = sorted(f"smp: cpu {i} of {n} online" for i in range(n))
        expect_eq("smp cpu lines", sorted(lines[:-1]), want)
        expect_eq("smp last line", lines[-1], f"smp: all {n} cpus online")
    else:
        want_out, _ = EXPECT[name]
        expect_eq(f"{name} serial output", out, want_out(int(smp)))
    expect_eq(f"{name} exit status", r.returncode, EXPECT[name][1])
    expect_eq(f"{name} stderr", stderr_of(r), "")


def case_append():
    need_kvm()
    r = run(kvmdbg("--no-wait", guest("hello"), "--append",
             "console=ttyS0 iters=7"))
    expect_eq("output", r.stdout.decode(),
              HELLO.format("console=ttyS0 iters=7"))
    expect_eq("status", r.returncode, 1)


def case_loop_iters():
    need_kvm()
    r = run(kvmdbg("--no-wait", "-a", "iters=10", guest("loop")))
    expect_in("output", "loop: iters=10 counter=10 total=45\n",
              r.stdout.decode())
    expect_eq("status", r.returncode, 1)


def case_serial_file():
    need_kvm()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "console.txt")
        r = run(kvmdbg("--no-wait", "--serial", "file:" + path,
                 guest("hello")))
        expect_eq("stdout", r.stdout.decode(), "")
        expect_eq("file", open(path).read(), HELLO.format(""))
        expect_eq("status", r.returncode, 1)
    r = run(kvmdbg("--no-wait", "--serial", "none", guest("hello")))
    expect_eq("stdout with --serial none", r.stdout.decode(), "")
    expect_eq("status", r.returncode, 1)


def case_triple(smp):
    need_kvm()
    r = run(kvmdbg("--no-wait", "--smp", smp, guest("triple")))
    expect_eq("stdout", r.stdout.decode(), "triple: about to triple fault\n")
    err = stderr_of(r)
    expect_in("stderr", "kvmdbg: the guest triple-faulted on vCPU 0\n", err)
    expect_in("stderr register dump", "vCPU 0: rip=", err)
    expect_in("stderr register dump", "cr3=", err)
    expect_eq("status", r.returncode, 4)


def case_spin():
    """A guest that never halts keeps running until kvmdbg is told to stop;
    SIGTERM ends kvmdbg with 128+15 and the terminal left as it was."""
    need_kvm()
    p = subprocess.Popen(kvmdbg("--no-wait", guest("spin")),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    time.sleep(1.5)
    if p.poll() is not None:
        raise Failure(f"spin exited early with {p.returncode}: "
                      f"{p.stderr.read()!r}")
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=20)
    expect_eq("stdout", out.decode(), "spin: running\n")
    expect_eq("status", p.returncode, 128 + signal.SIGTERM)


def case_qemu():
    """The same PVH image boots unchanged under QEMU's -kernel."""
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        print("SKIP: qemu-system-x86_64 is not installed")
        sys.exit(SKIP)
    accel = ["-enable-kvm"] if os.access("/dev/kvm", os.R_OK | os.W_OK) \
        else ["-accel", "tcg"]
    r = run([qemu, "-M", "pc", *accel, "-m", "128", "-display", "none",
             "-nodefaults", "-no-reboot", "-serial", "stdio",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
             "-kernel", guest("hello"), "-append", "from=qemu"], timeout=120)
    expect_eq("QEMU serial output", r.stdout.decode(),
              HELLO.format("from=qemu"))
    expect_eq("QEMU exit status", r.returncode, 1)


def patched(src, dst, edits):
    data = bytearray(open(src, "rb").read())
    for off, fmt, val in edits(data):
        struct.pack_into(fmt, data, off, val)
    open(dst, "wb").write(bytes(data))


def phdrs(data):
    e_phoff, = struct.unpack_from("<Q", data, 0x20)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(e_phnum):
        off = e_phoff + i * e_phentsize
        p_type, = struct.unpack_from("<I", data, off)
        yield i, off, p_type


PT_LOAD, PT_NOTE = 1, 4


def first_load(data):
    return next(off for i, off, t in phdrs(data) if t == PT_LOAD)


def bad_images(d):
    """name -> (path, args, phrase the one-line message must contain)"""
    hello = guest("hello")
    imgs = {}

    def mk(name, edits=None, content=None):
        p = os.path.join(d, name)
        if content is not None:
            open(p, "wb").write(content)
        else:
            patched(hello, p, edits)
        return p

    imgs["missing"] = (os.path.join(d, "nope.elf"), [], "nope.elf")
    imgs["directory"] = (d, [], "directory")
    imgs["empty"] = (mk("empty.elf", content=b""), [], "empty")
    imgs["not-elf"] = (mk("text.elf", content=b"#!/bin/sh\necho hi\n" * 20),
                       [], "not an ELF")
    imgs["machine"] = (mk("arm.elf", lambda b: [(0x12, "<H", 183)]), [],
                       "AArch64")
    raw = open(hello, "rb").read()
    imgs["truncated"] = (mk("trunc.elf", content=raw[:len(raw) // 3]), [],
                         "truncated")

    def outside(b):
        off = first_load(b)
        return [(off + 0x18, "<Q", 0x40000000)]  # p_paddr at 1 GiB
    imgs["outside-ram"] = (mk("outside.elf", outside), [],
                           "outside guest RAM")

    def overlap(b):
        loads = [off for i, off, t in phdrs(b) if t == PT_LOAD]
        if len(loads) < 2:
            raise Failure("hello.elf has fewer than two PT_LOAD segments")
        first_paddr, = struct.unpack_from("<Q", b, loads[0] + 0x18)
        return [(loads[1] + 0x18, "<Q", first_paddr)]
    imgs["overlap"] = (mk("overlap.elf", overlap), [], "overlap")

    def reserved(b):
        return [(first_load(b) + 0x18, "<Q", 0x1000)]
    imgs["boot-area"] = (mk("low.elf", reserved), [], "boot area")

    def pvh_entry(b):
        for i, off, t in phdrs(b):
            if t == PT_NOTE:
                p_offset, = struct.unpack_from("<Q", b, off + 8)
                # namesz(4) descsz(4) type(4) "Xen\0" desc
                return [(p_offset + 16, "<I", 0x7000000)]
        raise Failure("hello.elf has no PT_NOTE")
    imgs["pvh-entry"] = (mk("entry.elf", pvh_entry), [], "PVH entry")
    imgs["mem-small"] = (hello, ["--mem", "1M"], "--mem is too small")
    imgs["mem-large"] = (hello, ["--mem", "900T"], "more than this host")
    imgs["mem-garbage"] = (hello, ["--mem", "12Q"], "not a size")
    imgs["smp-zero"] = (hello, ["--smp", "0"], "--smp must be at least 1")
    imgs["smp-large"] = (hello, ["--smp", "5000"], "above the limit")
    imgs["smp-garbage"] = (hello, ["--smp", "2x"], "not a number")
    imgs["unknown-option"] = (hello, ["--frobnicate"], "unknown option")
    imgs["append-long"] = (hello, ["--append", "x" * 40000], "--append")
    return imgs


def case_bad(which):
    need_kvm()
    with tempfile.TemporaryDirectory() as d:
        path, args, phrase = bad_images(d)[which]
        r = run(kvmdbg("--no-wait", *args, path))
        err = r.stderr.decode()
        expect_eq(f"{which}: status", r.returncode, 2)
        expect_eq(f"{which}: stdout", r.stdout.decode(), "")
        expect_in(f"{which}: message", phrase, err)
        lines = [ln for ln in err.splitlines()
                 if not ln.startswith("Try 'kvmdbg --help'")]
        expect_eq(f"{which}: one line on stderr", len(lines), 1)
        if not lines[0].startswith("kvmdbg: "):
            raise Failure(f"message does not start with 'kvmdbg: ': {err!r}")


def case_no_kvm():
    r = run(kvmdbg("--no-wait", guest("hello")),
            env={"KVMDBG_DEV": "/nonexistent/kvm"})
    expect_eq("status", r.returncode, 3)
    err = r.stderr.decode()
    expect_in("message", "/nonexistent/kvm does not exist", err)
    expect_eq("one line", len(err.splitlines()), 1)


def case_help():
    r = run([KVMDBG, "--help"])
    expect_eq("status", r.returncode, 0)
    out = r.stdout.decode()
    for opt in ("--mem", "--smp", "--append", "--serial", "--no-wait",
                "Exit status"):
        expect_in("--help", opt, out)
    r = run([KVMDBG, "--version"])
    expect_eq("status", r.returncode, 0)
    if not r.stdout.decode().startswith("kvmdbg "):
        raise Failure(f"--version: {r.stdout!r}")
    r = run([KVMDBG])
    expect_eq("no image: status", r.returncode, 2)
    expect_in("no image", "no guest image", r.stderr.decode())


if __name__ == "__main__":
    main({
        "boot": case_boot, "append": case_append,
        "loop-iters": case_loop_iters, "serial-file": case_serial_file,
        "triple": case_triple, "spin": case_spin, "qemu": case_qemu,
        "bad": case_bad, "no-kvm": case_no_kvm, "help": case_help,
    })
