"""`monitor caps` shows the host probe's table: its mechanism rows and the
strategy line that `kvmdbg --probe` printed (the driver passes it in
KVMDBG_STRATEGY). `monitor help` lists caps. Then the guest runs to its
exit."""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptest import (connect, env, expect, expect_exit, run)  # noqa: E402


def body():
    connect()
    out = gdb.execute("monitor caps", to_string=True)
    for what in ("mechanism", "#BP intercept", "DR execute",
                 "DR data write", "single-step", "read-only memslot",
                 "strategy:"):
        expect(f"`monitor caps` shows {what!r}", what in out, out)
    strategy = env("KVMDBG_STRATEGY")
    expect("`monitor caps` has kvmdbg --probe's strategy line",
           strategy in out.splitlines(),
           f"want {strategy!r} in:\n{out}")
    helptext = gdb.execute("monitor help", to_string=True)
    expect("`monitor help` lists caps", "caps" in helptext, helptext)
    expect_exit("continue", 1)


run(body)
