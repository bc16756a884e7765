"""Charts drawn by matplotlib (no JavaScript): SVG for the dashboard, PNG for the report."""

import io
from collections.abc import Sequence
from datetime import datetime

import matplotlib

matplotlib.use("Agg")  # no display: files only

from matplotlib import pyplot
from matplotlib.figure import Figure

from insights import services as insights


def _save(figure: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(
        buffer, format=fmt, bbox_inches="tight", metadata={"Date": None} if fmt == "svg" else None
    )
    pyplot.close(figure)
    return buffer.getvalue()


def drops_by_hour(
    hours: Sequence[tuple[datetime, insights.DropRate]], *, fmt: str = "svg"
) -> bytes:
    """Dropped attempts per hour, stacked by reason, with the drop rate as a line."""
    figure, axes = pyplot.subplots(figsize=(9, 3.2))
    reasons = sorted({reason for _, rate in hours for reason in rate.reasons})
    labels = [hour.strftime("%H:%M") for hour, _ in hours]
    bottom = [0] * len(hours)
    for reason in reasons:
        counts = [rate.reasons.get(reason, 0) for _, rate in hours]
        axes.bar(labels, counts, bottom=bottom, label=reason)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.set_ylabel("dropped attempts")
    axes.set_xlabel("hour (UTC)")
    if reasons:
        axes.legend(fontsize="small", loc="upper left")
    rate_axes = axes.twinx()
    rate_axes.plot(labels, [rate.rate * 100 for _, rate in hours], color="black", marker="o")
    rate_axes.set_ylabel("drop rate %")
    rate_axes.set_ylim(bottom=0)
    axes.tick_params(axis="x", labelrotation=45, labelsize="small")
    axes.set_title("Order drops per hour by reason (bars) and drop rate (line)")
    return _save(figure, fmt)


def reasons_by_hub(reasons: Sequence[insights.ReasonCount], *, fmt: str = "png") -> bytes:
    """Drops by reason, one bar per reason split by hub."""
    figure, axes = pyplot.subplots(figsize=(9, 3.2))
    hubs = sorted({r.hub_code or "(no hub)" for r in reasons})
    names = sorted({r.reason for r in reasons})
    left = [0] * len(names)
    for hub in hubs:
        counts = [
            sum(r.count for r in reasons if r.reason == name and (r.hub_code or "(no hub)") == hub)
            for name in names
        ]
        axes.barh(names, counts, left=left, label=hub)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    axes.set_xlabel("dropped attempts")
    if hubs:
        axes.legend(fontsize="small")
    axes.set_title("Drops by reason and hub")
    return _save(figure, fmt)


def stage_latencies(latencies: Sequence[insights.StageLatency], *, fmt: str = "png") -> bytes:
    """p50 / p90 / p99 of each stage, in minutes."""
    figure, axes = pyplot.subplots(figsize=(9, 3.2))
    stages = [latency.stage for latency in latencies]
    width = 0.27
    for offset, (name, pick) in enumerate(
        (("p50", lambda s: s.p50), ("p90", lambda s: s.p90), ("p99", lambda s: s.p99))
    ):
        axes.bar(
            [i + (offset - 1) * width for i in range(len(stages))],
            [pick(latency) / 60 for latency in latencies],
            width,
            label=name,
        )
    axes.set_xticks(range(len(stages)), stages, fontsize="small")
    axes.axhline(0, color="black", linewidth=0.5)
    axes.set_ylabel("minutes")
    axes.legend(fontsize="small")
    axes.set_title("Stage latencies (window_end_to_delivered < 0: early)")
    return _save(figure, fmt)
