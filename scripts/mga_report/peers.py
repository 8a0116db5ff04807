"""tape_vs_peers.json (scripts/bench_tape_peers.sh): bench_train's two tapes at the
default and the -march=native build beside a peer program (enjector/microgpt-c) at two
builds, timed round-robin. The report shows each program's time and, for each of ours,
the per-pair ratio to each build of the peer: repetition i of one divided by
repetition i of the other (they ran in the same round), median and min–max of the
pairs, as the script computes its own ratios (which are listed too).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import fmt, stats
from .files import BadFile, as_dict, as_list, as_float, text, warn
from .model import NOISY_CV

TOOL = "bench_tape_peers.sh"
SCHEMA = 1
OURS, PEER = "bench_train", "peer"  # a program's "program" field


@dataclass(frozen=True)
class PeerProgram:
    name: str
    program: str  # OURS or PEER
    engine: str  # ours only
    flags: str
    values: tuple  # train seconds per repetition, in round-robin order
    median: float
    min: float
    max: float
    cv: float | None

    @property
    def noisy(self) -> bool:
        return self.cv is not None and self.cv > NOISY_CV


@dataclass(frozen=True)
class PairRatio:
    median: float
    min: float
    max: float
    pairs: int


@dataclass
class TapePeers:
    source: str
    context: dict
    config: dict
    peer: dict  # repository, commit, modified_checkout, ...
    programs: list  # PeerProgram, in the file's order
    ratios: list  # (label, PairRatio) as the file gives them

    @property
    def ours(self) -> list:
        return [p for p in self.programs if p.program == OURS]

    @property
    def peer_builds(self) -> list:
        return [p for p in self.programs if p.program == PEER]


def parse_program(entry) -> PeerProgram:
    if not isinstance(entry, dict):
        raise BadFile("a program is not an object")
    name = text(entry, "name")
    if not name:
        raise BadFile("a program has no 'name'")
    seconds = as_dict(entry.get("train_seconds"))
    values = tuple(v for v in (as_float(x) for x in as_list(seconds.get("values"))) if v is not None and v > 0)
    median = as_float(seconds.get("median"))
    if median is None or median <= 0:
        if not values:
            raise BadFile(f"program '{name}': no positive 'train_seconds' median")
        median = stats.median(values)
    low = as_float(seconds.get("min")) or (min(values) if values else median)
    high = as_float(seconds.get("max")) or (max(values) if values else median)
    spread = as_float(seconds.get("cv"))
    if spread is None:
        spread = stats.cv(values)
    return PeerProgram(name, text(entry, "program"), text(entry, "engine"), text(entry, "flags"), values,
                       median, min(low, median), max(high, median), spread)


def parse_ratio(value) -> PairRatio | None:
    value = as_dict(value)
    median = as_float(value.get("median"))
    if median is None or median <= 0:
        return None
    return PairRatio(median, as_float(value.get("min")) or median, as_float(value.get("max")) or median, 0)


def parse_peers(data: dict, source: str) -> TapePeers:
    if data.get("schema") != SCHEMA:
        raise BadFile(f"{TOOL} schema {data.get('schema')!r} is not read (this compare.py reads schema {SCHEMA})")
    programs = []
    for entry in as_list(data.get("programs")):
        try:
            programs.append(parse_program(entry))
        except BadFile as error:
            warn(f"{source}: skipping {error}")
    if not programs:
        raise BadFile("no usable program")
    ratios = [(label, found) for label, value in as_dict(data.get("ratios")).items()
              if isinstance(label, str) and (found := parse_ratio(value)) is not None]
    return TapePeers(source, as_dict(data.get("context")), as_dict(data.get("config")), as_dict(data.get("peer")),
                     programs, ratios)


def pair_ratio(ours: PeerProgram, theirs: PeerProgram) -> PairRatio | None:
    """Repetition i of ours over repetition i of theirs; None unless both recorded the
    same number of repetitions (then the pairs are the rounds)."""
    if not ours.values or len(ours.values) != len(theirs.values):
        return None
    pairs = [a / b for a, b in zip(ours.values, theirs.values)]
    return PairRatio(stats.median(pairs), min(pairs), max(pairs), len(pairs))


def ratio_cell(ratio: PairRatio | None) -> str:
    if ratio is None:
        return fmt.DASH
    return f"{ratio.median:.2f}× ({ratio.min:.2f}–{ratio.max:.2f})"


def peer_sentence(peers: TapePeers) -> str:
    peer = peers.peer
    repository = text(peer, "repository") or "the peer"
    commit = text(peer, "commit")
    parts = [f"The peer is {repository}" + (f" at commit `{commit}`" if commit else "")]
    if peer.get("modified_checkout") is True:
        parts.append("**from a modified checkout**")
    arithmetic = text(peer, "arithmetic")
    if arithmetic:
        parts.append(f"its arithmetic: {arithmetic}")
    return "; ".join(parts) + "."


def section(machines: list) -> list[str]:
    shown = [m for m in machines if m.peers is not None]
    if not shown:
        return []
    lines = ["## The tapes beside a peer program", "",
             f"From `tape_vs_peers.json` ({TOOL}): training time of our two tapes at the default build and at "
             "`-DMGA_NATIVE=ON`, and of a peer program at two builds, every program once per round, round-robin. "
             "*÷ peer* cells are the per-pair ratio, our time over the peer's in the same round (above 1 = ours "
             "is slower): median of the pairs and their min–max, the way the script computes its own ratios.",
             ""]
    for machine in shown:
        peers = machine.peers
        builds = peers.peer_builds
        rows = []
        for program in peers.programs:
            cells = [program.name, f"`{program.flags}`" if program.flags else fmt.DASH,
                     f"{fmt.seconds(program.median)}{fmt.noisy(program.noisy)}",
                     f"{fmt.seconds(program.min)} – {fmt.seconds(program.max)}", fmt.cv_cell(program.cv),
                     str(len(program.values)) if program.values else fmt.DASH]
            cells += [ratio_cell(pair_ratio(program, build)) if program.program == OURS else fmt.DASH
                      for build in builds]
            rows.append(cells)
        header = ["program", "flags", "median", "min – max", "cv", "reps"] + [f"÷ {b.name}" for b in builds]
        lines += [f"### {machine.name}", ""] + fmt.table(header, rows)
        if any(p.noisy for p in peers.programs):
            lines += [fmt.NOISY_LEGEND, ""]
        if peers.ratios:
            lines += ["The file's own ratios (median of the pairs, min–max): " + "; ".join(
                f"{label}: {ratio_cell(ratio)}" for label, ratio in peers.ratios) + ".", ""]
        steps, context = peers.config.get("steps"), peers.context
        taken = " ".join(f"{words} {context[key]}" for key, words in (("date", "on"), ("git_commit", "at git commit"),
                                                                      ("cpu", "on the CPU"))
                         if isinstance(context.get(key), str) and context[key])
        lines += [peer_sentence(peers) + (f" {steps} steps each." if steps else "") +
                  (f" Measured {taken}." if taken else ""), ""]
    return lines
