"""At start, ``.part`` files whose writer is gone are removed; a live writer's stay."""

from __future__ import annotations

import os
import time
from pathlib import Path

from core.context import open_context
from core.paths import resolve_paths
from core.secrets import MemorySecretStore


def test_opening_reelgate_removes_stale_part_files_only(tmp_path: Path) -> None:
    videos = resolve_paths(tmp_path).videos
    videos.mkdir(parents=True)
    dead = videos / "G-1-1.mp4.999999999-0badf00d.part"  # no process has that id
    old_style = videos / "G-2-1.mp4.part"  # from a version before per-writer names
    live = videos / f"G-3-1.mp4.{os.getpid()}-0badf00d.part"  # being written right now
    kept_video = videos / "G-4-1.mp4"
    for path in (dead, old_style, live, kept_video):
        path.write_bytes(b"bytes")
    an_hour_ago = time.time() - 3 * 3600
    os.utime(old_style, (an_hour_ago, an_hour_ago))
    context = open_context(data_dir=tmp_path, demo=True, secrets=MemorySecretStore())
    try:
        remaining = sorted(p.name for p in context.engine.videos_dir.iterdir())
    finally:
        context.close()
    assert remaining == sorted([live.name, kept_video.name])
