#!/usr/bin/env python3
"""Server behaviour that is not one debugger command: Unix sockets, --once,
the end of --stdio input, a triple fault seen by gdb, single-steps that
never land in an interrupt handler, and kvmdbg stepping a vCPU over its
own breakpoint when a raw client resumes it there."""
import os
import re
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from kvmdbg_test import Failure, expect_eq, expect_in, main, need_kvm  # noqa
from rsp_client import RspClient, from_le_hex, stop_fields  # noqa
from test_gdb import Kvmdbg, check_sanitizer, guest  # noqa: E402
sys.path.insert(0, os.path.join(HERE, "gdb"))
from elfimage import Image  # noqa: E402

KVMDBG = os.environ.get("KVMDBG", "kvmdbg")
RIP = 0x10  # gdb's amd64 register number of rip


def symbols(image):
    out = subprocess.run(["nm", image], stdout=subprocess.PIPE,
                         check=True).stdout.decode()
    return {f[2]: int(f[0], 16) for f in
            (ln.split() for ln in out.splitlines()) if len(f) == 3}


def source_line(name, marker):
    """Line number of the first line of tests/guests/NAME containing
    marker, so tests never hard-code line numbers."""
    path = os.path.join(HERE, "..", "guests", name)
    for n, line in enumerate(open(path), 1):
        if marker in line:
            return n
    raise Failure(f"{marker!r} not found in {path}")


def wait_exit(proc, timeout=20):
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise Failure(f"kvmdbg did not exit within {timeout}s")


