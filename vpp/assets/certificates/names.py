"""The name of the site's green account, the prefix of its schedule columns."""

from __future__ import annotations

__all__ = ["GREEN_ASSET"]

#: Asset name of the site's green account (kind ``certificates``): its columns are
#: ``green_used_kw``, ``green_certificates_kw``, ``green_<battery>_soc_kwh``, ...
GREEN_ASSET = "green"
