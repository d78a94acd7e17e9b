"""Monitoring on the platform: a site's and the park's day, month and carbon account.

Everything here reads the database's readings and schedules and reuses ``vpp``'s own
bill, tariff and emission code; nothing re-derives a tariff:

- :mod:`~vpp.platform.monitoring.data`: readings on the site's step grid, the site's
  scenario (from its park file) and its tariff and grid-factor series for a month
  (:func:`vpp.inputs.build_inputs`, the calendar in force, cached).
- :mod:`~vpp.platform.monitoring.compute`: pure functions over those frames: the
  account's additive parts per day, and from them the month's energy, peak, basic charge
  and bill (the grid unit's own :class:`~vpp.assets.grid.money.GridMoney`), the carbon
  account (:func:`vpp.emissions.flows_account`), the pre-assessment, carbon assets.
- :mod:`~vpp.platform.monitoring.days`: the past days' parts stored per site and local
  day (table ``monitoring_days``), recomputed only when a reading of that day arrives
  or the site's tariff changes.
- :mod:`~vpp.platform.monitoring.today`: today's plan against actuals.
- :mod:`~vpp.platform.monitoring.service`: the two entry points :func:`site_monitor` and
  :func:`park_monitor` (what the API and the dashboard show), the park's sums, telemetry
  gaps and runs.
- :mod:`~vpp.platform.monitoring.api`: the JSON routes under ``/api/v1/monitoring``.
"""
