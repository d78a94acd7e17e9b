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
    columns: dict[str, str] = {}
