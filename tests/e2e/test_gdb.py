#!/usr/bin/env python3
"""kvmdbg under a real gdb: each case starts kvmdbg on a port the OS picks,
runs `gdb -batch -nx -x tests/e2e/gdb/SCRIPT.py` against it, and checks
gdb's exit status (the script ends with `quit 0` or `quit 1`), then
kvmdbg's exit status, its exact console output and that its stderr holds
nothing unexpected (no sanitizer report, no warning).

The driver side (Kvmdbg, finish() and the rest) is shared with
test_lldb.py."""
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "gdb")
sys.path.insert(0, HERE)
sys.path.insert(0, SCRIPTS)
from kvmdbg_test import (Failure, SKIP, expect_eq, main, need_kvm,  # noqa
                         run)
from elfimage import Image  # noqa: E402

KVMDBG = os.environ.get("KVMDBG", "kvmdbg")
GUESTS = os.environ.get("GUESTS", ".")
GDB = os.environ.get("GDB", "gdb")

HELLO = "Hello from the kvmdbg test guest\nhello: cmdline=\n"
SPIN = "spin: running\n"
# What kvmdbg may print on stderr besides problems: the machine-readable
# listening line and the attach hint.
HINT = re.compile(r"^(kvmdbg: listening on |kvmdbg: guest stopped at its "
                  r"entry; attach with:$|  gdb -ex |  lldb -o )")
SANITIZER = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
             "runtime error:", "UndefinedBehaviorSanitizer", "==ERROR:")


# Set for the real-KVM tier: ../shared/realkvm/run.
REALKVM_RUN = os.environ.get("REALKVM_RUN")


def guest(name):
    return os.path.abspath(os.path.join(GUESTS, name + ".elf"))


def check_sanitizer(what, text):
    for mark in SANITIZER:
        if mark in text:
            raise Failure(f"{what} has a sanitizer report ({mark!r}):\n"
                          f"{text}")