def case_unix():
    """--listen unix:PATH: a socket only its owner may use (0600), which
    serves the protocol like TCP."""
    need_kvm()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "kvmdbg.sock")
        err = open(os.path.join(d, "stderr"), "w+b")
        p = subprocess.Popen([KVMDBG, "--listen", "unix:" + path,
                              guest("loop")], stdout=subprocess.DEVNULL,
                             stderr=err, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while f"kvmdbg: listening on unix {path}" not in \
                    open(err.name).read():
                if time.monotonic() > deadline or p.poll() is not None:
                    raise Failure("no listening line: "
                                  + open(err.name).read())
                time.sleep(0.02)
            st = os.lstat(path)
            if not stat.S_ISSOCK(st.st_mode):
                raise Failure(f"{path} is not a socket")
            expect_eq("socket permissions", oct(st.st_mode & 0o777),
                      oct(0o600))
            c = RspClient(path)
            fields, sig = stop_fields(c.command("?"))
            expect_eq("initial stop signal", sig, 5)
            expect_eq("initial stop thread", fields["thread"], "1")
            expect_eq("vKill", c.command("vKill;1"), b"OK")
            c.close()
            expect_eq("kvmdbg status after vKill", wait_exit(p), 0)
            check_sanitizer("stderr", open(err.name).read())
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        if os.path.exists(path):
            raise Failure("the socket file was left behind")


def case_once():
    """--once: kvmdbg exits when its debugger goes away; without it, the
    next debugger finds the guest where the last one left it."""
    need_kvm()
    with Kvmdbg("--once", guest("loop")) as k:
        c = RspClient(("127.0.0.1", k.port))
        stop_fields(c.command("?"))
        c.close()
        expect_eq("status after the debugger left", k.wait(20), 0)
        check_sanitizer("stderr", k.stderr())


def case_stdio_eof():
    """With --stdio, the end of input ends the run."""
    need_kvm()
    p = subprocess.Popen([KVMDBG, "--stdio", guest("loop")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdin.write(b"$?#3f")
    p.stdin.flush()
    got = b""
    deadline = time.monotonic() + 20
    while b"#" not in got.lstrip(b"+"):
        if time.monotonic() > deadline:
            raise Failure(f"no reply to '?': {got!r}")
        got += os.read(p.stdout.fileno(), 4096)
    if not re.search(rb"\$T05thread:1;", got):
        raise Failure(f"unexpected reply to '?': {got!r}")
    p.stdin.close()
    expect_eq("status at the end of input", wait_exit(p), 0)
    check_sanitizer("stderr", p.stderr.read().decode())


class PipeRsp:
    """The protocol over kvmdbg's stdin/stdout (--stdio), no acks."""

    def __init__(self, proc):
        self.proc = proc
        self.buf = b""
        if self.command("QStartNoAckMode") != b"OK":
            raise Failure("QStartNoAckMode refused")

    def command(self, payload):
        data = payload.encode()
        self.proc.stdin.write(b"$%s#%02x" % (data, sum(data) & 0xff))
        self.proc.stdin.flush()
        deadline = time.monotonic() + 30
        while True:
            self.buf = self.buf.lstrip(b"+")
            m = re.match(rb"\$([^#]*)#[0-9a-f]{2}", self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return RspClient._expand(m.group(1))
            if time.monotonic() > deadline:
                raise Failure(f"no reply to {payload!r}: {self.buf!r}")
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise Failure(f"kvmdbg closed stdout after {payload!r}")
            self.buf += chunk


def case_stdio_detach():
    """With --stdio, detach lets the guest run to its end: kvmdbg exits
    with the guest's status and the guest's whole output (on stderr)."""
    need_kvm()
    image = guest("loop")
    sym = symbols(image)
    want = plain_checksum(image, "-a", "iters=5")
    p = subprocess.Popen([KVMDBG, "--stdio", "-a", "iters=5", image],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        c = PipeRsp(p)
        expect_eq("Z0", c.command(f"Z0,{sym['tick']:x},1"), b"OK")
        fields, sig = stop_fields(c.command("vCont;c"))
        expect_eq("stop at tick", from_le_hex(fields[f"{RIP:02x}"]),
                  sym["tick"])
        expect_eq("detach", c.command("D"), b"OK")
        expect_eq("kvmdbg status", wait_exit(p), 1)
        err = p.stderr.read().decode()
        check_sanitizer("stderr", err)
        expect_in("guest output", "loop: iters=5 counter=5 total=10\n", err)
        expect_in("guest checksum", f"loop: checksum={want}\n", err)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


GDB_TRIPLE = r'''
import gdb
stops = []
gdb.events.stop.connect(lambda ev: stops.append(ev))
gdb.execute("target remote %(remote)s")
gdb.execute("continue")
ev = stops[-1]
ok = isinstance(ev, gdb.SignalEvent) and ev.stop_signal == "SIGSEGV"
insn = gdb.selected_frame().architecture().disassemble(
    int(gdb.parse_and_eval("$pc")))[0]["asm"]
cr3 = int(gdb.parse_and_eval("$cr3"))
print("RESULT signal=%%s insn=%%s cr3=%%#x" %% (
    getattr(ev, "stop_signal", type(ev).__name__), insn.split()[0], cr3))
gdb.execute("kill")
gdb.execute("quit %%d" %% (0 if ok else 1))
'''


def run_gdb(script, remote, timeout=60):
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(script % {"remote": remote})
    try:
        r = subprocess.run(["gdb", "-batch", "-nx", "-x", f.name],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, stdin=subprocess.DEVNULL)
    finally:
        os.unlink(f.name)
    return r.returncode, r.stdout.decode()


def case_triple_gdb():
    """A triple fault under a debugger stops every vCPU and reports
    SIGSEGV with the faulting vCPU's state intact."""
    need_kvm()
    with Kvmdbg(guest("triple")) as k:
        rc, out = run_gdb(GDB_TRIPLE, k.remote)
        m = re.search(r"RESULT signal=(\S+) insn=(\S+) cr3=(\S+)", out)
        if not m:
            raise Failure(f"gdb printed no result:\n{out}")
        expect_eq("stop signal", m.group(1), "SIGSEGV")
        if os.environ.get("REALKVM_RUN"):
            # AMD SVM: KVM re-INITs the vCPU at a shutdown intercept (the
            # VMCB is undefined after one), so what gdb sees is the INIT
            # state, not the faulting one.
            expect_eq("cr3 after SVM's INIT", int(m.group(3), 16), 0)
        else:
            expect_eq("faulting instruction", m.group(2), "ud2")
            if int(m.group(3), 16) == 0:
                raise Failure("cr3 reads 0: the faulting state is not "
                              "intact")
        expect_eq("gdb status", rc, 0)
        expect_eq("kvmdbg status after kill", k.wait(20), 0)
        expect_in("guest output", "triple: about to triple fault",
                  k.stdout())


GDB_TIMER = r'''
import gdb
gdb.execute("set pagination off")
gdb.execute("target remote %(remote)s")
gdb.execute("break timer.c:%(line)d")
gdb.execute("continue")
gdb.execute("delete")
stubs = int(gdb.parse_and_eval("(long)&isr_stubs"))
handlers = []
for name in ("isr_common", "isr_dispatch", "timer_interrupt"):
    b = gdb.block_for_pc(int(gdb.parse_and_eval("(long)&" + name)))
    handlers.append((name, b.function.value().address if b and b.function
                     else None))
ticks0 = int(gdb.parse_and_eval("ticks"))
bad = []
for i in range(%(steps)d):
    gdb.execute("stepi", to_string=True)
    pc = int(gdb.parse_and_eval("$pc"))
    fn = gdb.block_for_pc(pc).function
    name = fn.name if fn else "?"
    if name in ("isr_dispatch", "timer_interrupt", "spurious_interrupt") \
            or stubs <= pc < stubs + 256 * 16:
        bad.append((i, hex(pc), name))
ticks1 = int(gdb.parse_and_eval("ticks"))
print("RESULT bad=%%d ticks_during_steps=%%d first=%%s" %% (
    len(bad), ticks1 - ticks0, bad[:3]))
# Let it go: with no debugger the timer interrupts must arrive.
gdb.execute("detach")
'''


def case_timer_stepi():
    """Stepping through the timer guest's sti; hlt loop never lands in the
    interrupt handler (KVM_GUESTDBG_BLOCKIRQ), and interrupts still work
    when the guest runs."""
    need_kvm()
    line = source_line("timer.c", "spins++")
    with Kvmdbg(guest("timer")) as k:
        script = GDB_TIMER.replace("%(line)d", str(line)).replace(
            "%(steps)d", "120")
        rc, out = run_gdb(script, k.remote, timeout=120)
        m = re.search(r"RESULT bad=(\d+) ticks_during_steps=(\d+) first=(.*)",
                      out)
        if not m:
            raise Failure(f"gdb printed no result:\n{out}")
        expect_eq("steps that landed in an interrupt handler",
                  int(m.group(1)), 0)
        expect_eq("timer ticks taken while stepping", int(m.group(2)), 0)
        expect_eq("kvmdbg status", k.wait(60), 1)
        expect_eq("guest output", k.stdout(), "timer: got 10 ticks\n")


def case_step_over(kind):
    """A raw client resumes a vCPU that sits on one of kvmdbg's own
    breakpoints (software or hardware): kvmdbg steps over it by itself,
    and the next stop is the next iteration's hit, counter one higher."""
    need_kvm()
    image = guest("loop")
    sym = symbols(image)
    ztype = {"sw": "0", "hw": "1"}[kind]
    with Kvmdbg("-a", "iters=6", image) as k:
        c = RspClient(("127.0.0.1", k.port))
        expect_eq("Z" + ztype, c.command(f"Z{ztype},{sym['tick']:x},1"),
                  b"OK")
        counters = []
        for _ in range(4):
            fields, sig = stop_fields(c.command("vCont;c"))
            expect_eq("stop signal", sig, 5)
            expect_eq("stop pc", from_le_hex(fields[f"{RIP:02x}"]),
                      sym["tick"])
            mem = c.command(f"m{sym['counter']:x},8")
            counters.append(int.from_bytes(bytes.fromhex(mem.decode()),
                                           "little"))
        expect_eq("counter at successive hits", counters, [0, 1, 2, 3])
        if kind == "sw":
            # The trap is invisible to memory reads.
            mem = c.command(f"m{sym['tick']:x},4")
            expect_eq("bytes at the breakpoint (the original, not INT3)",
                      bytes.fromhex(mem.decode()),
                      Image(image).bytes_at(sym["tick"], 4))
        expect_eq("z" + ztype, c.command(f"z{ztype},{sym['tick']:x},1"),
                  b"OK")
        expect_eq("exit", c.command("vCont;c"), b"W01")
        c.close()
        expect_eq("kvmdbg status", k.wait(20), 1)


def plain_checksum(image, *args):
    r = subprocess.run([KVMDBG, "--no-wait", "--listen", "none", *args,
                        image], stdout=subprocess.PIPE, timeout=60)
    m = re.search(r"loop: checksum=(0x[0-9a-f]+)", r.stdout.decode())
    if not m:
        raise Failure(f"no checksum from a plain run: {r.stdout!r}")
    return m.group(1)


def case_drop_restores():
    """A debugger that vanishes with breakpoints and watchpoints set leaves
    none behind: the next one finds the original bytes, runs to the end
    without a stop, and the guest's memory equals a plain run's."""
    need_kvm()
    image = guest("loop")
    sym = symbols(image)
    want = plain_checksum(image, "-a", "iters=8")
    with Kvmdbg("-a", "iters=8", image) as k:
        c = RspClient(("127.0.0.1", k.port))
        for z in (f"Z0,{sym['tick']:x},1", f"Z2,{sym['counter']:x},8",
                  f"Z3,{sym['total']:x},8"):
            expect_eq(z, c.command(z), b"OK")
        for _ in range(3):
            stop_fields(c.command("vCont;c"))
        c.close()  # gone, breakpoints and watchpoints still set
        time.sleep(0.3)
        c = RspClient(("127.0.0.1", k.port))
        stop_fields(c.command("?"))
        mem = c.command(f"m{sym['tick']:x},4")
        expect_eq("bytes at the old breakpoint",
                  bytes.fromhex(mem.decode()),
                  Image(image).bytes_at(sym["tick"], 4))
        expect_eq("run to the end with nothing set", c.command("vCont;c"),
                  b"W01")
        c.close()
        expect_eq("kvmdbg status", k.wait(20), 1)
        m = re.search(r"loop: checksum=(0x[0-9a-f]+)", k.stdout())
        expect_eq("guest checksum after the dropped session",
                  m.group(1) if m else k.stdout(), want)


def plain_output(image, *args):
    """The guest's console from a run without a debugger, on the same kind
    of host as the test's kvmdbg (inside the nested VM for the real-KVM
    tier)."""
    run = os.environ.get("REALKVM_RUN")
    cmd = [KVMDBG, "--no-wait", "--listen", "none", *args, image]
    if run:
        cmd = [run, "--timeout", "120", "--file", f"{image}:{image}", "--",
               *cmd]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, timeout=200)
    return r.stdout.decode()


def case_selfdebug():
    """A guest that takes its own INT3s and TF single-steps through its own
    IDT, debugged with breakpoints and a watchpoint elsewhere: its counts
    come out exactly as without a debugger (kvmdbg delivers the guest's
    own #BP and #DB to it, also where KVM cannot do it by itself)."""
    need_kvm()
    image = guest("selfdebug")
    sym = symbols(image)
    want = plain_output(image)
    if not re.fullmatch(r"selfdebug: bp=5 db=\d+ marker=15\n", want):
        raise Failure(f"the plain run printed {want!r}")
    with Kvmdbg(image) as k:
        c = RspClient(("127.0.0.1", k.port))
        for z in (f"Z0,{sym['marker']:x},1", f"Z1,{sym['main']:x},1",
                  f"Z2,{sym['marker_calls']:x},8"):
            expect_eq(z, c.command(z), b"OK")
        stops = 0
        while True:
            r = c.command("vCont;c")
            if r.startswith(b"W"):
                break
            fields, sig = stop_fields(r)
            expect_eq(f"stop {stops} signal", sig, 5)
            stops += 1
            if stops > 100:
                raise Failure("more than 100 stops")
        # main's entry once, then 5 marker calls, each a breakpoint hit
        # and a watched write.
        expect_eq("debugger stops", stops, 11)
        expect_eq("exit", r, b"W01")
        c.close()
        expect_eq("kvmdbg status", k.wait(30), 1)
        expect_eq("the guest's own counts", k.stdout(), want)


def case_realkvm_probe():
    """kvmdbg --probe inside the nested VM's real kvm_amd reports the
    real-KVM strategies; a nested VM without /dev/kvm fails here."""
    run = os.environ.get("REALKVM_RUN")
    if not run or not os.access(run, os.X_OK):
        raise Failure(f"the real-KVM tier needs ../shared/realkvm/run "
                      f"(REALKVM_RUN={run!r})")
    r = subprocess.run([run, "--timeout", "120", "--", KVMDBG, "--probe",
                        "-v"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=200)
    out = r.stdout.decode()
    expect_eq(f"kvmdbg --probe status (stderr: {r.stderr.decode()!r})",
              r.returncode, 0)
    kv = dict(tok.split("=", 1) for tok in out.split()
              if "=" in tok and not tok.startswith("("))
    want = {
        "sw_bp": "works", "guest_bp": "works",
        "hw_exec": "works", "hw_exec_rf": "works",
        "strategy_sw_bp": "kvm_debug_exit",
        "strategy_hw_exec_resume": "rf",
        "hw_data_write": "works", "hw_data_rw": "works",
        "single_step": "works", "blockirq": "1",
        "readonly_mem": "works", "unmapped_read": "works",
        "strategy_watch": "debug_regs_then_pages",
        "strategy_guest_can_take_bp": "1", "module_kvm_amd": "1",
        "module_kvm_pvm": "0",
    }
    expect_eq("real-KVM probe facts", {k: kv.get(k) for k in want}, want)


if __name__ == "__main__":
    main({
        "unix": case_unix, "once": case_once, "stdio-eof": case_stdio_eof,
        "triple-gdb": case_triple_gdb, "timer-stepi": case_timer_stepi,
        "step-over": case_step_over, "drop-restores": case_drop_restores,
        "stdio-detach": case_stdio_detach,
        "realkvm-probe": case_realkvm_probe, "selfdebug": case_selfdebug,
    })
