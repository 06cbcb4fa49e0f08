"""Helpers for kvmdbg's lldb test scripts, which run inside lldb's own
Python (`lldb -b -o 'command script import SCRIPT'`; lldb's Python module
cannot be imported from a standalone interpreter on Debian 12). A script's
__lldb_init_module calls run(debugger, body): `quit 0` when body returns,
`quit 1` after printing "FAIL: ..." when it raises. Commands run through
command() print what they print, as in a session.

The driver (tests/e2e/test_lldb.py) passes parameters in the environment:
KVMDBG_REMOTE (host:port), KVMDBG_GUEST (the image)."""
import os
import sys
import time
import traceback

import lldb

HERE = os.path.dirname(os.path.abspath(__file__))
# x86step.py and elfimage.py are shared with the gdb scripts.
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "gdb"))


class Failure(Exception):
    pass


def env(name, default=None):
    v = os.environ.get(name, default)
    if v is None:
        raise Failure(f"the driver did not set {name}")
    return v


def log(msg):
    print(msg)
    sys.stdout.flush()


def expect_eq(what, got, want):
    if got != want:
        if isinstance(got, int) and isinstance(want, int):
            raise Failure(f"{what}:\n  got:  {got:#x} ({got})\n"
                          f"  want: {want:#x} ({want})")
        raise Failure(f"{what}:\n  got:  {got!r}\n  want: {want!r}")


def expect(what, cond, detail=""):
    if not cond:
        raise Failure(f"{what}{': ' + detail if detail else ''}")


def state_name(state):
    return lldb.SBDebugger.StateAsCString(state)


def connect(debugger, listener):
    """A target for the guest image and a process connected to kvmdbg
    through gdb-remote; process events go to listener."""
    target = debugger.CreateTarget(env("KVMDBG_GUEST"))
    expect("a target for the guest image", target.IsValid())
    err = lldb.SBError()
    process = target.ConnectRemote(listener,
                                   "connect://" + env("KVMDBG_REMOTE"),
                                   "gdb-remote", err)
    expect("gdb-remote connection", err.Success() and process.IsValid(),
           str(err))
    return target, process


def wait_state(listener, want, timeout=30):
    """The next process state change to one of want; fails on timeout or
    on an exit that was not wanted."""
    ev = lldb.SBEvent()
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        if not listener.WaitForEvent(1, ev):
            continue
        if not lldb.SBProcess.EventIsProcessEvent(ev):
            continue
        st = lldb.SBProcess.GetStateFromEvent(ev)
        seen.append(state_name(st))
        if st in want:
            return st
        if st in (lldb.eStateExited, lldb.eStateCrashed,
                  lldb.eStateDetached):
            break
    raise Failure(f"waited for {[state_name(s) for s in want]}; "
                  f"states seen: {seen}")


def command(debugger, cmd, process):
    """Run an lldb command on process; return its output (fails if it
    fails). The explicit context matters: inside `command script import`
    the interpreter's own context still has no target."""
    res = lldb.SBCommandReturnObject()
    ctx = lldb.SBExecutionContext(process)
    debugger.GetCommandInterpreter().HandleCommand(cmd, ctx, res)
    out = (res.GetOutput() or "") + (res.GetError() or "")
    log(f"(lldb) {cmd}\n{out}")
    expect(f"lldb command {cmd!r} succeeds", res.Succeeded(), out)
    return out


def reg(frame, name):
    v = frame.FindRegister(name)
    expect(f"register {name}", v.IsValid(), "not found")
    return v.GetValueAsUnsigned()


def run(debugger, body):
    """body(own) with a debugger of the script's own, then quit lldb.

    Not lldb's own debugger: its event-handler thread prints every stop
    and may build a stop's frame list only after the script has resumed
    the process; that stale list then shows at the next stop (seen here:
    a SIGINT stop shown at the entry pc although the stop reply carried
    main's). A debugger created here has no such thread."""
    code = 1
    own = lldb.SBDebugger.Create(False)
    try:
        body(own)
        log("lldb script: PASS")
        code = 0
    except Failure as f:
        log(f"FAIL: {f}")
    except Exception:  # noqa: B902 - an lldb or script error
        log("FAIL: exception:\n" + traceback.format_exc())
    lldb.SBDebugger.Destroy(own)
    debugger.HandleCommand(f"quit {code}")
