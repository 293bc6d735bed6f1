"""Charts drawn on the server as inline SVG: no JavaScript, no request elsewhere, nothing for a CSP
to forbid. Only the geometry is computed here; the templates draw it."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int  # the plot area, inside the margins that hold the labels
    top: int
    right: int
    bottom: int
    points: str  # the line, as an SVG polyline's points
    area: str  # the same, closed along the x axis, as an SVG polygon's points
    first_day: date
    last_day: date
    maximum: Decimal  # the highest running total
    last: tuple[float, float]  # where the line ends, to mark it
    goal_y: float | None  # the height of the goal line, when the goal is in money


def cumulative_chart(
    days: list[tuple[date, Decimal]],  # or hours: datetimes are dates too
    *,
    goal: Decimal | None = None,
    width: int = 960,
    height: int = 240,
) -> LineChart | None:
    """A line through the running totals, one point per day, scaled to show the goal too; None
    without any day."""
    if not days:
        return None
    left, top, right, bottom = 16, 24, width - 16, height - 28
    highest = max(total for _day, total in days)
    maximum = max(highest, goal or 0) or Decimal(1)
    span = max(len(days) - 1, 1)
    coordinates = [
        (
            round(left + (right - left) * index / span, 1),
            round(bottom - (bottom - top) * float(total / maximum), 1),
        )
        for index, (_day, total) in enumerate(days)
    ]
    if len(coordinates) == 1:  # a single day: a flat line across, not a dot
        coordinates.append((float(right), coordinates[0][1]))
    points = " ".join(f"{x},{y}" for x, y in coordinates)
    area = f"{coordinates[0][0]},{bottom} {points} {coordinates[-1][0]},{bottom}"
    return LineChart(
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        points=points,
        area=area,
        first_day=days[0][0],
        last_day=days[-1][0],
        maximum=highest,
        last=coordinates[-1],
        goal_y=round(bottom - (bottom - top) * float(goal / maximum), 1) if goal else None,
    )


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    width: str  # % of the longest bar, written for SVG whatever the locale ("42.5")


def bars(values: list[tuple[str, int]]) -> list[Bar]:
    """Horizontal bars, the longest spanning the whole width."""
    longest = max((value for _label, value in values), default=0) or 1
    return [Bar(label, value, f"{100 * value / longest:.1f}") for label, value in values]
