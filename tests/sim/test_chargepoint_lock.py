"""The connector's cable lock (1.6 §4.10, §5.18 UnlockConnector, §9.1.33, errata 3.84/3.87)."""

from __future__ import annotations

import pytest

from sim.hardware import Hardware
from tests.sim.conftest import WAIT, until


@pytest.fixture
async def charging(csms, make_cp):
    """A booted charge point with a transaction on connector 1 for tag T1."""
    async def factory(**kwargs):
        cp = await make_cp(**kwargs)
        await cp.wait_booted(WAIT)
        await cp.plug_in(1)
        await cp.present_id_tag("T1")
        await csms.wait_sent("StartTransaction")
        return cp

    return factory


class TestUnlockConnector:
    async def test_unlock_during_transaction(self, csms, charging):
        """The transaction ends with reason UnlockCommand and the answer is Unlocked."""
        cp = await charging()
        assert cp.port(1).lock.locked
        reply = await csms.call("CP1", "UnlockConnector", {"connectorId": 1})
        assert reply == {"status": "Unlocked"}
        stop = (await csms.wait_sent("StopTransaction"))[0]
        assert stop["reason"] == "UnlockCommand"
        assert not cp.port(1).lock.locked and cp.port(1).tx is None

    async def test_unknown_connector_not_supported(self, csms, charging):
        """errata 3.87: an unknown connectorId is NotSupported, not UnlockFailed."""
        await charging()
        reply = await csms.call("CP1", "UnlockConnector", {"connectorId": 7})
        assert reply == {"status": "NotSupported"}

    async def test_jammed_lock_fails(self, csms, charging):
        """A jammed lock answers UnlockFailed; the transaction is still finished first."""
        cp = await charging()
        cp.jam_lock(1)
        reply = await csms.call("CP1", "UnlockConnector", {"connectorId": 1})
        assert reply == {"status": "UnlockFailed"}
        await csms.wait_sent("StopTransaction")
        assert cp.port(1).lock.locked

    async def test_fixed_cable_has_no_lock(self, csms, make_cp):
        """Fixed cable: NotSupported, and UnlockConnectorOnEVSideDisconnect is false and stays
        false (errata 3.84)."""
        cp = await make_cp(hardware=Hardware(cable="fixed"))
        await cp.wait_booted(WAIT)
        reply = await csms.call("CP1", "UnlockConnector", {"connectorId": 1})
        assert reply == {"status": "NotSupported"}
        reply = await csms.call("CP1", "ChangeConfiguration",
                                {"key": "UnlockConnectorOnEVSideDisconnect", "value": "true"})
        assert reply == {"status": "Rejected"}
        reply = await csms.call("CP1", "GetConfiguration",
                                {"key": ["UnlockConnectorOnEVSideDisconnect"]})
        assert reply["configurationKey"][0]["value"] == "false"


class TestEvSideDisconnect:
    async def test_unlocks_when_configured(self, csms, charging):
        """UnlockConnectorOnEVSideDisconnect true: the lock opens with the EV-side unplug."""
        cp = await charging(Core={"UnlockConnectorOnEVSideDisconnect": True})
        await cp.plug_out(1)
        stop = (await csms.wait_sent("StopTransaction"))[0]
        assert stop["reason"] == "EVDisconnected"
        assert not cp.port(1).lock.locked

    async def test_stays_locked_until_the_tag(self, csms, charging):
        """UnlockConnectorOnEVSideDisconnect false: the cable stays locked after the stop until
        the user presents the same identifier (§4.10), without a new Authorize."""
        cp = await charging(Core={"UnlockConnectorOnEVSideDisconnect": False})
        await cp.plug_out(1)
        await csms.wait_sent("StopTransaction")
        assert cp.port(1).lock.locked
        authorizes = len(csms.sent("Authorize"))
        assert await cp.present_id_tag("t1")  # IdToken is case-insensitive (§7.28)
        assert not cp.port(1).lock.locked
        assert len(csms.sent("Authorize")) == authorizes

    async def test_finishing_while_locked_for_its_user(self, csms, charging):
        """The connector kept locked for its user is not available to a new one: Finishing
        until the card opens it, then Available (conformance TC_005_2); UnlockConnector opens
        it the same way."""
        for opener in ("card", "UnlockConnector"):
            cp = await charging(cp_id=f"CP-{opener}",
                                Core={"UnlockConnectorOnEVSideDisconnect": False})
            await cp.plug_out(1)
            await csms.wait_sent("StopTransaction", cp_id=cp.id)
            await csms.wait_for(lambda c, i=cp.id: c.statuses(i, 1)[-1:] == ["Finishing"])
            if opener == "card":
                assert await cp.present_id_tag("T1")
            else:
                assert await csms.call(cp.id, "UnlockConnector", {"connectorId": 1}) == \
                    {"status": "Unlocked"}
            await csms.wait_for(lambda c, i=cp.id: c.statuses(i, 1)[-1:] == ["Available"])
            assert not cp.port(1).lock.locked

    async def test_no_stop_keeps_transaction_and_lock(self, csms, charging):
        """StopTransactionOnEVSideDisconnect false has priority: no stop, cable locked (C4)."""
        cp = await charging(Core={"StopTransactionOnEVSideDisconnect": False,
                                  "UnlockConnectorOnEVSideDisconnect": True})
        await cp.plug_out(1)
        await until(lambda: cp.port(1).status.value == "SuspendedEV")
        assert cp.port(1).tx is not None and cp.port(1).lock.locked
