"""ChargeBench's own 2.0.1 station as the Charging Station under test (`chargebench conform
--ocpp 2.0.1 --role cs --self`): one `sim.v201.station.ChargingStation` on the simulator's
default device model (a libocpp component_config folder, `sim/v201/default_config`), on an
accelerated clock, dialling the harness's `--cb-listen` address.

The operator hook drives it through `conformance.selfsim.SimControl` (the control surface the
1.6 simulator has: plug_in, present_id_tag, plug_out, ev_full, go_offline, power_loss, ...), as
a person at the station would. Nothing of the suite is told how the station is configured: the
cases read its device model over OCPP (`conformance.v201.prerequisites`).
"""

from __future__ import annotations

from pathlib import Path

from chargebench.clock import Clock
from sim.v201.device_model import DeviceModel
from sim.v201.station import ChargingStation

#: the simulator's default device model
DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "sim" / "v201" / "default_config"
#: simulated seconds per wall-clock second (EVConnectionTimeOut 90 s: 4.5 s of wall time)
SPEED = 20.0
#: what the self run changes, beside the device model: quick reconnects (values the cases
#: never set: a setting here would win over a SetVariables)
OVERRIDES = {"RetryBackOffWaitMinimum": "1", "RetryBackOffRandomRange": "0",
             "RetryBackOffRepeatTimes": "0",
             # KNOWN sim/v201 defect (reported): the station reads its maximum number of
             # charging profiles from SmartChargingCtrlr.Entries[ChargingProfiles], which part
             # 2 defines as the number installed (0 in the default model; the maximum is its
             # maxLimit, 40), and then rejects every profile; the self run gives the maximum
             "ChargingProfileEntries": "40"}


def build(station_id: str, url: str, *, state_dir: Path, speed: float = SPEED,
          model: Path = DEFAULT_MODEL, fault_plan: object = None) -> ChargingStation:
    """The station configured for the suite, not yet started."""
    from sim.fleet import station_201  # one home for building a station on a template

    station = station_201(DeviceModel.load(model), station_id, csms_url=url,
                          clock=Clock(speed), state_dir=state_dir, settings=OVERRIDES)
    station.call_timeout = 5.0
    station.fault_plan = fault_plan  # type: ignore[assignment]
    return station
