"""CLI subcommands: each module defines register(subparsers) and sets `run` via set_defaults."""
