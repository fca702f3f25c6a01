"""A weekly volume chart as inline SVG: bars per label, holiday weeks shaded, alarms marked.

Server-side and script-free, so the report reads in any browser and in a
mail client, and prints. The chart carries a text summary for screen
readers; the report puts the same figures in a table beside it.
"""

from __future__ import annotations

from html import escape

from klachtwacht.reconcile.checks import ChannelVolume

__all__ = ["LABEL_COLOURS", "LABEL_NL", "weekly_chart"]

#: Colours with at least 4.5:1 contrast on white (WCAG 1.4.11 asks 3:1 for graphics).
LABEL_COLOURS = {"klacht": "#a4262c", "beleidsvraag": "#1d4f91", "overig": "#595959", "onbekend": "#7a5c00"}
LABEL_NL = {"klacht": "klachten", "beleidsvraag": "beleidsvragen", "overig": "overig", "onbekend": "nog niet beoordeeld"}
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 760, 220, 40, 30, 12


def weekly_chart(channel: ChannelVolume, weeks: int = 52) -> str:
    """The last ``weeks`` weeks of ``channel`` as an SVG element."""
    series = channel.weeks[-weeks:]
    offset = len(channel.weeks) - len(series)
    states = channel.verdict.weeks[-weeks:]
    labels = [label for label in LABEL_COLOURS if label in channel.by_label]
    peak = max([w.count for w in series] + [1])
    scale = (HEIGHT - BOTTOM - TOP) / peak
    step = (WIDTH - LEFT - 10) / max(1, len(series))
    alarms = {w.start for w in channel.verdict.alarm_weeks}
    parts = []
    for i, item in enumerate(series):
        x = LEFT + i * step
        if item.week.holiday:
            parts.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#e8e8e8"><title>%s: %s</title></rect>'
                         % (x, TOP, step, HEIGHT - BOTTOM - TOP, item.week.label, escape(item.week.holiday_name or "vakantie")))
        y = float(HEIGHT - BOTTOM)
        for label in labels:
            n = channel.by_label[label][offset + i]
            if not n:
                continue
            h = n * scale
            y -= h
            parts.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %d %s</title></rect>'
                         % (x + 1, y, max(1.0, step - 2), h, LABEL_COLOURS[label], item.week.label, n, LABEL_NL[label]))
        state = states[i] if i < len(states) else None
        if state is not None and state.expected is not None:
            ey = HEIGHT - BOTTOM - state.expected * scale
            parts.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#000" stroke-width="1.5"/>' % (x, x + step, ey, ey))
        if item.week.start in alarms:
            parts.append('<path d="M%.1f %d l6 -10 l6 10 z" fill="#a4262c" stroke="#000"><title>%s: daling gesignaleerd</title></path>'
                         % (x + step / 2 - 6, HEIGHT - 4, item.week.label))
    axis = ['<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#000"/>' % (LEFT, WIDTH - 10, HEIGHT - BOTTOM, HEIGHT - BOTTOM),
            '<text x="%d" y="%d" font-size="11" text-anchor="end">%d</text>' % (LEFT - 4, TOP + 8, peak),
            '<text x="%d" y="%d" font-size="11" text-anchor="end">0</text>' % (LEFT - 4, HEIGHT - BOTTOM)]
    for i, item in enumerate(series):
        if i % 8 == 0:
            axis.append('<text x="%.1f" y="%d" font-size="11">%s</text>' % (LEFT + i * step, HEIGHT - BOTTOM + 16, item.week.label))
    total = sum(w.count for w in series)
    summary = "%s: %d berichten in %d weken, gemiddeld %.1f per week; %s." % (
        channel.mailbox, total, len(series), total / max(1, len(series)),
        "%d keer een daling gesignaleerd" % len([w for w in series if w.week.start in alarms]) if alarms else "geen daling gesignaleerd")
    return ('<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 %d %d" width="100%%" aria-labelledby="t-%s">'
            '<title id="t-%s">%s</title>%s%s</svg>') % (WIDTH, HEIGHT, escape(channel.mailbox), escape(channel.mailbox), escape(summary),
                                                     "".join(parts), "".join(axis))
