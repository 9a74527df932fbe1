"""The 2.0.1 cs-role verdicts of blocks A (security), K (smart charging), M (certificates) and
J (meter values), issue 20 points 2-4:

- against our own station (`--self`): every implemented case of these blocks passes, none
  fails; what the station lacks (ISO15118Ctrlr, AdditionalRootCertificateCheck true, a second
  EVSE) is not applicable with the reason;
- against the independent station (`indep_station201`, the `ocpp` package's ChargePoint with
  its own certificate store and hash data): the legal one passes the M cases, the illegal
  `expired-root-accepted` (M05.FR.07) fails exactly TC_M_07_CS;
- fast: the certificate hash matching, the composite-schedule judge and the sim's capacity
  reads (maxLimit, not the count installed).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from conformance.expect import Mismatch
from conformance.v201.states_akmj import Root, expect_limits, limit_at, listed, root, same_hash
from tests.conformance.helpers import Background
from tests.conformance.v201.test_verdicts_cs import _outcomes

BLOCKS = ("TC_A_", "TC_K_", "TC_M_", "TC_J_")
SELF_SELECTION = "TC_A or TC_K or TC_M or TC_J"
#: the M cases a station without ISO15118Ctrlr and without AdditionalRootCertificateCheck runs
M_RUN = {"TC_M_01_CS", "TC_M_02_CS", "TC_M_07_CS", "TC_M_12_CS", "TC_M_13_CS", "TC_M_17_CS",
         "TC_M_18_CS", "TC_M_19_CS", "TC_M_20_CS", "TC_M_22_CS"}


A_BASIC = ("TC_A_01_CS", "TC_A_09_CS", "TC_A_10_CS", "TC_A_22_CS")


def _run(tmp_path, command: list[str]) -> tuple[int, str, dict]:
    code, output, cases, _ = Background(tmp_path, command).wait()
    return code, output, {c: e for c, e in cases.items() if c.startswith(BLOCKS)}


def _indep(variant: str) -> list[str]:
    import sys
    return [sys.executable, "-m", "tests.conformance.v201.indep_station201", variant,
            "--timeout", "3", "--", "-q", "-p", "no:cacheprovider", "-p", "no:warnings",
            "-k", "TC_M"]


@pytest.mark.slow
def test_self_station_at_profile_1(tmp_path):
    """Our station dialling with HTTP Basic (`self_profile1`): the password cases pass (the
    listener admits only the configured password, then the new one after TC_A_09)."""
    import sys

    code, output, cases = _run(tmp_path, [
        sys.executable, "-m", "tests.conformance.v201.self_profile1", "--", "-q",
        "-p", "no:warnings", "-k", "TC_A"])
    ran = _outcomes(cases)
    assert code == 0, output[-3000:]
    assert {c for c, o in ran.items() if o == "passed"} == set(A_BASIC), output[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize(("variant", "failing"), [("legal", set()),
                                                  ("expired-root-accepted", {"TC_M_07_CS"})])
def test_independent_station_certificates(tmp_path, variant, failing):
    """The independent station's own store and hash data: the legal one passes the M cases
    it can run; accepting an expired root (M05.FR.07) fails TC_M_07_CS and nothing else."""
    code, output, cases = _run(tmp_path, _indep(variant))
    ran = _outcomes(cases)
    failed = {c for c, o in ran.items() if o in ("failed", "error")}
    assert failed == failing, output[-3000:]
    assert {c for c, o in ran.items() if o == "passed"} == M_RUN - failing
    assert code == (1 if failing else 0)
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert summary["cases"]


# Fast: the parts, without any process ------------------------------------------------------


def test_hash_data_matching():
    """A certificate is found by its hash data in any allowed algorithm, hex case and the
    serial's leading zeroes ignored; another certificate or type is not."""
    cert, other = root("CSMSRootCertificate"), root("ManufacturerRootCertificate")
    data = cert.hash_data("SHA384")
    shouted = {**data, "issuerKeyHash": data["issuerKeyHash"].upper(),
               "serialNumber": "00" + data["serialNumber"]}
    reply = {"certificateHashDataChain": [
        {"certificateType": "CSMSRootCertificate", "certificateHashData": shouted}]}
    assert listed(reply, cert, "CSMSRootCertificate")
    assert not listed(reply, cert, "ManufacturerRootCertificate")
    assert not listed(reply, other)
    assert not same_hash(cert.hash_data(), other.hash_data())
    assert len(cert.hash_data("SHA512")["issuerNameHash"]) == 128


def test_expired_root_is_expired():
    expired = root("CSMSRootCertificate", expired=True)
    assert isinstance(expired, Root)
    assert expired.certificate.not_valid_after_utc < datetime.now(UTC)


def test_composite_judge():
    """Limits are judged at the middle of each expected span, shifted by the x between the
    profile's start and the schedule's scheduleStart; a wrong limit is a Mismatch."""
    since = datetime(2026, 1, 1, tzinfo=UTC)
    schedule = {"scheduleStart": (since + timedelta(seconds=10)).isoformat(), "duration": 350,
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7.0},
                                           {"startPeriod": 90, "limit": 9.0},
                                           {"startPeriod": 140, "limit": 8.0},
                                           {"startPeriod": 190, "limit": 10.0}]}
    assert limit_at(schedule["chargingSchedulePeriod"], 100) == 9.0
    expect_limits(schedule, since.isoformat(),
                  [(0, 100, 7.0), (100, 150, 9.0), (150, 200, 8.0), (200, 350, 10.0)])
    with pytest.raises(Mismatch):
        expect_limits(schedule, since.isoformat(), [(150, 200, 9.0)])


def test_sim_capacities_are_max_limits():
    """sim/v201: SmartChargingCtrlr.Entries[ChargingProfiles] and SecurityCtrlr.
    CertificateEntries count what is installed; the capacity is their maxLimit (part 2
    appendix), not their value (0 in the default model, which rejected everything)."""
    from conformance.v201.selfstation import DEFAULT_MODEL
    from sim.v201.device_model import DeviceModel
    from sim.v201.feature_config import FeatureConfig
    from sim.v201.settings import Settings

    settings = Settings(DeviceModel.load(DEFAULT_MODEL))
    config = FeatureConfig(settings, "CS-1", lambda: 1)
    assert settings.text("CertificateEntries") == "0"
    assert config.get("Security", "CertificateStoreMaxLength") == 50
    assert config.get("SmartCharging", "MaxChargingProfilesInstalled") == 40
