"""The daily job's control-room page: ``<out>/<date>/report.html``.

One self-contained HTML file per run of ``vpp schedule`` (:func:`job_report_html`): the
status (and on a fallback the failure, exit code, limits exceeded and sites without a
schedule), every flag, the park's net import against the shared feeder limit, the
demand-response offers and their expected settlement, each site's plan with its state of
charge and the day's price bands (the revised rest of today, then the target day), and
where each forecast and state came from. Built like the run report
(:mod:`vpp.report.html`): escaped text from :mod:`vpp.report.html_parts`, the shared style
sheet, figures embedded as images (SVG data URIs, :mod:`vpp.report.job_figures`), no
script and no network.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from vpp.report import job_figures
from vpp.report.html_parts import (
    CSS,
    currency,
    escape,
    flatten_mapping,
    html_figure,
    html_table,
    number,
    shield_non_finite,
)
from vpp.report.job_figures import joined, park_svg, price_bands, site_svg
from vpp.report.job_svg import svg_uri

#: Style of the page: the report's, with the status banner and the flag list.
JOB_CSS = CSS + (
    ".status{border-radius:6px;padding:10px 14px;margin:12px 0;font-size:1.05em}"
    ".status.ok{background:#e6f4ea;border-left:6px solid #1b7f5b}"
    ".status.fallback{background:#fdecea;border-left:6px solid #b3261e}"
    "ul.flags{margin:6px 0 12px;padding-left:22px}ul.flags li{margin:3px 0}"
    "td.left,th.left{text-align:left}"
)
#: The cost columns of the sites table: (summary key, header); ``{cur}`` is the currency.
SITE_COSTS: tuple[tuple[str, str], ...] = (
    ("total_cost_cny", "cost [{cur}]"),
    ("savings_cny", "savings vs baseline [{cur}]"),
    ("peak_import_kw", "peak import [kW]"),
    ("dr_payment_cny", "DR payment [{cur}]"),
    ("net_cost_cny", "net cost [{cur}]"),
)
#: Keys of a forecast source shown first, in this order.
SOURCE_KEYS = ("method", "file", "issued_at", "history_from", "why")


def _num(value: Any, digits: int = 0) -> str:
    """A finite number formatted by :func:`number`; ``–`` for anything missing."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "–" if value is None or isinstance(value, (int, float)) else escape(value)
    return number(value, digits)


