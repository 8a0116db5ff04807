#!/usr/bin/env python3
"""Instructions and simulated data-cache misses per graph node, per policy and phase.

Runs build/bench_train once per policy under valgrind's callgrind with its cache
simulator, collecting only inside the training steps (--toggle-collect on
Trainer::train_step), and writes results/<machine>/cachesim/<shape>_<topo>.json
(atomically, once every run has succeeded): per policy, the training's
instructions (Ir), data reads and writes, L1 data misses (D1mr + D1mw) and
last-level misses (DLmr + DLmw); the same for each phase (the inclusive cost of
Trainer's forward_phase, backward_phase, adam_phase and release_phase); and the
instructions and misses inside the allocator's own functions (the functions
scripts/callgrind_profile.py names, as scripts/callgrind_share.sh counts them).
Per node: divided by the nodes the training steps made (bench_train's JSON).

Callgrind's counts do not depend on the machine's load, so --jobs 2 on two idle
cores halves the wall time without changing a number. The simulated caches are
fixed (not the host's), so files from different machines compare: see --help.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ inside scripts/
sys.path.insert(0, str(Path(__file__).resolve().parent))
import callgrind_profile  # noqa: E402
from mga_report import files  # noqa: E402

PROG = "cachesim.py"
REPO = Path(__file__).resolve().parent.parent
DEFAULT_MACHINE = "debian12-epyc-2vcpu"
SCHEMA = 1
# Named shapes: (n_embd, n_head, n_layer, block_size, steps). "large" is the size
# sweep's largest (scripts/sweep.sh), with its step count.
SHAPES = {"default": (16, 4, 1, 16, 50), "large": (128, 4, 4, 16, 3)}
# Two-level caches valgrind simulates, as SIZE,WAYS,LINE. D1 is the L1 data
# cache of both machine classes measured here; LL is an L2-sized last level
# (1 MiB), because a step of the default shape (a few MiB of nodes) fits any L3
# and would show no last-level misses at all.
CACHES = {"I1": "32768,8,64", "D1": "32768,8,64", "LL": "1048576,16,64"}
PHASES = ("forward", "backward", "adam", "release")
PHASE_FUNCTION = re.compile(r"::Trainer<.*>::(forward|backward|adam|release)_phase\(")
TRAIN_STEP = "*::Trainer<*>::train_step(*"
# Rough seconds per graph node under callgrind's cache simulation, over all policies,
# and nodes per step per (n_embd / 16)^2 * n_layer: for the duration estimate only.
SECONDS_PER_NODE = 6e-6
NODES_PER_STEP_UNIT = 50_000

EPILOG = f"""\
shapes (--shape, repeatable; default: default and large):
  default   n_embd 16, n_head 4, n_layer 1, block 16, 50 steps (microgpt.py's model)
  large     n_embd 128, n_head 4, n_layer 4, block 16, 3 steps (the size sweep's largest)
  EMBDxLAYER, e.g. 64x2: n_head 4, block 16, the default shape's 50 steps
simulated caches (SIZE,WAYS,LINE in bytes; fixed, not the host's, so machines compare):
  I1 {CACHES['I1']}   D1 {CACHES['D1']}   LL {CACHES['LL']}  (--i1, --d1, --ll change them)

The JSON (schema {SCHEMA}, "tool": "cachesim"): context (date, host, cpu, git commit,
valgrind), config (shape, steps, topo, seed, data), caches, and per policy: its traits,
nodes, "events" (the training's Ir, Dr, Dw, I1mr, D1mr, D1mw, ILmr, DLmr, DLmw), "phases"
(the same per phase), "allocator_costs" (the same, inside the allocator's functions),
"per_node" (instructions, d1_misses, ll_misses, allocator_instructions, allocator_d1_misses,
allocator_ll_misses, and per phase), and the output hash bench_train recorded.

Duration, --jobs 2, every policy, measured on a 2-core VM shared with other jobs (so an upper
figure): default shape 1 to 4 min per order, large shape about 35 min.
Exit status: 0 written; 1 a run failed (nothing written for its shape); 2 bad input;
130 stopped by a signal or ^C (the valgrind runs are ended, nothing written for the shape)."""


class UsageError(Exception):
    pass


class RunError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        raise UsageError(message)


def say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 1 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"{value} is not in 1..1000000")
    return value


def cache_spec(text: str) -> str:
    parts = text.split(",")
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"'{text}' is not SIZE,WAYS,LINE (positive byte counts)")
    size, ways, line = map(int, parts)
    sets = size // (ways * line) if ways * line else 0
    if sets * ways * line != size or sets & (sets - 1) or line & (line - 1):
        raise argparse.ArgumentTypeError(f"'{text}': valgrind needs SIZE = WAYS x LINE x a power of two "
                                         "and LINE a power of two")
    return text


def parse_shape(text: str) -> tuple[str, tuple]:
    """(label, (n_embd, n_head, n_layer, block_size, steps))."""
    if text in SHAPES:
        shape = SHAPES[text]
    else:
        match = re.fullmatch(r"(\d+)x(\d+)", text)
        if not match or not (1 <= int(match.group(1)) <= 4096 and 1 <= int(match.group(2)) <= 256):
            raise UsageError(f"--shape: '{text}' is not default, large or EMBDxLAYER (e.g. 64x2)")
        embd, layer = int(match.group(1)), int(match.group(2))
        if embd % 4:
            raise UsageError(f"--shape: n_embd {embd} is not a multiple of the 4 heads")
        shape = (embd, 4, layer, 16, SHAPES["default"][4])
    return f"embd{shape[0]}_layer{shape[2]}", shape


def machine_name_refusal(name: str) -> str:
    """Why `name` may not name a results/ directory ('' if it may): scripts/machine_name.sh's one rule."""
    check = subprocess.run([str(REPO / "scripts" / "machine_name.sh"), "--check", name],
                           capture_output=True, text=True)
    return check.stdout.strip() if check.returncode != 0 else ""


def parse_arguments(argv):
    parser = Parser(prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
                    description="Instructions and simulated L1 / last-level data-cache misses per graph node, "
                                "per policy and\nphase, and inside the allocator (valgrind --tool=callgrind "
                                "--cache-sim=yes).")
    parser.add_argument("--shape", action="append", metavar="NAME",
                        help="default, large or EMBDxLAYER; repeatable (default: default and large)")
    parser.add_argument("--steps", type=positive, metavar="N", help="training steps (default: the shape's)")
    parser.add_argument("--topo", choices=("dfs", "creation", "hashset"), default="dfs",
                        help="backward order, as bench_train --topo (default: %(default)s, the sweep's)")
    parser.add_argument("--allocator", default="all", metavar="NAMES",
                        help="'all' or comma-separated policies of bench_train --list-allocators (default: all)")
    parser.add_argument("--jobs", type=positive, default=1, metavar="N",
                        help="valgrind runs at once (counts do not depend on it; default: %(default)s)")
    parser.add_argument("--machine", default=DEFAULT_MACHINE, metavar="NAME",
                        help="writes results/NAME/cachesim/ (default: %(default)s)")
    parser.add_argument("--out-dir", type=Path, metavar="DIR", help="write the JSON files here instead")
    parser.add_argument("--build", type=Path, default=Path(os.environ.get("MGA_BUILD_DIR", REPO / "build")),
                        metavar="DIR", help="where bench_train is (default: $MGA_BUILD_DIR or build/)")
    parser.add_argument("--data", type=Path, metavar="PATH",
                        help="names, one per line (default: bench_train's rule, ../shared/data/names.txt)")
    for level in ("i1", "d1", "ll"):
        parser.add_argument(f"--{level}", type=cache_spec, default=CACHES[level.upper()], metavar="SIZE,WAYS,LINE",
                            help=f"simulated {level.upper()} cache (default: %(default)s)")
    args = parser.parse_args(argv)
    args.shapes = [parse_shape(s) for s in (args.shape or ["default", "large"])]
    if len({label for label, _ in args.shapes}) != len(args.shapes):
        raise UsageError("--shape: the same shape twice")
    why = machine_name_refusal(args.machine)
    if why:
        raise UsageError(f"--machine: {why}")
    if args.out_dir is None:
        args.out_dir = REPO / "results" / args.machine / "cachesim"
    args.bench_train = args.build / "bench_train"
    if not os.access(args.bench_train, os.X_OK):
        raise UsageError(f"{args.bench_train} is not an executable (build it: cmake --build build --target "
                         "bench_train, or give --build DIR)")
    if args.data is not None and not args.data.is_file():
        raise UsageError(f"--data: {args.data} is not a file")
    for tool in ("valgrind", "callgrind_annotate"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode != 0:
            raise UsageError(f"{tool} is not installed (Debian: apt-get install valgrind)")
    return args


def listed_policies(bench_train: Path) -> list[dict]:
    done = subprocess.run([str(bench_train), "--list-allocators", "--format=json"], capture_output=True,
                          text=True, timeout=60)
    if done.returncode != 0:
        raise UsageError(f"{bench_train} --list-allocators failed: {done.stderr.strip()[:200]}")
    return json.loads(done.stdout)["policies"]


def chosen_policies(text: str, listed: list[dict]) -> list[dict]:
    if text == "all":
        return listed
    by_name = {p["name"]: p for p in listed}
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in by_name]
    if unknown or not names:
        raise UsageError(f"--allocator: unknown policy '{(unknown or [''])[0]}' "
                         f"(valid: all, {', '.join(by_name)})")
    if len(set(names)) != len(names):
        raise UsageError("--allocator: a policy named twice")
    return [by_name[n] for n in names]


# ---- one run ----------------------------------------------------------------


def phase_of(function: str) -> str | None:
    match = PHASE_FUNCTION.search(function)
    return match.group(1) if match else None


class Processes:
    """The valgrind runs under way, so that a failure or an interrupt ends them all."""

    def __init__(self):
        self.lock, self.running, self.stopping = threading.Lock(), set(), False

    def run(self, command: list[str]) -> subprocess.CompletedProcess:
        with self.lock:
            if self.stopping:
                raise RunError("stopped")
            process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                       text=True)
            self.running.add(process)
        try:
            _, stderr = process.communicate()
        finally:
            with self.lock:
                self.running.discard(process)
        return subprocess.CompletedProcess(command, process.returncode, "", stderr)

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            for process in self.running:
                process.terminate()


PROCESSES = Processes()


def per_node(costs: dict, nodes: float) -> dict:
    return {"instructions": costs["Ir"] / nodes, "d1_misses": (costs["D1mr"] + costs["D1mw"]) / nodes,
            "ll_misses": (costs["DLmr"] + costs["DLmw"]) / nodes}


def measure(args, policy: dict, shape: tuple, steps: int) -> dict:
    """One policy under callgrind; its record for the JSON."""
    n_embd, n_head, n_layer, block_size, _ = shape
    with tempfile.TemporaryDirectory(prefix="cachesim.") as work:
        profile_path, record = Path(work) / "callgrind.out", Path(work) / "run.json"
        command = ["valgrind", "--tool=callgrind", "--cache-sim=yes", f"--I1={args.i1}", f"--D1={args.d1}",
                   f"--LL={args.ll}", f"--toggle-collect={TRAIN_STEP}", f"--callgrind-out-file={profile_path}",
                   str(args.bench_train), f"--allocator={policy['name']}", "--steps", str(steps), "--samples", "0",
                   "--topo", args.topo, "--n-embd", str(n_embd), "--n-head", str(n_head), "--n-layer",
                   str(n_layer), "--block-size", str(block_size), "--quiet", "--json", str(record)]
        if args.data is not None:
            command += ["--data", str(args.data)]
        started = time.monotonic()
        done = PROCESSES.run(command)
        seconds = time.monotonic() - started
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise RunError(f"{policy['name']}: bench_train under valgrind exited {done.returncode}: {last[:300]}")
        try:
            run = json.loads(record.read_text())["runs"][0]
            repetition = run["repetitions"][0]
            nodes = float(repetition["nodes_per_step"]) * int(repetition["steps"])
            profile = callgrind_profile.read(str(profile_path))
        except (OSError, ValueError, KeyError, IndexError, callgrind_profile.ProfileError) as error:
            raise RunError(f"{policy['name']}: cannot read the run's results: {error}") from None
    missing = [e for e in ("Ir", "D1mr", "D1mw", "DLmr", "DLmw") if e not in profile.events]
    if missing or nodes <= 0:
        raise RunError(f"{policy['name']}: callgrind recorded no {', '.join(missing) or 'nodes'}")
    phases = {}
    for phase in PHASES:
        phases[phase] = profile.inclusive(lambda name, phase=phase: phase_of(name) == phase)
        if phases[phase]["Ir"] == 0:
            raise RunError(f"{policy['name']}: no calls of Trainer's {phase}_phase (is it inlined?)")
    allocator = profile.allocator()
    top = sorted(((c[0], n) for n, c in profile.self_costs.items()
                  if c is not None and callgrind_profile.is_allocator(profile.files.get(n, ""), n)), reverse=True)[:8]
    totals = profile.totals
    allocator_per_node = {f"allocator_{k}": v for k, v in per_node(allocator, nodes).items()}
    return {
        "allocator": policy["name"], "description": policy.get("description", ""), "traits": policy["traits"],
        "steps": steps, "nodes": nodes, "nodes_per_step": nodes / steps, "events": totals,
        "phases": phases, "allocator_costs": allocator,
        "allocator_functions": [{"function": name[:200], "self_Ir": ir} for ir, name in top],
        "per_node": {**per_node(totals, nodes), **allocator_per_node,
                     "phases": {p: per_node(phases[p], nodes) for p in PHASES}},
        "output_fnv1a64": repetition.get("output_fnv1a64"), "valgrind_seconds": round(seconds, 1),
    }


# ---- the file -----------------------------------------------------------------


def context(args) -> dict:
    cpu = platform.processor() or "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    commit = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty", "--abbrev=12"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    valgrind = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()
    return {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "host": socket.gethostname(),
            "kernel": f"{platform.system()} {platform.release()}", "cpu": cpu, "cores": str(os.cpu_count()),
            "git_commit": commit, "valgrind": valgrind, "bench_train": str(args.bench_train)}


def write_atomically(path: Path, document: dict) -> None:
    """The JSON, through the report's atomic writer (which also gives the file
    the umask's permissions, not mkstemp's 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=1) + "\n"
    files.write_atomically(path, lambda out: out.write(text.encode("utf-8")))


def cache_object(spec: str) -> dict:
    size, ways, line = map(int, spec.split(","))
    return {"bytes": size, "ways": ways, "line_bytes": line}


def run_shape(args, label: str, shape: tuple, policies: list[dict], base: dict) -> Path:
    steps = args.steps or shape[4]
    out = args.out_dir / f"{label}_{args.topo}.json"
    say(f"{label} (n_embd {shape[0]}, n_layer {shape[2]}), {steps} steps, topo {args.topo}: "
        f"{len(policies)} policies -> {out}")
    records: dict = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(measure, args, p, shape, steps): p["name"] for p in policies}
        try:
            for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
                record = records[futures[future]] = future.result()
                node = record["per_node"]
                say(f"[{done}/{len(policies)}] {label} {record['allocator']}: {record['valgrind_seconds']:.0f} s, "
                    f"{node['instructions']:.1f} instr, {node['d1_misses']:.3f} D1 / {node['ll_misses']:.3f} LL "
                    "misses per node")
        except BaseException:  # a failed run, a signal or an interrupt: end the others, start no more
            PROCESSES.stop()
            for other in futures:
                other.cancel()
            raise
    hashes = {r["output_fnv1a64"] for r in records.values() if r["output_fnv1a64"] is not None}
    if len(hashes) > 1:
        raise RunError(f"{label}: the policies printed different outputs (hashes {sorted(hashes)})")
    document = {
        "tool": "cachesim", "schema": SCHEMA, "context": base,
        "config": {"n_embd": shape[0], "n_head": shape[1], "n_layer": shape[2], "block_size": shape[3],
                   "steps": steps, "samples": 0, "topo": args.topo, "seed": 42, "rng": "python",
                   "data": str(args.data) if args.data else "bench_train's default"},
        "caches": {"I1": cache_object(args.i1), "D1": cache_object(args.d1), "LL": cache_object(args.ll),
                   "simulator": "valgrind --tool=callgrind --cache-sim=yes"},
        "collected": f"inside Trainer::train_step only (--toggle-collect={TRAIN_STEP})",
        "runs": [records[p["name"]] for p in policies],
    }
    write_atomically(out, document)
    return out


class Stopped(Exception):
    pass


def on_signal(number, _frame):
    raise Stopped(signal.Signals(number).name)


def main(argv=None) -> int:
    for number in (signal.SIGTERM, signal.SIGHUP):  # end the valgrind runs too, and write nothing
        signal.signal(number, on_signal)
    try:
        args = parse_arguments(sys.argv[1:] if argv is None else argv)
        policies = chosen_policies(args.allocator, listed_policies(args.bench_train))
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    nodes = sum(NODES_PER_STEP_UNIT * (s[0] / 16) ** 2 * s[2] * (args.steps or s[4]) for _, s in args.shapes)
    say(f"{len(policies)} policies x {len(args.shapes)} shape(s), --jobs {args.jobs}: roughly "
        f"{nodes * len(policies) * SECONDS_PER_NODE / args.jobs / 60:.0f} min on an idle machine")
    base = context(args)
    try:
        for label, shape in args.shapes:
            say(f"wrote {run_shape(args, label, shape, policies, base)}")
    except RunError as error:
        say(f"error: {error}; nothing written for this shape")
        return 1
    except (KeyboardInterrupt, Stopped) as error:
        say(f"stopped ({error or 'SIGINT'}); nothing written for this shape")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
