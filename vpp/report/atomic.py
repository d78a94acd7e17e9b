"""Write output folders atomically, and schedules as CSV (no Pyomo, no matplotlib here)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv


def write_folder_atomically(
    out_dir: str | Path, names: Sequence[str], fill: Callable[[Path], None]
) -> list[Path]:
    """Create ``out_dir`` with the files ``fill(tmp)`` writes, all at once or not at all.

    ``fill`` writes into a temporary folder beside ``out_dir``; only when it returns is
    the folder moved into place, replacing an earlier one as a whole. Any failure
    removes the temporary folder and leaves ``out_dir`` as it was.

    Returns
    -------
    list of pathlib.Path
        ``out_dir / name`` for each of ``names``.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        fill(tmp)
        old = None
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out_dir / n for n in names]


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a time-indexed frame as CSV: ISO 8601 timestamps with offset, then the columns.

    pyarrow's writer is about ten times faster than pandas' for a year of steps.
    """
    index = frame.index
    offset = index.strftime("%z")
    stamps = index.strftime("%Y-%m-%dT%H:%M:%S") + offset.str[:3] + ":" + offset.str[3:]
    columns = {index.name or "timestamp": pa.array(np.asarray(stamps, dtype=object))}
    columns.update({str(c): pa.array(frame[c].to_numpy()) for c in frame.columns})
    with open(path, "wb") as out:
        out.write((",".join(columns) + "\n").encode("utf-8"))
        pa_csv.write_csv(
            pa.table(columns),
            out,
            write_options=pa_csv.WriteOptions(include_header=False, quoting_style="none"),
        )
