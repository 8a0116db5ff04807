#!/usr/bin/env python3
"""Times the reference programs under their runtimes, beside the C++ policies.

Training: Karpathy's microgpt.py under CPython, microgpt.ts under Node, Bun and
Deno, each run a fresh process in a fresh temporary directory holding input.txt;
wall time of the whole program, peak RSS (wait4), and its stdout compared byte
for byte with ../shared/reference/ (a run that differs is reported and left out
of the statistics). Chain: bench-alloc.ts under Node, Bun and Deno and
scripts/chain.py under CPython. Runs go round-robin across the runtimes, so
drift hits all alike; the JSON (results/<machine>/crosslang.json, written
atomically) has every repetition and median, min, max, mean, stddev and cv.
Progress goes to stderr.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import runtimes as rt  # noqa: E402
from mga_report import files  # noqa: E402

PROG = "crosslang.py"
SEED = 42  # the programs' own; the references are for it
TRAIN_PROGRAM = {"cpython": "microgpt.py", "node": "microgpt.ts", "bun": "microgpt.ts", "deno": "microgpt.ts"}
CHAIN_PY = rt.REPO / "scripts" / "chain.py"
OBJECTS_PER_ALLOC = {
    "cpython": "a Value (__slots__) plus its children tuple, and for mul a local-gradients tuple",
    "js": "a Value plus two arrays",
}
TIMING = "wall time of the whole program: start-up, data loading, training, sampling"
# Rough seconds per training step and per chain run, for the duration estimate only.
STEP_SECONDS = {"cpython": 0.26, "node": 0.017, "bun": 0.010, "deno": 0.017}
CHAIN_SECONDS = {"cpython": 2.5, "node": 0.6, "bun": 0.4, "deno": 0.7}


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        raise UsageError(message)


def count(low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}..{high}")
        return value
    return parse


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = Parser(prog="scripts/crosslang.py", formatter_class=argparse.RawDescriptionHelpFormatter,
                    description=__doc__.split("\n\n")[1].replace("\n", " "),
                    epilog="Runtimes: scripts/install_runtimes.sh puts pinned Node, Bun and Deno in "
                           ".runtimes/bin/; else --node/--bun/--deno/--python PATH, the environment "
                           "variables MGA_NODE, MGA_BUN, MGA_DENO, MGA_PYTHON, then PATH (CPython: "
                           "/usr/bin/python3 first).\nExit status: 0 all runs identical, 1 a run failed "
                           "or differs (still recorded), 2 bad input.")
    parser.add_argument("--programs", type=Path, default=rt.DEFAULT_PROGRAMS, metavar="DIR",
                        help="microgpt.py, microgpt.ts, bench-alloc.ts (default: %(default)s)")
    parser.add_argument("--allow-modified", action="store_true",
                        help="run programs whose sha256 is not the pinned one (the JSON says so)")
    parser.add_argument("--runtimes", default=",".join(rt.RUNTIMES), metavar="LIST",
                        help="comma-separated subset of %(default)s (default: all)")
    for name in rt.JS_RUNTIMES:
        parser.add_argument(f"--{name}", metavar="PATH", help=f"the {name} executable")
    parser.add_argument("--python", metavar="PATH", help="the CPython executable (default /usr/bin/python3)")
    parser.add_argument("--repeat", type=count(0, 1000), default=3, metavar="N",
                        help="training runs per runtime (default %(default)s; 0: no training)")
    parser.add_argument("--python-repeat", type=count(0, 1000), metavar="N",
                        help="training runs for CPython (default: --repeat; 1000 steps take ~4 min)")
    parser.add_argument("--chain-repeat", type=count(0, 1000), default=5, metavar="N",
                        help="chain runs per runtime (default %(default)s; 0: no chain)")
    parser.add_argument("--steps", type=count(1, 100_000), default=1000, metavar="N",
                        help="training steps (default %(default)s; others edit num_steps in a copy, "
                             "and are checked only where a reference exists)")
    parser.add_argument("--data", type=Path, metavar="PATH",
                        help="names, one per line (default ../shared/data/names.txt, else data/names.txt)")
    parser.add_argument("--reference-dir", type=Path, default=rt.REPO.parent / "shared" / "reference",
                        metavar="DIR", help="expected outputs, microgpt_{py,ts}_seed42_steps<N>.txt "
                                            "(default: %(default)s)")
    parser.add_argument("--machine", metavar="NAME",
                        help="writes results/NAME/crosslang.json (default: what "
                             "scripts/machine_name.sh prints, e.g. debian12-epyc-2vcpu)")
    parser.add_argument("--out", type=Path, metavar="PATH", help="write the JSON here instead")
    parser.add_argument("--timeout", type=count(1, 86_400), default=3600, metavar="SECONDS",
                        help="per run (default %(default)s)")
    args = parser.parse_args(argv)
    args.runtimes = [name.strip() for name in args.runtimes.split(",") if name.strip()]
    unknown = [name for name in args.runtimes if name not in rt.RUNTIMES]
    if unknown or not args.runtimes:
        parser.error(f"--runtimes: unknown runtime '{(unknown or [''])[0]}' (valid: {', '.join(rt.RUNTIMES)})")
    if args.python_repeat is None:
        args.python_repeat = args.repeat
    if args.repeat == args.python_repeat == args.chain_repeat == 0:
        parser.error("nothing to run (--repeat, --python-repeat and --chain-repeat are 0)")
    if args.machine is None:
        args.machine = default_machine()
    why = machine_name_refusal(args.machine)
    if why:
        parser.error(f"--machine: {why}")
    if args.out is None:
        args.out = rt.REPO / "results" / args.machine / "crosslang.json"
    return args


# ---- statistics, context, output ------------------------------------------

def summary(values: list[float]) -> dict | None:
    if not values:
        return None
    mean = statistics.fmean(values)
    stddev = statistics.stdev(values) if len(values) > 1 else 0.0  # sample, as bench_train
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "mean": mean,
            "stddev": stddev, "cv": stddev / mean if mean > 0 else 0.0, "repetitions": len(values)}


def default_machine() -> str:
    """This machine's results/ directory name, by the one rule of scripts/machine_name.sh."""
    return subprocess.run([str(rt.REPO / "scripts" / "machine_name.sh")], check=True,
                          capture_output=True, text=True).stdout.strip()


