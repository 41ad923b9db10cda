"""The `loanflow` command. Subcommands live in web/commands/, one module each, discovered here."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys


def build_parser() -> argparse.ArgumentParser:
    import web.commands

    parser = argparse.ArgumentParser(prog="loanflow", description="BPMN loan approval orchestrator")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_info in sorted(pkgutil.iter_modules(web.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"web.commands.{module_info.name}")
        if hasattr(module, "register"):
            module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    from web.config import SettingsError

    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except SettingsError as err:
        # A setting the product must not run with: one line for the operator, not a traceback.
        print(f"loanflow {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
