"""The reconnect test for a drop while the guest runs. With
KVMDBG_STATE set (first gdb): continue, and once the guest runs, write
KVMDBG_STATE and wait to be killed. Otherwise (second gdb): kvmdbg stopped
the guest when the connection dropped, so the new gdb gets a SIGINT stop
inside main with `spins` advanced; continue and Ctrl-C still work; kill."""
import os
import sys
import threading

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdbtest import (connect, expect, expect_eq, interrupt_after,  # noqa
                     pc, resume, run)


def first(state):
    def running():
        with open(state + ".tmp", "w") as f:
            f.write("running\n")
        os.rename(state + ".tmp", state)
    # continue blocks until a stop that never comes; the file tells the
    # driver the guest runs.
    threading.Timer(1.0, running).start()
    gdb.execute("continue")


def second():
    stop = connect()
    expect_eq("the stop on reconnecting", stop, ("signal", "SIGINT"))
    block = gdb.block_for_pc(pc())
    expect("pc inside main", block is not None and block.function is not None
           and block.function.name == "main", f"pc={pc():#x}")
    spins = int(gdb.parse_and_eval("spins"))
    expect("spins after the first run", spins > 0, str(spins))
    timer = interrupt_after(1.0)
    ev = resume("continue")
    timer.join()
    expect_eq("the stop after Ctrl-C", ev, ("signal", "SIGINT"))
    later = int(gdb.parse_and_eval("spins"))
    expect("spins grew", later > spins, f"{spins} then {later}")
    gdb.execute("kill")


def body():
    state = os.environ.get("KVMDBG_STATE")
    if state:
        connect()
        first(state)
    else:
        second()


run(body)
