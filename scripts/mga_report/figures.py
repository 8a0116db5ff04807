"""Every figure of one machine, computed once: roles, speed ratios with intervals,
allocation shares, the throughput comparison with its verdict, the policy x malloc
matrix, the no-node ceiling, and the decomposition of each policy's extra time
(allocator, layout, other)."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import analysis, decomposition, matrix, tapes
from .analysis import Throughput, Verdict
from .model import Machine, Results, Roles, machine_roles, topo_order


@dataclass
class Figures:
    machine: Machine
    roles: Roles
    speed: dict = field(default_factory=dict)  # topo -> policy -> Interval (vs the baseline)
    shares: dict = field(default_factory=dict)  # topo -> policy -> Interval; absent without the reference
    throughput: Throughput | None = None
    verdict: Verdict | None = None
    rate_ratios: dict = field(default_factory=dict)  # policy -> Interval (allocs/s vs the baseline)
    matrix: dict = field(default_factory=dict)  # topo -> matrix.MatrixView
    ceiling: tapes.Ceiling | None = None
    decomposition: list = field(default_factory=list)  # decomposition.Case per cache-simulation file

    @property
    def baseline(self):
        return self.machine.policies.get(self.roles.baseline) if self.roles.baseline else None


def compute(machine: Machine, order) -> Figures:
    roles = machine_roles(machine, order)
    figures = Figures(machine, roles)
    for topo in topo_order(machine.series):
        figures.speed[topo] = {policy: interval for policy in order(machine.series[topo])
                               if (interval := analysis.series_speed_ratio(machine, topo, policy, roles.baseline))}
        shares = analysis.series_shares(machine, topo, roles)
        if shares is not None:
            figures.shares[topo] = shares
    figures.matrix = matrix.compute(machine, roles, order)
    figures.ceiling = tapes.compute(machine, roles)
    if machine.policies:
        figures.throughput = analysis.throughput(machine, roles, order)
    if figures.throughput is not None:
        figures.verdict = analysis.verdict(figures.throughput)
        if roles.baseline:
            for point in figures.throughput.points:
                found = analysis.rate_ratio(machine, figures.throughput, point.policy, roles.baseline)
                if found is not None:
                    figures.rate_ratios[point.policy] = found
    figures.decomposition = decomposition.cases(machine)
    return figures


def compute_all(results: Results) -> dict:
    """machine name -> Figures, for every machine."""
    return {name: compute(machine, results.order) for name, machine in results.machines.items()}
