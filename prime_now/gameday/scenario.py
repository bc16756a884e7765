"""A game day scenario: a YAML file under gamedays/ (see docs/runbook.md#game-days).

name: slow-fulfillment
description: Fulfillment answers in 2 s; ...
phases: {steady: 20, fault: 30, recovery: 40}     # seconds
load: {rate: 12, concurrency: 8, mix: {promise: 6, page: 5, checkout: 1}}
spike: 1                       # the load's multiplier during the fault (promise only)
faults: [{target: fulfillment, kind: latency, ms: 2000}]
levers: []                     # pulled during the fault, restored after
actions: []                    # kill_worker | hub_at_capacity
settle: 30                     # seconds at most to wait, after the load, for the orders' work
hypotheses:
  - {metric: promise_p99_ms, phase: fault, below: 300}
  - {metric: server_errors, phase: all, at_most: 0}
  - {metric: checkout_success_rate, phase: recovery, after: 12, at_least: 0.8}  # from 12 s on
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from prime_now.kernel.faults import FaultKind, FaultTarget

PHASES = ("steady", "fault", "recovery")
KINDS = ("promise", "page", "checkout")
ACTIONS = ("kill_worker", "hub_at_capacity")
COMPARISONS = {
    "below": lambda value, limit: value < limit,
    "above": lambda value, limit: value > limit,
    "at_most": lambda value, limit: value <= limit,
    "at_least": lambda value, limit: value >= limit,
}
# Bounds: a game day never runs long or sends without limit.
MAX_SECONDS = 15 * 60
MAX_RATE = 200.0
MAX_CONCURRENCY = 64
MAX_SETTLE_SECONDS = 300


class ScenarioError(ValueError):
    pass


@dataclass(frozen=True)
class Hypothesis:
    metric: str
    phase: str  # steady | fault | recovery | all | run (for recovered_within_seconds)
    comparison: str
    limit: float
    after: float = 0.0  # judged on the phase's samples from this many seconds into it

    @property
    def window(self) -> str:
        return f"{self.phase} from {self.after:g} s" if self.after else self.phase

    def holds(self, value: float) -> bool:
        return bool(COMPARISONS[self.comparison](value, self.limit))

    def __str__(self) -> str:
        return f"{self.metric} ({self.window}) {self.comparison.replace('_', ' ')} {self.limit:g}"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    phases: dict[str, float]
    rate: float
    concurrency: int
    mix: dict[str, float]
    spike: float = 1.0
    faults: tuple[dict[str, Any], ...] = ()
    levers: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    hypotheses: tuple[Hypothesis, ...] = field(default_factory=tuple)
    postcode: str = "98101"
    settle: float = 30.0

    @property
    def seconds(self) -> float:
        return sum(self.phases.values())


def load(path: Path) -> Scenario:
    """Read and check a scenario file; ScenarioError names what is wrong."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a mapping is expected")
    problems: list[str] = []
    phases = {p: float(data.get("phases", {}).get(p, 0)) for p in PHASES}
    if any(v <= 0 for v in phases.values()):
        problems.append(f"phases: each of {', '.join(PHASES)} needs a positive length")
    load_ = data.get("load", {})
    rate = float(load_.get("rate", 10))
    concurrency = int(load_.get("concurrency", 8))
    spike = float(data.get("spike", 1))
    mix = {k: float(v) for k, v in load_.get("mix", {"promise": 1}).items()}
    if not 0 < rate * spike <= MAX_RATE:
        problems.append(f"load.rate (times spike) must be above 0 and at most {MAX_RATE:g}/s")
    if not 0 < concurrency <= MAX_CONCURRENCY:
        problems.append(f"load.concurrency must be 1..{MAX_CONCURRENCY}")
    if set(mix) - set(KINDS) or not any(mix.values()):
        problems.append(f"load.mix: weights of {', '.join(KINDS)}")
    settle = float(data.get("settle", 30))
    if not 0 <= settle <= MAX_SETTLE_SECONDS:
        problems.append(f"settle: 0..{MAX_SETTLE_SECONDS} s")
    if sum(phases.values()) + settle > MAX_SECONDS:
        problems.append(f"phases and settle: at most {MAX_SECONDS} s in all")
    faults = tuple(data.get("faults") or ())
    for fault in faults:
        if fault.get("target") not in set(FaultTarget) or fault.get("kind") not in set(FaultKind):
            problems.append(f"faults: unknown target or kind in {fault}")
    actions = tuple(data.get("actions") or ())
    if set(actions) - set(ACTIONS):
        problems.append(f"actions: one of {', '.join(ACTIONS)}")
    hypotheses = []
    for raw in data.get("hypotheses") or ():
        found = [c for c in COMPARISONS if c in raw]
        if "metric" not in raw or len(found) != 1:
            problems.append(f"hypotheses: a metric and one of {', '.join(COMPARISONS)}: {raw}")
            continue
        phase, after = raw.get("phase", "all"), float(raw.get("after", 0))
        if after and (phase not in PHASES or not 0 < after < phases.get(phase, 0)):
            problems.append(f"hypotheses: `after` is seconds inside a phase's length: {raw}")
            continue
        hypotheses.append(Hypothesis(raw["metric"], phase, found[0], float(raw[found[0]]), after))
    if problems:
        raise ScenarioError(f"{path}: " + "; ".join(problems))
    return Scenario(
        name=str(data.get("name", path.stem)),
        description=str(data.get("description", "")),
        phases=phases,
        rate=rate,
        concurrency=concurrency,
        mix=mix,
        spike=spike,
        faults=faults,
        levers=tuple(data.get("levers") or ()),
        actions=actions,
        hypotheses=tuple(hypotheses),
        postcode=str(data.get("postcode", "98101")),
        settle=settle,
    )
