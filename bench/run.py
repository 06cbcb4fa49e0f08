#!/usr/bin/env python3
"""kvmdbg against QEMU's gdbstub on the same PVH guest
(tests/guests/bench.elf) and the same gdb script (bench/gdbside.py),
alternating kvmdbg and QEMU within each round, over several rounds. Prints
the medians and the ratio kvmdbg/QEMU per scenario, the floor of this
machine (bench/floor.c), and writes it all to docs/PERFORMANCE.md.

Usage: bench/run.py [--rounds N] [--scenarios LIST] [--quick] [BUILD]
BUILD is a meson build directory with kvmdbg and the test guests (default
build). `make bench` builds `build` and runs this with the defaults."""
import argparse
import datetime
import os
import shlex
import shutil
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import BenchFailure, median  # noqa: E402

DUMP_START = 0x100000

# name: (title, unit, target ratio kvmdbg/QEMU or None)
SCENARIOS = {
    "bp": ("`continue` to a breakpoint in a loop, per hit", "µs", 0.5),
    "stepi": ("`stepi`, per step", "µs", 0.5),
    "next": ("`next` over one line that loops {n} times", "s", 0.02),
    "cond": ("conditional breakpoint, false {n} times then true", "s",
             0.05),
    "dump": ("`dump binary memory` of {mib} MiB", "s", 0.25),
    "launch": ("launch to the first stop", "ms", 0.05),
    "entry": ("launch to the first stop at the guest's entry", "ms", None),
    "rss": ("peak RSS of the server (during scenario 1)", "MiB", 0.1),
}
# Which run each row's numbers come from.
RUN_OF = {"bp": "bp", "rss": "bp", "stepi": "stepi", "next": "next",
          "cond": "cond", "dump": "dump", "launch": "launch",
          "entry": "launch"}
NUMBER = {"bp": "1", "stepi": "2", "next": "3", "cond": "4", "dump": "5",
          "launch": "6", "entry": "6b", "rss": "7"}
RUNS = ["bp", "stepi", "next", "cond", "dump", "launch"]

FULL = {"rounds": 3, "hits": 1000, "steps": 2000, "n": 10000, "mib": 64,
        "floor": 100000}
QUICK = {"rounds": 1, "hits": 200, "steps": 500, "n": 1000, "mib": 16,
         "floor": 20000}


MASK64 = 2**64 - 1


def step_spin(n):
    """What step_loop(n) leaves in spin, as bench.c computes it."""
    s = 0
    for k in range(n):
        s = (s + (k ^ (s >> 3))) & MASK64
    return s


def pattern_words():
    """What dump_fill() writes to pattern[], as bench.c computes it."""
    return [((k + 1) * 0x9e3779b97f4a7c15) & MASK64 for k in range(512)]


def pattern_bytes():
    return b"".join(w.to_bytes(8, "little") for w in pattern_words())


