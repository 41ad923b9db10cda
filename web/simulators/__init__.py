"""Simulators of external systems (credit bureau, ...) for tests and the demo: real HTTP on 127.0.0.1."""
