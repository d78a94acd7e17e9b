"""The carbon-asset ledger: what an enterprise holds and owes in green power,
certificates and carbon allowances, from settlements, registries and verifications.

- :mod:`~vpp.platform.carbon_ledger.tables`: the table ``carbon_entries`` (revision 0012).
- :mod:`~vpp.platform.carbon_ledger.kinds`: the entry kinds, a new entry's body and its
  checks against the site's scenario.
- :mod:`~vpp.platform.carbon_ledger.store`: an entry recorded (corrections supersede,
  nothing is overwritten) and the entries of many sites in one query.
- :mod:`~vpp.platform.carbon_ledger.view`: a site's carbon assets (pure) and the park's sums.
- :mod:`~vpp.platform.carbon_ledger.service`: the views of registered sites.
- :mod:`~vpp.platform.carbon_ledger.api`: the routes under ``/api/v1``.

:func:`install` adds the routes to the platform's app.
"""

from __future__ import annotations

from typing import Any

__all__ = ["install"]


def install(app: Any) -> None:
    """Add the ledger's routes to the platform's ``app``."""
    from vpp.platform.carbon_ledger.api import router

    app.include_router(router)