def machine_name_refusal(name: str) -> str:
    """Why `name` may not name a results/ directory ('' if it may): scripts/machine_name.sh's one rule."""
    check = subprocess.run([str(rt.REPO / "scripts" / "machine_name.sh"), "--check", name],
                           capture_output=True, text=True)
    return check.stdout.strip() if check.returncode != 0 else ""


def machine_context() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    commit = subprocess.run(["git", "-C", str(rt.REPO), "describe", "--always", "--dirty", "--abbrev=12"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    return {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "host": socket.gethostname(),
            "kernel": f"{platform.system()} {platform.release()}", "cpu": cpu,
            "cores": str(os.cpu_count()), "git_commit": commit}


def write_atomically(path: Path, document: dict) -> None:
    """The JSON, through the report's atomic writer (which also gives the file
    the umask's permissions, not mkstemp's 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=2) + "\n"
    files.write_atomically(path, lambda out: out.write(text.encode("utf-8")))


def say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


# ---- one run ----------------------------------------------------------------

STEP_LINE = re.compile(rb"^step +(\d+) */ *\d+ *\| *loss +(\S+)$", re.MULTILINE)
CHAIN_LINE = re.compile(rb"^(\d+) Value allocations in ([0-9.]+)s$", re.MULTILINE)


def run_train(runtime: rt.Runtime, source: bytes, name: str, data: Path, reference: bytes | None,
              timeout: int, work: Path) -> dict:
    """One training run in a fresh directory; its repetition record."""
    work.mkdir()
    (work / name).write_bytes(source)
    (work / "input.txt").write_bytes(data.read_bytes())
    env = runtime.prepare(work)
    measured = rt.run_measured(runtime.command(name), work, work / "stdout", work / "stderr", env, timeout)
    output = (work / "stdout").read_bytes()
    steps = [(int(step), float(loss)) for step, loss in STEP_LINE.findall(output)]
    if measured.returncode != 0:
        verdict = "failed"
        last = (work / "stderr").read_text(errors="replace").strip().splitlines()[-3:]
        why = "timed out" if measured.timed_out else f"exit {measured.returncode}"
        say(f"{runtime.name} failed ({why}): " + " | ".join(last))
    elif not steps:
        verdict = "failed"
        say(f"{runtime.name} printed no 'step N / M | loss L' line")
    elif reference is None:
        verdict = "no reference"
    else:
        verdict = "identical" if output == reference else "differs"
        if verdict == "differs":
            say(f"{runtime.name}: output DIFFERS from the reference: " + first_difference(reference, output))
    return {"train_seconds": measured.seconds, "steps": steps[-1][0] if steps else 0,
            "ms_per_step": 1000 * measured.seconds / steps[-1][0] if steps else None,
            "peak_rss_kib": measured.peak_rss_kib, "final_loss": steps[-1][1] if steps else None,
            "reference": verdict, "exit_status": measured.returncode,
            "output_sha256": hashlib.sha256(output).hexdigest()}


def first_difference(expected: bytes, got: bytes) -> str:
    want, have = expected.decode(errors="replace").splitlines(), got.decode(errors="replace").splitlines()
    for number, (a, b) in enumerate(zip(want, have), 1):
        if a != b:
            return f"line {number}: expected '{a}', got '{b}'"
    return f"{len(have)} lines, expected {len(want)}"


def run_chain(runtime: rt.Runtime, program: Path, timeout: int, work: Path) -> dict:
    """One chain run in a fresh directory; its repetition record."""
    work.mkdir()
    (work / program.name).write_bytes(program.read_bytes())
    env = runtime.prepare(work)
    measured = rt.run_measured(runtime.command(program.name), work, work / "stdout", work / "stderr",
                               env, timeout)
    found = CHAIN_LINE.search((work / "stdout").read_bytes())
    if measured.returncode != 0 or not found:
        why = f"exit {measured.returncode}" if measured.returncode else "no 'N Value allocations in Ts' line"
        say(f"{runtime.name} chain failed ({why})")
        return {"error": why, "exit_status": measured.returncode}
    allocations, seconds = int(found.group(1)), float(found.group(2))
    return {"allocs_per_second": allocations / seconds if seconds > 0 else None, "seconds": seconds,
            "allocations": allocations, "peak_rss_kib": measured.peak_rss_kib}


# ---- the whole measurement --------------------------------------------------

def default_data() -> Path:
    for candidate in (rt.REPO.parent / "shared" / "data" / "names.txt", rt.REPO / "data" / "names.txt"):
        if candidate.is_file():
            return candidate
    raise UsageError("no dataset: ../shared/data/names.txt and data/names.txt are absent "
                     "(pass --data PATH, or run build/bench_train once to download data/names.txt)")


def prepare(args) -> tuple[list[rt.Runtime], dict, Path, int]:
    """Runtimes, program records and the dataset; UsageError on anything missing."""
    data = args.data or default_data()
    try:
        text = data.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read the dataset {data}: {error}") from None
    num_docs = sum(1 for line in text.strip().split("\n") if line.strip())  # as microgpt.py
    if num_docs == 0:
        raise UsageError(f"the dataset {data} has no names")
    runtimes, problems = [], []
    for name in args.runtimes:
        try:
            explicit = args.python if name == "cpython" else getattr(args, name)
            runtimes.append(rt.find_runtime(name, explicit))
        except rt.Unavailable as why:
            problems.append(str(why))
    if problems:
        hint = "" if len(problems) == len(args.runtimes) else "; --runtimes chooses the others"
        raise UsageError("; ".join(problems) + hint)
    needed = set()
    for runtime in runtimes:
        if (args.python_repeat if runtime.name == "cpython" else args.repeat) > 0:
            needed.add(TRAIN_PROGRAM[runtime.name])
        if args.chain_repeat > 0 and runtime.name != "cpython":
            needed.add("bench-alloc.ts")
    try:
        programs = {name: rt.check_program(args.programs, name, args.allow_modified)
                    for name in sorted(needed)}
    except rt.Unavailable as why:
        raise UsageError(str(why)) from None
    return runtimes, programs, data.resolve(), num_docs


def plan(runtimes: list[rt.Runtime], args) -> list[tuple[str, rt.Runtime]]:
    """Round-robin: every round runs each runtime's chain, then each one's training."""
    train_reps = {r.name: args.python_repeat if r.name == "cpython" else args.repeat for r in runtimes}
    jobs = []
    for round_index in range(max([args.chain_repeat, *train_reps.values()])):
        jobs += [("chain", r) for r in runtimes if round_index < args.chain_repeat]
        jobs += [("train", r) for r in runtimes if round_index < train_reps[r.name]]
    return jobs


def measure(args) -> int:
    runtimes, programs, data, num_docs = prepare(args)
    sources = {}
    for name, kind in (("microgpt.py", "py"), ("microgpt.ts", "ts")):
        if name in programs:
            text = Path(programs[name]["path"]).read_text(encoding="utf-8")
            if args.steps != 1000:
                text = rt.edit_constants(text, kind, num_steps=args.steps)
            reference = args.reference_dir / f"microgpt_{kind}_seed{SEED}_steps{args.steps}.txt"
            sources[name] = (text.encode(), reference.read_bytes() if reference.is_file() else None)
            if sources[name][1] is None:
                say(f"no reference {reference}: {name}'s output is not checked")
    jobs = plan(runtimes, args)
    estimate = sum(STEP_SECONDS[r.name] * args.steps + 0.3 if kind == "train" else CHAIN_SECONDS[r.name]
                   for kind, r in jobs)
    duration = f"{estimate / 60:.0f} min" if estimate >= 120 else f"{estimate:.0f} s"
    say(f"{len(jobs)} runs ({', '.join(r.version for r in runtimes)}), about {duration} on an idle "
        f"2-core VM; writing {args.out}")
    train = {r.name: [] for r in runtimes}
    chain = {r.name: [] for r in runtimes}
    width = len(str(len(jobs)))
    with tempfile.TemporaryDirectory(prefix="crosslang.") as temp:
        for index, (kind, runtime) in enumerate(jobs, 1):
            tag = f"[{index:>{width}}/{len(jobs)}] {runtime.name} {kind}"
            work = Path(temp) / f"{index:03d}-{runtime.name}-{kind}"
            if kind == "train":
                expected = STEP_SECONDS[runtime.name] * args.steps
                if expected > 20:
                    say(f"{tag}: running, about {expected:.0f} s")
                name = TRAIN_PROGRAM[runtime.name]
                record = run_train(runtime, sources[name][0], name, data, sources[name][1], args.timeout, work)
                train[runtime.name].append(record)
                print(f"{tag} {record['train_seconds']:.1f} s ({record['reference']})", file=sys.stderr,
                      flush=True)
            else:
                program = CHAIN_PY if runtime.name == "cpython" else Path(programs["bench-alloc.ts"]["path"])
                record = run_chain(runtime, program, args.timeout, work)
                chain[runtime.name].append(record)
                rate = record.get("allocs_per_second")
                print(f"{tag} " + (f"{rate / 1e6:.2f}M allocs/s ({record['seconds']:.3f} s)" if rate
                                   else f"failed ({record['error']})"), file=sys.stderr, flush=True)
            shutil.rmtree(work, ignore_errors=True)  # keeps the temporary disk small

    document = {
        "tool": "crosslang", "schema": 2, "producer": "scripts/crosslang.py",
        "context": machine_context(),
        "config": {"steps": args.steps, "seed": SEED, "data": str(data), "num_docs": num_docs,
                   "train_repetitions": args.repeat, "python_train_repetitions": args.python_repeat,
                   "chain_repetitions": args.chain_repeat, "reference_dir": str(args.reference_dir.resolve())},
        "programs": list(programs.values()),
        "runs": [train_run(r, train[r.name]) for r in runtimes if train[r.name]],
        "chain": [chain_run(r, chain[r.name], programs) for r in runtimes if chain[r.name]],
    }
    write_atomically(args.out, document)
    bad = [f"{run['runtime']} {run['output']}" for run in document["runs"] if run["output"] not in
           ("identical", "no reference")]
    # Without a reference, every run of a program must at least print the same bytes.
    for program in ("microgpt.py", "microgpt.ts"):
        hashes = {rep["output_sha256"] for run in document["runs"] if run["program"] == program
                  for rep in run["repetitions"] if rep["reference"] == "no reference"}
        if len(hashes) > 1:
            bad.append(f"{program}'s runs printed {len(hashes)} different outputs")
    bad += [f"{run['runtime']} chain failed" for run in document["chain"]
            if run["allocs_per_second"] is None or run["allocs_per_second"]["repetitions"] < len(run["repetitions"])]
    say(f"wrote {args.out}" + (f"; problems: {', '.join(bad)}" if bad else ""))
    return 1 if bad else 0


def runtime_fields(runtime: rt.Runtime) -> dict:
    return {"runtime": runtime.name, "version": runtime.version, "engine": runtime.engine,
            "path": runtime.path, "description": runtime.description}


def train_run(runtime: rt.Runtime, repetitions: list[dict]) -> dict:
    verdicts = {rep["reference"] for rep in repetitions}
    output = next((v for v in ("differs", "failed", "no reference") if v in verdicts), "identical")
    # Statistics over the runs that printed the reference's bytes (or, without a
    # reference for this config, every run that completed).
    kept = [rep for rep in repetitions if rep["reference"] in ("identical", "no reference")]
    return {"allocator": runtime.name, **runtime_fields(runtime), "program": TRAIN_PROGRAM[runtime.name],
            "timing": TIMING, "output": output,
            "train_seconds": summary([rep["train_seconds"] for rep in kept]),
            "peak_rss_kib": summary([rep["peak_rss_kib"] for rep in kept]),
            "repetitions": repetitions}


def chain_run(runtime: rt.Runtime, repetitions: list[dict], programs: dict) -> dict:
    program = "scripts/chain.py" if runtime.name == "cpython" else "bench-alloc.ts"
    rates = [rep["allocs_per_second"] for rep in repetitions if rep.get("allocs_per_second")]
    return {**runtime_fields(runtime), "program": program,
            "objects_per_alloc": OBJECTS_PER_ALLOC["cpython" if runtime.name == "cpython" else "js"],
            "allocs_per_second": summary(rates), "repetitions": repetitions}


def main(argv: list[str]) -> int:
    try:
        return measure(parse_args(argv))
    except UsageError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    except rt.Unavailable as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
