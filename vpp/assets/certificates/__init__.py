"""The certificates asset unit (see :mod:`vpp.assets.base`)."""

from __future__ import annotations

from vpp.assets.base import AssetUnit
from vpp.assets.certificates.block import CertificatesBlock
from vpp.assets.certificates.money import CertificatesMoney
from vpp.assets.certificates.operation import CertificatesOperation
from vpp.assets.certificates.rules import CertificatesRules
from vpp.scenario.green import RenewableTarget


class CertificatesUnit(
    CertificatesBlock, CertificatesMoney, CertificatesRules, CertificatesOperation, AssetUnit
):
    """The certificates: scenario entries under ``site.renewable_target``."""

    kind = "certificates"
    site_key = "renewable_target"
    spec_model = RenewableTarget
    columns: dict[str, str] = {
        "green_used_kw": "kW: green power used on site",
        "green_certificates_kw": "kW: grid import covered by bought certificates",
        "green_shortfall_kw": "kW: green share short of the target (elastic diagnosis only)",
        "green_<battery>_charge_kw": "kW: green power charged into a green-storage battery",
        "green_<battery>_discharge_kw": "kW: green power discharged from it",
        "green_<battery>_soc_kwh": "kWh: its green state of charge at the start of the step",
    }
    roles: dict[str, str] = {}
    on_site = False
