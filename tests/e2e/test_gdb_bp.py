#!/usr/bin/env python3
"""Breakpoints and watchpoints (Z0-Z4) under a real gdb, one meson test per
case: kvmdbg on a port the OS picks, `gdb -batch -nx -x
tests/e2e/gdb_bp/SCRIPT.py` against it. Each case checks gdb's exit status
(the script ends with `quit 0` or `quit 1`), then kvmdbg's exit status, its
console output (mostly: equal to a debugger-free run of the same guest and
command line, so loop.elf's checksum proves guest memory was left
byte-identical) and that its stderr holds nothing unexpected.

The shared driver helpers (Kvmdbg, finish, plain_run) come from
test_gdb.py."""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "gdb"))
from kvmdbg_test import (Failure, expect_eq, expect_in, main,  # noqa: E402
                         need_kvm, run)
from test_gdb import (GDB, KVMDBG, Kvmdbg, check_sanitizer,  # noqa: E402
                      check_smp, finish, gdb_env, guest, need_gdb,
                      plain_run)
from elfimage import Image  # noqa: E402

SCRIPTS = os.path.join(HERE, "gdb_bp")


def need():
    need_kvm()
    need_gdb()


def run_gdb(script, k, timeout=90, scripts=SCRIPTS, **extra):
    """gdb -batch on one script of gdb_bp/ (or scripts); returns gdb's
    stdout and stderr (which holds the packet log when the script sets
    `debug remote`)."""
    r = run([GDB, "-batch", "-nx", "-x", os.path.join(scripts, script)],
            timeout=timeout, env=gdb_env(k, **extra))
    out, err = r.stdout.decode(), r.stderr.decode()
    print(f"--- gdb {script}: exit {r.returncode}\n{out}", end="")
    if r.returncode != 0 or "gdb script: PASS" not in out:
        raise Failure(f"gdb -x {script} exited with {r.returncode}\n"
                      f"--- gdb stdout ---\n{out}--- gdb stderr ---\n"
                      f"{err[-20000:]}--- kvmdbg stderr ---\n{k.stderr()}")
    return out, err


def loop_case(script, iters, *kvmdbg_args, **extra):
    """script on loop.elf with iters=N; the guest's output must equal a
    debugger-free run's, checksum included."""
    need()
    args = [*kvmdbg_args, "-a", f"iters={iters}"]
    want = plain_run("loop", *args)
    with Kvmdbg(*args, guest("loop")) as k:
        out, err = run_gdb(script, k, KVMDBG_GUEST=guest("loop"),
                           KVMDBG_ITERS=iters, **extra)
        finish(k, 1, want)
    return out, err


def stop_replies(log):
    """The stop replies in a `set debug remote 1` log, in order."""
    return re.findall(r"Packet received: (T[0-9a-f]{2}[^\n]*)", log)


# Cases, in the order of the brief.

def case_break_count():
    loop_case("break_count.py", 8)


def case_tbreak():
    loop_case("tbreak.py", 4)


def case_hbreak():
    loop_case("hbreak.py", 5)


def case_delete():
    loop_case("delete.py", 5)


def case_same_address():
    loop_case("same_address.py", 7)


def case_idempotent():
    loop_case("idempotent.py", 4)


def case_jump(kind):
    loop_case("jump.py", 3, KVMDBG_BREAK={"sw": "break", "hw": "hbreak"}[kind])


def case_watch():
    """Besides the script's own checks, what gdb printed at the three
    stops: total's old and new values."""
    out, _ = loop_case("watch.py", 6)
    printed = re.findall(r"Old value = (\d+)\nNew value = (\d+)\n", out)
    expect_eq("old and new values gdb printed", printed,
              [("0", "1"), ("1", "3"), ("3", "6")])


def case_rwatch():
    loop_case("rwatch.py", 5)


def case_awatch():
    loop_case("awatch.py", 5)


def case_rwatch_code_page():
    loop_case("rwatch_code_page.py", 3)


def case_watch_stepi():
    loop_case("watch_stepi.py", 4)


def case_watch_cross_page():
    loop_case("watch_cross_page.py", 4)


