"""Exactness from the recorded output hashes: which runs of one config printed the same
bytes, and whether those are the reference program's bytes (microgpt.py's or
microgpt.ts's stdout, files named microgpt_{py,ts}[_embdE_headH_layerL_blockB]_seedS_stepsN.txt)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .files import BadFile, read_capped, warn
from .fmt import table
from .model import DEFAULT_MALLOC, DEFAULT_SHAPE, GRAPH_ENGINE, SHAPE_KEYS

FNV_OFFSET, FNV_PRIME = 14695981039346656037, 1099511628211
EMPTY_HASH = str(FNV_OFFSET)  # the hash of no bytes at all
REFERENCE_NAME = re.compile(r"microgpt_(py|ts)(?:_embd(\d+)_head(\d+)_layer(\d+)_block(\d+))?"
                            r"_seed(-?\d+)_steps(\d+)\.txt")
PROGRAMS = {"py": ("python", "microgpt.py"), "ts": ("mulberry32", "microgpt.ts")}
REFERENCE_SAMPLES = 20  # the reference programs print 20 samples
PROOF = ("Every run records the FNV-1a 64 hash of what it printed (each step's loss to 4 decimals and the sampled "
         "names). Equal hashes prove identical printed bytes, no more; a differing hash proves different output.")


def fnv1a64(data: bytes) -> int:
    value = FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return value


def output_config(config: dict, steps: int) -> tuple:
    """What decides a run's printed output besides the code, as recorded (a hand-edited list as text)."""
    def hashable(value):
        return value if isinstance(value, (int, float, str, type(None))) else str(value)

    shape = tuple(hashable(config.get(k, d)) for k, d in zip(SHAPE_KEYS, DEFAULT_SHAPE))
    return (("rng", hashable(config.get("rng", "python"))), ("seed", hashable(config.get("seed"))), ("steps", steps),
            ("shape", shape), ("samples", hashable(config.get("samples"))),
            ("num_docs", hashable(config.get("num_docs"))))


def config_label(config: tuple) -> str:
    values = dict(config)
    shape = " · ".join(f"{k} {v}" for k, v in zip(("embd", "head", "layer", "block"), values["shape"]))
    return f"{values['steps']} steps, seed {values['seed']}, rng {values['rng']}, {shape}, {values['samples']} samples"


def load_references(directory: Path) -> dict | None:
    """(rng, seed, steps, shape, samples) -> (file name, program, hash); None when there is no directory."""
    if not directory.is_dir():
        return None
    references = {}
    for path in sorted(directory.iterdir()):
        match = REFERENCE_NAME.fullmatch(path.name)
        if not match:
            continue
        try:
            data = read_capped(path)
        except BadFile as error:
            warn(f"skipping reference {path}: {error}")
            continue
        kind, *shape, seed, steps = match.groups()
        rng, program = PROGRAMS[kind]
        key = (rng, int(seed), int(steps), tuple(map(int, shape)) if shape[0] else DEFAULT_SHAPE, REFERENCE_SAMPLES)
        references[key] = (path.name, program, str(fnv1a64(data)))
    return references


@dataclass
class Group:
    config: tuple
    runs: list = field(default_factory=list)  # (machine name, TrainRun)
    reference: tuple | None = None  # (file name, program, hash)

    def outputs(self) -> dict:
        """hash -> runs that printed it."""
        found = {}
        for machine, run in self.runs:
            for value in dict.fromkeys(run.hashes):
                found.setdefault(value, []).append((machine, run))
        return found


@dataclass
class Exactness:
    reference_dir: str
    references: dict | None
    groups: list

    def status(self, run) -> str:
        """One cell: what this run's recorded output hashes show."""
        hashes = set(run.hashes)
        group = next((g for g in self.groups if any(r is run for _, r in g.runs)), None)
        if len(hashes) != 1 or EMPTY_HASH in hashes:
            return "no hash recorded" if not hashes else "**repetitions differ or hashed nothing**"
        if group is not None and group.reference is not None:
            same = hashes == {group.reference[2]}
            return f"{'identical to' if same else '**differs from**'} {group.reference[1]}'s bytes"
        return "**differs from other runs**" if group and len(group.outputs()) > 1 else "identical to the other runs"


def check(machines: list, reference_dir: str, references: dict | None) -> Exactness:
    groups = {}
    for machine in machines:
        for run in machine.all_runs:
            groups.setdefault(run.output_config, Group(run.output_config)).runs.append((machine.name, run))
    for group in groups.values():
        values = dict(group.config)
        key = (values["rng"], values["seed"], values["steps"], values["shape"], values["samples"])
        group.reference = (references or {}).get(key)
    def order(group: Group) -> tuple:  # the default shape first, then more steps first
        values = dict(group.config)
        return values["shape"] != DEFAULT_SHAPE, -(values["steps"] or 0), str(group.config)

    return Exactness(reference_dir, references, sorted(groups.values(), key=order))


def what_ran(runs: list) -> str:
    """'topo dfs (13), engine tape (1)', per machine when there are several."""
    parts = {}
    for machine, run in runs:
        kind = f"engine {run.engine}" if run.engine != GRAPH_ENGINE else f"topo {run.topo}"
        kind += (f" · malloc {run.malloc}" if run.malloc != DEFAULT_MALLOC else "") + (
            " · threads" if run.threads > 1 or run.release != "inline" else "")
        parts.setdefault(machine, {}).setdefault(kind, set()).add(run.name)
    return "; ".join((f"{machine}: " if len(parts) > 1 else "") + ", ".join(
        f"{kind} ({len(names)})" for kind, names in kinds.items()) for machine, kinds in parts.items())


def section(exactness: Exactness, machines: list) -> list:
    lines = [PROOF, ""]
    if exactness.references is None:
        lines += [f"No reference directory `{exactness.reference_dir}`: the outputs are compared with each other "
                  "only.", ""]
    rows = []
    for group in exactness.groups:
        outputs = group.outputs()
        output = (f"identical (`{next(iter(outputs))}`)" if len(outputs) == 1 and EMPTY_HASH not in outputs else
                  "no hash recorded" if not outputs else f"**{len(outputs)} different outputs**")
        versus = "no reference for this config"
        if group.reference is not None:
            differ = sum(1 for _, run in group.runs if set(run.hashes) != {group.reference[2]})
            versus = (f"identical to {group.reference[1]}'s bytes ({group.reference[0]})" if not differ else
                      f"**{differ} of {len(group.runs)} runs differ from {group.reference[1]}'s bytes**")
        rows.append([config_label(group.config), what_ran(group.runs), output, versus])
        if len(outputs) > 1:
            rows += [["", f"`{value}`: {what_ran(runs)}", "", ""] for value, runs in outputs.items()]
    lines += table(["config", "runs (policies)", "output (FNV-1a 64)", "vs reference"], rows)
    runtimes = [[m.name, f"`{r.runtime}`", r.program, f"{r.repetitions - r.differing} of {r.repetitions} identical"]
                for m in machines if m.crosslang for r in m.crosslang.runs.values()]
    if runtimes:
        lines += ["Runtimes (scripts/crosslang.py compares each run's whole stdout with the reference):", ""]
        lines += table(["machine", "runtime", "program", "output vs reference"], runtimes)
    return lines