class Kvmdbg:
    """kvmdbg serving one guest on 127.0.0.1 and a port the OS picks; its
    stdout and stderr go to files so that nothing blocks on a pipe."""

    def __init__(self, *args, cwd=None):
        self.dir = tempfile.mkdtemp(prefix="kvmdbg-e2e-")
        self.out = open(os.path.join(self.dir, "stdout"), "w+b")
        self.err = open(os.path.join(self.dir, "stderr"), "w+b")
        if REALKVM_RUN:
            self._start_realkvm(args, cwd)
            return
        self.proc = subprocess.Popen(
            [KVMDBG, "--listen", "127.0.0.1:0", *args], stdout=self.out,
            stderr=self.err, stdin=subprocess.DEVNULL, cwd=cwd)
        self.port = self._port()

    def _start_realkvm(self, args, cwd):
        """The real-KVM tier: kvmdbg --stdio inside ../shared/realkvm's
        nested VM (real kvm_amd), its stdio on a TCP port of this host.
        The guest images go in at their host paths, so the exec-file path
        kvmdbg reports is one gdb can open here; the guest console comes
        back on stderr, relayed line by line."""
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        smp = args[args.index("--smp") + 1] if "--smp" in args else "1"
        files = []
        for a in args:
            if a.endswith(".elf"):
                a = os.path.abspath(os.path.join(cwd or ".", a))
                files += ["--file", f"{a}:{a}"]
        args = [os.path.abspath(os.path.join(cwd or ".", a))
                if a.endswith(".elf") else a for a in args]
        self.proc = subprocess.Popen(
            [REALKVM_RUN, "--port", str(self.port), "--timeout", "240",
             "--smp", smp, *files, "--", os.path.abspath(KVMDBG), "--stdio",
             *args], stdout=self.out, stderr=self.err,
            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise Failure(f"realkvm run exited with "
                              f"{self.proc.returncode}: {self.stderr()!r}")
            if time.monotonic() > deadline:
                raise Failure(f"realkvm's port never listened: "
                              f"{self.stderr()!r}")
            time.sleep(0.2)

    def _port(self, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            for line in self.stderr().splitlines():
                m = re.fullmatch(r"kvmdbg: listening on tcp 127\.0\.0\.1 "
                                 r"(\d+)", line)
                if m:
                    return int(m.group(1))
            if self.proc.poll() is not None:
                raise Failure(f"kvmdbg exited with {self.proc.returncode} "
                              f"before listening: {self.stderr()!r}")
            if time.monotonic() > deadline:
                raise Failure(f"kvmdbg did not listen within {timeout}s: "
                              f"{self.stderr()!r}")
            time.sleep(0.02)

    @property
    def remote(self):
        return f"127.0.0.1:{self.port}"

    def stdout(self):
        if REALKVM_RUN:
            # Inside, the console goes to kvmdbg's stderr, relayed here
            # with kvmdbg's own lines; the guest's are the others.
            return "".join(ln for ln in self._read(self.err)
                           .splitlines(True)
                           if not ln.startswith("kvmdbg: "))
        return self._read(self.out)

    @staticmethod
    def _read(fileobj):
        with open(fileobj.name, "rb") as f:
            return f.read().decode(errors="replace")

    def stderr(self):
        text = self._read(self.err)
        if REALKVM_RUN:
            # Only kvmdbg's own lines: the rest is the guest's console.
            text = "".join(ln for ln in text.splitlines(True)
                           if ln.startswith("kvmdbg: "))
        return text

    def wait_output(self, text, timeout=30):
        deadline = time.monotonic() + timeout
        while text not in self.stdout():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise Failure(f"kvmdbg did not print {text!r}: stdout "
                              f"{self.stdout()!r}, stderr {self.stderr()!r}")
            time.sleep(0.02)

    def wait(self, timeout=30):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure(f"kvmdbg still ran {timeout}s after the debugger "
                          f"was done; stdout {self.stdout()!r}, stderr "
                          f"{self.stderr()!r}")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.close()
        self.err.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def unexpected_stderr(text):
    return "".join(ln for ln in text.splitlines(True) if not HINT.match(ln))


def finish(k, status, stdout=None, check_stdout=None, timeout=30,
           stderr=""):
    """kvmdbg must end by itself with status, print exactly stdout (or
    pass check_stdout) and nothing but stderr besides the listening line
    and the attach hint on stderr."""
    rc = k.wait(timeout)
    err = k.stderr()
    check_sanitizer("kvmdbg's stderr", err)
    if rc != status:
        raise Failure(f"kvmdbg exit status:\n  got:  {rc}\n  want: {status}"
                      f"\n--- kvmdbg stdout ---\n{k.stdout()}"
                      f"--- kvmdbg stderr ---\n{err}")
    if stdout is not None:
        expect_eq("kvmdbg stdout (guest console)", k.stdout(), stdout)
    if check_stdout:
        check_stdout(k.stdout())
    expect_eq("kvmdbg stderr besides the listening line and hint",
              unexpected_stderr(err), stderr)


_plain = {}


def plain_run(name, *args):
    """The console output of a debugger-free run, to compare against."""
    key = (name,) + args
    if key not in _plain:
        r = run([KVMDBG, "--listen", "127.0.0.1:0", "--no-wait", *args,
                 guest(name)], timeout=60)
        check_sanitizer("a plain run's stderr", r.stderr.decode())
        expect_eq(f"plain run of {name}: status", r.returncode, 1)
        _plain[key] = r.stdout.decode()
    return _plain[key]


def need_gdb():
    if not shutil.which(GDB):
        print(f"SKIP: {GDB} is not installed")
        sys.exit(SKIP)
    r = run([GDB, "-batch", "-nx", "-ex", "python print('py' + 'ok')"])
    if b"pyok" not in r.stdout:
        print(f"SKIP: {GDB} has no Python support: {r.stderr!r}")
        sys.exit(SKIP)


def gdb_env(k=None, **extra):
    e = {"PYTHONDONTWRITEBYTECODE": "1"}
    if k is not None:
        e["KVMDBG_REMOTE"] = k.remote
    e.update({key: str(v) for key, v in extra.items()})
    return e


def gdb_cmd(script):
    return [GDB, "-batch", "-nx", "-x", os.path.join(SCRIPTS, script)]


def run_gdb(script, k=None, timeout=60, cwd=None, **extra):
    r = run(gdb_cmd(script), timeout=timeout, env=gdb_env(k, **extra),
            cwd=cwd)
    out, err = r.stdout.decode(), r.stderr.decode()
    print(f"--- gdb {script}: exit {r.returncode}\n{out}", end="")
    if r.returncode != 0 or "gdb script: PASS" not in out:
        raise Failure(f"gdb -x {script} exited with {r.returncode}\n"
                      f"--- gdb stdout ---\n{out}--- gdb stderr ---\n{err}"
                      + (f"--- kvmdbg stderr ---\n{k.stderr()}" if k else ""))
    return out, err


def wait_file(path, proc, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise Failure(f"{what}: no {path} (process status "
                          f"{proc.poll()})")
        time.sleep(0.02)
    with open(path) as f:
        return f.read().strip()


def check_smp(n):
    def check(out):
        lines = out.splitlines()
        expect_eq("smp cpu lines", sorted(lines[:-1]),
                  sorted(f"smp: cpu {i} of {n} online" for i in range(n)))
        expect_eq("smp last line", lines[-1] if lines else None,
                  f"smp: all {n} cpus online")
    return check


def need():
    need_kvm()
    need_gdb()


# The cases. Each gdb script's docstring says what it checks.

def case_exec_file(name):
    """No local file: symbols come through qXfer:exec-file. kvmdbg runs in
    the guests' directory with a relative image path, gdb elsewhere."""
    need()
    symbols = {"loop": "tick,accumulate,fill_buffer,main,counter,total,"
                       "buffer",
               "hello64": "_start64,main,guest_start"}[name]
    entry_function = {"loop": "_start32", "hello64": "_start64"}[name]
    want = plain_run(name)
    with Kvmdbg(name + ".elf", cwd=GUESTS) as k, \
            tempfile.TemporaryDirectory() as elsewhere:
        run_gdb("exec_file.py", k, cwd=elsewhere, KVMDBG_GUEST=guest(name),
                KVMDBG_SYMBOLS=symbols,
                KVMDBG_ENTRY_FUNCTION=entry_function)
        finish(k, 1, want)


def case_registers():
    need()
    with Kvmdbg(guest("hello64")) as k:
        run_gdb("registers.py", k, KVMDBG_GUEST=guest("hello64"))
        finish(k, 1, HELLO)


def case_memory_read():
    need()
    with Kvmdbg(guest("hello64")) as k:
        run_gdb("memory_read.py", k, KVMDBG_GUEST=guest("hello64"))
        finish(k, 1, HELLO)


def case_memory_write():
    need()
    want_first = "loop: iters=100 counter=1100 total=4950"

    def check(out):
        lines = out.splitlines()
        expect_eq("loop's first line (counter started at 1000)",
                  lines[0] if lines else None, want_first)
        if len(lines) != 2 or not re.fullmatch(
                r"loop: checksum=0x[0-9a-f]{16}", lines[1]):
            raise Failure(f"loop output: {out!r}")
    with Kvmdbg(guest("loop")) as k:
        run_gdb("memory_write.py", k)
        finish(k, 1, check_stdout=check)


def case_register_write():
    need()
    with Kvmdbg(guest("hello64")) as k:
        run_gdb("register_write.py", k, KVMDBG_GUEST=guest("hello64"))
        finish(k, 1, HELLO)


def case_stepi():
    need()
    with Kvmdbg(guest("hello64")) as k:
        run_gdb("stepi.py", k, KVMDBG_GUEST=guest("hello64"),
                KVMDBG_STEPS=50)
        finish(k, 1, HELLO)


def case_continue_exit():
    need()
    with Kvmdbg(guest("hello64")) as k:
        run_gdb("continue_exit.py", k)
        finish(k, 1, HELLO)


def case_interrupt(smp="1"):
    need()
    with Kvmdbg("--smp", smp, guest("spin")) as k:
        run_gdb("interrupt.py", k)
        finish(k, 0, SPIN)  # gdb killed the guest


def case_smp():
    need()
    with Kvmdbg("--smp", "2", guest("smp")) as k:
        run_gdb("smp.py", k, KVMDBG_GUEST=guest("smp"))
        finish(k, 1, check_stdout=check_smp(2))


def case_detach():
    need()
    want = plain_run("loop")
    with Kvmdbg(guest("loop")) as k:
        run_gdb("detach.py", k)
        finish(k, 1, want)


def case_reconnect():
    """gdb dies (SIGKILL) with the guest stopped after a few stepi; the next
    gdb finds it at the same pc and runs it to the end, which prints what a
    debugger-free run prints, checksum included. While the first is
    attached, a second client is refused."""
    need()
    want = plain_run("loop")
    with Kvmdbg(guest("loop")) as k:
        state = os.path.join(k.dir, "state")
        with open(os.path.join(k.dir, "gdb1.out"), "w+b") as log:
            first = subprocess.Popen(
                gdb_cmd("reconnect_first.py"), stdout=log, stderr=log,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **gdb_env(k, KVMDBG_STATE=state,
                                             KVMDBG_STEPS=5)})
            try:
                pc = wait_file(state, first, "the first gdb")
                second_client_refused(k)
            except Failure as f:
                log.seek(0)
                raise Failure(f"{f}\n{log.read().decode()}")
            finally:
                first.kill()
                first.wait()
        run_gdb("reconnect_second.py", k, KVMDBG_EXPECT_PC=pc)
        finish(k, 1, want, stderr=REFUSED)


REFUSED = ("kvmdbg: warn: refused a second debugger connection: one is "
           "already attached\n")


def second_client_refused(k):
    """While a debugger is attached, another connection is accepted and
    closed at once, without a byte."""
    with socket.create_connection(("127.0.0.1", k.port), timeout=20) as s:
        s.sendall(rsp_packet(b"?"))
        try:
            got = s.recv(100)
        except ConnectionResetError:
            got = b""
        except socket.timeout:
            raise Failure("a second client stayed connected for 20s "
                          "while a debugger was attached")
        expect_eq("a second client's reply", got, b"")


def case_reconnect_running():
    """gdb dies while the guest runs: kvmdbg stops the guest for the next
    debugger, which gets a SIGINT stop."""
    need()
    with Kvmdbg(guest("spin")) as k:
        state = os.path.join(k.dir, "state")
        with open(os.path.join(k.dir, "gdb1.out"), "w+b") as log:
            first = subprocess.Popen(
                gdb_cmd("reconnect_running.py"), stdout=log, stderr=log,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **gdb_env(k, KVMDBG_STATE=state)})
            try:
                wait_file(state, first, "the first gdb")
                k.wait_output(SPIN)
            except Failure as f:
                log.seek(0)
                raise Failure(f"{f}\n{log.read().decode()}")
            finally:
                first.kill()
                first.wait()
        run_gdb("reconnect_running.py", k)
        finish(k, 0, SPIN)


def rsp_packet(payload):
    return b"$%s#%02x" % (payload, sum(payload) & 0xff)


def rsp_reply(sock, buf=b""):
    """The next packet's payload, skipping acks."""
    while True:
        m = re.search(rb"\$([^#]*)#[0-9a-f]{2}", buf)
        if m:
            return m.group(1)
        chunk = sock.recv(65536)
        if not chunk:
            raise Failure(f"kvmdbg closed the connection; got {buf!r}")
        buf += chunk


def case_reconnect_raw():
    """A client that drops mid-packet with a TCP reset after a few
    exchanges leaves the guest stopped and kvmdbg serving: gdb then
    connects, finds the entry pc and runs the guest to its end."""
    need()
    entry = Image(guest("hello64")).entry
    with Kvmdbg(guest("hello64")) as k:
        sock = socket.create_connection(("127.0.0.1", k.port), timeout=20)
        for payload in (b"qSupported:multiprocess+;swbreak+", b"?", b"g",
                        b"m%x,8" % entry):
            sock.sendall(rsp_packet(payload))
            reply = rsp_reply(sock)
            sock.sendall(b"+")
            if payload == b"?":
                expect_eq("'?' reply", reply[:3], b"T05")
        sock.sendall(b"$m%x," % entry)  # the rest never comes
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        b"\x01\0\0\0\0\0\0\0")  # linger 0: reset
        sock.close()
        run_gdb("reconnect_second.py", k, KVMDBG_EXPECT_PC=hex(entry))
        finish(k, 1, HELLO)


