"""The scenario's currency label (issue 15, item 8): ``currency:`` at the top level.

Money amounts keep their ``_cny`` key names and are never converted; the label says which
currency they are in: ``summary.json`` (``currency``), the money lines the command line
prints, report.html, the figures' money axes, and the park's summary and lines. A park
whose sites mix currencies and a code that is not three upper-case letters are bad input
(exit 2). Without the key everything stays CNY.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import matplotlib.axes
import pytest
import yaml
from helpers import battery, scenario_dict, write_scenario

import vpp.cli
from vpp.errors import EXIT_BAD_INPUT, DataError, ScenarioError
from vpp.portfolio.park import load_park
from vpp.report.compare import compare_table

ROOT = Path(__file__).resolve().parent.parent
PARK = ROOT / "scenarios" / "park" / "xushuguan-park.yaml"

#: A money heading or amount labelled in CNY: "[CNY", " CNY" after a number, "CNY/".
CNY_LABEL = re.compile(r"\[CNY|\d CNY|CNY/|CNY per")


def small_case(folder: Path, **top: object) -> Path:
    """A two-day site with PV, a battery and a TOU-free price series; ``top`` keys added."""
    n = 48
    load = [100.0 + 40.0 * ((h % 24) in range(8, 20)) for h in range(n)]
    pv = [max(0.0, 60.0 - 8.0 * abs((h % 24) - 12)) for h in range(n)]
    price = [0.3 if (h % 24) < 8 else 0.9 for h in range(n)]
    data = scenario_dict(
        folder,
        load,
        pv_kw=pv,
        price=price,
        batteries=[battery(energy_kwh=100.0, power_kw=50.0, eta_c=0.95, eta_d=0.95)],
    )
    data.update(top)
    return write_scenario(folder, data)


def run_and_read(
    path: Path, out: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict, str, str, list[str]]:
    """Run the CLI; the summary, the printed text, report.html and every axis label drawn."""
    labels: list[str] = []
    original = matplotlib.axes.Axes.set_ylabel

    def record(self: matplotlib.axes.Axes, label: str, *args: object, **kwargs: object) -> object:
        labels.append(str(label))
        return original(self, label, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "set_ylabel", record)
    assert vpp.cli.main(["run", str(path), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    html = (out / "report.html").read_text(encoding="utf-8")
    return summary, text, html, labels


def test_a_usd_scenario_labels_its_money_usd(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = small_case(tmp_path, currency="USD")
    summary, text, html, labels = run_and_read(path, tmp_path / "out", capsys, monkeypatch)
    assert summary["currency"] == "USD"
    assert "bill [USD]" in text and not CNY_LABEL.search(text), text
    assert "bill [USD]" in html and "savings vs baseline</th><th>[USD]" in html
    assert "baseline [USD]" in html and "total cost [USD]" in html  # monthly, key figures
    assert re.search(r"<b>-?[\d,]+ USD</b>", html)  # the savings card
    assert not CNY_LABEL.search(html), CNY_LABEL.findall(html)
    money_axes = [label for label in labels if "USD" in label]
    assert money_axes, labels  # the price axis and the monthly bill
    assert not any(CNY_LABEL.search(label) for label in labels), labels
    # `vpp compare`: one currency per table; runs in two are refused
    table = compare_table({"a": summary, "b": summary})
    assert list(table["currency"]) == ["USD", "USD"]
    with pytest.raises(DataError, match="different currencies"):
        compare_table({"a": summary, "b": {**summary, "currency": "EUR"}})


def test_without_the_key_money_stays_cny(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary, text, html, labels = run_and_read(
        small_case(tmp_path), tmp_path / "out", capsys, monkeypatch
    )
    assert summary["currency"] == "CNY"
    assert "bill [CNY]" in text and "USD" not in text
    assert "bill [CNY]" in html
    assert "bill [CNY per month]" in labels and "price\n[CNY/kWh]" in labels


@pytest.mark.parametrize("code", ["usd", "US", "USDX", "U$D", ""])
def test_a_currency_that_is_not_three_capitals_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture, code: object
) -> None:
    path = small_case(tmp_path, currency=code)
    assert vpp.cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "currency" in err and "three upper-case letters" in err, err


def park_with(tmp_path: Path, currencies: list[str]) -> Path:
    """The demo park with its sites' files given ``currencies`` in order."""
    data = yaml.safe_load(PARK.read_text(encoding="utf-8"))
    shutil.copytree(PARK.parent / "sites", tmp_path / "sites", dirs_exist_ok=True)
    for ref, code in zip(data["sites"], currencies):
        site_path = tmp_path / ref["file"]
        site = yaml.safe_load(site_path.read_text(encoding="utf-8"))
        site["currency"] = code
        site_path.write_text(yaml.safe_dump(site, sort_keys=False), encoding="utf-8")
    path = tmp_path / "park.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_a_park_whose_sites_mix_currencies_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = park_with(tmp_path, ["USD", "USD", "EUR", "USD"])
    with pytest.raises(ScenarioError) as exc:
        load_park(path)
    assert "different currencies" in str(exc.value) and "EUR" in str(exc.value)
    assert vpp.cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == EXIT_BAD_INPUT


