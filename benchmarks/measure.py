"""Timing helpers and the result table, so every figure is taken and printed the same way.

Comparisons are timed interleaved (one call of each contender per round, the order rotating), so
a slow moment of the machine hits all of them alike instead of biasing one side of a ratio.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ml_training.hardware import cpu_info


def cpu_description() -> str:
    """The CPU's model and widest vector extensions: a "2-core machine" trains 2.5x faster with
    AVX-512 VNNI than with AVX2 alone, so a figure is never quoted without them."""
    model, flags = cpu_info()
    wanted = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")
    extensions = [flag for flag in wanted if flag in flags]
    return f"{model}, {os.cpu_count()} cores" + (f", {' '.join(extensions)}" if extensions else "")


def p50(samples: Sequence[float]) -> float:
    """The median: robust to the odd scheduler hiccup, unlike the mean."""
    return float(np.median(samples))


def p95(samples: Sequence[float]) -> float:
    """The 95th percentile: what one request in twenty waits at least."""
    return float(np.percentile(samples, 95))


def ms(seconds: float) -> str:
    """Seconds as milliseconds with sensible precision (sub-millisecond figures keep 2 decimals)."""
    value = seconds * 1000
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


def time_interleaved(
    funcs: dict[str, Callable[[int], object]], iterations: int, warmup: int = 3
) -> dict[str, list[float]]:
    """Seconds per call of each function, called once per round in rotating order.

    Each function gets the round number, so it can cycle through a set of inputs.
    """
    names = list(funcs)
    for i in range(warmup):
        for name in names:
            funcs[name](i)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for i in range(iterations):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            funcs[name](i)
            samples[name].append(time.perf_counter() - start)
    return samples


@dataclass
class Row:
    """One line of the table; ``met`` is None for reference figures that have no target."""

    key: str
    figure: str
    measured: str
    target: str = ""
    met: bool | None = None

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**missed**", None: "—"}[self.met]


@dataclass
class Results:
    """The rows in the order measured, plus notes printed under the table."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(
        self, key: str, figure: str, measured: str, target: str = "", met: bool | None = None
    ) -> None:
        row = Row(key, figure, measured, target, met)
        self.rows.append(row)
        print(f"  {key:>3}  {figure}: {measured}  {target} {row.verdict if target else ''}")

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}")

    def table(self) -> str:
        """A Markdown table: readable in a terminal and pasted as is into benchmarks/README.md."""
        lines = ["| # | figure | measured | target | result |", "| --- | --- | --- | --- | --- |"]
        for row in sorted(self.rows, key=lambda r: _order(r.key)):
            cells = [row.key, row.figure, row.measured, row.target or "—", row.verdict]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def missed(self) -> list[Row]:
        return [row for row in self.rows if row.met is False]


def _order(key: str) -> tuple[int, str]:
    digits = "".join(ch for ch in key if ch.isdigit())
    return int(digits or 0), key