def _clock(value: Any) -> str:
    """A time stamp as ``YYYY-MM-DD HH:MM`` (escaped); the text itself if it is not one."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return escape(value)
    if pd.isna(stamp):
        return "–"
    return escape(f"{stamp:%Y-%m-%d %H:%M}")


def _day_start(summary: Mapping[str, Any], frames: Sequence[pd.DataFrame]) -> Any:
    """The target day's first instant in the schedules' zone; None when unknown."""
    tz = next((f.index.tz for f in frames if len(f) and hasattr(f.index, "tz")), None)
    try:
        day = pd.Timestamp(str(summary.get("date", "")))
    except (TypeError, ValueError):
        day = None
    if day is None or pd.isna(day):
        return None
    return day.tz_localize(tz) if tz is not None and day.tz is None else day


def _status(summary: Mapping[str, Any]) -> str:
    """The banner: ok, or the fallback with its failure and exit code."""
    status = str(summary.get("status", "unknown"))
    if status == "ok":
        return (
            "<div class='status ok'><b>OK</b>: the park was optimized; dispatch these "
            "schedules.</div>"
        )
    parts = [f"<b>{escape(status.upper())}</b>"]
    if "exit_code" in summary:
        parts.append(f"exit code {escape(summary['exit_code'])}")
    text = " · ".join(parts)
    failure = summary.get("failure")
    if failure:
        text += f"<br>Failure: {escape(failure)}"
    if summary.get("fallback"):
        text += f"<br>Safe schedule: {escape(summary['fallback'])}."
    kept = summary.get("kept_schedule")
    if kept:
        text += (
            "<br>An earlier good schedule is kept and stays the one to dispatch: "
            f"{escape(_plain(kept))}."
        )
    return f"<div class='status fallback'>{text}</div>"


def _plain(value: Any) -> str:
    """A mapping or list as ``key: value, ...`` plain text; anything else as ``str``."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def _kpis(summary: Mapping[str, Any], plan: pd.DataFrame | None) -> str:
    """Cards: costs and DR payment (when optimized), the park's peak against the limit,
    the number of flags."""
    cards = []
    for key, label in (
        ("net_cost_cny", "net cost of the target day"),
        ("dr_payment_cny", "expected demand-response payment"),
    ):
        value = summary.get(key)
        if isinstance(value, (int, float)) and math.isfinite(value):
            cards.append((f"{value:,.0f} {currency(summary)}", label))
    shared = summary.get("shared_limit") or {}
    peak = shared.get("max_net_import_kw")
    if peak is None and plan is not None and "park_net_import_kw" in plan and len(plan):
        peak = float(plan["park_net_import_kw"].max())
    limit = shared.get("limit_kw")
    if limit is None and plan is not None and "shared_limit_kw" in plan and len(plan):
        limit = (
            plan["shared_limit_kw"].dropna().max()
            if plan["shared_limit_kw"].notna().any()
            else None
        )
    if isinstance(peak, (int, float)) and math.isfinite(peak):
        against = f" / {limit:,.0f} kW" if isinstance(limit, (int, float)) else " kW"
        cards.append((f"{peak:,.0f}{against}", "park peak net import / shared limit"))
    flags = summary.get("flags") or []
    cards.append((f"{len(flags)}", "flag(s): inputs dropped, clipped or replaced"))
    sites = summary.get("sites_scheduled")
    if sites is not None:
        missing = summary.get("sites_without_schedule") or {}
        cards.append((f"{len(sites)} / {len(sites) + len(missing)}", "sites with a schedule"))
    return (
        "<div class='kpis'>"
        + "".join(
            f"<div class='kpi'><b>{escape(v)}</b><span>{escape(t)}</span></div>" for v, t in cards
        )
        + "</div>"
    )


def _flags(summary: Mapping[str, Any]) -> str:
    flags = summary.get("flags") or []
    if not flags:
        return "<p>No flags: every input was used as read.</p>"
    return "<ul class='flags'>" + "".join(f"<li>{escape(f)}</li>" for f in flags) + "</ul>"


def _fallback_section(summary: Mapping[str, Any]) -> str:
    """Limits the fallback exceeds and sites without a schedule."""
    out = []
    exceeded = summary.get("limits_exceeded") or []
    if exceeded:
        rows = [
            [
                escape(e.get("limit", "")),
                escape(e.get("where", "")),
                _num(e.get("limit_kw")),
                f"<b>{_num(e.get('max_excess_kw'), 1)}</b>",
                _num(e.get("steps")),
                escape(", ".join(map(str, e.get("hours") or []))),
            ]
            for e in exceeded
            if isinstance(e, Mapping)
        ]
        out.append(
            "<p>The safe schedule exceeds these limits (it has no battery and no "
            "flexibility to keep them):</p>"
            + html_table(
                ["limit", "where", "limit [kW]", "largest excess [kW]", "steps", "hours (local)"],
                rows,
            )
        )
    elif "limits_exceeded" in summary:
        out.append("<p>The safe schedule keeps every limit.</p>")
    missing = summary.get("sites_without_schedule") or {}
    if missing:
        rows = [
            [escape(n), f"<span class='bad'>{escape(why)}</span>"] for n, why in missing.items()
        ]
        out.append("<h3>Sites without a schedule</h3>" + html_table(["site", "why"], rows))
    return "".join(out)


