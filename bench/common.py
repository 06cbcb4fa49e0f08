"""Helpers of bench/run.py: starting kvmdbg and QEMU on the bench guest,
running the gdb half (bench/gdbside.py), the floor program, facts about the
machine, and small bits of ELF and statistics."""
import json
import os
import re
import shutil
import socket
import statistics
import struct
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GUEST_SRC = os.path.join(ROOT, "tests", "guests", "bench.c")
GUEST_MEM_MIB = 256


class BenchFailure(Exception):
    """A run that did not do what was asked: it is reported, never timed."""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listening(port):
    """True once something listens on 127.0.0.1:port. Reads /proc/net/tcp
    instead of connecting, since QEMU's gdbstub takes one client only."""
    want = f"0100007F:{port:04X}"
    try:
        with open("/proc/net/tcp") as f:
            for ln in f.readlines()[1:]:
                cols = ln.split()
                if cols[1] == want and cols[3] == "0A":
                    return True
    except OSError:
        pass
    return False


def source_line(marker):
    """The line of tests/guests/bench.c that carries a /* marker */."""
    with open(GUEST_SRC) as f:
        for no, ln in enumerate(f, 1):
            if f"/* {marker} */" in ln:
                return no
    raise SystemExit(f"bench: no /* {marker} */ in {GUEST_SRC}")


def elf_section(path, name):
    """(address, bytes) of an ELF64 little-endian section."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise SystemExit(f"bench: {path} is not an ELF64 LE image")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)

    def sh(i):
        return struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
    strtab = sh(shstrndx)
    for i in range(shnum):
        nm, _, _, addr, off, size = sh(i)
        s = data[strtab[4] + nm:data.index(b"\0", strtab[4] + nm)]
        if s.decode() == name:
            return addr, data[off:off + size]
    raise SystemExit(f"bench: {path} has no {name} section")


def median(xs):
    return statistics.median(xs) if xs else None


class Running:
    """One server process on the bench guest."""

    def __init__(self, proc, port, out_path, err_lines, t_spawn,
                 err_path=None):
        self.proc = proc
        self.port = port
        self.out_path = out_path
        self.err_lines = err_lines
        self.t_spawn = t_spawn
        self.err_path = err_path

    def wait_exit(self, timeout=60):
        """The exit status, the console output and the server's stderr."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        with open(self.out_path, errors="replace") as f:
            out = f.read()
        return rc, out, "".join(self.err_lines)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def _drain(stream, lines, port_found, box):
    """Collects a server's stderr; hands over the port from kvmdbg's
    `listening on tcp 127.0.0.1 PORT` line as soon as it comes."""
    for raw in iter(stream.readline, b""):
        ln = raw.decode(errors="replace")
        lines.append(ln)
        m = re.search(r"listening on tcp 127\.0\.0\.1 (\d+)", ln)
        if m and "port" not in box:
            box["port"] = int(m.group(1))
            port_found.set()
    port_found.set()


class Kvmdbg:
    name = "kvmdbg"
    label = "kvmdbg"

    def __init__(self, binary, image):
        self.binary = binary
        self.image = image

    def command(self, append, listen="127.0.0.1:0"):
        return [self.binary, "--listen", listen, "--mem",
                f"{GUEST_MEM_MIB}M", "--append", append, self.image]

    def start(self, append, tmp):
        out = os.path.join(tmp, "console.txt")
        lines, box, found = [], {}, threading.Event()
        with open(out, "wb") as o:
            t0 = time.monotonic()
            p = subprocess.Popen(self.command(append), stdout=o,
                                 stderr=subprocess.PIPE,
                                 stdin=subprocess.DEVNULL)
        threading.Thread(target=_drain, args=(p.stderr, lines, found, box),
                         daemon=True).start()
        found.wait(30)
        if "port" not in box:
            p.kill()
            p.wait()
            raise BenchFailure("kvmdbg did not listen: "
                               + "".join(lines).strip()[-500:])
        return Running(p, box["port"], out, lines, t0)


