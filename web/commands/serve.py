"""`loanflow serve [--demo]`: the web API (and, with --demo, demo data first).

Without --demo it needs LOANFLOW_SECRET_KEY (at least 32 bytes) and exits 2 without one; --demo
signs with the public demo key unless a key is set.
"""
from __future__ import annotations

from web.config import Settings


def register(subparsers) -> None:
    parser = subparsers.add_parser("serve", help="serve the web API on LOANFLOW_HOST:LOANFLOW_PORT")
    parser.add_argument("--demo", action="store_true", help="create the schema and demo data first")
    parser.add_argument("--server", choices=("werkzeug", "gunicorn"), default="werkzeug",
                        help="werkzeug (one process, the default) or gunicorn (production; --workers)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.set_defaults(run=run)


def run(args) -> int:
    import sys

    from werkzeug.serving import run_simple

    from web.app import create_app
    from web.request_log import log_json_lines
    from web.services import open_services
    from web.simulators import with_demo_bureau
    from workflows.db import SchemaOutdated
    from workflows.seed import DEMO_PASSWORD, USERS

    log_json_lines()
    settings = Settings.from_env()
    if args.demo:
        settings = settings.for_demo()
    settings.check_secret_keys()  # before anything starts: exit 2 with one line if no usable key
    settings.check_data_key()
    if args.demo:
        # The demo brings its own credit bureau (the simulator) unless a real one is configured.
        settings = with_demo_bureau(settings)
    try:
        services = open_services(settings, upgrade_behind=args.demo)
    except SchemaOutdated as err:
        print(f"loanflow: {err}", file=sys.stderr)
        return 2
    if args.demo:
        services.seed_demo()
        print("Demo users (password for all: %s):" % DEMO_PASSWORD)
        for username, full_name, branch, roles in USERS:
            print(f"  {username:<12} {branch:<6} {roles:<18} {full_name}")
    app = create_app(settings, services=services)
    print(f"loanflow API on http://{settings.host}:{settings.port}/api/v1  (database: {settings.database_url})")
    print(f"loanflow pages (sign in as a demo user) on http://{settings.host}:{settings.port}/")
    _RequestHandler = _request_handler_class()
    if args.server == "gunicorn":
        return _serve_with_gunicorn(app, settings, workers=args.workers, threads=args.threads)
    run_simple(settings.host, settings.port, app, threaded=True, use_reloader=False,
               request_handler=_RequestHandler)
    return 0


def _request_handler_class():
    import socket

    from werkzeug.serving import WSGIRequestHandler

    class RequestHandler(WSGIRequestHandler):
        # HTTP/1.1 keeps integrators' connections open between requests; with keep-alive, Nagle's
        # algorithm would hold the response's last segment back until the client's delayed ACK.
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    return RequestHandler


def _mark_process_dead(pid: int) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)


def _serve_with_gunicorn(app, settings: Settings, *, workers: int, threads: int) -> int:
    import os

    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{settings.host}:{settings.port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("keepalive", 30)
            if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
                # A worker that exits leaves its metric files; its live gauges must not count.
                self.cfg.set("child_exit", lambda server, worker: _mark_process_dead(worker.pid))

        def load(self):
            # Each worker opens its own connections: the pool must not cross the fork.
            app.extensions["loanflow"].db.engine.dispose(close=False)
            return app

    Server().run()
    return 0