class Bench:
    def __init__(self, a, sizes):
        self.a = a
        self.s = sizes
        self.image = os.path.abspath(os.path.join(a.build, "tests", "guests",
                                                  "bench.elf"))
        self.kvmdbg = os.path.abspath(os.path.join(a.build, "kvmdbg"))
        for f in (self.kvmdbg, self.image):
            if not os.path.exists(f):
                raise SystemExit(f"bench: {f} is missing; build first: "
                                 f"meson setup {a.build} && "
                                 f"ninja -C {a.build}")
        self.next_line = common.source_line("bench:next")
        self.next_after = common.source_line("bench:next-after")
        self.cond_line = common.source_line("bench:cond")
        self.text_addr, self.text = common.elf_section(self.image, ".text")
        cpu, self.cpu_why = common.qemu_cpu_model(
            shutil.which("qemu-system-x86_64"))
        self.servers = [common.Kvmdbg(self.kvmdbg, self.image),
                        common.Qemu(shutil.which("qemu-system-x86_64"),
                                    self.image, cpu)]
        # How QEMU gets its breakpoints: `break` until it fails once here.
        self.qemu_bp = "break"
        self.qemu_bp_why = None
        self.step_state = None
        self.res = {(r, s.name): [] for r in RUNS for s in self.servers}
        self.err = {}

    def guest_args(self, run):
        s = self.s
        return {"bp": f"mode=bp n={s['hits'] + 1}",
                "stepi": f"mode=step n={s['steps']}",
                "next": f"mode=next n={s['n']}",
                "cond": f"mode=cond n={s['n']}",
                "dump": "mode=dump",
                "launch": "mode=launch"}[run]

    def console_line(self, run):
        s, n = self.s, self.s["n"]
        if run == "bp":
            h = s["hits"] + 1
            return f"bench: bp n={h} hits={h}"
        if run == "stepi":
            return (f"bench: step n={s['steps']} "
                    f"spin=0x{step_spin(s['steps']):016x}")
        if run == "next":
            return f"bench: next n={n} acc={3 * n * (n - 1) // 2} done=1"
        if run == "cond":
            return f"bench: cond n={n} total={n * (n + 1) // 2}"
        if run == "dump":
            x = 0
            for w in pattern_words():
                x ^= w
            return f"bench: dump pattern=0x{x:016x}"
        return "bench: launch ok"

    def timeout(self, run):
        # QEMU needs about 1.1 ms per instruction `next` steps; 11 per turn.
        if run in ("next", "cond"):
            return 120 + self.s["n"] * 0.2
        return 600

    def one(self, run, srv, bp_kind):
        """One run of one scenario on one server, checked end to end."""
        with common.tempdir() as tmp:
            params = {"scenario": run, "image": self.image,
                      "bp": bp_kind, "hits": self.s["hits"],
                      "steps": self.s["steps"], "n": self.s["n"],
                      "next_line": self.next_line,
                      "next_after": self.next_after,
                      "cond_line": self.cond_line,
                      "dump_start": DUMP_START,
                      "dump_bytes": self.s["mib"] << 20,
                      "dump_file": os.path.join(tmp, "dump.bin")}
            if run == "launch":
                r, srv_run = self.launch(srv, params, tmp)
            else:
                srv_run = srv.start(self.guest_args(run), tmp)
                try:
                    if srv.name == "qemu":
                        srv.wait_listening(srv_run)
                    params["port"] = srv_run.port
                    params["pid"] = srv_run.proc.pid
                    r = common.run_gdb(params, self.timeout(run))
                except BenchFailure:
                    srv_run.kill()
                    raise
            rc, out, _ = srv_run.wait_exit()
            want = self.console_line(run)
            if want not in out.splitlines():
                raise BenchFailure(f"console has no '{want}': "
                                   + out.strip()[-300:])
            if rc != 1:
                raise BenchFailure(f"server exit status {rc}, want 1 "
                                   "(the guest's exit 0)")
            if run == "dump":
                self.check_dump(params["dump_file"], r["pattern"])
        if run == "stepi":
            if self.step_state is None:
                self.step_state = r["state"]
            elif r["state"] != self.step_state:
                raise BenchFailure(f"after the steps: {r['state']}, but an "
                                   f"earlier run had {self.step_state}")
        return r

    def launch(self, srv, params, tmp):
        """gdb first, waiting on a FIFO with the image loaded; then the
        clock starts, the server is spawned and gets the port over."""
        fifo = os.path.join(tmp, "port")
        os.mkfifo(fifo)
        params["fifo"] = fifo
        g = common.run_gdb(params, 0, wait=False)
        deadline = time.monotonic() + 60
        while True:
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError:
                if g.poll() is not None or time.monotonic() > deadline:
                    g.kill()
                    raise BenchFailure("gdb did not open the FIFO: "
                                       + g.communicate()[0].decode()[-300:])
                time.sleep(0.001)
        try:
            srv_run = srv.start(self.guest_args("launch"), tmp)
        except BenchFailure:
            os.close(fd)
            g.kill()
            raise
        os.write(fd, f"{srv_run.port}\n".encode())
        os.close(fd)
        try:
            r = common.gdb_result(g, 600)
        except BenchFailure:
            srv_run.kill()
            raise
        r["first_ms"] = (r["t_first"] - srv_run.t_spawn) * 1e3
        r["entry_ms"] = (r["t_entry"] - srv_run.t_spawn) * 1e3
        return r, srv_run

    def check_dump(self, path, pattern_addr):
        size = os.path.getsize(path) if os.path.exists(path) else 0
        if size != self.s["mib"] << 20:
            raise BenchFailure(f"dump has {size} bytes, want "
                               f"{self.s['mib'] << 20}")
        with open(path, "rb") as f:
            f.seek(self.text_addr - DUMP_START)
            text = f.read(len(self.text))
            f.seek(pattern_addr - DUMP_START)
            pat = f.read(4096)
        if text != self.text:
            raise BenchFailure("the dump's .text differs from the image")
        if pat != pattern_bytes():
            raise BenchFailure("the dump's pattern[] differs from what the "
                               "guest wrote")

    def run_scenario(self, run, srv):
        if (run, srv.name) in self.err:
            return None
        uses_bp = run in ("bp", "cond")
        kind = self.qemu_bp if srv.name == "qemu" and uses_bp else "break"
        try:
            r = self.one(run, srv, kind)
        except BenchFailure as e:
            if srv.name == "qemu" and uses_bp and kind == "break":
                # What a QEMU user falls back to where `break` fails.
                self.qemu_bp = "hbreak"
                self.qemu_bp_why = str(e)
                return self.run_scenario(run, srv)
            self.err[(run, srv.name)] = str(e)
            return None
        if uses_bp:
            r["bp_kind"] = kind
        self.res[(run, srv.name)].append(r)
        return r


