"""lldb's SB API on loop.elf: `breakpoint set --name tick` stops in tick
(stop reason breakpoint, its id, counter 0), `continue` stops there again
with counter 1 and hit count 2; `watchpoint set variable total` (8 bytes,
write) stops in accumulate(1) with stop reason watchpoint and its id,
total 1 (old value 0); continue: tick again (counter 2); continue: the
watchpoint again, total 3 (old value 1), hit count 2. Both go, and the
process exits with status 1."""
import os
import sys

import lldb

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lldb"))
from lldbtest import (command, connect, expect, expect_eq,  # noqa: E402
                      log, run, wait_state)


def frame_command(debugger, cmd, frame):
    """An lldb command in a frame's context (`watchpoint set variable`
    needs a frame; lldbtest.command gives only the process)."""
    res = lldb.SBCommandReturnObject()
    debugger.GetCommandInterpreter().HandleCommand(
        cmd, lldb.SBExecutionContext(frame), res)
    out = (res.GetOutput() or "") + (res.GetError() or "")
    log(f"(lldb) {cmd}\n{out}")
    expect(f"lldb command {cmd!r} succeeds", res.Succeeded(), out)
    return out


def body(debugger):
    # Connect asynchronously and wait for the stop (a synchronous
    # ConnectRemote returns before it), then run synchronously.
    debugger.SetAsync(True)
    listener = lldb.SBListener("kvmdbg-test")
    target, process = connect(debugger, listener)
    wait_state(listener, [lldb.eStateStopped])
    debugger.SetAsync(False)
    expect_eq("state after connecting", process.GetState(),
              lldb.eStateStopped)
    thread = process.GetSelectedThread()

    def glob(name):
        v = target.FindFirstGlobalVariable(name)
        expect(f"the global {name}", v.IsValid())
        return v.GetValueAsUnsigned()

    def cont(what):
        err = process.Continue()
        expect(f"{what}: continue", err.Success(), str(err))
        expect_eq(f"{what}: state", process.GetState(), lldb.eStateStopped)
        frame = thread.GetFrameAtIndex(0)
        return thread.GetStopReason(), frame

    out = command(debugger, "breakpoint set --name tick", process)
    expect("breakpoint set", "Breakpoint 1:" in out, out)
    bp = target.FindBreakpointByID(1)
    expect("breakpoint 1 resolved", bp.IsValid() and
           bp.GetNumResolvedLocations() == 1)
    addr = bp.GetLocationAtIndex(0).GetLoadAddress()

    def at_tick(what, counter, hits):
        reason, frame = cont(what)
        expect_eq(f"{what}: stop reason", reason, lldb.eStopReasonBreakpoint)
        expect_eq(f"{what}: breakpoint id",
                  thread.GetStopReasonDataAtIndex(0), 1)
        expect_eq(f"{what}: pc", frame.GetPC(), addr)
        expect_eq(f"{what}: function", frame.GetFunctionName(), "tick")
        expect_eq(f"{what}: counter", glob("counter"), counter)
        expect_eq(f"{what}: hit count", bp.GetHitCount(), hits)

    def at_watch(what, v, old, new, hits):
        reason, frame = cont(what)
        expect_eq(f"{what}: stop reason", reason, lldb.eStopReasonWatchpoint)
        expect_eq(f"{what}: watchpoint id",
                  thread.GetStopReasonDataAtIndex(0), wp.GetID())
        expect_eq(f"{what}: function", frame.GetFunctionName(),
                  "accumulate")
        expect_eq(f"{what}: v", frame.FindVariable("v").GetValueAsUnsigned(),
                  v)
        expect_eq(f"{what}: total (old value {old})", glob("total"), new)
        expect_eq(f"{what}: hit count", wp.GetHitCount(), hits)

    at_tick("first stop", 0, 1)
    at_tick("second stop", 1, 2)
    out = frame_command(debugger, "watchpoint set variable total",
                        thread.GetFrameAtIndex(0))
    expect("watchpoint set", "Watchpoint created" in out, out)
    expect_eq("watchpoints", target.GetNumWatchpoints(), 1)
    wp = target.GetWatchpointAtIndex(0)
    expect_eq("watchpoint size", wp.GetWatchSize(), 8)
    expect_eq("watchpoint address", wp.GetWatchAddress(),
              target.FindFirstGlobalVariable("total").GetLoadAddress())
    at_watch("first watchpoint stop", 1, 0, 1, 1)
    at_tick("third stop at tick", 2, 3)
    at_watch("second watchpoint stop", 2, 1, 3, 2)
    expect("breakpoint deleted", target.BreakpointDelete(1))
    expect("watchpoint deleted", target.DeleteWatchpoint(wp.GetID()))
    err = process.Continue()
    expect("continue to the exit", err.Success(), str(err))
    expect_eq("state after continue", process.GetState(), lldb.eStateExited)
    expect_eq("exit status", process.GetExitStatus(), 1)


def __lldb_init_module(debugger, internal_dict):
    run(debugger, body)
