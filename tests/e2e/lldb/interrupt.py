"""`process interrupt` on the never-halting spin guest, in lldb's async
mode: continue, interrupt after two seconds, the thread stops with reason
signal SIGINT inside main (`thread list` says "signal SIGINT"); `spins`
grows across a second continue and interrupt; then `process kill`: exit
status 9."""
import time

import lldb

from lldbtest import (command, connect, expect, expect_eq,  # noqa: E402
                      run, wait_state)

SIGINT = 2


def interrupted(debugger, listener, process, target):
    command(debugger, "process continue", process)
    wait_state(listener, [lldb.eStateRunning])
    time.sleep(2.0)
    command(debugger, "process interrupt", process)
    wait_state(listener, [lldb.eStateStopped])
    thread = process.GetSelectedThread()
    expect_eq("stop reason", thread.GetStopReason(), lldb.eStopReasonSignal)
    expect_eq("stop signal", thread.GetStopReasonDataAtIndex(0), SIGINT)
    expect_eq("stop description", thread.GetStopDescription(64),
              "signal SIGINT")
    frame = thread.GetFrameAtIndex(0)
    expect_eq("function at the stop", frame.GetFunctionName(), "main")
    listing = command(debugger, "thread list", process)
    expect("`thread list` shows the SIGINT",
           "stop reason = signal SIGINT" in listing, listing)
    spins = target.FindFirstGlobalVariable("spins")
    expect("the global spins", spins.IsValid())
    return spins.GetValueAsUnsigned()


def body(debugger):
    debugger.SetAsync(True)
    listener = lldb.SBListener("kvmdbg-test")
    target, process = connect(debugger, listener)
    wait_state(listener, [lldb.eStateStopped])
    first = interrupted(debugger, listener, process, target)
    expect("spins after the first run", first > 0, str(first))
    second = interrupted(debugger, listener, process, target)
    expect("spins grew across continue and interrupt", second > first,
           f"{first} then {second}")
    command(debugger, "process kill", process)
    wait_state(listener, [lldb.eStateExited])
    expect_eq("exit status after kill", process.GetExitStatus(), 9)


def __lldb_init_module(debugger, internal_dict):
    run(debugger, body)