def fmt(v, unit):
    if v is None:
        return "—"
    if unit in ("µs", "ms", "MiB"):
        return f"{v:.1f}"
    return f"{v:.3f}" if v < 10 else f"{v:.2f}"


def row_values(b, row, srv):
    rs = b.res[(RUN_OF[row], srv)]
    key = {"bp": "per_hit_us", "stepi": "per_step_us", "next": "next_s",
           "cond": "cond_s", "dump": "dump_s", "launch": "first_ms",
           "entry": "entry_ms", "rss": "rss_kib"}[row]
    vals = [r[key] for r in rs]
    if row == "rss":
        vals = [v / 1024 for v in vals]
    return vals


def summary(b, rows):
    """The table rows: (no, title, unit, kvmdbg, qemu, ratio, target,
    met)."""
    s = b.s
    out = []
    for row in rows:
        title, unit, target = SCENARIOS[row]
        title = title.format(n=f"{s['n']:,}", mib=s["mib"])
        if row == "bp":
            title += f" ({s['hits']:,} hits)"
        if row == "stepi":
            title += f" ({s['steps']:,} steps)"
        cells, meds = [], {}
        for srv in ("kvmdbg", "qemu"):
            err = b.err.get((RUN_OF[row], srv))
            med = median(row_values(b, row, srv))
            meds[srv] = med
            if err:
                cells.append("failed¹" if med is None else fmt(med, unit))
            else:
                cells.append(fmt(med, unit))
        if row in ("bp", "cond") and b.qemu_bp == "hbreak" and meds["qemu"]:
            cells[1] += " (`hbreak`)"
        k, q = meds["kvmdbg"], meds["qemu"]
        ratio = k / q if k is not None and q else None
        met = "—" if target is None or ratio is None else (
            "met" if ratio <= target else "not met")
        out.append((NUMBER[row], title, unit,
                    cells[0], cells[1],
                    "—" if ratio is None else f"{ratio:.3f}",
                    "—" if target is None else f"≤ {target}", met))
    return out


def first_pc_note(b):
    pcs = {r["first_pc"] for r in b.res[("launch", "qemu")]}
    if not pcs:
        return None
    return ", ".join(f"{p:#x}" for p in sorted(pcs))


def cond_evals(b, srv):
    ev = {r["evals"] for r in b.res[("cond", srv)]}
    return "/".join(sorted(ev)) if ev else None


