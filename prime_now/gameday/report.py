"""The game day's report: Markdown with two PNG charts (matplotlib), one directory per run."""

from __future__ import annotations

import csv
import math
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from .runner import Outcome

SHADES = {"steady": "#e8f4e8", "fault": "#fbe3e3", "recovery": "#e6eefb"}
FIGURES = [
    ("requests", "requests", "{:.0f}"),
    ("promise_p99_ms", "promise p99 (ms)", "{:.0f}"),
    ("page_p99_ms", "page p99 (ms)", "{:.0f}"),
    ("server_errors", "5xx or no answer", "{:.0f}"),
    ("throttled", "refused by the API's limits (429)", "{:.0f}"),
    ("degraded_share", "degraded answers", "{:.1%}"),
    ("checkout_success_rate", "checkouts placed", "{:.1%}"),
    ("order_drop_rate", "orders dropped", "{:.1%}"),
]


def _shade(axis, outcome: Outcome) -> None:  # type: ignore[no-untyped-def]
    for phase, (start, end) in outcome.bounds.items():
        axis.axvspan(start, end, color=SHADES[phase], label=phase)


def _latency_chart(outcome: Outcome, path: Path) -> None:
    figure, axis = plt.subplots(figsize=(9, 4))
    _shade(axis, outcome)
    for kind, colour in (
        ("promise", "tab:blue"),
        ("page", "tab:orange"),
        ("checkout", "tab:green"),
    ):
        points = [(s.at, s.ms) for s in outcome.samples if s.kind == kind and s.status]
        if points:
            xs, ys = zip(*points, strict=True)
            axis.scatter(xs, ys, s=4, color=colour, label=kind, alpha=0.6)
    axis.set_yscale("log")
    axis.set_xlabel("seconds since start")
    axis.set_ylabel("latency (ms)")
    axis.set_title(f"{outcome.scenario.name}: latency of each request")
    axis.legend(loc="upper right", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _outcomes_chart(outcome: Outcome, path: Path) -> None:
    seconds = int(max((s.at for s in outcome.samples), default=0)) + 1
    good, degraded, failed = [0] * seconds, [0] * seconds, [0] * seconds
    for s in outcome.samples:
        second = int(s.at)
        if s.status == 0 or s.status >= 500:
            failed[second] += 1
        elif s.degraded:
            degraded[second] += 1
        else:
            good[second] += 1
    figure, axis = plt.subplots(figsize=(9, 3.5))
    _shade(axis, outcome)
    x = range(seconds)
    axis.stackplot(x, good, degraded, failed, labels=["ok", "degraded", "5xx / no answer"],
                   colors=["tab:green", "tab:orange", "tab:red"])  # fmt: skip
    axis.set_xlabel("seconds since start")
    axis.set_ylabel("answers per second")
    axis.set_title(f"{outcome.scenario.name}: answers per second")
    axis.legend(loc="upper right", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _format(value: float | None, pattern: str) -> str:
    if value is None:
        return "no data"
    if math.isinf(value):
        return "never"
    return pattern.format(value)


def _checkout_answers(outcome: Outcome) -> list[str]:
    """How the checkouts were answered, per phase: placed, or refused with which code."""
    counts: dict[str, Counter[str]] = {phase: Counter() for phase in outcome.bounds}
    for s in outcome.samples:
        if s.kind != "checkout":
            continue
        answer = "placed (201)" if s.status == 201 else f"{s.code or 'no code'} ({s.status})"
        for phase, (start, end) in outcome.bounds.items():
            if start <= s.at < end:
                counts[phase][answer] += 1
    answers = sorted(set().union(*counts.values()), key=lambda a: (not a.startswith("placed"), a))
    if not answers:
        return []
    lines = ["", "Checkouts, per answer:", "", "| | " + " | ".join(counts) + " |",
             "| --- |" + " --- |" * len(counts)]  # fmt: skip
    for answer in answers:
        lines.append(f"| {answer} | " + " | ".join(str(c[answer]) for c in counts.values()) + " |")
    return lines


def _samples_csv(outcome: Outcome, path: Path) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["at", "kind", "status", "ms", "degraded", "order", "code"])
        for s in outcome.samples:
            writer.writerow([f"{s.at:.3f}", s.kind, s.status, f"{s.ms:.1f}", int(s.degraded),
                             s.order, s.code])  # fmt: skip


def write(outcome: Outcome, root: Path) -> Path:
    """Write report.md, latency.png and outcomes.png in a new directory under `root`."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    folder = root / f"{outcome.scenario.name}-{stamp}"
    folder.mkdir(parents=True, exist_ok=True)
    _latency_chart(outcome, folder / "latency.png")
    _outcomes_chart(outcome, folder / "outcomes.png")
    _samples_csv(outcome, folder / "samples.csv")
    s = outcome.scenario
    lines = [
        f"# Game day: {s.name}",
        "",
        s.description,
        "",
        f"Run {stamp} UTC. Phases: " + ", ".join(f"{p} {v:g} s" for p, v in s.phases.items())
        + f". Load: {s.rate:g} requests/s over {s.concurrency} shoppers, mix "
        + ", ".join(f"{k} {v:g}" for k, v in s.mix.items())
        + (f", promise load ×{s.spike:g} during the fault" if s.spike != 1 else "")
        + ".",
        "",
        "Faults: " + (", ".join(
            f"{f['kind']} {f.get('ms', '')} ms at {f['target']}".replace("  ms", "")
            + (f" ({float(f.get('share', 1)):.0%} of calls)" if f.get("share") else "")
            for f in s.faults) or "none")
        + ". Levers pulled: " + (", ".join(s.levers) or "none")
        + ". Actions: " + (", ".join(s.actions) or "none") + ".",
        "",
        f"## Verdict: {'HELD' if outcome.held else 'BROKEN'}",
        "",
        "| hypothesis | measured | |",
        "| --- | --- | --- |",
    ]  # fmt: skip
    for text, value, held in outcome.verdicts:
        shown = _format(value, "{:.3g}")
        lines.append(f"| {text} | {shown} | {'held' if held else '**broken**'} |")
    lines += ["", "## Figures", "", "| | " + " | ".join(outcome.bounds) + " | all |",
              "| --- |" + " --- |" * (len(outcome.bounds) + 1)]  # fmt: skip
    for key, label, pattern in FIGURES:
        cells = [_format(outcome.metrics[p].get(key), pattern) for p in [*outcome.bounds, "all"]]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += _checkout_answers(outcome)
    recovered = outcome.metrics["run"]["recovered_within_seconds"]
    lines += [
        "",
        f"Recovered (no degraded or failed answer) {_format(recovered, '{:.1f} s')} after the "
        "fault was removed. Every request is in `samples.csv` (seconds since the start).",
        "",
        "![latency](latency.png)",
        "",
        "![answers per second](outcomes.png)",
    ]
    if outcome.notes:
        lines += ["", "## Notes", "", *[f"- {note}" for note in outcome.notes]]
    (folder / "report.md").write_text("\n".join(lines) + "\n")
    return folder
