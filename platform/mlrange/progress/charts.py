"""Server-side SVG charts: a radar of sub-skill levels, ability over time, lab scores.

Pure string building, no JavaScript and nothing fetched: each function returns one HTML
fragment, an inline <svg role="img"> with <title> and <desc>, followed by a visually
hidden table of the same numbers for screen readers. Every piece of text interpolated
into the markup goes through `html.escape`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe

BANDS: tuple[tuple[str, float, float], ...] = (
    ("Beginner", -math.inf, -1.0),
    ("Intermediate", -1.0, 0.0),
    ("Advanced", 0.0, 1.0),
    ("Expert", 1.0, math.inf),
)
# Band centres on the radar's 0..1 radius, for the self-assessed level.
SELF_POSITION: Mapping[str, float] = {
    "beginner": 0.125,
    "intermediate": 0.375,
    "advanced": 0.625,
    "expert": 0.875,
}
SERIES_COLOURS = ("#0b7a5e", "#0a5aa8", "#8a4b00", "#7b2d8e", "#a01c1c", "#3d5566")
SERIES_DASHES = ("", "6 3", "2 3", "8 3 2 3", "4 4", "1 2")
THETA_LOW, THETA_HIGH = -2.5, 2.5


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def _table(caption: str, head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    header = "".join(f'<th scope="col">{escape(str(h))}</th>' for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows
    )
    return (
        f'<table class="visually-hidden"><caption>{escape(caption)}</caption>'
        f"<thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"
    )


def _svg_open(chart_id: str, width: int, height: int, title: str, desc: str) -> str:
    return (
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>'
    )


def _done(parts: Sequence[str]) -> SafeString:
    return mark_safe("".join(parts))  # noqa: S308 -- every interpolated text is html.escape()d above


def radar(subskills: Sequence[Mapping[str, Any]], *, chart_id: str = "radar") -> SafeString:
    """Sub-skill levels on five axes; the ring bands are the four levels.

    `subskills`: [{name, position (0..1), estimate: {level_name, confidence},
    self_assessed: {level, level_name} | None}].
    """
    width, height, radius = 480, 360, 118.0
    centre_x, centre_y = width / 2, height / 2
    n = max(len(subskills), 3)

    def point(index: int, fraction: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / n
        return (
            centre_x + radius * fraction * math.cos(angle),
            centre_y + radius * fraction * math.sin(angle),
        )

    summary = "; ".join(f"{s['name']}: {s['estimate']['level_name']}" for s in subskills)
    parts = [
        _svg_open(
            chart_id,
            width,
            height,
            "Level per sub-skill",
            f"Radar chart of the estimated level in each sub-skill, rings from Beginner (centre) "
            f"to Expert (edge). {summary}.",
        )
    ]
    for ring, (label, _low, _high) in enumerate(BANDS, start=1):
        fraction = ring / len(BANDS)
        ring_points = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in (point(i, fraction) for i in range(n)))
        parts.append(f'<polygon points="{ring_points}" class="chart-grid"/>')
        x, y = point(0, fraction - 0.125)
        parts.append(
            f'<text x="{_fmt(x + 4)}" y="{_fmt(y + 4)}" class="chart-ring-label">{escape(label)}</text>'
        )
    for i, subskill in enumerate(subskills):
        x, y = point(i, 1.0)
        parts.append(
            f'<line x1="{centre_x}" y1="{centre_y}" x2="{_fmt(x)}" y2="{_fmt(y)}" class="chart-axis"/>'
        )
        lx, ly = point(i, 1.16)
        anchor = "middle" if abs(lx - centre_x) < 20 else ("start" if lx > centre_x else "end")
        parts.append(
            f'<text x="{_fmt(lx)}" y="{_fmt(ly + 4)}" text-anchor="{anchor}" class="chart-label">'
            f"{escape(_short(subskill['name']))}</text>"
        )
    if subskills:
        mine = [
            (i, SELF_POSITION[s["self_assessed"]["level"]])
            for i, s in enumerate(subskills)
            if s.get("self_assessed") and s["self_assessed"].get("level") in SELF_POSITION
        ]
        if len(mine) == len(subskills):
            self_points = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in (point(i, f) for i, f in mine))
            parts.append(f'<polygon points="{self_points}" class="chart-self"/>')
        shape = " ".join(
            f"{_fmt(x)},{_fmt(y)}"
            for x, y in (point(i, float(s["position"])) for i, s in enumerate(subskills))
        )
        parts.append(f'<polygon points="{shape}" class="chart-estimate"/>')
        for i, s in enumerate(subskills):
            x, y = point(i, float(s["position"]))
            parts.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="4" class="chart-dot"/>')
    parts.append("</svg>")
    parts.append(
        _table(
            "Level per sub-skill",
            ("Sub-skill", "Estimated level", "Confidence", "Self-assessed"),
            [
                (
                    s["name"],
                    s["estimate"]["level_name"],
                    f"{round(100 * float(s['estimate']['confidence']))}%",
                    (s.get("self_assessed") or {}).get("level_name", "not rated"),
                )
                for s in subskills
            ],
        )
    )
    return _done(parts)


def _short(name: str) -> str:
    """Axis labels: the first words of a sub-skill's name, to fit a phone screen."""
    words = name.replace(" and ", " & ").split()
    return " ".join(words[:2]) if len(words) > 2 else name