def write_doc(b, table, floors, facts, cmd, started, load0, load1, elapsed,
              rows):
    s = b.s
    L = []
    L.append("# Performance: kvmdbg against QEMU's gdbstub")
    L.append("")
    L.append("Generated by `bench/run.py` (`make bench`); rerun it rather "
             "than editing this file. Both servers run the same guest "
             "(`tests/guests/bench.elf`) under the same gdb script "
             "(`bench/gdbside.py`); within each round every scenario runs "
             "on kvmdbg, then on QEMU (A B A B), and the table shows the "
             f"medians over {s['rounds']} round(s). Lower is better; the "
             "ratio is kvmdbg/QEMU.")
    L.append("")
    L.append(f"- Date: {started} (took {elapsed / 60:.1f} min)")
    L.append(f"- Command: `{cmd}`" + (" (quick: one round, smaller sizes; "
                                      "the defaults are what the targets "
                                      "are about)" if b.a.quick else ""))
    L.append(f"- Machine: {facts['cores']} cores ({facts['cpu']}), Linux "
             f"{facts['kernel']}, load average {load0} at the start, "
             f"{load1} at the end")
    L.append("- KVM, from `kvmdbg --probe`:")
    L.append("")
    L.append("  ```")
    for ln in facts["probe"]:
        L.append("  " + ln)
    L.append("  ```")
    L.append("")
    L.append(f"- gdb: {facts['gdb']}")
    L.append(f"- QEMU: {facts['qemu']}")
    L.append("")
    L.append("## Results")
    L.append("")
    L.append("| # | scenario | unit | kvmdbg | QEMU | kvmdbg/QEMU | target "
             "| met |")
    L.append("|---|---|---|---|---|---|---|---|")
    for t in table:
        L.append("| " + " | ".join(t) + " |")
    L.append("")
    notes = []
    if b.qemu_bp == "hbreak":
        notes.append("QEMU cannot do `break` on this host, so its scenario "
                     "1 and 4 figures use `hbreak` (a debug-register "
                     "breakpoint; gdb then evaluates scenario 4's condition "
                     "itself, as a QEMU user gets). What `break` did: "
                     f"{b.qemu_bp_why}.")
    ev = {srv: cond_evals(b, srv) for srv in ("kvmdbg", "qemu")}
    if any(ev.values()):
        notes.append("Scenario 4's condition was evaluated by: kvmdbg "
                     f"{ev['kvmdbg'] or '—'}, QEMU {ev['qemu'] or '—'} "
                     "(gdb's `info breakpoints`: target evals or not).")
    pc = first_pc_note(b)
    if pc:
        where = (", the reset vector, before its firmware has run"
                 if pc == "0xfff0" else "")
        notes.append(f"QEMU's first stop under `-S` is at pc {pc}{where}; "
                     "row 6 times that stop, as a QEMU user first sees it. "
                     "Row 6b goes on to the guest's entry (`_start32`) with "
                     "an `hbreak` there, through QEMU's firmware and PVH "
                     "boot; kvmdbg's first stop already is the entry.")
    if b.cpu_why:
        notes.append("QEMU runs its default CPU model: this host's KVM "
                     f"refuses `-cpu host` (QEMU: {b.cpu_why}).")
    for (run, srv), e in sorted(b.err.items()):
        e = " ".join(e.split())
        notes.append(f"¹ {srv} failed scenario `{run}`: "
                     + (e if len(e) < 400 else "…" + e[-400:]))
    if notes:
        L.append("Notes:")
        L.append("")
        for n in notes:
            L.append(f"- {n}")
        L.append("")
    L.append("## Floor on this machine")
    L.append("")
    L.append("What one stop costs at the least, from `bench/floor.c` (only "
             "libc and `/dev/kvm`; median over rounds of the mean per "
             "round trip):")
    L.append("")
    L.append("| what | µs |")
    L.append("|---|---|")
    for key, what in (("kvm_io_exit_us", "KVM exit round trip: `KVM_RUN` "
                       "→ `KVM_EXIT_IO` (`out` in a loop) → `KVM_RUN`"),
                      ("kvm_step_exit_us", "single-step round trip: "
                       "`KVM_RUN` → `KVM_EXIT_DEBUG` → `KVM_RUN`"),
                      ("tcp_rtt_us", "loopback TCP round trip of 1 byte "
                       "(`TCP_NODELAY`)")):
        v = median([float(f[key]) for f in floors if key in f])
        L.append(f"| {what} | {fmt(v, 'µs')} |")
    errs = {f["error"] for f in floors if "error" in f}
    io = median([float(f["kvm_io_exit_us"]) for f in floors
                 if "kvm_io_exit_us" in f])
    rtt = median([float(f["tcp_rtt_us"]) for f in floors
                  if "tcp_rtt_us" in f])
    per_stop = []
    for row in ("bp", "stepi"):
        if row not in rows or io is None or rtt is None:
            continue
        for srv, label in (("kvmdbg", "kvmdbg"), ("qemu", "QEMU")):
            v = median(row_values(b, row, srv))
            if v is not None:
                per_stop.append(f"scenario {NUMBER[row]} {label} "
                                f"{v:.0f} µs ({v / (io + rtt):.0f}×)")
    L.append("")
    pvm = any("kvm_pvm" in ln for ln in facts["probe"])
    L.append("The vCPU runs in 64-bit long mode at CPL0, the mode the test "
             "guests are debugged in"
             + (" (on kvm_pvm such code is emulated)" if pvm else "")
             + ". A "
             "breakpoint hit or a step costs at least one KVM exit plus, "
             "for gdb, one loopback round trip for the stop and one per "
             "further packet it sends (registers, memory).")
    if per_stop:
        L.append("")
        L.append(f"Per stop against one exit plus one round trip "
                 f"({io + rtt:.1f} µs): " + "; ".join(per_stop) + ".")
    if errs:
        L.append("")
        L.append("The floor program failed: " + "; ".join(sorted(errs)))
    L.append("")
    L.append("## How each number is taken")
    L.append("")
    L.append(f"1. `break bench_hit` (QEMU: see the notes), one `continue` "
             f"to warm up, then {s['hits']:,} timed `continue`s; each stop "
             "must be the breakpoint, and `k` and `hits` must equal the hit "
             "count at the end.")
    L.append(f"2. Stopped at `step_loop` (by `hbreak`, not timed), "
             f"{s['steps']:,} timed `stepi`s; pc, `k` and `spin` after them "
             "must be the same on every run of both servers.")
    L.append(f"3. Stopped at the `for` line of `next_loop` (line "
             f"{b.next_line} of tests/guests/bench.c), one timed `next`; it "
             f"must stop on line {b.next_after} with `i` = {s['n']:,} "
             "and `acc` = 3·Σi.")
    L.append(f"4. `break bench.c:{b.cond_line} if i == {s['n']} && "
             f"cond_total == {s['n'] * (s['n'] - 1) // 2}` (a local and a "
             "global), one timed `continue`; it must stop there with "
             f"`i` = {s['n']:,}.")
    L.append(f"5. Stopped at `dump_here`, one timed `dump binary memory` "
             f"of [{DUMP_START:#x}, {DUMP_START + (s['mib'] << 20):#x}); "
             "the file must hold the image's `.text` and the pattern the "
             "guest wrote.")
    L.append("6. gdb starts first, loads the image and waits; the clock "
             "starts right before the server process is spawned and stops "
             "when gdb's `target remote` has the first stop (both sides "
             "read CLOCK_MONOTONIC). gdb retries the connection every "
             "0.5 ms until the server listens.")
    L.append("7. VmHWM of the server process (`/proc/PID/status`), read by "
             "gdb after scenario 1's hits, before the guest exits.")
    L.append("")
    L.append("Every run ends by deleting the breakpoints and letting the "
             "guest run to its exit: the server must exit with status 1 "
             "(the guest's 0) and the console must show the guest's result "
             "line with the values expected for that run. A run that fails "
             "any check is reported, never timed.")
    L.append("")
    L.append("## Command lines")
    L.append("")
    L.append("```")
    for srv in b.servers:
        c = srv.command("mode=...")
        c[0] = os.path.basename(c[0]) if srv.name == "qemu" else c[0]
        L.append(shlex.join(c).replace(common.ROOT + "/", ""))
    L.append("gdb -batch -nx -x bench/gdbside.py   # parameters in "
             "$BENCH_PARAMS")
    L.append("```")
    L.append("")
    L.append("## Every round")
    L.append("")
    L.append("| scenario | unit | kvmdbg | QEMU |")
    L.append("|---|---|---|---|")
    for row in rows:
        unit = SCENARIOS[row][1]
        cells = [", ".join(fmt(v, unit) for v in row_values(b, row, srv))
                 or "—" for srv in ("kvmdbg", "qemu")]
        L.append(f"| {row} | {unit} | {cells[0]} | {cells[1]} |")
    L.append("")
    os.makedirs(os.path.dirname(os.path.abspath(b.a.out)), exist_ok=True)
    with open(b.a.out, "w") as f:
        f.write("\n".join(L))


