"""The reference programs and the runtimes that run them, for scripts/crosslang.py
and the crosslang CTest (tests/crosslang/).

- Programs: Karpathy's microgpt.py and microgpt.ts / bench-alloc.ts of
  kojiwakayama/microgpt-ts, which the project does not contain. `check_program`
  finds one in a directory and compares its sha256 with the pinned one.
- Runtimes: CPython (Debian's /usr/bin/python3), Node (>= 23.6, which runs
  TypeScript by stripping the types), Bun and Deno. `find_runtime` takes an
  explicit path, else an environment variable, else scripts/install_runtimes.sh's
  .runtimes/bin/, else PATH, and asks the runtime for its exact version.
- `edit_constants` makes a copy with another seed, shape or step count, editing
  only those lines, and `run_measured` runs a program in a directory and returns
  its exit status, wall time and peak RSS (wait4).
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INSTALLED_BIN = REPO / ".runtimes" / "bin"  # made by scripts/install_runtimes.sh
DEFAULT_PROGRAMS = REPO.parent / "shared" / "programs"

TS_REPOSITORY = "https://github.com/kojiwakayama/microgpt-ts"
TS_COMMIT = "8a375e9fe074ac36d18e8e9edd6923b1c7a63e64"
PROGRAMS = {  # name: (sha256, where to get it)
    "microgpt.py": ("622e6a5494e486c48314a8c337a51411a78c62f9de985a386ec4cdd7a3c8f57a",
                    "https://gist.github.com/karpathy/8627fe009c40f57531cb18360106ce95 "
                    "(the commented version)"),
    "microgpt.ts": ("3aadc93cdcb1b02c786dcd0894f97a62f6dc5e7005a55f9a8865ed702c50bb49",
                    f"https://raw.githubusercontent.com/kojiwakayama/microgpt-ts/{TS_COMMIT}/microgpt.ts"),
    "bench-alloc.ts": ("f6c96c8c361ef51784c5b292bd12fe1b2466681658ba16ba51eb65ad8010a49f",
                       f"https://raw.githubusercontent.com/kojiwakayama/microgpt-ts/{TS_COMMIT}/bench-alloc.ts"),
}
RUNTIMES = ("cpython", "node", "bun", "deno")
JS_RUNTIMES = ("node", "bun", "deno")
NODE_MINIMUM = (23, 6)  # the first Node that strips TypeScript types without a flag


class Unavailable(Exception):
    """A runtime or program that cannot be used; the message says why and what to do."""


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_program(directory: Path, name: str, allow_modified: bool) -> dict:
    """The program `name` in `directory` as a JSON record; raises Unavailable when it
    is missing, or modified and not allowed."""
    path = directory / name
    expected, origin = PROGRAMS[name]
    if not path.is_file():
        raise Unavailable(f"{path} not found; get {name} from {origin} "
                          f"(sha256 {expected[:12]}...), or pass --programs DIR")
    actual = sha256_of(path)
    modified = actual != expected
    if modified and not allow_modified:
        raise Unavailable(f"{path} has sha256 {actual}, not the pinned {expected} "
                          f"(from {origin}); pass --allow-modified to run it anyway")
    return {"name": name, "path": str(path.resolve()), "sha256": actual,
            "expected_sha256": expected, "modified": modified}


# ---- runtimes ----------------------------------------------------------------

@dataclass
class Runtime:
    name: str          # cpython, node, bun, deno
    path: str          # the executable
    version: str       # e.g. "Node.js v26.12.1"
    engine: str        # e.g. "V8 14.6.202.34-node.40"
    env: dict = field(default_factory=dict)  # added to the environment of its runs

    @property
    def description(self) -> str:
        return f"{self.version} ({self.engine})"

    def command(self, program: str) -> list[str]:
        if self.name == "deno":  # input.txt is there: reading is all it needs
            return [self.path, "run", "--allow-read", "--no-prompt", program]
        if self.name == "bun":
            return [self.path, "run", program]
        return [self.path, program]

    def prepare(self, directory: Path) -> dict:
        """Gets a fresh run directory ready and returns the run's extra environment.
        Node reads a .ts file as an ES module without a warning or a second parse
        when package.json says so; Deno gets its cache there (DENO_DIR), so every
        run starts as cold as the first."""
        env = dict(self.env)
        if self.name in JS_RUNTIMES:
            (directory / "package.json").write_text('{"type": "module"}\n')
        if self.name == "deno":
            env["DENO_DIR"] = str(directory / ".deno")
        return env


def _output(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise Unavailable(f"{argv[0]} does not run: {error}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise Unavailable(f"{argv[0]} does not run (exit {done.returncode}: {last})")
    return done.stdout


def _describe(name: str, path: str) -> Runtime:
    if name == "cpython":
        lines = _output([path, "-c", "import platform; print(platform.python_implementation()); "
                                     "print(platform.python_version()); print(platform.python_compiler())"])
        implementation, version, compiler = (lines.splitlines() + ["", "", ""])[:3]
        if implementation != "CPython":
            raise Unavailable(f"{path} is {implementation} {version}, not CPython")
        return Runtime(name, path, f"CPython {version}", f"CPython bytecode interpreter, {compiler}")
    if name == "node":
        version, v8 = (_output([path, "-p", "process.version + ' ' + process.versions.v8"]).split() + ["?"])[:2]
        digits = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
        if digits < NODE_MINIMUM:
            raise Unavailable(f"{path} is Node.js {version}, which cannot run TypeScript "
                              f"(needs >= {NODE_MINIMUM[0]}.{NODE_MINIMUM[1]})")
        return Runtime(name, path, f"Node.js {version}", f"V8 {v8}")
    if name == "bun":
        revision = _output([path, "--revision"]).strip()
        webkit = _output([path, "-p", "process.versions.webkit"]).strip()
        return Runtime(name, path, f"Bun {revision}", f"JavaScriptCore (WebKit {webkit[:12]})")
    if name == "deno":
        lines = _output([path, "--version"]).splitlines()
        version = lines[0].split()[1] if lines and len(lines[0].split()) > 1 else "?"
        v8 = next((line.split()[1] for line in lines if line.startswith("v8 ")), "?")
        return Runtime(name, path, f"Deno {version}", f"V8 {v8}", {"DENO_NO_UPDATE_CHECK": "1"})
    raise ValueError(name)


def find_runtime(name: str, explicit: str | None = None) -> Runtime:
    """The runtime `name`: the explicit path, else $MGA_<NAME>, else (JavaScript)
    .runtimes/bin/<name> or (CPython) /usr/bin/python3, else PATH. Raises
    Unavailable with what to do when none is usable."""
    variable = "MGA_PYTHON" if name == "cpython" else f"MGA_{name.upper()}"
    named = explicit or os.environ.get(variable)
    if named:
        path = shutil.which(named)
        if not path:
            raise Unavailable(f"{name}: {named} is not an executable")
        try:
            return _describe(name, path)
        except Unavailable as why:
            raise Unavailable(f"{name}: {why}") from None
    if name == "cpython":
        candidates = ["/usr/bin/python3", shutil.which("python3")]
        hint = "install Debian's python3, or pass --python PATH or set MGA_PYTHON"
    else:
        candidates = [str(INSTALLED_BIN / name), shutil.which(name)]
        hint = f"run scripts/install_runtimes.sh, or pass --{name} PATH or set {variable}"
    reasons = []
    for candidate in dict.fromkeys(c for c in candidates if c):
        if not os.access(candidate, os.X_OK):
            continue
        try:
            return _describe(name, candidate)
        except Unavailable as why:
            reasons.append(str(why))
    raise Unavailable(f"{name} not found ({'; '.join(reasons) + '; ' if reasons else ''}{hint})")


# ---- editing a program's constants -------------------------------------------

# The lines ../shared/programs/README.md allows to edit, as (pattern, template) per
# program kind; the pattern must match exactly one line.
_CONSTANTS = {
    "py": {"seed": r"^(random\.seed\()(\d+)(\))",
           "n_embd": r"^(n_embd = )(\d+)()", "n_head": r"^(n_head = )(\d+)()",
           "n_layer": r"^(n_layer = )(\d+)()", "block_size": r"^(block_size = )(\d+)()",
           "num_steps": r"^(num_steps = )(\d+)()"},
    "ts": {"seed": r"^(const rng = mulberry32\()(\d+)(\);)",
           "n_embd": r"^(\s*const N_EMBD = )(\d+)(;)", "n_head": r"^(\s*const N_HEAD = )(\d+)(;)",
           "n_layer": r"^(\s*const N_LAYER = )(\d+)(;)", "block_size": r"^(\s*const BLOCK_SIZE = )(\d+)(;)",
           "num_steps": r"^(\s*const numSteps = )(\d+)(;)"},
}


def edit_constants(text: str, kind: str, **values: int) -> str:
    """`text` (microgpt.py if kind is "py", microgpt.ts if "ts") with the given
    constants (seed, n_embd, n_head, n_layer, block_size, num_steps) replaced."""
    for constant, value in values.items():
        pattern = re.compile(_CONSTANTS[kind][constant], re.MULTILINE)
        text, count = pattern.subn(lambda m, v=value: f"{m.group(1)}{int(v)}{m.group(3)}", text)
        if count != 1:
            raise Unavailable(f"microgpt.{kind}: the {constant} line is not there exactly once "
                              f"(found {count}); is it the pinned program?")
    return text


# ---- running ---------------------------------------------------------------

@dataclass
class Measured:
    returncode: int
    seconds: float         # wall time, fork to exit
    peak_rss_kib: int      # the process's maximum resident set size (ru_maxrss)
    timed_out: bool = False


def run_measured(argv: list[str], cwd: Path, stdout: Path, stderr: Path,
                 env: dict | None = None, timeout: float | None = None) -> Measured:
    """Runs argv in cwd with stdout and stderr to files; wait4 gives its rusage."""
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                   env={**os.environ, **(env or {})})
        timer = threading.Timer(timeout, process.kill) if timeout else None
        if timer:
            timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            if timer:
                timer.cancel()
        seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    timed_out = timeout is not None and process.returncode == -9 and seconds >= timeout
    return Measured(process.returncode, seconds, int(usage.ru_maxrss), timed_out)