class Qemu:
    name = "qemu"
    label = "QEMU"

    def __init__(self, binary, image, cpu):
        self.binary = binary
        self.image = image
        self.cpu = cpu

    def command(self, append, port=None):
        cpu = ["-cpu", self.cpu] if self.cpu else []
        gdb = f"tcp:127.0.0.1:{port}" if port else "tcp:127.0.0.1:PORT"
        return [self.binary, "-M", "pc", "-enable-kvm", *cpu, "-m",
                str(GUEST_MEM_MIB), "-display", "none", "-nodefaults",
                "-serial", "stdio", "-no-reboot", "-device",
                "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel",
                self.image, "-append", append, "-S", "-gdb", gdb]

    def start(self, append, tmp):
        out = os.path.join(tmp, "console.txt")
        err = os.path.join(tmp, "qemu-stderr.txt")
        port = free_port()
        with open(out, "wb") as o, open(err, "wb") as e:
            t0 = time.monotonic()
            p = subprocess.Popen(self.command(append, port), stdout=o,
                                 stderr=e, stdin=subprocess.DEVNULL)
        return Running(p, port, out, [], t0, err)

    def wait_listening(self, run):
        deadline = time.monotonic() + 30
        while not listening(run.port):
            if run.proc.poll() is not None or time.monotonic() > deadline:
                run.kill()
                with open(run.err_path, errors="replace") as f:
                    raise BenchFailure("QEMU did not listen: "
                                       + f.read().strip()[-500:])
            time.sleep(0.002)


def qemu_cpu_model(qemu):
    """`host` when this KVM accepts QEMU's -cpu host, else None (QEMU's
    default model) and QEMU's words why."""
    p = subprocess.Popen([qemu, "-M", "pc", "-enable-kvm", "-cpu", "host",
                          "-m", str(GUEST_MEM_MIB), "-display", "none",
                          "-nodefaults", "-S"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        _, err = p.communicate(timeout=3)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return "host", None
    lines = [ln for ln in err.decode(errors="replace").splitlines()
             if ln.strip()]
    return None, (lines[0] if lines else f"exit status {p.returncode}")


def run_gdb(params, timeout, wait=True):
    """Starts gdb on bench/gdbside.py with params; with wait, returns its
    parsed result or raises BenchFailure."""
    env = dict(os.environ, BENCH_PARAMS=json.dumps(params),
               PYTHONDONTWRITEBYTECODE="1")
    p = subprocess.Popen(["gdb", "-batch", "-nx", "-x",
                          os.path.join(HERE, "gdbside.py")],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, env=env)
    if not wait:
        return p
    return gdb_result(p, timeout)


def gdb_result(p, timeout):
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise BenchFailure(f"gdb did not finish within {timeout} s")
    text = out.decode(errors="replace")
    m = re.search(r"^BENCH-RESULT (.*)$", text, re.M)
    if m:
        return json.loads(m.group(1))
    m = re.search(r"^BENCH-FAILED (.*)$", text, re.M)
    if m:
        raise BenchFailure(json.loads(m.group(1)))
    raise BenchFailure("gdb ended without a result: "
                       + text.strip()[-500:].replace("\n", " | "))


def floor(build_tmp, exits, rtts):
    """Builds bench/floor.c with gcc (once per build_tmp) and runs it: a
    dict of its key=value lines, or {'error': why}."""
    exe = os.path.join(build_tmp, "kvmdbg-floor")
    if not os.path.exists(exe):
        cc = subprocess.run(["gcc", "-std=gnu11", "-O2", "-Wall", "-Wextra",
                             "-Werror", "-o", exe,
                             os.path.join(HERE, "floor.c")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if cc.returncode:
            return {"error": "gcc: " + cc.stdout.decode().strip()[-300:]}
    r = subprocess.run([exe, str(exits), str(rtts)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    if r.returncode:
        return {"error": r.stderr.decode().strip()[-300:]}
    return dict(ln.split("=", 1) for ln in r.stdout.decode().splitlines()
                if "=" in ln)


def first_line(cmd):
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        return r.stdout.decode(errors="replace").splitlines()[0].strip()
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def machine_facts(kvmdbg):
    facts = {"cores": os.cpu_count(), "kernel": os.uname().release}
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            facts["cpu"] = m.group(1).strip() if m else "unknown"
    except OSError:
        facts["cpu"] = "unknown"
    r = subprocess.run([kvmdbg, "--probe"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    probe = r.stdout.decode(errors="replace").splitlines()
    facts["probe"] = [ln.rstrip() for ln in probe
                      if ln.startswith(("modules", "strategy", "caps",
                                        "      "))]
    facts["gdb"] = first_line(["gdb", "--version"])
    facts["qemu"] = first_line(["qemu-system-x86_64", "--version"])
    return facts


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def need_tools():
    """QEMU and gdb, installed through tools/install-deps (Debian's
    qemu-system-x86 and gdb) when missing."""
    if shutil.which("qemu-system-x86_64") and shutil.which("gdb"):
        return
    print("bench: installing QEMU and gdb with tools/install-deps",
          flush=True)
    subprocess.run([os.path.join(ROOT, "tools", "install-deps")],
                   check=True)
    if not (shutil.which("qemu-system-x86_64") and shutil.which("gdb")):
        raise SystemExit("bench: qemu-system-x86_64 or gdb still missing")


def tempdir():
    return tempfile.TemporaryDirectory(prefix="kvmdbg-bench-")
