#!/usr/bin/env python3
"""Parity with the real reference programs, beyond the stored references:
microgpt.ts (under the fastest runtime found: bun, deno, then node) for 30
steps and microgpt.py (CPython) for 5 steps, each on a seed and shape drawn at
random here, against bench_train --rng=mulberry32 / --rng=python on the same
config, byte for byte. The programs run in a temporary directory on a copy
whose seed, n_embd, n_head, n_layer, block_size and num_steps lines are edited.

Exits 77 (CTest's SKIP_RETURN_CODE) when no runtime or no program is there;
runtimes are found as scripts/crosslang.py finds them (.runtimes/bin/ from
scripts/install_runtimes.sh, MGA_NODE/MGA_BUN/MGA_DENO/MGA_PYTHON, PATH).
MGA_PARITY_SEED=N replays the draw of a failed run (it prints its N).

Usage: check_parity.py BENCH_TRAIN SHARED_DIR
"""
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import runtimes as rt  # noqa: E402

SKIP = 77
TS_STEPS, PY_STEPS = 30, 5
FASTEST_FIRST = ("bun", "deno", "node")


def draw_config(draw: random.Random, steps: int) -> dict:
    """A small shape with n_embd divisible by n_head, and any 32-bit seed."""
    n_head = draw.randint(1, 4)
    return {"seed": draw.randrange(2**32), "n_embd": n_head * draw.randint(1, 4), "n_head": n_head,
            "n_layer": draw.randint(1, 2), "block_size": draw.randint(1, 12), "num_steps": steps}


def describe(config: dict) -> str:
    return ", ".join(f"{key} {value}" for key, value in config.items())


def bench_train_output(bench_train: str, rng: str, config: dict, data: Path) -> bytes:
    # The default policy: every policy prints the same bytes (the parity tests).
    args = [bench_train, f"--rng={rng}", "--seed", str(config["seed"]),
            "--n-embd", str(config["n_embd"]), "--n-head", str(config["n_head"]),
            "--n-layer", str(config["n_layer"]), "--block-size", str(config["block_size"]),
            "--steps", str(config["num_steps"]), "--data", str(data)]
    done = subprocess.run(args, capture_output=True, timeout=300)
    if done.returncode != 0:
        raise AssertionError(f"bench_train failed (exit {done.returncode}): {done.stderr.decode()[-300:]}")
    marker = b"\n--- summary ---\n"  # everything before it is the program's output
    return done.stdout[:done.stdout.index(marker)]


def program_output(runtime: rt.Runtime, program: Path, kind: str, config: dict, data: Path,
                   directory: Path) -> bytes:
    text = rt.edit_constants(program.read_text(encoding="utf-8"), kind, **config)
    (directory / program.name).write_text(text, encoding="utf-8")
    (directory / "input.txt").write_bytes(data.read_bytes())
    env = runtime.prepare(directory)
    done = subprocess.run(runtime.command(program.name), cwd=directory, capture_output=True, timeout=600,
                          env={**os.environ, **env})
    if done.returncode != 0:
        raise AssertionError(f"{runtime.version} failed on {program.name} (exit {done.returncode}): "
                             f"{done.stderr.decode(errors='replace')[-300:]}")
    return done.stdout


def first_difference(expected: bytes, got: bytes) -> str:
    want, have = expected.decode().splitlines(), got.decode().splitlines()
    for number, (a, b) in enumerate(zip(want, have), 1):
        if a != b:
            return f"line {number}: the program printed\n    {a}\n  bench_train printed\n    {b}"
    return f"the program printed {len(want)} lines, bench_train {len(have)}"


def check(bench_train: str, runtime: rt.Runtime, program: Path, config: dict, data: Path) -> bool:
    kind, rng = ("ts", "mulberry32") if program.suffix == ".ts" else ("py", "python")
    with tempfile.TemporaryDirectory(prefix="crosslang-parity.") as temp:
        expected = program_output(runtime, program, kind, config, data, Path(temp))
    got = bench_train_output(bench_train, rng, config, data)
    label = f"{program.name} under {runtime.version} vs bench_train --rng={rng}: {describe(config)}"
    if expected == got:
        print(f"ok   {label}: identical ({len(got)} bytes)")
        return True
    print(f"FAIL {label}: {first_difference(expected, got)}")
    return False


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    bench_train, shared = sys.argv[1], Path(sys.argv[2])
    data = shared / "data" / "names.txt"
    if not data.is_file():
        data = Path(__file__).resolve().parents[1] / "cli" / "names_small.txt"
    seed = int(os.environ.get("MGA_PARITY_SEED") or random.SystemRandom().randrange(2**32))
    draw = random.Random(seed)
    ts_config, py_config = draw_config(draw, TS_STEPS), draw_config(draw, PY_STEPS)

    plans, skipped = [], []
    for names, program, config in ((FASTEST_FIRST, "microgpt.ts", ts_config), (("cpython",), "microgpt.py", py_config)):
        try:
            path = Path(rt.check_program(shared / "programs", program, allow_modified=False)["path"])
        except rt.Unavailable as why:
            skipped.append(f"{program}: {why}")
            continue
        reasons = []
        for name in names:
            try:
                plans.append((rt.find_runtime(name), path, config))
                break
            except rt.Unavailable as why:
                reasons.append(str(why))
        else:
            skipped.append(f"{program}: no runtime ({'; '.join(reasons)})")
    for reason in skipped:
        print(f"skip {reason}")
    if not plans:
        print("SKIPPED: no reference program with a runtime to run it (see above)")
        return SKIP

    print(f"configs drawn with MGA_PARITY_SEED={seed}")
    failures = 0
    for runtime, path, config in plans:
        try:
            failures += not check(bench_train, runtime, path, config, data)
        except (AssertionError, subprocess.TimeoutExpired, rt.Unavailable) as error:
            print(f"FAIL {path.name} under {runtime.version}, {describe(config)}: {error}")
            failures += 1
    if failures:
        print(f"{failures} failed; replay with MGA_PARITY_SEED={seed}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
