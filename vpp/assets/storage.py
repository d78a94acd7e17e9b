r"""Storage dynamics, written once for every store (batteries, EV fleets, green storage).

Every store follows, for every step :math:`t` of length :math:`\Delta t` [h]:

.. math::

    S_{t+1} = k\, S_t + \eta^{ch} C_t \Delta t - D_t \Delta t / \eta^{dis},
    \qquad k = (1 - \sigma)^{\Delta t}

with :math:`S` the stored energy [kWh] at the start of a step, :math:`C` and :math:`D`
the charging and discharging power on the bus side [kW], :math:`\eta` the efficiencies
[-] and :math:`\sigma` the self-discharge per hour [-]. :class:`StorageDynamics` gives the
coefficients; the Pyomo models and the numpy rules (rule-based baseline, real-time rule)
all take them from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StorageDynamics:
    """The coefficients of the storage equation on one step.

    Parameters
    ----------
    dt_h : float
        Step [h].
    charge_efficiency, discharge_efficiency : float
        :math:`\\eta^{ch}`, :math:`\\eta^{dis}` [-], in (0, 1].
    self_discharge_fraction_per_h : float
        :math:`\\sigma` [1/h], in [0, 1).
    """

    dt_h: float
    charge_efficiency: float = 1.0
    discharge_efficiency: float = 1.0
    self_discharge_fraction_per_h: float = 0.0

    @classmethod
    def of(cls, spec: object, dt_h: float) -> StorageDynamics:
        """From a scenario entry with ``charge_efficiency``, ``discharge_efficiency`` and
        ``self_discharge_fraction_per_h`` (missing ones take the lossless defaults)."""
        return cls(
            dt_h,
            float(getattr(spec, "charge_efficiency", 1.0)),
            float(getattr(spec, "discharge_efficiency", 1.0)),
            float(getattr(spec, "self_discharge_fraction_per_h", 0.0)),
        )

    @property
    def keep(self) -> float:
        """:math:`k = (1-\\sigma)^{\\Delta t}`: the share of the state kept over a step [-]."""
        return (1.0 - self.self_discharge_fraction_per_h) ** self.dt_h

    @property
    def gain_kwh_per_kw(self) -> float:
        """:math:`\\eta^{ch} \\Delta t`: stored energy per kW charged over a step [kWh/kW]."""
        return self.charge_efficiency * self.dt_h

    @property
    def loss_kwh_per_kw(self) -> float:
        """:math:`\\Delta t / \\eta^{dis}`: stored energy per kW discharged over a step [kWh/kW]."""
        return self.dt_h / self.discharge_efficiency

    def next_kwh(self, soc_kwh: float, charge_kw: float, discharge_kw: float) -> float:
        """:math:`S_{t+1}` from :math:`S_t`, :math:`C_t`, :math:`D_t` [kWh]."""
        return (
            self.keep * soc_kwh
            + self.gain_kwh_per_kw * charge_kw
            - self.loss_kwh_per_kw * discharge_kw
        )
