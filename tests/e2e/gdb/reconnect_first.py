"""First half of the reconnect test: stepi a few times, write the pc to
KVMDBG_STATE and wait to be killed (SIGKILL from the driver: the
connection drops without a detach or a kill)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdbtest import connect, env, expect_eq, pc, resume, run  # noqa: E402


def body():
    connect()
    for _ in range(int(env("KVMDBG_STEPS"))):
        expect_eq("stepi", resume("stepi"), ("stop", None))
    state = env("KVMDBG_STATE")
    with open(state + ".tmp", "w") as f:
        f.write(f"{pc():#x}\n")
    os.rename(state + ".tmp", state)
    time.sleep(120)  # the driver kills this gdb long before


run(body)