def case_stdio():
    """`target remote | kvmdbg --stdio`: the protocol on the pipe, the
    guest console on kvmdbg's stderr (a file here), kvmdbg's status
    written by the shell gdb runs it in."""
    need()
    with tempfile.TemporaryDirectory() as d:
        err = os.path.join(d, "kvmdbg.err")
        status = os.path.join(d, "status")
        cmd = (f"{shlex.quote(KVMDBG)} --stdio "
               f"{shlex.quote(guest('hello64'))} 2>{shlex.quote(err)}; "
               f"echo $? >{shlex.quote(status)}.tmp; "
               f"mv {shlex.quote(status)}.tmp {shlex.quote(status)}")
        run_gdb("stdio.py", KVMDBG_REMOTE="| " + cmd,
                KVMDBG_GUEST=guest("hello64"))
        deadline = time.monotonic() + 30
        while not os.path.exists(status):
            if time.monotonic() > deadline:
                raise Failure("kvmdbg --stdio did not end after gdb")
            time.sleep(0.02)
        text = open(err).read()
        check_sanitizer("kvmdbg's stderr", text)
        expect_eq("kvmdbg --stdio exit status", open(status).read().strip(),
                  "1")
        expect_eq("kvmdbg --stdio stderr (the guest console)", text, HELLO)


