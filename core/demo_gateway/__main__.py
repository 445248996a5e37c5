"""Command line for the demo gateway: ``python -m core.demo_gateway --port 8765``."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.demo_gateway.service import serve_forever


def main(argv: list[str] | None = None) -> None:
    """Parse options and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m core.demo_gateway", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--queued-seconds", type=float, default=1.0)
    parser.add_argument("--processing-seconds", type=float, default=4.0)
    parser.add_argument("--poll-after-seconds", type=int, default=2)
    parser.add_argument("--api-key", default=None, help="require exactly this Bearer key")
    parser.add_argument("--video-scale", type=float, default=1.0)
    parser.add_argument(
        "--state-path", type=Path, default=None, help="keep jobs in this JSON file across restarts"
    )
    args = parser.parse_args(argv)
    serve_forever(
        args.host,
        args.port,
        queued_seconds=args.queued_seconds,
        processing_seconds=args.processing_seconds,
        poll_after_seconds=args.poll_after_seconds,
        api_key=args.api_key,
        video_scale=args.video_scale,
        state_path=args.state_path,
    )


if __name__ == "__main__":
    main()