def case_watch_five():
    loop_case("watch_five.py", 60)


def case_watch_range():
    """A 32-byte write watchpoint on buffer[0..32) from fill_buffer(20) to
    the exit. gdb stops only when the watched value changes and drops hits
    outside the range, which would hide a server that reports too much;
    so the packet log must also hold exactly one stop reply per write into
    the range (68 for n = 20..33: n + k <= 31) and each must name an
    address inside it."""
    iters, first_n = 34, 20
    out, err = loop_case("watch_range.py", iters, KVMDBG_FIRST_N=first_n)
    buf = Image(guest("loop")).symbols["buffer"]
    inserts = set(re.findall(r"\$(Z[234],[0-9a-f]+,[0-9a-f]+)#", err))
    expect_eq("gdb's watchpoint packets: one 32-byte Z2 on buffer",
              inserts, {f"Z2,{buf:x},20"})
    replies = stop_replies(err)
    hits = [int(m, 16) for r in replies
            for m in re.findall(r"(?:^|;)watch:([0-9a-f]+)", r)]
    want = [buf + n + k for n in range(first_n, iters) for k in range(8)
            if n + k < 32]
    if os.environ.get("REALKVM_RUN"):
        # Real KVM: the watch is four 8-byte debug-register slots, and a
        # hit names its slot (DR6 says which), not the byte written.
        want = [a & ~7 for a in want]
    expect_eq("addresses of the watch stop replies (one per write into "
              "buffer[0..32), none for buffer[32..64))",
              [hex(a) for a in hits], [hex(a) for a in want])


def case_step_c():
    loop_case("step_c.py", 3)


def case_detach_checksum(smp="1"):
    loop_case("detach_checksum.py", 12, "--smp", smp, KVMDBG_SMP=smp)


def case_smp_both():
    """smp.elf under --smp 2: both vCPUs call check_in()."""
    need()
    with Kvmdbg("--smp", "2", guest("smp")) as k:
        run_gdb("smp_both.py", k, KVMDBG_GUEST=guest("smp"))
        finish(k, 1, check_stdout=check_smp(2))


def case_caps():
    """`kvmdbg --probe` exits 0 with its table; `monitor caps` shows the
    same strategy line."""
    need()
    r = run([KVMDBG, "--probe"], timeout=60)
    out, err = r.stdout.decode(), r.stderr.decode()
    check_sanitizer("kvmdbg --probe's stderr", err)
    expect_eq(f"kvmdbg --probe exit status (stderr {err!r})", r.returncode,
              0)
    for what in ("mechanism", "DR execute", "DR data write", "single-step",
                 "caps:", "strategy:"):
        expect_in("kvmdbg --probe's table", what, out)
    strategy = next(ln for ln in out.splitlines()
                    if ln.startswith("strategy:"))
    loop_case("caps.py", 3, KVMDBG_STRATEGY=strategy)


def case_placement():
    """`monitor breakpoints` names each request's mechanism, as the
    host's probe strategy implies (gdb_bp/placement.py)."""
    loop_case("placement.py", 3)


def case_shadow():
    loop_case("shadow.py", 3)


def case_hbreak_exhaust():
    loop_case("hbreak_exhaust.py", 3)


CASES = {
    "break-count": case_break_count,
    "placement": case_placement,
    "tbreak": case_tbreak,
    "hbreak": case_hbreak,
    "delete": case_delete,
    "same-address": case_same_address,
    "idempotent": case_idempotent,
    "jump": case_jump,
    "watch": case_watch,
    "rwatch": case_rwatch,
    "awatch": case_awatch,
    "rwatch-code-page": case_rwatch_code_page,
    "watch-stepi": case_watch_stepi,
    "watch-cross-page": case_watch_cross_page,
    "watch-five": case_watch_five,
    "watch-range": case_watch_range,
    "step-c": case_step_c,
    "detach-checksum": case_detach_checksum,
    "smp-both": case_smp_both,
    "caps": case_caps,
    "shadow": case_shadow,
    "hbreak-exhaust": case_hbreak_exhaust,
}

if __name__ == "__main__":
    main(CASES)