def _park_section(
    summary: Mapping[str, Any],
    schedules: Mapping[str, pd.DataFrame],
    plan: pd.DataFrame | None,
    plan_today: pd.DataFrame | None,
    today: Mapping[str, pd.DataFrame],
    day_start: Any,
    compact: bool = False,
) -> str:
    out = []
    frame = joined(plan_today, plan)
    shared = summary.get("shared_limit") or {}
    limit = shared.get("limit_kw")
    if limit is None and "shared_limit_kw" in frame and frame["shared_limit_kw"].notna().any():
        limit = float(frame["shared_limit_kw"].dropna().iloc[0])
    if len(frame):
        sites = [s for s in (summary.get("sites") or {}) if f"{s}_net_import_kw" in frame]
        sites += [
            c.removesuffix("_net_import_kw")
            for c in frame.columns
            if c.endswith("_net_import_kw") and c != "park_net_import_kw"
        ]
        sites = [] if compact else list(dict.fromkeys(sites))
        all_bands = [price_bands(joined(today.get(n), f)) for n, f in schedules.items()]
        same = all_bands and all(
            b.source == all_bands[0].source and list(b.labels) == list(all_bands[0].labels)
            for b in all_bands
        )
        bands = all_bands[0] if same and len(all_bands[0].labels) == len(frame) else None
        svg = park_svg(
            frame,
            sites=sites,
            limit_kw=limit if isinstance(limit, (int, float)) else None,
            day_start=day_start,
            events=summary.get("demand_response") or [],
            bands=bands,
        )
        out.append(
            html_figure(
                svg_uri(svg),
                "Park net import against the shared feeder limit",
                (job_figures.COMPACT_PARK if compact else job_figures.STACKED_PARK)
                + ", against the shared feeder limit (dashed red line); demand-response "
                "windows hatched with the offered reduction; background: price bands"
                + ("" if bands is not None else " (left out: the sites' bands differ)")
                + "."
                + (
                    " Left of the dashed black line: the rest of today as revised by this run."
                    if plan_today is not None and len(plan_today)
                    else ""
                ),
            )
        )
    else:
        out.append("<p>No park plan: no site has a schedule.</p>")
    if shared:
        rows = [
            ["shared limit [kW]", _num(shared.get("limit_kw"))],
            ["largest net import [kW]", _num(shared.get("max_net_import_kw"))],
            ["smallest net import [kW]", _num(shared.get("min_net_import_kw"))],
            ["steps at the limit", _num(shared.get("binding_steps"))],
        ]
        out.append(html_table(["shared feeder limit", "target day"], rows))
    return "".join(out)


def _sites_table(summary: Mapping[str, Any]) -> str:
    sites = summary.get("sites") or {}
    if not isinstance(sites, Mapping) or not sites:
        return ""
    rows = [
        [escape(name), *(_num((v or {}).get(key)) for key, _ in SITE_COSTS)]
        for name, v in sites.items()
    ]
    total = [
        "<b>park</b>",
        _num(summary.get("total_cost_cny")),
        "",
        "",
        _num(summary.get("dr_payment_cny")),
        _num(summary.get("net_cost_cny")),
    ]
    head = ["site", *(h.format(cur=currency(summary)) for _, h in SITE_COSTS)]
    return html_table(head, [*rows, total], total_last=True)


def _window(e: Mapping[str, Any]) -> str:
    start, end = e.get("start"), e.get("end")
    try:
        a, b = pd.Timestamp(start), pd.Timestamp(end)
        return escape(f"{a:%Y-%m-%d %H:%M}–{b:%H:%M}")
    except (TypeError, ValueError):
        return escape(f"{start}–{end}")


