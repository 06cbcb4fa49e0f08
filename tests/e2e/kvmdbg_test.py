"""Shared helpers for kvmdbg's end-to-end tests: running kvmdbg, skipping
with exit 77 only when /dev/kvm is truly absent, and assertions that print
both sides."""
import os
import subprocess
import sys

SKIP = 77


class Failure(Exception):
    pass


def need_kvm():
    dev = os.environ.get("KVMDBG_DEV", "/dev/kvm")
    if not os.path.exists(dev):
        print(f"SKIP: {dev} does not exist on this machine")
        sys.exit(SKIP)


def expect_eq(what, got, want):
    if got != want:
        raise Failure(f"{what}:\n  got:  {got!r}\n  want: {want!r}")


def expect_in(what, needle, hay):
    if needle not in hay:
        raise Failure(f"{what}: {needle!r} not found in:\n{hay}")


def run(cmd, timeout=60, env=None, **kw):
    e = dict(os.environ)
    if env:
        e.update(env)
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout,
                              env=e, stdin=subprocess.DEVNULL, **kw)
    except subprocess.TimeoutExpired as ex:
        raise Failure(f"timed out after {timeout}s: {cmd}\n"
                      f"stdout: {ex.stdout!r}\nstderr: {ex.stderr!r}")


def main(cases):
    """Run the case named in argv[1] with the rest of argv."""
    if len(sys.argv) < 2 or sys.argv[1] not in cases:
        print(f"usage: {sys.argv[0]} CASE [ARGS]; cases: "
              + ", ".join(sorted(cases)))
        sys.exit(2)
    try:
        cases[sys.argv[1]](*sys.argv[2:])
    except Failure as f:
        print(f"FAIL: {f}")
        sys.exit(1)
    print("PASS")
    sys.exit(0)
