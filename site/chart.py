"""The factor balance chart of a workload: cloud against in-house weight per factor."""

from __future__ import annotations

from dataclasses import dataclass

from .layout import shorten

LABEL_WIDTH = 250
LABEL_CHARS = 34
HALF_WIDTH = 170
ROW_HEIGHT = 30
BAR_HEIGHT = 16
TOP = 34
VALUE_ROOM = 28


@dataclass(frozen=True)
class BalanceRow:
    factor: str
    label: str
    short: str
    cloud: int
    in_house: int
    y: int
    cloud_width: int
    in_house_width: int


@dataclass(frozen=True)
class BalanceChart:
    width: int
    height: int
    axis_x: int
    rows: tuple[BalanceRow, ...]
    cloud_total: int
    in_house_total: int

    @property
    def summary(self) -> str:
        """The chart in words, for screen readers and as the SVG's description."""
        if not self.rows:
            return "No factor weighed on either side."
        parts = [f"{r.label}: in-house {r.in_house}, cloud {r.cloud}" for r in self.rows]
        return f"In-house {self.in_house_total}, cloud {self.cloud_total} in total. " + "; ".join(parts) + "."


def balance_chart(by_factor: list[dict], factor_labels: dict[str, str], factor_order: dict[str, int]) -> BalanceChart:
    """Rows in the knowledge base's factor order; bars share one scale so lengths compare."""
    entries = sorted(by_factor, key=lambda e: (factor_order.get(e["factor"], 10**6), e["factor"]))
    scale = max([1] + [max(int(e.get("cloud", 0)), int(e.get("in-house", 0))) for e in entries])
    axis = LABEL_WIDTH + VALUE_ROOM + HALF_WIDTH
    rows = []
    for i, e in enumerate(entries):
        cloud, in_house = int(e.get("cloud", 0)), int(e.get("in-house", 0))
        rows.append(
            BalanceRow(
                factor=e["factor"],
                label=factor_labels.get(e["factor"], e["factor"]),
                short=shorten(factor_labels.get(e["factor"], e["factor"]), LABEL_CHARS),
                cloud=cloud,
                in_house=in_house,
                y=TOP + i * ROW_HEIGHT,
                cloud_width=round(HALF_WIDTH * cloud / scale),
                in_house_width=round(HALF_WIDTH * in_house / scale),
            )
        )
    return BalanceChart(
        width=axis + HALF_WIDTH + VALUE_ROOM + 8,
        height=TOP + max(len(rows), 1) * ROW_HEIGHT + 8,
        axis_x=axis,
        rows=tuple(rows),
        cloud_total=sum(r.cloud for r in rows),
        in_house_total=sum(r.in_house for r in rows),
    )
