"""Security events: security log, critical events queued and delivered (whitepaper A04, §8)."""

from __future__ import annotations

from chargebench.ocppj.v16 import OCPP16
from chargebench.ocppj.validation import check_payload
from sim.features.security_events import CRITICAL, EVENT_TYPES, SecurityEvents
from sim.v16.diagnostics import collect_log
from tests.sim.features.helpers import make_config


class Offline:
    """A `notify` that fails like a lost connection."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, action: str, payload: dict) -> dict:
        self.calls += 1
        raise ConnectionError("offline")


class TestSecurityEvents:
    def test_table_of_section_8(self):
        """The whitepaper's 18 event types, the 7 critical ones marked so."""
        assert len(EVENT_TYPES) == 18
        expected = {"FirmwareUpdated", "SettingSystemTime", "StartupOfTheDevice",
                    "ResetOrReboot", "SecurityLogWasCleared", "MemoryExhaustion",
                    "TamperDetectionActivated"}
        assert expected == CRITICAL

    def test_critical_queued_others_only_logged(self, clock, tmp_path):
        """A04.FR.01/04: every event is logged, only critical ones are queued for the CSMS."""
        events = SecurityEvents(make_config(), clock=clock, state_dir=tmp_path)
        queued = events.record("StartupOfTheDevice")
        assert events.record("InvalidMessages", "bad frame") is None
        check_payload(OCPP16, "SecurityEventNotification", queued, False)
        assert events.pending == [queued]
        assert [e["type"] for e in events.log_lines()] == ["StartupOfTheDevice",
                                                          "InvalidMessages"]

    async def test_queue_survives_offline_and_restart(self, clock, tmp_path, notify):
        """A04.FR.02: undelivered notifications stay queued across a restart, then go in order."""
        config = make_config()
        events = SecurityEvents(config, clock=clock, state_dir=tmp_path)
        events.record("StartupOfTheDevice")
        events.record("TamperDetectionActivated", "lid open")
        offline = Offline()
        assert await events.deliver(offline) == 0
        assert offline.calls == 1
        restarted = SecurityEvents(config, clock=clock, state_dir=tmp_path)
        assert await restarted.deliver(notify) == 2
        assert [p["type"] for _, p in notify.sent] == ["StartupOfTheDevice",
                                                      "TamperDetectionActivated"]
        assert restarted.pending == []
        assert SecurityEvents(config, clock=clock, state_dir=tmp_path).pending == []

    def test_disabled_notifications_still_logged(self, clock):
        """DisableSecurityEventNotifications (libocpp): logged, never sent."""
        config = make_config(Security={"SecurityProfile": 0,
                                       "DisableSecurityEventNotifications": True})
        events = SecurityEvents(config, clock=clock)
        assert events.record("ResetOrReboot") is None
        assert events.pending == [] and len(events.log_lines()) == 1

    def test_clear_log_is_itself_an_event(self, clock, tmp_path):
        """Clearing leaves one SecurityLogWasCleared entry, which is critical (§8)."""
        events = SecurityEvents(make_config(), clock=clock, state_dir=tmp_path)
        events.record("InvalidTLSVersion")
        events.clear_log()
        assert [e["type"] for e in events.log_lines()] == ["SecurityLogWasCleared"]
        assert events.pending[-1]["type"] == "SecurityLogWasCleared"

    def test_log_is_readable_by_get_log(self, clock, tmp_path):
        """N01: the security log is JSON Lines with `ts`, so GetLog cuts time windows out of it."""
        events = SecurityEvents(make_config(), clock=clock, state_dir=tmp_path)
        events.record("StartupOfTheDevice")
        clock.advance(3600)
        later = clock.now()
        events.record("SettingSystemTime", "NTP")
        window = collect_log(events.log_path, start=later).decode()
        assert "SettingSystemTime" in window and "StartupOfTheDevice" not in window

    def test_log_rolls_over(self, clock, tmp_path):
        """A04.FR.04 rolling format: the log never grows past its limit."""
        events = SecurityEvents(make_config(), clock=clock, state_dir=tmp_path,
                                max_log_bytes=2000)
        for i in range(100):
            events.record("InvalidMessages", f"frame {i}")
        assert events.log_path.stat().st_size <= 2000
        assert events.log_lines()[-1]["techInfo"] == "frame 99"
