#!/usr/bin/env python3
"""kvmdbg-ci end to end: the scripts in tests/ci/scripts on the test guests
(citest at -O0 and -O2, loop, triple), with the TAP and JUnit output of the
deliberately failing ones compared exactly against tests/ci/expected, every
backtrace frame checked against binutils' addr2line, the JUnit XML
validated against tests/ci/junit.xsd with xmllint, and the failure paths
(timeout, crash, a server that dies or never answers, no DWARF, script
errors) checked for their message and exit status."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from kvmdbg_test import Failure, expect_eq, expect_in, main, need_kvm  # noqa

CI = os.environ.get("KVMDBG_CI", "kvmdbg-ci")
KVMDBG = os.environ.get("KVMDBG", "kvmdbg")
GUESTS = os.environ.get("GUESTS", "")
SCRIPTS = os.path.join("tests", "ci", "scripts")
EXPECTED = os.path.join(HERE, "expected")

# kvmdbg-ci's exit statuses.
OK, FAILED, SCRIPT, RUN = 0, 1, 2, 3


def image(name):
    return os.path.join(GUESTS, name + ".elf")


def ci(args, timeout=60, expect_status=None):
    """Runs kvmdbg-ci from the source root, so source paths in its output
    are relative to it (tests/guests/citest.c)."""
    start = time.monotonic()
    try:
        p = subprocess.run([CI, "--kvmdbg", KVMDBG] + args, cwd=SRC,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired as ex:
        raise Failure(f"kvmdbg-ci hung for {timeout}s: {args}\n"
                      f"stderr: {ex.stderr!r}")
    p.seconds = time.monotonic() - start
    p.out = p.stdout.decode()
    p.err = p.stderr.decode()
    check_sanitizer(p.err)
    if expect_status is not None and p.returncode != expect_status:
        raise Failure(f"kvmdbg-ci {args}: exit status {p.returncode}, "
                      f"want {expect_status}\nstdout:\n{p.out}\n"
                      f"stderr:\n{p.err}")
    return p


def check_sanitizer(err):
    for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                "runtime error:"):
        if bad in err:
            raise Failure(f"sanitizer report:\n{err}")


def source_line(path, text):
    """Line number of the first line of tests/guests/PATH containing text,
    so expected outputs never hard-code line numbers."""
    full = os.path.join(SRC, "tests", "guests", path)
    for n, line in enumerate(open(full), 1):
        if text in line:
            return n
    raise Failure(f"{text!r} not found in {full}")


def expand(template, img):
    """@FILE:TEXT@ becomes the line of TEXT in tests/guests/FILE; @IMAGE@
    the image path."""
    out = template.replace("@IMAGE@", img)
    return re.sub(r"@([\w./-]+\.c):([^@]+)@",
                  lambda m: str(source_line(m.group(1), m.group(2))), out)


FRAME = re.compile(r"^ *#(\d+)  (\S+)(?: at (\S+):(\d+))?, pc (0x[0-9a-f]+) "
                   r"\[([^\]]+)\]$", re.M)


def addr2line(img, addr):
    out = subprocess.run(["addr2line", "-f", "-e", img, hex(addr)],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    func, loc = out.splitlines()[:2]
    path, line = loc.split(" ")[0].rsplit(":", 1)
    return func, os.path.normpath(path), int(line)


def line_rows(img):
    """Every line-table row as binutils' readelf decodes it: (address,
    file name, line or None at a sequence end), in table order."""
    out = subprocess.run(["readelf", "--debug-dump=decodedline", img],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    rows = []
    for ln in out.splitlines():
        f = ln.split()
        if len(f) >= 3 and f[2].startswith("0x"):
            rows.append((int(f[2], 16), f[0],
                         None if f[1] == "-" else int(f[1])))
    return rows


def rows_at(img, addr):
    """(file name, line) of the rows that may describe addr: those at the
    start of the line-table range covering it. Where several rows share
    an address (a function's first instruction at -O2) tools differ in
    which they pick; any of them is right."""
    rows = line_rows(img)
    for i in range(len(rows) - 1):
        a, f, line = rows[i]
        if line is not None and a <= addr < rows[i + 1][0]:
            return {(r[1], r[2]) for r in rows
                    if r[0] == a and r[2] is not None}
    return set()


def check_frames(text, img, watch_top=False):
    """Every backtrace frame against addr2line: the function and source
    line of its pc (a caller's: of pc - 1, inside its call). Returns the
    backtraces' frame counts."""
    counts = []
    for m in FRAME.finditer(text):
        n, func, path, line, pc = (int(m.group(1)), m.group(2),
                                   m.group(3), m.group(4),
                                   int(m.group(5), 16))
        if n == 0:
            counts.append(0)
        counts[-1] += 1
        # Frame 0 of a watchpoint stop is just past the access.
        at = pc - 1 if n > 0 or watch_top else pc
        # The function by addr2line; the line by readelf's decoding
        # (binutils 2.40's addr2line misnames the file of DWARF 5 rows
        # that precede the first file change).
        want_func = addr2line(img, at)[0]
        expect_eq(f"function of frame #{n} pc {pc:#x}", func, want_func)
        if path is None:
            continue
        rows = rows_at(img, at)
        if (os.path.basename(path), int(line)) not in rows:
            raise Failure(f"frame #{n} at {path}:{line}, but the line "
                          f"table at {at:#x} says {sorted(rows)}")
    return counts


def mask_pcs(text):
    return re.sub(r"pc 0x[0-9a-f]+", "pc @PC@", text)


def compare(what, got, want_file, img):
    with open(os.path.join(EXPECTED, want_file)) as f:
        want = expand(f.read(), img)
    if got != want:
        import difflib
        diff = "".join(difflib.unified_diff(
            want.splitlines(True), got.splitlines(True),
            "want " + want_file, "got"))
        raise Failure(f"{what} differs from {want_file}:\n{diff}")


def tap_failures(tap):
    """{test number: message} of the not-ok points."""
    out = {}
    for m in re.finditer(r"^not ok (\d+) - .*\n  ---\n  message: '(.*)'$",
                         tap, re.M):
        out[int(m.group(1))] = m.group(2).replace("''", "'")
    return out


def check_junit(path, tap, img):
    """The XML validates against the schema, and carries what the TAP
    says: one testcase per expectation, the same messages and
    backtraces."""
    schema = os.path.join(HERE, "junit.xsd")
    v = subprocess.run(["xmllint", "--noout", "--schema", schema, path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if v.returncode != 0:
        raise Failure(f"xmllint rejects {path}:\n{v.stdout.decode()}")
    root = ET.parse(path).getroot()
    expect_eq("root element", root.tag, "testsuites")
    suites = root.findall("testsuite")
    expect_eq("testsuites", len(suites), 1)
    cases = suites[0].findall("testcase")
    plan = int(re.search(r"^1\.\.(\d+)$", tap, re.M).group(1))
    expect_eq("testcases", len(cases), plan)
    fails = tap_failures(tap)
    for i, case in enumerate(cases, 1):
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        if i not in fails:
            expect_eq(f"testcase {i} has no failure", bad, None)
            continue
        if bad is None:
            raise Failure(f"testcase {i} has no failure element")
        expect_eq(f"testcase {i} message", bad.get("message"), fails[i])
    expect_eq("failures attribute", suites[0].get("failures"),
              str(sum(1 for c in cases if c.find("failure") is not None)))


def run_expected(name, opt, append, status, guest="citest"):
    """Runs scripts/NAME.ci on the guest and checks TAP and JUnit against
    expected/NAME-OPT.tap and .xml exactly (pcs checked by addr2line, then
    masked; times masked)."""
    need_kvm()
    img = image(f"{guest}-{opt}" if guest == "citest" else guest)
    with tempfile.TemporaryDirectory() as d:
        junit = os.path.join(d, "out.xml")
        args = ["--junit", junit]
        if append:
            args += ["--append", append]
        p = ci(args + [os.path.join(SCRIPTS, name + ".ci"), img],
               expect_status=status)
        tap = p.out
        # Watch stops stand just past the access; the others at pc.
        for block in tap.split("\nnot ok ")[1:]:
            counts = check_frames(block, img,
                                  watch_top="last written" in block)
            for c in counts:
                if c < 2:
                    raise Failure(f"a backtrace of {c} frame(s):\n{block}")
        compare("TAP", mask_pcs(tap), f"{name}-{opt}.tap", img)
        check_junit(junit, tap, img)
        xml = open(junit).read()
        xml = re.sub(r' time="[0-9.]+"', ' time="@T@"', mask_pcs(xml))
        compare("JUnit XML", xml, f"{name}-{opt}.xml", img)
    return p


def case_pass(opt):
    """The issue's example on citest: every expectation holds."""
    need_kvm()
    img = image("citest-" + opt)
    p = ci([os.path.join(SCRIPTS, "boot.ci"), img], expect_status=OK)
    points = re.findall(r"^(ok|not ok) \d+ - (.*)$", p.out, re.M)
    expect_eq("TAP points", points, [
        ("ok", "hit kmain once"),
        ("ok", "hit citest.c:54 at-least 3"),
        ("ok", "hit ticks 12 times"),
        ("ok", "order uart_init before printk"),
        ("ok", "no-hit panic"),
        ("ok", "ticks >= 10 at exit"),
        ("ok", "log_count == 0 at citest.c:75"),
        ("ok", "exit 0")])
    expect_in("progress", "8 of 8 expectations held", p.err)
    expect_in("guest console", "citest: done", p.err)


def case_fail(opt):
    """mode=2 panics: five failures, each with its source line and a
    backtrace through at least two frames; the guest exits with 0x7f."""
    p = run_expected("fail", opt, "mode=2", FAILED)
    expect_in("progress", "1 of 6 expectations held, 5 failed", p.err)


def case_order(opt):
    """mode=1 logs before the uart is up: order, count and value fail."""
    run_expected("order", opt, "mode=1", FAILED)


def case_timeout():
    """A guest that never exits: the timeout interrupts it, says where it
    was, kills kvmdbg, and leaves the undecided expectations as errors."""
    need_kvm()
    img = image("citest-O0")
    with tempfile.TemporaryDirectory() as d:
        junit = os.path.join(d, "out.xml")
        p = ci(["--junit", junit, "--append", "mode=3",
                os.path.join(SCRIPTS, "spin.ci"), img], timeout=30,
               expect_status=RUN)
        if p.seconds > 12:
            raise Failure(f"a 2 s timeout took {p.seconds:.1f} s")
        spin = source_line("citest.c", "while (mode == MODE_SPIN)")
        relax = source_line("lib/guest.h", "static inline void cpu_relax")
        expect_in("TAP", "# the run ended early: timeout: the guest ran "
                  "2 s without exiting; stopped at tests/guests/", p.out)
        stopped = re.search(r"stopped at (\S+):(\d+)", p.out)
        where = (stopped.group(1), int(stopped.group(2)))
        # In the loop, or (-O0) in the out-of-line cpu_relax it calls.
        if where not in (("tests/guests/citest.c", spin),
                         ("tests/guests/citest.c", spin + 1)) and \
                not (where[0] == "tests/guests/lib/guest.h" and
                     relax <= where[1] <= relax + 3):
            raise Failure(f"stopped at {where}, not in the spin loop at "
                          f"{spin}")
        points = re.findall(r"^(ok|not ok) \d+ - (.*)$", p.out, re.M)
        expect_eq("TAP points", points, [
            ("not ok", "hit uart_init once"),
            ("ok", "hit timer_tick at-least 3"),
            ("not ok", "no-hit panic"),
            ("not ok", "exit 0")])
        expect_in("TAP", "severity: error", p.out)
        check_frames(p.out, img)
        check_junit(junit, p.out, img)
        root = ET.parse(junit).getroot()
        expect_eq("errors", root.find("testsuite").get("errors"), "3")
        expect_in("system-err", "timeout",
                  root.find("testsuite").find("system-err").text)


def case_crash():
    """A triple fault is a guest failure (status 3) with a backtrace."""
    need_kvm()
    img = image("triple")
    p = ci([os.path.join(SCRIPTS, "crash.ci"), img], expect_status=RUN)
    expect_in("TAP", "# the run ended early: the guest crashed: SIGSEGV on "
              "thread 1 at tests/guests/triple.c:", p.out)
    expect_in("TAP", "ok 1 - hit main once", p.out)
    expect_in("TAP", "not ok 2 - exit 0", p.out)
    expect_in("kvmdbg's reason", "triple-faulted", p.out)
    counts = check_frames(p.out, img)
    if not counts or max(counts) < 2:
        raise Failure(f"no two-frame backtrace:\n{p.out}")


def case_server_dies():
    """kvmdbg dying at once (here: refusing a bad option) is a clear
    message and status 3."""
    need_kvm()
    p = ci(["--mem", "1x", os.path.join(SCRIPTS, "crash.ci"),
            image("triple")], expect_status=RUN)
    expect_in("TAP", "# the run ended early: kvmdbg exited with status 2",
              p.out)
    expect_in("stderr", "kvmdbg exited with status 2", p.err)


def case_server_silent():
    """A server that never answers: every read has a deadline."""
    with tempfile.TemporaryDirectory() as d:
        fake = os.path.join(d, "silent")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\nexec sleep 600\n")
        os.chmod(fake, 0o755)
        start = time.monotonic()
        p = subprocess.run([CI, "--kvmdbg", fake,
                            os.path.join(SCRIPTS, "crash.ci"),
                            image("triple")], cwd=SRC,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        took = time.monotonic() - start
        expect_eq("exit status", p.returncode, RUN)
        expect_in("TAP", "'qSupported:swbreak+;' got no reply in time",
                  p.stdout.decode())
        if took > 20:
            raise Failure(f"took {took:.1f} s")
        check_sanitizer(p.stderr.decode())


def case_no_server():
    p = ci(["--kvmdbg", "/nonexistent/kvmdbg",
            os.path.join(SCRIPTS, "crash.ci"), image("triple")],
           expect_status=RUN)
    expect_in("TAP", "cannot run /nonexistent/kvmdbg: No such file or "
              "directory", p.out)


def case_no_dwarf():
    """Without DWARF: ELF symbols, said so; frame pointers only; no
    FILE:LINE."""
    need_kvm()
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "citest-stripped.elf")
        subprocess.run(["objcopy", "--strip-debug", image("citest-O0"),
                        img], check=True)
        p = ci(["--append", "mode=2", os.path.join(SCRIPTS, "fail.ci"),
                img], expect_status=FAILED)
        expect_in("stderr", f"{img} has no DWARF: falling back to ELF "
                  "symbols", p.err)
        expect_in("TAP", "backtrace (frame pointers only: the image has no "
                  "CFI):", p.out)
        frames = FRAME.findall(p.out)
        if not frames or any(f[2] for f in frames):
            raise Failure(f"frames with source lines or none:\n{p.out}")
        # The panic's backtrace: panic, check_ticks, kmain, main, ...
        names = [f[1] for f in frames]
        expect_eq("first backtrace", names[:4],
                  ["panic", "check_ticks", "kmain", "main"])
        expect_in("TAP", "not ok 1 - no-hit panic", p.out)
        expect_in("TAP", "ok 2 - order uart_init before printk", p.out)
        # ELF symbols carry no type: boot_delta reads as unsigned.
        expect_in("TAP", "boot_delta was 18446744073709551611 at "
                  "check_ticks", p.out)
        p = ci([os.path.join(SCRIPTS, "boot.ci"), img], expect_status=SCRIPT)
        expect_in("stderr", "boot.ci:6: citest.c:54: FILE:LINE needs DWARF "
                  "line tables", p.err)


SCRIPT_ERRORS = [
    ("timeout 20s\nbreak kmain\nfrobnicate now\n",
     "3: unknown statement 'frobnicate now' (want timeout, break, hbreak, "
     "watch or expect)"),
    ("expect hit kmain twice\n",
     "1: bad hit count (want once, never, N times, exactly N, at-least N "
     "or at-most N)"),
    ("timeout 20\ntimeout 5s\n", "2: timeout already set on line 1"),
    ("timeout soon\n", "1: bad duration 'soon'"),
    ("break citest.c:0\n", "1: bad location 'citest.c:0'"),
    ("expect ticks >= ten at exit\n", "1: bad value 'ten'"),
    ("expect exit 128\n", "1: bad exit value '128' (want 0 to 127)"),
    ("expect order kmain before kmain\n",
     "1: 'kmain' cannot come before itself"),
    ("# only a comment\n\nexpect hit uart_int once\n",
     "3: no function 'uart_int' in @IMAGE@ (did you mean 'uart_init'?)"),
    ("watch kmain\nexpect exit 0\n",
     "1: 'kmain' is a function; watch takes a global variable"),
    ("expect hit ticks once\n",
     "1: 'ticks' is a variable, not code; 'watch ticks' follows its "
     "writes"),
    ("break nosuch.c:10\nexpect exit 0\n",
     "1: nosuch.c:10: no source file 'nosuch.c' in the line table"),
    ("expect uart_up == 1 at nosuchfn\n",
     "1: no function 'nosuchfn' in @IMAGE@"),
    ("watch access ticks\nexpect ticks == 12 at exit\n",
     "2: 'ticks == 12 at exit' follows the writes of ticks, which "
     "cannot share it with the access watch of line 1"),
    ("timeout 5s\n", "no expectations: nothing to check"),
]


def case_script_errors():
    """Each bad script: its line number and reason, status 2, TAP that
    bails out, and the guest never starts."""
    img = image("citest-O0")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bad.ci")
        for text, want in SCRIPT_ERRORS:
            with open(path, "w") as f:
                f.write(text)
            p = ci([path, img])
            want = expand(want, img)
            expect_eq(f"exit status for {text!r}", p.returncode, SCRIPT)
            prefix = f"{path}:" if want[0].isdigit() else f"{path}: "
            expect_in(f"stderr for {text!r}", prefix + want, p.err)
            expect_eq("console", "citest:" in p.err, False)
            expect_in("TAP", "not ok 1 - script", p.out)
    # A struct or array is no number.
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bad.ci")
        with open(path, "w") as f:
            f.write("expect buffer == 0 at exit\n")
        p = ci([path, image("loop")], expect_status=SCRIPT)
        expect_in("stderr", f"{path}:1: 'buffer' is not a number (array "
                  "(64 bytes)); compare scalars only", p.err)


def case_resolve(opt):
    """--resolve against nm and addr2line: functions past their prologue
    and inside them, FILE:LINE on its line, globals at their symbol."""
    img = image("citest-" + opt)
    p = ci(["--resolve", os.path.join(SCRIPTS, "boot.ci"), img],
           expect_status=OK)
    syms = {}
    for ln in subprocess.run(["nm", "-S", img], stdout=subprocess.PIPE,
                             check=True).stdout.decode().splitlines():
        f = ln.split()
        if len(f) == 4:
            syms[f[3]] = (int(f[0], 16), int(f[1], 16))
    lines = dict(ln.split(": ", 1) for ln in p.out.splitlines())
    for fn in ("kmain", "uart_init", "printk", "panic"):
        m = re.match(r"break at (0x[0-9a-f]+) \((\S+):(\d+)\)$", lines[fn])
        if not m:
            raise Failure(f"{fn}: {lines[fn]!r}")
        addr = int(m.group(1), 16)
        lo, size = syms[fn]
        if not lo <= addr < lo + size:
            raise Failure(f"{fn} at {addr:#x}, outside [{lo:#x}, "
                          f"{lo + size:#x})")
        if (os.path.basename(m.group(2)), int(m.group(3))) not in \
                rows_at(img, addr):
            raise Failure(f"{fn}: {lines[fn]!r} is no line-table row of "
                          f"{addr:#x}: {sorted(rows_at(img, addr))}")
    m = re.match(r"break at (0x[0-9a-f]+) \(tests/guests/citest.c:(\d+)\)$",
                 lines["citest.c:54"])
    expect_eq("citest.c:54 line", int(m.group(2)), 54)
    expect_eq("citest.c:54 by addr2line",
              addr2line(img, int(m.group(1), 16))[1:],
              (os.path.join(SRC, "tests/guests/citest.c"), 54))
    expect_eq("ticks", lines["ticks"],
              f"write watch at {syms['ticks'][0]:#x}, 8 bytes, volatile "
              "long unsigned int")


def case_loop10():
    """Ten expectations on the loop guest, with the time split --stats
    prints (the figure in docs/ci-scripts.md)."""
    need_kvm()
    p = ci(["--stats", os.path.join(SCRIPTS, "loop10.ci"), image("loop")],
           expect_status=OK)
    expect_eq("TAP oks", len(re.findall(r"^ok \d+ - ", p.out, re.M)), 10)
    for what in ("total", "symbols", "start", "running", "protocol"):
        expect_in("stats", f"kvmdbg-ci: stats:", p.err)
        if not re.search(rf"stats: +{what} +[0-9.]+ s", p.err):
            raise Failure(f"no '{what}' in stats:\n{p.err}")
    m = re.search(r"running +[0-9.]+ s \((\d+) resumes", p.err)
    # 100 tick, 100 accumulate, 100 fill_buffer, main, image_checksum,
    # 100 writes each of counter and total, and the exit.
    expect_eq("resumes", int(m.group(1)), 503)
    print("\n".join(ln for ln in p.err.splitlines() if "stats:" in ln))


def case_help():
    p = ci(["--help"], expect_status=OK)
    for opt in ("--tap FILE", "--junit FILE", "--stats", "--resolve",
                "--smp N", "--mem SIZE", "--append TEXT", "--console FILE",
                "--timeout DUR", "--kvmdbg PATH", "--verbose", "--version",
                "expect order LOC before LOC", "Exit status:"):
        expect_in("--help", opt, p.out)
    for code in range(4):
        expect_in("--help exit statuses", f"\n  {code}  ", p.out)
    p = ci(["--frobnicate"], expect_status=SCRIPT)
    expect_in("stderr", "unknown option '--frobnicate'", p.err)
    p = ci(["only-one-arg"], expect_status=SCRIPT)
    expect_in("stderr", "want a SCRIPT and an IMAGE", p.err)


def case_tap_file():
    """--tap FILE and --console FILE move TAP and the guest console out of
    stdout and stderr."""
    need_kvm()
    with tempfile.TemporaryDirectory() as d:
        tap, con = os.path.join(d, "out.tap"), os.path.join(d, "console")
        p = ci(["--tap", tap, "--console", con,
                os.path.join(SCRIPTS, "boot.ci"), image("citest-O2")],
               expect_status=OK)
        expect_eq("stdout", p.out, "")
        expect_in("TAP file", "ok 8 - exit 0", open(tap).read())
        expect_eq("console", open(con).read(),
                  "citest: uart up\ncitest: done\n")
        expect_eq("console on stderr", "citest:" in p.err, False)


if __name__ == "__main__":
    if not shutil.which("addr2line") or not shutil.which("xmllint"):
        print("SKIP: addr2line (binutils) or xmllint (libxml2-utils) "
              "missing")
        sys.exit(77)
    main({
        "pass": case_pass, "fail": case_fail, "order": case_order,
        "timeout": case_timeout, "crash": case_crash,
        "server-dies": case_server_dies,
        "server-silent": case_server_silent, "no-server": case_no_server,
        "no-dwarf": case_no_dwarf, "script-errors": case_script_errors,
        "resolve": case_resolve, "loop10": case_loop10, "help": case_help,
        "tap-file": case_tap_file,
    })
