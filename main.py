"""Reelgate's composition root: parse arguments, then run a subcommand or open the window.

reelgate                      open the window (demo mode when no API key is configured)
reelgate generate --prompt …  create one video from the command line
reelgate jobs | resume        list the journal / finish unfinished jobs
reelgate demo-gateway         serve the demo gateway on 127.0.0.1
reelgate --self-test          start, generate, download and decode one demo video; exit 0/1
"""

from __future__ import annotations

import argparse
import sys

from core.cli_args import add_common_options, build_parser
from core.version import APP_NAME, __version__


def make_parser() -> argparse.ArgumentParser:
    """The full argument parser (window options plus subcommands)."""
    parser = argparse.ArgumentParser(
        prog="reelgate", description=f"{APP_NAME}: generate videos from text."
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    add_common_options(parser)
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="run one demo job end to end offscreen and exit (0 = all steps passed)",
    )
    parser.add_argument("--verbose", action="store_true", help="log debug detail")
    build_parser(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: returns the process exit code."""
    args = make_parser().parse_args(argv)
    if args.self_test:
        from ui.selftest import run_self_test

        return run_self_test(args)
    if args.command:
        # Imported here, not above: the window's start-up needs none of this before it shows.
        from core.cli import run_command
        from core.logsetup import setup_logging
        from core.paths import resolve_paths

        setup_logging(resolve_paths(args.data_dir).logs, verbose=args.verbose)
        return run_command(args)
    from ui.app import run_app

    return run_app(args)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
