"""``vpp forecast``: a day-ahead PV forecast from a weather forecast, or the skill of
past forecasts against measurements, written as an output folder.

:func:`run_forecast` reads the scenario, forecasts (or evaluates) and writes the folder
(:mod:`vpp.report.forecast_figures`); the command line only parses its arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vpp.report.forecast_figures import write_evaluation, write_pv_forecast
from vpp.report.outdir import check_output_folder
from vpp.scenario import load_scenario
from vpp.solar import forecast as fc
from vpp.solar import forecast_reader as fr
from vpp.solar.forecast_evaluation import evaluate_forecasts, format_evaluation

__all__ = ["ForecastRun", "run_forecast"]


@dataclass(frozen=True)
class ForecastRun:
    """The outcome of :func:`run_forecast`.

    Attributes
    ----------
    text : str
        The summary for the terminal (forecast or evaluation).
    written : list of pathlib.Path
        The files written.
    """

    text: str
    written: list[Path]


def run_forecast(
    scenario_path: str | Path,
    *,
    weather: str | None = None,
    now: str | None = None,
    evaluate: str | None = None,
    forecasts_dir: str | Path | None = None,
    out: str | Path | None = None,
    allow_outside: bool = False,
) -> ForecastRun:
    """Forecast the scenario's PV from a weather forecast, or evaluate past forecasts.

    Parameters
    ----------
    scenario_path : str or pathlib.Path
        The site scenario; its PV arrays must be modelled (rooftop, carport).
    weather : str, optional
        The weather forecast file; None takes the scenario's
        (:func:`vpp.solar.forecast_reader.forecast_file`).
    now : str, optional
        The time the forecast is made (local), text as ``--now`` gives it.
    evaluate : str, optional
        A measured PV file: evaluate the forecasts in ``forecasts_dir`` against it
        instead of forecasting.
    forecasts_dir : str or pathlib.Path, optional
        The folder of past weather forecasts to evaluate (with ``evaluate``).
    out : str or pathlib.Path, optional
        The output folder; None writes ``runs/<scenario>/forecast-<date>`` (forecast)
        or ``runs/<scenario>/forecast-evaluation`` (evaluation).
    allow_outside : bool
        Let the scenario name files outside its project folder.

    Returns
    -------
    ForecastRun
        The text to print and the files written.

    Raises
    ------
    vpp.errors.VppError
        A bad scenario, forecast or measured file, or an unsafe output folder.
    """
    path = Path(scenario_path)
    scenario = load_scenario(path, allow_outside=allow_outside)
    fc.modelled_arrays(scenario, file=str(path))
    runs = Path("runs") / scenario.name
    if evaluate:
        folder = Path(forecasts_dir) if forecasts_dir is not None else Path("forecasts")
        files = fr.forecast_files(folder, exclude=[evaluate])
        target = Path(out) if out else runs / "forecast-evaluation"
        check_output_folder(target, inputs=[path, folder, evaluate])
        evaluation = evaluate_forecasts(scenario, files, evaluate)
        written = write_evaluation(evaluation, target, title=scenario.name)
        return ForecastRun(format_evaluation(evaluation), written)
    file, where = fr.forecast_file(scenario, weather, scenario_file=str(path))
    moment = fr.now_from_text(now, scenario.timezone)
    forecast = fr.read_forecast(file, location=scenario.site.location, now=moment, where=where)
    day = forecast.start.tz_convert(scenario.timezone)
    target = Path(out) if out else runs / f"forecast-{day:%Y-%m-%d}"
    check_output_folder(target, inputs=[path, file])
    frame = fc.pv_forecast_kw(scenario, forecast, where=where)
    written = write_pv_forecast(frame, forecast, target, title=scenario.name)
    return ForecastRun(fc.summarize_pv_forecast(frame, forecast), written)
