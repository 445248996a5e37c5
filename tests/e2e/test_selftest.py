"""``reelgate --self-test``: the whole loop offscreen, in-process and as the real command."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")

import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pytest

import ui.selftest as selftest

REPO = Path(__file__).resolve().parents[2]
STEPS = (
    "multimedia backend",
    "demo gateway",
    "journal and engine",
    "submit a 2-second job",
    "poll until completed",
    "download",
    "decode a video frame",
)
pytestmark = pytest.mark.e2e


@pytest.fixture
def quiet_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The self-test edits Qt's environment variables; restore them afterwards."""
    for name in ("QT_QPA_PLATFORM", "QT_LOGGING_RULES"):
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])
        else:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PHASEO_API_KEY", raising=False)


def test_self_test_passes_in_process(qapp, quiet_env, tmp_path, capsys) -> None:
    code = selftest.run_self_test(Namespace(data_dir=str(tmp_path), verbose=False))
    out = capsys.readouterr().out
    assert code == 0, out
    for step in STEPS:
        assert f"self-test: {step} ... ok" in out
    assert "self-test: passed" in out
    assert list((tmp_path / "videos").glob("*.mp4")), "the downloaded video stays in --data-dir"


def test_a_failing_step_is_named_and_exits_1(qapp, quiet_env, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(selftest, "DEMO_MODEL", "no-such/model")
    code = selftest.run_self_test(Namespace(data_dir=str(tmp_path), verbose=False))
    out = capsys.readouterr().out
    assert code == 1
    assert "self-test: FAILED at step 'submit a 2-second job': " in out
    assert "no-such/model" in out or "Rejected" in out
    assert "self-test: passed" not in out


def test_missing_backend_fails_the_first_step(qapp, quiet_env, capsys, monkeypatch) -> None:
    def no_backend() -> str:
        raise selftest.StepFailedError(
            "QtMultimedia loaded but its backend can decode no file format"
        )

    monkeypatch.setattr(selftest, "_check_backend", no_backend)
    assert selftest.run_self_test(None) == 1
    out = capsys.readouterr().out
    assert "self-test: FAILED at step 'multimedia backend': QtMultimedia loaded" in out


def test_reelgate_self_test_command(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    env.pop("PHASEO_API_KEY", None)
    completed = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "--self-test", "--data-dir", str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "self-test: passed" in completed.stdout
    assert completed.stdout.count(" ... ok") == len(STEPS)
