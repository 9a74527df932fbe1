"""Runs `OcppClient` under gevent in its own process (pytest's process must stay unpatched).

    python -m tests.loadtest.gevent_probe PORT   -> prints one JSON object
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402

from locust.event import EventHook  # noqa: E402

from chargebench.ocppj.errors import CallTimeout  # noqa: E402
from loadtest.transport import OcppClient  # noqa: E402


def main() -> None:
    fired: list[dict] = []
    hook = EventHook()
    hook.add_listener(lambda **kw: fired.append(kw))
    client = OcppClient(f"ws://127.0.0.1:{sys.argv[1]}/ocpp/PROBE", request_event=hook)
    client.connect()
    boot = client.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
    # the server sent GetConfiguration on connect; DataTransfer returns what we answered
    echoed = client.call("DataTransfer", {"vendorId": "probe"})
    try:
        client.call("Heartbeat", timeout=0.3)
        timed_out = False
    except CallTimeout:
        timed_out = True
    client.close()
    print(json.dumps({
        "boot": boot["status"],
        "answered": json.loads(echoed["data"]),
        "timed_out": timed_out,
        "events": [(e["request_type"], e["name"], type(e["exception"]).__name__
                    if e["exception"] else None, e["response_length"] > 0) for e in fired],
    }))


if __name__ == "__main__":
    main()
