"""lldb's SB API on hello64 at its native entry: registers (rip = the entry,
rdi = start_info, cr3, efer), memory at pc equal to the image's bytes and
an unmapped read failing; then single steps (thread.StepInstruction) each
landing exactly where the instruction says (tests/e2e/gdb/x86step.py, fed
by lldb's disassembler), until at least 40 steps and a ret; then continue
to the exit: exit status 1."""
import lldb

from lldbtest import (Failure, connect, env, expect, expect_eq,  # noqa
                      log, reg, run, wait_state)
import x86step
from elfimage import Image

MAX_STEPS = 3000


def body(debugger):
    img = Image(env("KVMDBG_GUEST"))
    # Connect asynchronously and wait for the stop (a synchronous
    # ConnectRemote returns before it), then step synchronously.
    debugger.SetAsync(True)
    listener = lldb.SBListener("kvmdbg-test")
    target, process = connect(debugger, listener)
    wait_state(listener, [lldb.eStateStopped])
    debugger.SetAsync(False)
    expect_eq("state after connecting", process.GetState(),
              lldb.eStateStopped)
    thread = process.GetSelectedThread()
    frame = thread.GetFrameAtIndex(0)
    expect_eq("rip at the entry", reg(frame, "rip"), img.entry)
    expect_eq("pc", frame.GetPC(), img.entry)
    expect_eq("rdi (start_info)", reg(frame, "rdi"), 0x7000)
    expect_eq("cr3", reg(frame, "cr3"), 0x1000)
    expect_eq("efer LME|LMA", reg(frame, "efer") & 0x500, 0x500)
    err = lldb.SBError()
    got = process.ReadMemory(img.entry, 64, err)
    expect("memory read at pc", err.Success(), str(err))
    expect_eq("64 bytes at pc", got.hex(), img.bytes_at(img.entry, 64).hex())
    err = lldb.SBError()
    process.ReadMemory(0xdead00000000, 8, err)
    expect("reading 0xdead00000000 fails", err.Fail())

    def read(addr, n):
        e = lldb.SBError()
        data = process.ReadMemory(addr, n, e)
        if e.Fail():
            raise Failure(f"reading {n} bytes at {addr:#x}: {e}")
        return data

    def decode(addr):
        insns = target.ReadInstructions(lldb.SBAddress(addr, target), 1)
        expect(f"an instruction at {addr:#x}", insns.GetSize() == 1)
        return insns.GetInstructionAtIndex(0)

    seen = {}
    for i in range(MAX_STEPS):
        if i >= int(env("KVMDBG_STEPS", "40")) and "ret" in seen:
            break
        frame = thread.GetFrameAtIndex(0)
        here = frame.GetPC()
        insn = decode(here)
        mnemonic = insn.GetMnemonic(target)
        operands = insn.GetOperands(target)
        length = insn.GetByteSize()
        text = f"{mnemonic} {operands}"
        if mnemonic.split()[-1].startswith(("out", "hlt")):
            raise Failure(f"step {i}: reached {text!r} before a ret")
        try:
            kind, want = x86step.predict(
                mnemonic, operands, length, here,
                lambda r: reg(frame, r), read,
                lambda a: decode(a).GetByteSize())
        except x86step.Unsupported as e:
            raise Failure(f"step {i} at {here:#x}: cannot predict "
                          f"{text!r}: {e}")
        thread.StepInstruction(False)
        expect_eq(f"step {i}: stop reason after stepping {text!r}",
                  thread.GetStopReason(), lldb.eStopReasonPlanComplete)
        got = thread.GetFrameAtIndex(0).GetPC()
        if got not in want:
            raise Failure(
                f"step {i}: si at {here:#x} ({text!r}, {length} bytes, "
                f"{kind}):\n  got:  pc={got:#x}\n"
                f"  want: pc in {{{', '.join(hex(w) for w in want)}}}")
        seen[kind] = seen.get(kind, 0) + 1
    for kind in ("plain", "call", "ret", "jcc", "ljmp"):
        expect(f"a {kind} instruction among the steps", kind in seen,
               f"kinds seen: {seen}")
    log(f"checked {sum(seen.values())} steps: {seen}")
    err = process.Continue()
    expect("continue", err.Success(), str(err))
    expect_eq("state after continue", process.GetState(),
              lldb.eStateExited)
    expect_eq("exit status", process.GetExitStatus(), 1)


def __lldb_init_module(debugger, internal_dict):
    run(debugger, body)
