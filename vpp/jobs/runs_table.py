"""The run registry's rows as a plain-text table (``vpp runs``)."""

from __future__ import annotations

#: Characters of the message shown by :func:`format_runs`.
MESSAGE_WIDTH = 60


def format_runs(rows: list[dict]) -> str:
    """A plain-text table of runs: id, date, park, status, exit, started, duration, ..."""
    if not rows:
        return "no runs match"
    header = (
        "id",
        "date",
        "park",
        "status",
        "exit",
        "started (UTC)",
        "duration_s",
        "objective_cny",
        "message",
    )
    right = {0, 4, 6, 7}
    table = [header]
    for r in rows:
        message = " ".join((r.get("message") or "").split())
        if len(message) > MESSAGE_WIDTH:
            message = message[: MESSAGE_WIDTH - 3] + "..."
        started = (r.get("started_at") or "")[:19].replace("T", " ")
        duration, objective = r.get("duration_s"), r.get("objective_cny")
        table.append(
            (
                str(r["id"]),
                r["date"],
                r["park"],
                r["status"],
                "" if r.get("exit_code") is None else str(r["exit_code"]),
                started,
                "" if duration is None else f"{duration:.1f}",
                "" if objective is None else f"{objective:,.2f}",
                message,
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = []
    for line in table:
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(line, widths))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
