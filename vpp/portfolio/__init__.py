"""Many sites as one virtual power plant: aggregation and demand response (需求响应).

:mod:`vpp.portfolio.dr` holds the demand-response rules as data
(``vpp/portfolio/data/jiangsu-demand-response.yaml``) and the pure functions that settle
an event and share its payment among the park's sites; :mod:`vpp.portfolio.dr_baseline`
picks the baseline days and computes the baseline load from meter history.
"""
