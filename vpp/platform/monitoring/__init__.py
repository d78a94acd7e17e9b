"""Monitoring on the platform: a site's and the park's day, month and carbon account.

Everything here reads the database's readings and schedules and reuses ``vpp``'s own
bill, tariff and emission code; nothing re-derives a tariff:

- :mod:`~vpp.platform.monitoring.data`: readings on the site's step grid, the site's
  scenario (from its park file) and its tariff and grid-factor series for a month
  (:func:`vpp.inputs.build_inputs`, the calendar in force, cached).
- :mod:`~vpp.platform.monitoring.compute`: pure functions over those frames: today's plan
  against actuals, the month's energy, peak, basic charge and bill (the grid unit's own
  :class:`~vpp.assets.grid.money.GridMoney`), the carbon account
  (:func:`vpp.emissions.flows_account`), the pre-assessment, carbon assets, the park's sums.
- :mod:`~vpp.platform.monitoring.service`: the two entry points :func:`site_monitor` and
  :func:`park_monitor` (what the API and the dashboard show), telemetry gaps and runs.
- :mod:`~vpp.platform.monitoring.api`: the JSON routes under ``/api/v1/monitoring``.
"""
