"""The gdb half of bench/run.py: loaded with `gdb -batch -nx -x`, it runs one
scenario against one server and prints one line, `BENCH-RESULT {json}` or
`BENCH-FAILED {json}`. Its parameters come as JSON in $BENCH_PARAMS. Every
scenario checks what it stopped at and the values it read, so a wrong stop
is a failure, never a timing. At the end it deletes its breakpoints and lets
the guest run to its exit, so the driver can check the console line."""
import json
import os
import time

import gdb

P = json.loads(os.environ["BENCH_PARAMS"])
stops = []
exits = []
gdb.events.stop.connect(lambda ev: stops.append(ev))
gdb.events.exited.connect(lambda ev: exits.append(ev))


class Failed(Exception):
    pass


def val(expr):
    return int(gdb.parse_and_eval(expr))


def expect(what, got, want):
    if got != want:
        raise Failed(f"{what}: got {got!r}, want {want!r}")


def describe(ev):
    sig = getattr(ev, "stop_signal", None)
    if sig:
        return f"stopped by {sig}"
    return f"stopped ({type(ev).__name__})" if ev else "no stop event"


def cont_to_breakpoint():
    """continue, and insist the stop is a breakpoint: a signal (QEMU's
    SIGABRT on an emulation failure, say) ends the scenario."""
    del stops[:]
    gdb.execute("continue", to_string=True)
    ev = stops[-1] if stops else None
    if not isinstance(ev, gdb.BreakpointEvent):
        raise Failed(f"{describe(ev)}, not at the breakpoint")


def line():
    return gdb.selected_frame().find_sal().line


def connect(port):
    gdb.execute(f"target remote 127.0.0.1:{port}", to_string=True)


def stop_at(location):
    """Set-up, not timed: run to location with a hardware breakpoint (which
    every server here can do) and remove it again."""
    gdb.execute(f"hbreak {location}", to_string=True)
    cont_to_breakpoint()
    gdb.execute("delete", to_string=True)


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            if ln.startswith("VmHWM:"):
                return int(ln.split()[1])
    raise Failed(f"no VmHWM in /proc/{pid}/status")


def scenario_bp():
    n = P["hits"]
    gdb.execute(f"{P['bp']} bench_hit", to_string=True)
    cont_to_breakpoint()		# the first hit warms up
    expect("k at the first hit", val("k"), 0)
    t = time.perf_counter()
    for _ in range(n):
        cont_to_breakpoint()
    dt = time.perf_counter() - t
    expect("k at the last hit", val("k"), n)
    expect("hits at the last hit", val("hits"), n)
    expect("function at the last hit", gdb.selected_frame().name(),
           "bench_hit")
    return {"per_hit_us": dt / n * 1e6, "rss_kib": peak_rss_kib(P["pid"])}


def scenario_stepi():
    n = P["steps"]
    stop_at("step_loop")
    lo = val("(unsigned long)&step_loop")
    hi = val("(unsigned long)&next_loop")
    del stops[:]
    t = time.perf_counter()
    for _ in range(n):
        gdb.execute("stepi", to_string=True)
    dt = time.perf_counter() - t
    expect("stops seen", len(stops), n)
    bad = [describe(e) for e in stops if getattr(e, "stop_signal", None)
           not in (None, "SIGTRAP")]
    if bad:
        raise Failed(f"a step {bad[0]}")
    pc = val("$pc")
    if not lo <= pc < hi:
        raise Failed(f"pc {pc:#x} left step_loop [{lo:#x}, {hi:#x})")
    state = f"pc={pc:#x} k={val('k')} spin={val('spin'):#x}"
    return {"per_step_us": dt / n * 1e6, "state": state}