def case_monitor():
    need()
    with Kvmdbg("--mem", "3200M", guest("hello64")) as k:
        run_gdb("monitor.py", k)
        finish(k, 1, HELLO)


def case_vcont_thread():
    need()
    with Kvmdbg("--smp", "2", guest("smp")) as k:
        out, err = run_gdb("vcont_thread.py", k, KVMDBG_GUEST=guest("smp"))
        # gdb's remote log: under scheduler-locking step, 3 steps of
        # thread 2 alone, then 3 of thread 1 alone; then 3 of thread 2
        # with the others continuing.
        sent = re.findall(r"Sending packet: \$(vCont;[^#]*)#", err)
        expect_eq("gdb's vCont packets", sent,
                  ["vCont;s:2"] * 3 + ["vCont;s:1"] * 3 +
                  ["vCont;s:2;c"] * 3)
        finish(k, 1, check_stdout=check_smp(2))


def case_attach_running():
    need()
    with Kvmdbg("--no-wait", guest("spin")) as k:
        k.wait_output(SPIN)
        run_gdb("attach_running.py", k)
        time.sleep(0.5)
        if k.proc.poll() is not None:
            raise Failure(f"kvmdbg ended ({k.proc.returncode}) after the "
                          f"detach; stderr {k.stderr()!r}")
        k.proc.send_signal(signal.SIGTERM)
        finish(k, 128 + signal.SIGTERM, SPIN)


CASES = {
    "exec-file": case_exec_file,
    "registers": case_registers,
    "memory-read": case_memory_read,
    "memory-write": case_memory_write,
    "register-write": case_register_write,
    "stepi": case_stepi,
    "continue-exit": case_continue_exit,
    "interrupt": case_interrupt,
    "smp": case_smp,
    "detach": case_detach,
    "reconnect": case_reconnect,
    "reconnect-running": case_reconnect_running,
    "reconnect-raw": case_reconnect_raw,
    "stdio": case_stdio,
    "monitor": case_monitor,
    "vcont-thread": case_vcont_thread,
    "attach-running": case_attach_running,
}

if __name__ == "__main__":
    main(CASES)
