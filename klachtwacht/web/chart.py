"""A stacked bar chart of weekly counts by label, as inline SVG with a text alternative (the table beside it holds the same figures)."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from klachtwacht.web.figures import WeekRow

__all__ = ["weekly_bars", "COLOURS"]

#: At least 4.5:1 against white (WCAG 1.4.11 asks 3:1 for graphics).
COLOURS = {"klacht": "#a4262c", "beleidsvraag": "#1d4f91", "overig": "#595959", "onbekend": "#7a5c00"}
NAMES = {"klacht": "klachten", "beleidsvraag": "beleidsvragen", "overig": "overig", "onbekend": "nog niet beoordeeld"}
WIDTH, HEIGHT, LEFT, BOTTOM, TOP, LEGEND = 760, 240, 44, 34, 12, 190


def weekly_bars(rows: list[WeekRow], *, title: str) -> Markup:
    """The chart; ``title`` names it for screen readers, and a summary sentence says what it shows."""
    peak = max([r.total for r in rows] + [1])
    plot_w = WIDTH - LEFT - LEGEND
    scale = (HEIGHT - BOTTOM - TOP) / peak
    step = plot_w / max(1, len(rows))
    parts: list[str] = []
    for tick in sorted({0, peak // 2, peak}):
        y = HEIGHT - BOTTOM - tick * scale
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w:.0f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#b0b0b0" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="#1a1a1a">{tick}</text>')
    for i, row in enumerate(rows):
        x = LEFT + i * step + step * 0.15
        y = float(HEIGHT - BOTTOM)
        for label, colour in COLOURS.items():
            n = row.counts.get(label, 0)
            if not n:
                continue
            h = n * scale
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" fill="{colour}">'
                         f'<title>{escape(row.week)}: {n} {NAMES[label]}</title></rect>')
        parts.append(f'<text x="{x + step * 0.35:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="12" fill="#1a1a1a">{escape(row.week[-3:])}</text>')
    for j, (label, colour) in enumerate(COLOURS.items()):
        y = TOP + j * 22
        parts.append(f'<rect x="{WIDTH - LEGEND + 12}" y="{y}" width="14" height="14" fill="{colour}"/>')
        parts.append(f'<text x="{WIDTH - LEGEND + 32}" y="{y + 12}" font-size="13" fill="#1a1a1a">{NAMES[label]}</text>')
    total = sum(r.total for r in rows)
    complaints = sum(r.counts.get("klacht", 0) for r in rows)
    summary = f"{total} berichten in {len(rows)} weken, waarvan {complaints} klachten; de drukste week had er {peak if total else 0}."
    svg = (
        f'<svg class="kw-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-labelledby="kw-chart-title kw-chart-desc" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="kw-chart-title">{escape(title)}</title><desc id="kw-chart-desc">{escape(summary)}</desc>'
        + "".join(parts) + "</svg>"
    )
    return Markup(svg)
