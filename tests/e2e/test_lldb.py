#!/usr/bin/env python3
"""kvmdbg under a real lldb (`lldb -b`), each case its own meson test:
cli and threads drive lldb's command line and read its output (no Python
needed); step and interrupt run scripts from tests/e2e/lldb/ inside lldb's
own Python. Each checks lldb's exit status, then kvmdbg's exit status,
console output and stderr (test_gdb.finish)."""
import glob
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "gdb"))
from kvmdbg_test import (Failure, SKIP, expect_eq, expect_in, main,  # noqa
                         need_kvm, run)
from test_gdb import (HELLO, SPIN, Kvmdbg, check_smp, finish,  # noqa: E402
                      guest)
from elfimage import Image  # noqa: E402

LLDB = os.environ.get("LLDB", "lldb")
SCRIPTS = os.path.join(HERE, "lldb")


def expect(what, cond, detail=""):
    if not cond:
        raise Failure(f"{what}{': ' + detail if detail else ''}")


def need_lldb():
    need_kvm()
    if not shutil.which(LLDB):
        print(f"SKIP: {LLDB} is not installed")
        sys.exit(SKIP)


def lldb_python_path():
    """Where lldb's Python package is. Debian 12's lldb-14 looks in the
    wrong place (`lldb -P` names /usr/lib/local/..., which does not exist)
    and its `script` then fails with "No module named
    'lldb.embedded_interpreter'"; PYTHONPATH pointing at the package that
    python3-lldb-14 installs fixes that."""
    cands = []
    r = run([LLDB, "-P"])
    if r.returncode == 0:
        cands.append(r.stdout.decode().strip())
    m = re.search(rb"version (\d+)", run([LLDB, "--version"]).stdout)
    if m:
        cands += sorted(glob.glob(f"/usr/lib/llvm-{m.group(1).decode()}/lib/"
                                  "python3*/dist-packages"))
    for d in cands:
        if os.path.isfile(os.path.join(d, "lldb", "embedded_interpreter.py")):
            return d
    return None


def lldb_env():
    """lldb's embedded Python finds its standard library through the first
    python3 on PATH; a pyenv or virtualenv python3 ahead of the system one
    gives it a library without the modules lldb's package needs (six). The
    python3 next to lldb comes first here."""
    bindir = os.path.dirname(shutil.which(LLDB))
    return {"PATH": bindir + os.pathsep + os.environ.get("PATH", "")}


def need_lldb_python():
    need_lldb()
    path = lldb_python_path()
    env = lldb_env()
    if path:
        env["PYTHONPATH"] = path
    r = run([LLDB, "-b", "-o", "script import lldb; print('lldb' + 'py', "
             "lldb.SBDebugger.GetVersionString() != '')"], env=env)
    if b"lldbpy True" not in r.stdout:
        print("SKIP: lldb's Python does not work (python3-lldb missing?): "
              f"{r.stdout.decode()[-300:]!r} {r.stderr.decode()[-300:]!r}")
        sys.exit(SKIP)
    return env


def run_lldb(args, env=None, timeout=60):
    """lldb -b with args; it must exit 0 (in batch mode a failed command
    makes it exit 1, and the scripts end with `quit 0` or `quit 1`)."""
    r = run([LLDB, "-b", *args], timeout=timeout, env=env or lldb_env())
    out, err = r.stdout.decode(), r.stderr.decode()
    print(f"--- lldb: exit {r.returncode}\n{out}", end="")
    if r.returncode != 0:
        raise Failure(f"lldb exited with {r.returncode}\n"
                      f"--- lldb stdout ---\n{out}"
                      f"--- lldb stderr ---\n{err}")
    return out, err


def run_script(k, script, env, **extra):
    e = dict(env, PYTHONDONTWRITEBYTECODE="1", KVMDBG_REMOTE=k.remote,
             **{key: str(v) for key, v in extra.items()})
    out, err = run_lldb(["-o", "command script import " +
                         os.path.join(SCRIPTS, script)], env=e)
    if "lldb script: PASS" not in out:
        raise Failure(f"lldb script {script} did not pass:\n{out}\n{err}")
    return out


def section(out, cmd):
    """The output of one `-o` command: from its echoed "(lldb) cmd" line to
    the next prompt."""
    start = out.find(f"(lldb) {cmd}\n")
    if start < 0:
        raise Failure(f"no output for {cmd!r} in:\n{out}")
    start += len(f"(lldb) {cmd}\n")
    end = out.find("(lldb) ", start)
    return out[start:] if end < 0 else out[start:end]


def register_values(text):
    return {m.group(1): int(m.group(2), 16) for m in
            re.finditer(r"^\s*(\w+) = 0x([0-9a-f]+)", text, re.M)}


