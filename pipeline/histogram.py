"""The run report's match-weight histogram as inline SVG: bars stacked by decision, threshold lines.

Plain SVG text, no plotting library: it costs milliseconds instead of the seconds of importing and
rendering one, stays sharp when zoomed or printed, and each bar says its counts on hover.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence

import polars as pl

WIDTH, HEIGHT = 800, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 56  # plot margins
BINS = 40
MIN_SPAN = 1e-3  # weights spanning less than this are drawn as one bar
TICKS = 6
THRESHOLD_COLOUR = "#b71c1c"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _nice_step(span: float, ticks: int) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about `ticks` ticks over `span`."""
    raw = span / max(ticks, 1)
    power = 10 ** math.floor(math.log10(raw))
    return min((m * power for m in (1, 2, 5, 10)), key=lambda step: abs(step - raw))


def _bin_counts(frame: pl.DataFrame, low: float, width: float, bins: int) -> pl.DataFrame:
    """Records per (`bin`, `decision`)."""
    binned = ((pl.col("match_weight") - low) / width).floor().clip(0, bins - 1).cast(pl.Int32)
    return frame.group_by(binned.alias("bin"), "decision").len()


def svg_histogram(
    weights: pl.DataFrame,
    thresholds: Mapping[str, float],
    decisions: Sequence[str],
    colours: Mapping[str, str],
) -> str:
    """`weights` (`match_weight`, `decision`; no nulls) binned and stacked in `decisions` order, with a
    dashed line at each threshold (the axis is widened to show every threshold)."""
    lowest, highest = weights.select(pl.min("match_weight").alias("low"), pl.max("match_weight")).row(0)
    low, high = min([float(lowest), *thresholds.values()]), max([float(highest), *thresholds.values()])
    bins = BINS
    if high - low < MIN_SPAN:  # (nearly) one value: one bar, centred
        low, high, bins = (low + high - 1) / 2, (low + high + 1) / 2, 1
    width = (high - low) / bins
    counts = {(b, d): n for b, d, n in _bin_counts(weights, low, width, bins).iter_rows()}
    totals = [sum(counts.get((b, d), 0) for d in decisions) for b in range(bins)]
    tallest = max(max(totals), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(weight: float) -> float:
        return LEFT + (weight - low) / (width * bins) * plot_w

    def y(records: float) -> float:
        return TOP + plot_h - records / tallest * plot_h

    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' role='img' aria-label='match weight histogram' "
        f"width='{WIDTH}' height='{HEIGHT}' viewBox='0 0 {WIDTH} {HEIGHT}' font-size='11' "
        f"font-family='system-ui,sans-serif'>"
    ]
    bar_w = plot_w / bins
    for b in range(bins):
        stacked = 0
        for decision in decisions:
            n = counts.get((b, decision), 0)
            if not n:
                continue
            top = y(stacked + n)
            parts.append(
                f"<rect x='{LEFT + b * bar_w:.1f}' y='{top:.1f}' width='{bar_w:.1f}' "
                f"height='{y(stacked) - top:.1f}' fill='{colours[decision]}'><title>{_e(decision)}: "
                f"{n} records, weight {low + b * width:.2f} to {low + (b + 1) * width:.2f}</title></rect>"
            )
            stacked += n
    parts += _axes(low, high, tallest, x, y)
    for name, value in sorted(thresholds.items()):
        at = x(value)
        parts.append(
            f"<line x1='{at:.1f}' x2='{at:.1f}' y1='{TOP}' y2='{TOP + plot_h}' stroke='{THRESHOLD_COLOUR}' "
            f"stroke-dasharray='4 3'/><text transform='translate({at - 3:.1f},{TOP + 4}) rotate(-90)' "
            f"text-anchor='end' fill='{THRESHOLD_COLOUR}'>{_e(name)} ≥ {value:g}</text>"
        )
    parts += _legend([d for d in decisions if any(counts.get((b, d)) for b in range(bins))], colours)
    parts.append("</svg>")
    return "".join(parts)


def _axes(
    low: float, high: float, tallest: int, x: Callable[[float], float], y: Callable[[float], float]
) -> list[str]:
    """Both axes with round ticks and their titles."""
    bottom, parts = HEIGHT - BOTTOM, []
    parts.append(f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{bottom}' y2='{bottom}' stroke='#444'/>")
    parts.append(f"<line x1='{LEFT}' x2='{LEFT}' y1='{TOP}' y2='{bottom}' stroke='#444'/>")
    step = _nice_step(high - low, TICKS)
    for k in range(math.ceil(low / step), math.floor(high / step) + 1):
        tick = k * step
        at = x(tick)
        parts.append(
            f"<line x1='{at:.1f}' x2='{at:.1f}' y1='{bottom}' y2='{bottom + 4}' stroke='#444'/>"
            f"<text x='{at:.1f}' y='{bottom + 16}' text-anchor='middle'>{tick:g}</text>"
        )
    count_step = max(1, math.ceil(_nice_step(tallest, 4)))
    for records in range(0, tallest + 1, count_step):
        at = y(records)
        parts.append(
            f"<line x1='{LEFT - 4}' x2='{LEFT}' y1='{at:.1f}' y2='{at:.1f}' stroke='#444'/>"
            f"<text x='{LEFT - 6}' y='{at + 4:.1f}' text-anchor='end'>{records:,}</text>"
        )
    parts.append(
        f"<text x='{LEFT + (WIDTH - LEFT - RIGHT) / 2:.0f}' y='{HEIGHT - 12}' text-anchor='middle'>"
        "match weight (log2 Bayes factor, best candidate per record)</text>"
        f"<text transform='translate(14,{TOP + (bottom - TOP) / 2:.0f}) rotate(-90)' "
        "text-anchor='middle'>records</text>"
    )
    return parts


def _legend(present: Sequence[str], colours: Mapping[str, str]) -> list[str]:
    parts = []
    for i, decision in enumerate(present):
        top = TOP + 4 + i * 16
        parts.append(
            f"<rect x='{WIDTH - RIGHT - 90}' y='{top}' width='10' height='10' fill='{colours[decision]}'/>"
            f"<text x='{WIDTH - RIGHT - 75}' y='{top + 9}'>{_e(decision)}</text>"
        )
    return parts
