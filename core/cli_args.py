"""The command line's arguments: the window's options and the subcommands (argparse only).

Kept apart from :mod:`core.cli` so that parsing a start's arguments imports nothing else:
``main.py`` parses them before the window shows (``tests/bench/bench_startup.py``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

__all__ = ["add_common_options", "build_parser"]

#: Image roles (core.image_inputs.ROLES, repeated here so parsing imports nothing else).
IMAGE_ROLES = ("first_frame", "last_frame", "reference")


class _ImageAction(argparse.Action):
    """Collects ``--image-url URL``, ``--image FILE`` and ``--image-role ROLE``.

    The first two append ``[kind, value, role]`` to ``images``; ``--image-role`` sets the
    role of the image given just before it.
    """

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        images = list(getattr(namespace, "images", None) or [])
        if option_string != "--image-role":
            kind = "file" if option_string == "--image" else "url"
            images.append([kind, str(values), None])
        elif not images:
            parser.error("--image-role must follow the --image-url or --image it applies to")
        elif images[-1][2] is not None:
            parser.error(f"--image-role given twice for {images[-1][1]}")
        else:
            images[-1][2] = str(values)
        namespace.images = images


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Options every subcommand (and the window) accepts."""
    parser.add_argument("--base-url", help="gateway base URL (default: the Phaseo gateway)")
    parser.add_argument("--data-dir", help="keep all Reelgate state in this folder")
    parser.add_argument(
        "--demo", action="store_true", help="use the built-in demo gateway (no key needed)"
    )


def build_parser(parser: argparse.ArgumentParser) -> None:
    """Add the subcommands to the top-level parser."""
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    generate = sub.add_parser("generate", help="create one video and wait for it")
    generate.add_argument("--prompt", required=True, help="what the video should show")
    generate.add_argument("--model", help="model id (default: the first in the catalogue)")
    generate.add_argument("--duration", help="seconds (must be one the model accepts)")
    generate.add_argument("--aspect-ratio", help="for example 16:9, 9:16 or 1:1")
    generate.add_argument(
        "--size",
        help="frame size for models that take one instead of an aspect ratio "
        "(the Sora family), for example 1280x720 or 720x1280",
    )
    generate.add_argument("--output", help="save the video to this file")
    generate.add_argument(
        "--max-cost",
        metavar="USD",
        help="send nothing (exit 2) when the estimated price is above this many dollars",
    )
    generate.add_argument(
        "--image-url",
        action=_ImageAction,
        dest="images",
        metavar="URL",
        help="an https image for models that take images (repeatable)",
    )
    generate.add_argument(
        "--image-role",
        action=_ImageAction,
        dest="images",
        choices=IMAGE_ROLES,
        help="role of the image just before: first_frame, last_frame or reference",
    )
    generate.add_argument(
        "--image",
        action=_ImageAction,
        dest="images",
        metavar="FILE",
        help="a local image, for models that take one as a data: URL (e.g. Sora 2)",
    )
    add_common_options(generate)
    batch = sub.add_parser(
        "batch",
        help="send many prompts (a .txt with one per line, or a .csv) as one batch",
        description="A .txt file holds one prompt per line (# starts a comment). A .csv file "
        "has a header row with a 'prompt' column and optional model, duration and "
        "aspect_ratio columns. Every row is checked before anything is sent.",
    )
    batch.add_argument("file", help="the .txt or .csv file of prompts")
    batch.add_argument("--model", help="model for rows that name none (default: the first)")
    batch.add_argument(
        "--compare-models",
        metavar="A,B,C",
        help="send every prompt to each of these models (each at its nearest valid duration)",
    )
    batch.add_argument("--duration", help="seconds for rows that give none (nearest valid)")
    batch.add_argument("--aspect-ratio", help="for rows that give none (nearest valid)")
    batch.add_argument(
        "--variations", type=int, default=1, help="seeds per prompt (models that take a seed)"
    )
    batch.add_argument("--seed", type=int, help="first seed of the variations (default random)")
    batch.add_argument("--output-dir", help="copy every finished video into this folder")
    batch.add_argument(
        "--max-cost",
        metavar="USD",
        help="send nothing (exit 2) when the batch's estimated total is above this many dollars",
    )
    add_common_options(batch)
    jobs = sub.add_parser("jobs", help="list the jobs in the journal")
    jobs.add_argument("--limit", type=int, default=50, help="how many (newest first)")
    add_common_options(jobs)
    resume = sub.add_parser(
        "resume",
        help="finish every unfinished job (and search again for creates whose answer was lost)",
    )
    add_common_options(resume)
    spend = sub.add_parser("spend", help="what generating has cost (from the journal)")
    spend.add_argument("--month", metavar="YYYY-MM", help="break down this month")
    spend.add_argument("--csv", action="store_true", help="print one CSV row per billed job")
    add_common_options(spend)
    demo = sub.add_parser("demo-gateway", help="run the demo gateway as a server")
    demo.add_argument("--port", type=int, default=8765)
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--queued-seconds", type=float, default=2.0)
    demo.add_argument("--processing-seconds", type=float, default=6.0)
    demo.add_argument("--poll-after-seconds", type=int, default=2)
    demo.add_argument(
        "--pricing-fault",
        metavar="FAULT",
        help="make the pricing endpoints fail: 404, 501, models-404, models-501, "
        "calculate-404 or calculate-501",
    )
    demo.add_argument(
        "--image-ca-bundle",
        help="extra certificates to trust when fetching image URLs (local test servers)",
    )