def show(r):
    """One run's result for the progress lines."""
    out = []
    for k, v in r.items():
        if k in ("t_first", "t_entry"):
            continue
        if isinstance(v, float):
            out.append(f"{k}={v:.4g}")
        elif k in ("first_pc", "pattern"):
            out.append(f"{k}={v:#x}")
        else:
            out.append(f"{k}={v}")
    return ", ".join(out)


def parse_args():
    ap = argparse.ArgumentParser(
        description="kvmdbg against QEMU's gdbstub; writes "
        "docs/PERFORMANCE.md")
    ap.add_argument("build", nargs="?", default="build",
                    help="meson build directory (default: build)")
    ap.add_argument("--rounds", type=int,
                    help=f"rounds (default {FULL['rounds']}, "
                    f"--quick {QUICK['rounds']})")
    ap.add_argument("--scenarios",
                    help="comma-separated subset of "
                    + ",".join(SCENARIOS) + " (default: all)")
    ap.add_argument("--quick", action="store_true",
                    help="one round, smaller sizes: "
                    + ", ".join(f"{k}={v}" for k, v in QUICK.items()
                                if k != "rounds"))
    ap.add_argument("--out", default=os.path.join(common.ROOT, "docs",
                                                  "PERFORMANCE.md"),
                    help="where the report goes (default docs/"
                    "PERFORMANCE.md; '-' for none)")
    a = ap.parse_args()
    rows = list(SCENARIOS)
    if a.scenarios:
        rows = [r.strip() for r in a.scenarios.split(",") if r.strip()]
        bad = [r for r in rows if r not in SCENARIOS]
        if bad or not rows:
            ap.error(f"unknown scenario {', '.join(bad)}; choose from "
                     + ",".join(SCENARIOS))
        rows = [r for r in SCENARIOS if r in rows]
    if a.rounds is not None and a.rounds < 1:
        ap.error("--rounds must be at least 1")
    return a, rows