def _dr_section(summary: Mapping[str, Any]) -> str:
    events = [e for e in summary.get("demand_response") or [] if isinstance(e, Mapping)]
    notices = (summary.get("sources") or {}).get("notices")
    if not events:
        if summary.get("status") not in (None, "ok"):
            return "<p>The fallback makes no demand-response offer.</p>"
        return "<p>No demand-response event on the target day.</p>"
    rows = []
    for e in events:
        s = e.get("settlement") or {}
        paid = s.get("paid")
        rows.append(
            [
                escape(e.get("name", "")),
                escape(str(e.get("kind", "")).replace("_", " ")),
                _window(e),
                _num(e.get("requested_kw")),
                f"<b>{_num(e.get('offered_kw'))}</b>",
                _num(e.get("payment_cny_per_kw"), 1),
                _num(
                    s.get("delivery_fraction") * 100
                    if isinstance(s.get("delivery_fraction"), (int, float))
                    else None,
                    0,
                ),
                f"<b>{_num(s.get('payment_cny'))}</b>",
                "yes" if paid is True else "no" if paid is False else "–",
            ]
        )
    out = [
        html_table(
            [
                "event",
                "kind",
                "window (local)",
                "requested [kW]",
                "offered [kW]",
                f"price [{currency(summary)}/kW]",
                "expected delivery [%]",
                f"expected payment [{currency(summary)}]",
                "paid",
            ],
            rows,
        )
    ]
    sites = list(
        dict.fromkeys(
            n
            for e in events
            for n in (*(e.get("delivered_kw_by_site") or {}), *(e.get("payment_by_site_cny") or {}))
        )
    )
    if sites:
        head = ["site"]
        for e in events:
            name = escape(e.get("name", ""))
            head += [f"{name}: delivered [kW]", f"{name}: payment [{currency(summary)}]"]
        body = [
            [
                escape(n),
                *(
                    cell
                    for e in events
                    for cell in (
                        _num((e.get("delivered_kw_by_site") or {}).get(n)),
                        _num((e.get("payment_by_site_cny") or {}).get(n)),
                    )
                ),
            ]
            for n in sites
        ]
        out.append("<h3>Expected delivery and payment by site</h3>" + html_table(head, body))
    if notices:
        out.append(
            f"<p class='note'>Events read from notices: {escape(', '.join(map(str, notices)))}.</p>"
        )
    fractions = [(e.get("settlement") or {}) for e in events]
    low = next(
        (f["min_fraction"] for f in fractions if isinstance(f.get("min_fraction"), float)), None
    )
    cap = next(
        (f["cap_fraction"] for f in fractions if isinstance(f.get("cap_fraction"), float)), None
    )
    if low is not None and cap is not None:
        out.append(
            f"<p class='note'>Expected settlement of the plan, not yet metered: an event is "
            f"paid when the delivery reaches {100 * low:.0f} % of the offer, counted up to "
            f"{100 * cap:.0f} % of it.</p>"
        )
    return "".join(out)


def _site_section(
    name: str,
    frame: pd.DataFrame,
    costs: Mapping[str, Any],
    summary: Mapping[str, Any],
    day_start: Any,
) -> str:
    """One site: its figure and a line of figures of its target day."""
    fallback = summary.get("status") not in (None, "ok")
    title = (
        f"{name}: "
        + ("safe fallback schedule" if fallback else "the plan")
        + (", rest of today (revised) and the target day")
    )
    cur, events = currency(summary), summary.get("demand_response") or []
    svg = site_svg(name, frame, day_start=day_start, events=events, title=title, currency=cur)
    caption = (
        "Top: site demand, PV used, battery (discharge positive, charge negative) and the "
        "grid exchange [kW]; below: each battery's state of charge at the start of each "
        f"step [kWh] and the energy price [{cur}/kWh, right axis]. Background: "
        "the price bands (legend: from the tariff's time-of-use periods or from the price levels); "
        "hatched: demand-response windows."
    )
    parts = [
        f"<h3 id='site-{escape(name)}'>{escape(name)}</h3>",
        html_figure(svg_uri(svg), f"{name}: plan", caption),
    ]
    shown = [(key, label.format(cur=cur)) for key, label in SITE_COSTS if key in costs]
    facts = [f"{label}: {_num(costs.get(key))}" for key, label in shown]
    if facts:
        parts.append(f"<p class='note'>Target day: {escape('; '.join(facts))}.</p>")
    return "".join(parts)