def test_a_usd_park_labels_its_money_usd(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = park_with(tmp_path, ["USD"] * 4)
    out = tmp_path / "out"
    assert vpp.cli.main(["run", str(path), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "bill [USD]" in text and not CNY_LABEL.search(text), text
    summary = json.loads((out / "park_summary.json").read_text(encoding="utf-8"))
    assert summary["currency"] == "USD"
    site = json.loads((out / "sites" / "logistics" / "summary.json").read_text(encoding="utf-8"))
    assert site["currency"] == "USD"


def test_the_daily_job_labels_its_plan_in_the_park_currency() -> None:
    import pandas as pd

    from vpp.jobs.plan_text import plan_text
    from vpp.report.job_figures import site_svg

    summary = {
        "status": "ok",
        "currency": "USD",
        "date": "2026-07-16",
        "sites": {"a": {"import_kwh": 100.0, "peak_import_kw": 10.0, "energy_cost_cny": 5.0}},
        "demand_response": [
            {
                "name": "ev1",
                "start": "2026-07-16T17:00",
                "end": "2026-07-16T19:00",
                "offered_kw": 1.0,
                "requested_kw": 2.0,
                "settlement": {"payment_cny": 3.0},
            }
        ],
    }
    text = plan_text(summary)
    assert "energy USD" in text and "3 USD" in text and "CNY" not in text, text
    assert "energy CNY" in plan_text({**summary, "currency": None})  # an old summary
    index = pd.date_range("2026-07-16", periods=4, freq="1h", tz="Asia/Shanghai")
    frame = pd.DataFrame(
        {
            "load_kw": 10.0,
            "price_cny_per_kwh": [0.1, 0.2, 0.3, 0.4],
            "grid_import_kw": 10.0,
            "grid_export_kw": 0.0,
        },
        index=index,
    )
    assert "price [USD/kWh]" in site_svg("a", frame, currency="USD")


# ---------------------------------------------------------------- sweeps and park files
# (session 8: sweep figures labelled CNY whatever the scenario; a park file could not
# state its currency)


def record_labels(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every axis label, colour-bar label and figure title drawn from now on."""
    import matplotlib.colorbar
    import matplotlib.figure

    labels: list[str] = []
    for owner, name in (
        (matplotlib.axes.Axes, "set_ylabel"),
        (matplotlib.axes.Axes, "set_xlabel"),
        (matplotlib.colorbar.Colorbar, "set_label"),
        (matplotlib.figure.Figure, "suptitle"),
    ):
        original = getattr(owner, name)

        def record(self, label, *args, _original=original, **kwargs):
            labels.append(str(label))
            return _original(self, label, *args, **kwargs)

        monkeypatch.setattr(owner, name, record)
    return labels


def eur_sweep(tmp_path: Path, parameters: dict) -> Path:
    """A sweep file over the small EUR case."""
    scenario = small_case(tmp_path, currency="EUR")
    data = {"scenario": scenario.name, "mode": "run", "parameters": parameters}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("varying", [1, 2])  # a line chart, heat maps
def test_a_eur_sweep_labels_its_money_eur(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, varying: int
) -> None:
    import pandas as pd

    from vpp.planning.sweep_definition import load_sweep
    from vpp.report.sweep_figures import write_sweep

    price = "site.grid.energy_price.values"  # not a key of the case: only a label here
    parameters = {"site.batteries[0].energy_kwh": [50.0, 100.0]}
    sweep = load_sweep(eur_sweep(tmp_path, parameters), allow_outside=True)
    definition = sweep.definition()
    assert definition["currency"] == "EUR"
    if varying == 2:
        definition["parameters"][f"{price}.peak_cny_per_kwh"] = [0.5, 1.0]
    axes = definition["parameters"]
    rows = [
        {
            **dict(zip(axes, combo)),
            "total_cost_cny": 12_345.0 * (i + 1),  # above 1e4: drawn in 10³ EUR
            "savings_cny": 10.0 * i,
            "peak_shaving_max_kw": 5.0,
            "status": "ok",
        }
        for i, combo in enumerate(
            [(e, p) for e in axes["site.batteries[0].energy_kwh"] for p in [0.5, 1.0]][
                : 2 if varying == 1 else 4
            ]
        )
    ]
    table = pd.DataFrame(rows)
    if varying == 1:
        table = table.drop(columns=[c for c in table if c.startswith(price)], errors="ignore")
    labels = record_labels(monkeypatch)
    write_sweep(table, definition, tmp_path / "out")
    info = json.loads((tmp_path / "out" / "sweep.json").read_text(encoding="utf-8"))
    assert info["currency"] == "EUR"
    text = "\n".join(labels)
    assert "total cost [10³ EUR]" in text and "savings [EUR]" in text, labels
    if varying == 2:
        assert "[EUR/kWh]" in text, labels  # a money parameter on an axis
    assert not CNY_LABEL.search(text) and "CNY" not in text, labels


def test_a_sweep_over_several_currencies_is_refused(tmp_path: Path) -> None:
    from vpp.planning.sweep_definition import load_sweep

    path = eur_sweep(tmp_path, {"currency": ["EUR", "USD"]})
    with pytest.raises(ScenarioError) as exc:
        load_sweep(path, allow_outside=True)
    text = str(exc.value)
    assert "one currency" in text and "parameters.currency" in text and "USD" in text, text
    # one currency swept is fine, and labels the figures
    assert load_sweep(eur_sweep(tmp_path, {"currency": ["USD"]}), allow_outside=True).currency == (
        "USD"
    )


def park_file_with(tmp_path: Path, park_code: str, site_codes: list[str | None]) -> Path:
    """The demo park stating ``currency: park_code``, its sites' files ``site_codes`` (None:
    the file states none)."""
    path = park_with(tmp_path, ["XXX"] * len(site_codes))
    for ref, code in zip(yaml.safe_load(path.read_text(encoding="utf-8"))["sites"], site_codes):
        site_path = tmp_path / ref["file"]
        site = yaml.safe_load(site_path.read_text(encoding="utf-8"))
        site.pop("currency")
        if code is not None:
            site["currency"] = code
        site_path.write_text(yaml.safe_dump(site, sort_keys=False), encoding="utf-8")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data = {"name": data.pop("name"), "currency": park_code, **data}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_a_eur_park_file_labels_its_outputs_eur(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = park_file_with(tmp_path, "EUR", ["EUR"] * 4)
    assert load_park(path).currency == "EUR"
    labels = record_labels(monkeypatch)
    out = tmp_path / "out"
    assert vpp.cli.main(["run", str(path), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "bill [EUR]" in text and not CNY_LABEL.search(text), text
    summary = json.loads((out / "park_summary.json").read_text(encoding="utf-8"))
    assert summary["currency"] == "EUR"
    for name in summary["sites"]:
        html = (out / "sites" / name / "report.html").read_text(encoding="utf-8")
        assert "bill [EUR]" in html and not CNY_LABEL.search(html), CNY_LABEL.findall(html)
        site = json.loads((out / "sites" / name / "summary.json").read_text(encoding="utf-8"))
        assert site["currency"] == "EUR"
    assert any("EUR" in label for label in labels), labels  # the sites' money axes
    assert not any(CNY_LABEL.search(label) for label in labels), labels


@pytest.mark.parametrize("codes", [["EUR", "EUR", "USD", "EUR"], ["EUR", None, "EUR", "EUR"]])
def test_a_site_that_disagrees_with_the_park_currency_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture, codes: list[str | None]
) -> None:
    path = park_file_with(tmp_path, "EUR", codes)
    assert vpp.cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    bad = next(i for i, code in enumerate(codes) if code != "EUR")
    other = codes[bad] or "CNY"  # a site file without the key is in CNY
    site_file = yaml.safe_load(path.read_text(encoding="utf-8"))["sites"][bad]["file"]
    assert str(path) in err and site_file in err, err  # the park file and the site's
    assert f"in {other}, the park in EUR" in err, err  # both values
    assert "currency: EUR" in err and f"currency: {other}" in err, err  # the fix, both ways
    assert not (tmp_path / "out").exists()