def _y(theta: float, top: float, height: float) -> float:
    clamped = min(max(theta, THETA_LOW), THETA_HIGH)
    return top + height * (THETA_HIGH - clamped) / (THETA_HIGH - THETA_LOW)


def progress_line(
    timeline: Sequence[Mapping[str, Any]],
    subskills: Sequence[Mapping[str, Any]],
    *,
    chart_id: str = "timeline",
) -> SafeString:
    """Overall and per-sub-skill ability after each evidence event (x: event order)."""
    width, height = 640, 280
    left, right, top, bottom = 92, 16, 16, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    count = len(timeline)
    last = timeline[-1] if timeline else None
    desc = f"Line chart of ability after each of {count} evidence events. " + (
        f"Overall now {last['overall']:+.2f} on the ability scale." if last else "No evidence yet."
    )
    parts = [_svg_open(chart_id, width, height, "Progress over time", desc)]
    for label, low, high in BANDS:
        y_low = _y(max(low, THETA_LOW), top, plot_h)
        y_high = _y(min(high, THETA_HIGH), top, plot_h)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_fmt(y_high)}" y2="{_fmt(y_high)}" '
            'class="chart-grid"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{_fmt((y_low + y_high) / 2 + 4)}" text-anchor="end" '
            f'class="chart-label">{escape(label)}</text>'
        )

    def x_of(index: int) -> float:
        return left + (plot_w * index / (count - 1) if count > 1 else plot_w / 2)

    series: list[tuple[str, str, list[float], str]] = [
        ("Overall", "overall", [float(p["overall"]) for p in timeline], "chart-line-overall")
    ]
    for s in subskills:
        series.append(
            (s["name"], s["slug"], [float(p["thetas"].get(s["slug"], 0.0)) for p in timeline], "chart-line")
        )
    for index, (_name, _slug, values, css) in enumerate(series):
        if not values:
            continue
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        dash = SERIES_DASHES[index % len(SERIES_DASHES)]
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{_fmt(x_of(i))},{_fmt(_y(v, top, plot_h))}"
            for i, v in enumerate(values)
        )
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<path d="{path}" class="{css}" stroke="{colour}"{dash_attr}/>')
    legend_y = height - 30
    for index, (name, _slug, _values, _css) in enumerate(series):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        dash = SERIES_DASHES[index % len(SERIES_DASHES)]
        column, row = index % 3, index // 3
        lx, ly = left + column * 180, legend_y + row * 16
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{lx}" x2="{lx + 22}" y1="{ly}" y2="{ly}" stroke="{colour}" '
            f'stroke-width="3"{dash_attr}/>'
        )
        parts.append(f'<text x="{lx + 28}" y="{ly + 4}" class="chart-legend">{escape(_short(name))}</text>')
    parts.append("</svg>")
    parts.append(
        _table(
            "Ability after each evidence event",
            ("When", "Event", "Overall", *(s["name"] for s in subskills)),
            [
                (
                    str(p["at"])[:16].replace("T", " "),
                    p.get("label", ""),
                    f"{float(p['overall']):+.2f}",
                    *(f"{float(p['thetas'].get(s['slug'], 0.0)):+.2f}" for s in subskills),
                )
                for p in timeline
            ],
        )
    )
    return _done(parts)


def lab_bars(labs: Sequence[Mapping[str, Any]], *, chart_id: str = "lab-scores") -> SafeString:
    """Best score (0-100) per lab, passed labs in green."""
    width, row_h, left, right, top = 640, 30, 210, 48, 10
    height = top * 2 + max(len(labs), 1) * row_h + 20
    plot_w = width - left - right
    passed = sum(1 for lab in labs if lab["passed"])
    parts = [
        _svg_open(
            chart_id,
            width,
            height,
            "Best score per lab",
            f"Bar chart of your best graded score in {len(labs)} labs; {passed} passed.",
        )
    ]
    for tick in (0, 50, 100):
        x = left + plot_w * tick / 100
        parts.append(
            f'<line x1="{_fmt(x)}" x2="{_fmt(x)}" y1="{top}" y2="{height - 20}" class="chart-grid"/>'
        )
        parts.append(
            f'<text x="{_fmt(x)}" y="{height - 6}" text-anchor="middle" class="chart-legend">{tick}</text>'
        )
    for index, lab in enumerate(labs):
        y = top + index * row_h
        score = min(max(float(lab["best_score"]), 0.0), 100.0)
        css = "chart-bar-pass" if lab["passed"] else "chart-bar"
        title = str(lab["title"])
        label = title if len(title) <= 30 else title[:29] + "…"
        parts.append(
            f'<text x="{left - 8}" y="{y + row_h / 2 + 4}" text-anchor="end" class="chart-label">'
            f"{escape(label)}</text>"
        )
        parts.append(
            f'<rect x="{left}" y="{y + 5}" width="{_fmt(plot_w * score / 100)}" height="{row_h - 10}" '
            f'class="{css}"/>'
        )
        parts.append(
            f'<text x="{_fmt(left + plot_w * score / 100 + 6)}" y="{y + row_h / 2 + 4}" '
            f'class="chart-legend">{_fmt(score)}</text>'
        )
    parts.append("</svg>")
    parts.append(
        _table(
            "Best score per lab",
            ("Lab", "Best score", "Passed", "Graded submissions"),
            [
                (
                    lab["title"],
                    _fmt(float(lab["best_score"])),
                    "yes" if lab["passed"] else "no",
                    lab["graded_submissions"],
                )
                for lab in labs
            ],
        )
    )
    return _done(parts)