def _source_text(value: Any) -> str:
    """A source entry (``{method, file, issued_at, ...}`` or text) as one line."""
    if not isinstance(value, Mapping):
        return _plain(value)
    keys = [k for k in SOURCE_KEYS if k in value] + [k for k in value if k not in SOURCE_KEYS]
    first, rest = (keys[0], keys[1:]) if keys and keys[0] == "method" else (None, keys)
    text = str(value[first]) if first else ""
    details = ", ".join(f"{k.replace('_', ' ')} {_plain(value[k])}" for k in rest)
    return f"{text} ({details})" if text and details else text or details


def _sources_section(summary: Mapping[str, Any]) -> str:
    sources = summary.get("sources") or {}
    if not isinstance(sources, Mapping) or not sources:
        return "<p>No sources recorded.</p>"
    kinds = [k for k in ("load", "pv", "soc") if isinstance(sources.get(k), Mapping)]
    extra = [k for k, v in sources.items() if isinstance(v, Mapping) and k not in kinds and v]
    kinds += extra
    names = list(dict.fromkeys(n for k in kinds for n in sources[k]))
    headers = {"load": "load forecast", "pv": "PV forecast", "soc": "battery state"}
    rows = []
    for n in names:
        cells = [escape(n)]
        for k in kinds:
            value = sources[k].get(n)
            if k == "soc" and isinstance(value, Mapping):
                text = "; ".join(f"{b}: {_plain(v)}" for b, v in value.items()) or "no battery"
            else:
                text = "–" if value is None else _source_text(value)
            cells.append(escape(text))
        rows.append(cells)
    table = html_table(["site", *(escape(headers.get(k, k)) for k in kinds)], rows)
    table = table.replace("<td>", "<td class='left'>").replace("<th>", "<th class='left'>")
    out = [
        f"<p class='meta'>Decision time (now): {_clock(sources.get('now'))}</p>"
        if sources.get("now")
        else "",
        table,
    ]
    notices = sources.get("notices")
    if notices is not None:
        out.append(
            "<p class='note'>Demand-response events of the day: "
            f"{escape(', '.join(map(str, notices)) or 'none')}.</p>"
        )
    others = {k: v for k, v in sources.items() if k not in (*kinds, "now", "notices")}
    if others:
        out.append(
            html_table(
                ["other source", "value"],
                ([escape(k), escape(_plain(v))] for k, v in others.items()),
            )
        )
    return "".join(out)


def _revised_today(summary: Mapping[str, Any], today: Mapping[str, pd.DataFrame]) -> str:
    """The ``revised_today`` summary (any shape) and what the page shows of today."""
    revised = summary.get("revised_today")
    out = []
    if isinstance(revised, Mapping) and revised:
        rows = [
            [
                escape(k.replace(" / ", " · ")),
                _num(v, 1) if isinstance(v, (int, float)) else escape(_plain(v)),
            ]
            for k, v in flatten_mapping(revised).items()
        ]
        out.append(html_table(["rest of today (revised)", "value"], rows))
    elif revised:
        out.append(f"<p>{escape(_plain(revised))}</p>")
    shown = [n for n, f in today.items() if f is not None and len(f)]
    if shown:
        first = min(today[n].index[0] for n in shown)
        out.append(
            f"<p class='note'>The figures start at {_clock(first)}: the rest of today as this "
            f"run revised it ({escape(', '.join(shown))}), then the target day.</p>"
        )
    return "".join(out)