def main():
    a, rows = parse_args()
    sizes = dict(QUICK if a.quick else FULL)
    if a.rounds:
        sizes["rounds"] = a.rounds
    common.need_tools()
    cmd = shlex.join(["python3", os.path.relpath(sys.argv[0])] +
                     sys.argv[1:])
    started = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC")
    load0 = common.loadavg()
    t_start = time.monotonic()
    b = Bench(a, sizes)
    facts = common.machine_facts(b.kvmdbg)
    runs = [r for r in RUNS if r in {RUN_OF[x] for x in rows}]
    floors = []
    print(f"bench: {len(runs)} scenario(s) × {sizes['rounds']} round(s), "
          f"kvmdbg {b.kvmdbg}, guest {b.image}", flush=True)
    with common.tempdir() as tmp:
        for rnd in range(1, sizes["rounds"] + 1):
            floors.append(common.floor(tmp, sizes["floor"], sizes["floor"]))
            print(f"round {rnd}: floor {floors[-1]}", flush=True)
            for run in runs:
                for srv in b.servers:
                    t = time.monotonic()
                    r = b.run_scenario(run, srv)
                    shown = (f"failed: {b.err[(run, srv.name)]}" if r is None
                             else show(r))
                    print(f"round {rnd} {run:6} {srv.name:6} "
                          f"({time.monotonic() - t:5.1f} s): {shown}",
                          flush=True)
    table = summary(b, rows)
    w = [max(len(t[i]) for t in table) for i in range(8)]
    head = ("#", "scenario", "unit", "kvmdbg", "QEMU", "ratio", "target",
            "met")
    print()
    print("  ".join(h.ljust(w[i]) for i, h in enumerate(head)))
    for t in table:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(t)))
    for (run, srv), e in sorted(b.err.items()):
        print(f"{srv} failed {run}: {e}")
    if b.qemu_bp == "hbreak":
        print(f"QEMU used hbreak: `break` {b.qemu_bp_why}")
    elapsed = time.monotonic() - t_start
    if a.out != "-":
        write_doc(b, table, floors, facts, cmd, started, load0,
                  common.loadavg(), elapsed, rows)
        print(f"bench: wrote {a.out} ({elapsed / 60:.1f} min)")
    sys.exit(1 if b.err else 0)


if __name__ == "__main__":
    main()
