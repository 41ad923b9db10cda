"""Stand-ins for external systems (credit bureau, ...) that run as real HTTP servers on 127.0.0.1
in the tests and the demo."""
from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class RunningServer:
    url: str
    _server: object
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


def start_in_thread(app, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve a WSGI app on host:port (0 = a free port) in a daemon thread."""
    from werkzeug.serving import make_server

    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"sim-{server.server_port}", daemon=True)
    thread.start()
    return RunningServer(f"http://{host}:{server.server_port}", server, thread)


def apply_outage_switches(state: dict, switches: dict, fresh_state) -> None:
    """The POST /control switches every simulator takes: reset, down and delay (seconds)."""
    if switches.get("reset"):
        state.update(fresh_state())
    if "down" in switches:
        state["down"] = bool(switches["down"])
    if "delay" in switches:
        state["delay"] = float(switches["delay"])


def with_demo_bureau(settings):
    """The settings, with a credit-bureau simulator started for the demo unless a bureau is set."""
    from dataclasses import replace

    from web.simulators.bureau import create_app

    if settings.bureau_url:
        return settings
    url = start_in_thread(create_app()).url
    print(f"Credit-bureau simulator on {url}")
    return replace(settings, bureau_url=url)


def with_demo_sms(settings):
    """The settings, with an SMS-gateway simulator started for the demo unless a gateway is set:
    collections and reminders text borrowers, and the demo shows what they would have received
    (GET <url>/v1/messages)."""
    from dataclasses import replace

    from web.simulators.sms import create_app

    if settings.sms_url:
        return settings
    url = start_in_thread(create_app()).url
    print(f"SMS-gateway simulator on {url} (texts sent: {url}/v1/messages)")
    return replace(settings, sms_url=url)