def case_cli():
    """What a person types: gdb-remote, register read, memory read,
    disassemble, si, continue to the exit."""
    need_lldb()
    img = Image(guest("hello64"))
    entry = img.entry
    with Kvmdbg(guest("hello64")) as k:
        cmds = [f"gdb-remote {k.remote}", "register read rip rdi rsp cr3",
                "memory read --size 1 --count 32 --format x $pc",
                "disassemble --start-address $pc --count 2", "si",
                "register read rip", "continue"]
        args = [guest("hello64")]
        for c in cmds:
            args += ["-o", c]
        out, _ = run_lldb(args)
        expect_in("the stop after gdb-remote", "stop reason = signal SIGTRAP",
                  section(out, cmds[0]))
        regs = register_values(section(out, cmds[1]))
        expect_eq("register read rip", regs.get("rip"), entry)
        expect_eq("register read rdi", regs.get("rdi"), 0x7000)
        expect_eq("register read rsp", regs.get("rsp"), 0)
        expect_eq("register read cr3", regs.get("cr3"), 0x1000)
        mem = section(out, cmds[2])
        got = bytes(int(b, 16) for ln in mem.splitlines()
                    for b in re.findall(r"\b0x([0-9a-f]{2})\b",
                                        ln.split(":", 1)[-1]))
        expect_eq("memory read at pc", got.hex(),
                  img.bytes_at(entry, 32).hex())
        addrs = [int(a, 16) for a in re.findall(
            r"^(?:->)?\s*0x([0-9a-f]+)[ <:]", section(out, cmds[3]), re.M)]
        expect_eq("disassembly starts at pc", addrs[:1], [entry])
        expect_eq("two instructions disassembled", len(addrs), 2)
        expect_in("the stop after si", "stop reason = instruction step into",
                  section(out, "si"))
        expect_eq("rip after si (the second instruction)",
                  register_values(section(out, cmds[5])).get("rip"),
                  addrs[1])
        expect_in("continue", "Process 1 exited with status = 1 (0x00000001)",
                  out)
        finish(k, 1, HELLO)


def case_step():
    env = need_lldb_python()
    with Kvmdbg(guest("hello64")) as k:
        run_script(k, "step.py", env, KVMDBG_GUEST=guest("hello64"),
                   KVMDBG_STEPS=40)
        finish(k, 1, HELLO)


def case_interrupt():
    env = need_lldb_python()
    with Kvmdbg(guest("spin")) as k:
        run_script(k, "interrupt.py", env, KVMDBG_GUEST=guest("spin"))
        finish(k, 0, SPIN)  # lldb killed the guest


def case_threads():
    """--smp 2 on smp.elf: two threads at the PVH entry; si moves thread 1
    only (lldb steps one thread: vCont;s:1); thread 2's registers are its
    own; and every stop reply's thread-pcs (QListThreadsInStopReply) holds
    the threads' real pcs, in the packet log."""
    need_lldb()
    img = Image(guest("smp"))
    entry = img.symbols["_start32"]
    with Kvmdbg("--smp", "2", guest("smp")) as k:
        packets = os.path.join(k.dir, "packets.log")
        cmds = [f"log enable -f {packets} gdb-remote packets",
                f"gdb-remote {k.remote}", "thread list", "si",
                "thread list", "thread select 2", "register read rip rbx",
                "thread select 1", "continue"]
        args = [guest("smp")]
        for c in cmds:
            args += ["-o", c]
        out, _ = run_lldb(args)
        listing = section(out, "thread list")
        for tid in (1, 2):
            expect_in(f"thread {tid} in `thread list`",
                      f"thread #{tid}: tid = 0x{tid:04x}, 0x{entry:016x}",
                      listing)
        after = out[out.index("(lldb) si\n"):]
        listing = section(after, "thread list")
        expect_in("thread 1 after si", f"thread #1: tid = 0x0001, "
                  f"0x{entry + 1:016x}", listing)
        expect_in("thread 2 after si on thread 1",
                  f"thread #2: tid = 0x0002, 0x{entry:016x}", listing)
        regs = register_values(section(out, "register read rip rbx"))
        expect_eq("thread 2 rip", regs.get("rip"), entry)
        expect_eq("thread 2 rbx (start_info)", regs.get("rbx"), 0x7000)
        expect_in("continue", "Process 1 exited with status = 1 (0x00000001)",
                  out)
        finish(k, 1, check_stdout=check_smp(2))

        log = open(packets, errors="replace").read()
        # Cut the log at each resume packet. lldb writes thread ids as
        # zero-padded hex ("vCont;s:0001") and continues with a plain "c".
        resumes = list(re.finditer(r"send packet: \$(vCont;[^#]*|c|s)#", log))
        expect_eq("lldb's resume packets",
                  [re.sub(r":0+", ":", m.group(1)) for m in resumes],
                  ["vCont;s:1", "c"])
        # thread-pcs before the step: both at the entry; after it, thread
        # 1 one instruction (cli) on.
        for part, want in ((log[:resumes[0].start()],
                            f"{entry:x},{entry:x}"),
                           (log[resumes[0].start():resumes[1].start()],
                            f"{entry + 1:x},{entry:x}")):
            pcs = re.findall(r"thread-pcs:([0-9a-f,]+);", part)
            if not pcs:
                raise Failure(f"no thread-pcs in stop replies:\n{part}")
            for got in pcs:
                expect_eq("thread-pcs in a stop reply", got, want)


if __name__ == "__main__":
    main({"cli": case_cli, "step": case_step, "interrupt": case_interrupt,
          "threads": case_threads})
