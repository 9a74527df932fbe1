"""`chargebench sim --config DIR` as a user runs it (issue 19 point 4): a real subprocess
against the built-in CSMS on 127.0.0.1, a libocpp component_config folder as it is; a bad folder
is one line on stderr and exit 2."""

from __future__ import annotations

import asyncio
import json
import sys

from csms.central import CentralSystem
from tests.sim.v201.conftest import LIBOCPP_201


async def _sim(*args: str, wait: float = 30.0) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chargebench", "sim", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), wait)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_a_folder_runs_2_0_1_stations_that_boot(tmp_path):
    """Two stations from libocpp's component_config speak ocpp2.0.1 to the built-in CSMS, boot
    (B01) with libocpp's identity (InternalCtrlr.ChargePointVendor/Model), and the run exits 0
    with a JSON summary; the CSMS stored their statuses (G01)."""
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None) as csms:
        code, out, err = await _sim("--csms", csms.url(""), "--config",
                                    str(LIBOCPP_201 / "component_config"), "--count", "2",
                                    "--duration", "10", "--speed", "20", "--json",
                                    "--prefix", "V2X")  # fmt: skip
        assert code == 0, err
        summary = json.loads(out)
        assert (summary["ocpp"], summary["stations"], summary["booted"]) == ("2.0.1", 2, 2)
        charger = csms.store.get_charger("V2X00001")
        assert (charger["vendor"], charger["model"]) == ("EVerestVendor", "EVerestModel")
        assert "Traceback" not in err


async def test_a_bad_folder_is_one_line_exit_2(tmp_path):
    """A component file whose name is no string: `FILE: ...: reason` on one line, exit 2,
    nothing connects."""
    (tmp_path / "standardized").mkdir()
    (tmp_path / "standardized" / "Broken.json").write_text('{"name": 3}', "utf-8")
    code, out, err = await _sim("--csms", "ws://127.0.0.1:1/ocpp", "--config", str(tmp_path))
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Broken.json" in err, err
    assert out == "" and "Traceback" not in err


async def test_wss_with_ca_boots_and_without_is_exit_2(tmp_path):
    """A00: `--csms wss://... --ca CA` takes libocpp's folder (profile 1: Basic auth with its
    BasicAuthPassword) over TLS to the built-in CSMS, verified against the CA: the stations
    boot (the CSMS listens on wss:// only); wss:// without --ca is one line on stderr and exit 2."""
    from chargebench.security import init_pki

    pki = init_pki(tmp_path / "pki")
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None,
                             tls_cert=pki.csms_cert, tls_key=pki.csms_key) as csms:
        url = csms.url("")
        assert url.startswith("wss://")
        code, out, err = await _sim("--csms", url, "--config",
                                    str(LIBOCPP_201 / "component_config"), "--ca",
                                    str(pki.ca_cert), "--count", "1", "--duration", "10",
                                    "--speed", "20", "--json", "--prefix", "TLS")  # fmt: skip
        assert code == 0, err
        assert json.loads(out)["booted"] == 1
        assert csms.store.get_charger("TLS00001")["vendor"] == "EVerestVendor"
    code, out, err = await _sim("--csms", "wss://127.0.0.1:1/ocpp", "--config",
                                str(LIBOCPP_201 / "component_config"))
    assert code == 2 and "--ca" in err and len(err.strip().splitlines()) == 1, err