def scenario_next():
    n = P["n"]
    stop_at(f"bench.c:{P['next_line']}")
    expect("line before next", line(), P["next_line"])
    del stops[:]
    t = time.perf_counter()
    gdb.execute("next", to_string=True)
    dt = time.perf_counter() - t
    ev = stops[-1] if stops else None
    if ev is None or getattr(ev, "stop_signal", None) not in (None,
                                                                "SIGTRAP"):
        raise Failed(f"next {describe(ev)}")
    expect("line after next", line(), P["next_after"])
    expect("acc after next", val("acc"), 3 * n * (n - 1) // 2)
    expect("i after next", val("i"), n)
    return {"next_s": dt}


def scenario_cond():
    n = P["n"]
    want = n * (n - 1) // 2
    gdb.execute(f"{P['bp']} bench.c:{P['cond_line']} "
                f"if i == {n} && cond_total == {want}", to_string=True)
    t = time.perf_counter()
    cont_to_breakpoint()
    dt = time.perf_counter() - t
    # gdb picks the evaluator when it inserts the breakpoint, so ask now.
    info = gdb.execute("info breakpoints", to_string=True)
    evals = "target" if "(target evals)" in info else "host"
    expect("line at the stop", line(), P["cond_line"])
    expect("i at the stop", val("i"), n)
    expect("cond_total at the stop", val("cond_total"), want)
    return {"cond_s": dt, "evals": evals}


def scenario_dump():
    stop_at("dump_here")
    start = P["dump_start"]
    end = start + P["dump_bytes"]
    t = time.perf_counter()
    gdb.execute(f"dump binary memory {P['dump_file']} {start:#x} {end:#x}",
                to_string=True)
    dt = time.perf_counter() - t
    return {"dump_s": dt, "pattern": val("(unsigned long)&pattern")}


def scenario_launch():
    """Waits with the image loaded until the driver hands over the port
    through the FIFO; the driver takes its start time right before it spawns
    the server, and both sides read CLOCK_MONOTONIC."""
    gdb.execute("set tcp auto-retry off")
    entry = val("(unsigned long)&_start32")
    with open(P["fifo"]) as f:
        port = int(f.readline())
    deadline = time.monotonic() + 30
    while True:
        try:
            connect(port)
            break
        except gdb.error as e:
            # QEMU has not bound its port yet: retry at once, as gdb's
            # own auto-retry would only every 200 ms.
            if time.monotonic() > deadline:
                raise Failed(f"could not connect: {e}")
            time.sleep(0.0005)
    t_first = time.monotonic()
    first_pc = val("$pc")
    t_entry = t_first
    if first_pc != entry:
        gdb.execute(f"hbreak *{entry:#x}", to_string=True)
        cont_to_breakpoint()
        t_entry = time.monotonic()
        gdb.execute("delete", to_string=True)
    expect("pc at the entry", val("$pc"), entry)
    return {"t_first": t_first, "t_entry": t_entry, "first_pc": first_pc}


def finish():
    """Let the guest run to its exit. kvmdbg reports the exit status; QEMU
    closes the connection when the guest writes to isa-debug-exit."""
    gdb.execute("delete", to_string=True)
    try:
        gdb.execute("continue", to_string=True)
    except gdb.error as e:
        if "Remote connection closed" not in str(e):
            raise Failed(f"continue to the exit: {e}")
        return
    if not exits:
        ev = stops[-1] if stops else None
        raise Failed(f"the guest did not exit: {describe(ev)}")


def main():
    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    gdb.execute(f"file \"{P['image']}\"", to_string=True)
    try:
        if P["scenario"] != "launch":
            connect(P["port"])
        res = globals()["scenario_" + P["scenario"]]()
        finish()
    except Exception as e:  # noqa: BLE001 - any error is the run's failure
        msg = str(e) if isinstance(e, (Failed, gdb.error)) else repr(e)
        print("BENCH-FAILED " + json.dumps(msg))
        try:
            gdb.execute("kill", to_string=True)
        except gdb.error:
            pass
        return
    print("BENCH-RESULT " + json.dumps(res))


main()