def job_report_html(
    summary: dict,
    schedules: dict[str, pd.DataFrame],
    plan: pd.DataFrame | None,
    today: dict[str, pd.DataFrame] | None = None,
    plan_today: pd.DataFrame | None = None,
) -> str:
    """The control-room page of one run of the daily job, as one HTML string.

    Parameters
    ----------
    summary : dict
        The run's ``summary.json`` (:func:`vpp.jobs.day.run_day`, a fallback's included);
        every key is optional.
    schedules : dict of str to pandas.DataFrame
        Each site's target-day schedule (15-min local-time index, label = start of step):
        ``load_kw``, ``price_cny_per_kwh`` [CNY/kWh], ``grid_import_kw``,
        ``grid_export_kw`` [kW] and the assets' columns, found by suffix; an optional
        ``tou_period`` column names the price bands.
    plan : pandas.DataFrame or None
        The park plan of the target day: ``<site>_net_import_kw``,
        ``park_net_import_kw``, ``park_load_kw`` and ``shared_limit_kw`` [kW] (NaN: none).
    today : dict of str to pandas.DataFrame, optional
        The revised rest of today per site (``now`` to midnight), as ``schedules``.
    plan_today : pandas.DataFrame, optional
        The park plan of the rest of today, as ``plan``.

    Returns
    -------
    str
        A self-contained page: inline style, figures as SVG data URIs, no script, no
        external reference.
    """
    today = {k: v for k, v in (today or {}).items() if v is not None}
    park = summary.get("park", "park")
    date = summary.get("date", "")
    day_start = _day_start(summary, [*schedules.values(), *([plan] if plan is not None else [])])
    title = f"vpp control room: {park} {date}".strip()
    fallback = summary.get("status") not in (None, "ok") or "failure" in summary
    shown = {n: f for n, f in schedules.items() if f is not None and len(f)}
    compact = len(shown) > job_figures.PAGE_FIGURE_MAX_SITES
    sites = [job_figures.compact_sites_html(shown)] if compact else []
    sites += [
        _site_section(
            n,
            joined(today.get(n), f),
            (summary.get("sites") or {}).get(n) or {},
            summary,
            day_start,
        )
        for n, f in ({} if compact else shown).items()
    ]
    missing = [n for n in (summary.get("sites_without_schedule") or {}) if n not in schedules]
    if missing:
        sites.append(
            f"<p class='bad'>No schedule for {escape(', '.join(missing))} (see above).</p>"
        )
    nav = [
        ("flags", "flags"),
        ("park", "park"),
        ("dr", "demand response"),
        ("sites", "sites"),
        ("sources", "sources"),
    ]
    if fallback:
        nav.insert(1, ("fallback", "fallback"))
    body = [
        f"<h1>{escape(title)}</h1>",
        f"<p class='meta'>Target day {escape(date)}; decided at "
        f"{_clock((summary.get('sources') or {}).get('now'))} (local time).</p>",
        _status(summary),
        _kpis(summary, plan),
        "<nav>" + "".join(f"<a href='#{k}'>{escape(v)}</a>" for k, v in nav) + "</nav>",
        f"<h2 id='flags'>Flags ({len(summary.get('flags') or [])})</h2>",
        _flags(summary),
        "<h2 id='fallback'>Fallback</h2>" + _fallback_section(summary) if fallback else "",
        "<h2 id='park'>Park: net import and the shared feeder limit</h2>",
        _park_section(summary, schedules, plan, plan_today, today, day_start, compact),
        _sites_table(summary),
        "<h2 id='dr'>Demand response: offers and expected settlement</h2>",
        _dr_section(summary),
        "<h2 id='sites'>Sites: plan, state of charge and price bands</h2>",
        _revised_today(summary, today),
        *sites,
        "<h2 id='sources'>Sources: where each forecast and state came from</h2>",
        _sources_section(summary),
        "<p class='note'>Written by vpp schedule beside summary.json, the schedules and the "
        "park plan of this run; times are local.</p>",
    ]
    return shield_non_finite(
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{JOB_CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )
