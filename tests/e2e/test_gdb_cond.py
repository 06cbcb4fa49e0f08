#!/usr/bin/env python3
"""Range stepping (vCont;r) and target-side breakpoint conditions
(ConditionalBreakpoints+, Z0/Z1 with agent expressions) under a real gdb,
one meson test per case, on tests/guests/cond.elf. Each script ends with
`quit 0`/`quit 1`; the driver also reads gdb's packet log (`debug remote`)
to prove the work happened on the server: one vCont;r for a `next`, one
stop reply for a continue over thousands of false condition hits."""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "gdb"))
import test_gdb_bp  # noqa: E402
from kvmdbg_test import Failure, expect_eq, main, need_kvm  # noqa: E402
from test_gdb import (Kvmdbg, finish, guest, need_gdb,  # noqa: E402
                      plain_run)

SCRIPTS = os.path.join(HERE, "gdb_cond")


def run_gdb(script, k, **extra):
    return test_gdb_bp.run_gdb(script, k, timeout=240, scripts=SCRIPTS,
                               **extra)


def between(log, name):
    """The packet log lines between the script's @@begin/@@end marks."""
    m = re.search(rf"^@@begin {name}\n(.*?)^@@end {name}$", log,
                  re.S | re.M)
    if not m:
        raise Failure(f"no marks for {name!r} in gdb's packet log")
    return m.group(1)


def sent(log, prefix):
    return re.findall(r"Sending packet: \$(" + re.escape(prefix) +
                      r"[^#]*)#", log)


def stop_replies(log):
    return re.findall(r"Packet received: (T[0-9a-f]{2}[^\n]*)", log)


def cond_case(iters, script, **extra):
    need_kvm()
    need_gdb()
    args = ["-a", f"iters={iters}"]
    want = plain_run("cond", *args)
    with Kvmdbg(*args, guest("cond")) as k:
        out, err = run_gdb(script, k, KVMDBG_ITERS=iters, **extra)
        finish(k, 1, want)
    return out, err


def case_next_range():
    iters = 10000
    _, err = cond_case(iters, "next_range.py")
    log = between(err, "next")
    ranges = sent(log, "vCont;r")
    # gdb first steps off the breakpoint it stopped at (one vCont;s),
    # then range-steps the rest of the line: 9 instructions a turn,
    # 90,000 steps that never reach gdb.
    expect_eq("vCont;r packets of the `next` (one range step over the "
              "whole loop)", len(ranges), 1)
    expect_eq("vCont;s packets of the `next`",
              len(sent(log, "vCont;s")) <= 1, True)
    expect_eq("stop replies of the `next`", len(stop_replies(log)) <= 2,
              True)


def cond_stop(brk, want, iters=10000):
    _, err = cond_case(iters, "cond_stop.py", KVMDBG_BREAK=brk,
                       KVMDBG_WANT=want)
    log = between(err, "cont")
    z = [p for p in sent(err, "Z") if ";X" in p]
    expect_eq("conditional Z packets sent (gdb used target-side "
              "evaluation)", len(z) >= 1, True)
    expect_eq("stop replies of the continue (the false hits never reach "
              "gdb)", len(stop_replies(log)), 1)


def case_cond_local():
    """A condition on main's local i at the call line."""
    cond_stop("break cond.c:@call if i == 4321", "i=4321;visits=4321")


def case_cond_arg():
    cond_stop("break visit if n == 7777", "n=7777;visits=7777")


def case_cond_global():
    cond_stop("break visit if visits == 2500", "n=2500;visits=2500")


def case_cond_hw():
    cond_stop("hbreak visit if n == 999 && visits == 999",
              "n=999;visits=999", iters=2000)


def case_cond_change():
    cond_case(1000, "cond_change.py")


def case_cond_fault():
    need_kvm()
    need_gdb()
    args = ["-a", "iters=20"]
    want = plain_run("cond", *args)
    with Kvmdbg(*args, guest("cond")) as k:
        out, _ = run_gdb("cond_fault.py", k, KVMDBG_ITERS=20)
        addr = re.search(r"^breakpoint address (0x[0-9a-f]+)$", out,
                         re.M).group(1)
        finish(k, 1, want, stderr="kvmdbg: warn: the condition of the "
               f"breakpoint at {addr} could not be evaluated on vCPU 0 "
               "(it reads unmapped memory); stopping there\n")


def case_watch_rmw(kind):
    """A watched read-modify-write keeps its write (it was lost when the
    vCPU parked between the instruction's read and write exits). Where
    debug-register data watchpoints fire (the real-KVM tier), an rwatch
    is an access slot that cannot see the read of a read-modify-write."""
    seen = "0" if kind == "rwatch" and os.environ.get("REALKVM_RUN") else "1"
    cond_case(10, "watch_rmw.py", KVMDBG_WATCH=kind, KVMDBG_RMW_SEEN=seen)


CASES = {
    "next-range": case_next_range,
    "cond-local": case_cond_local,
    "cond-arg": case_cond_arg,
    "cond-global": case_cond_global,
    "cond-hw": case_cond_hw,
    "cond-change": case_cond_change,
    "cond-fault": case_cond_fault,
    "watch-rmw": case_watch_rmw,
}

if __name__ == "__main__":
    main(CASES)
