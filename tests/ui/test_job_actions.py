"""Job actions work from their narrow dependencies alone: no main window is built here."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtWidgets import QWidget

from core.jobs import DownloadState, Job, JobParams, JobState
from ui.action_table import ACTIONS, CONTEXT_MENU, TOOLBAR, TOOLBAR_MORE, JobFacts
from ui.controller import Controller
from ui.job_actions import JobActions

PARAMS = JobParams(model="demo/test-pattern", prompt="A heron", duration=2, aspect_ratio="16:9")


class Recorder:
    """Stands in for the selection, the status bar, the job list, the composer and the pane."""

    def __init__(self) -> None:
        self.job: Job | None = None
        self.calls: list[tuple[str, object]] = []

    def selected_job(self) -> Job | None:
        return self.job

    def select_job(self, local_id: str) -> bool:
        self.calls.append(("select", local_id))
        return True

    def show_status(self, message: str, timeout_ms: int = 0) -> None:
        self.calls.append(("status", message))

    def show_error(self, title: str, text: str) -> None:
        self.calls.append(("error", title))

    def offer_undo(self, text: str) -> None:
        self.calls.append(("undo offered", text))

    def hide_undo(self) -> None:
        self.calls.append(("undo hidden", None))

    def begin_progress(self) -> None:
        self.calls.append(("progress", "begin"))

    def progress(self, done: int, total: int | None) -> None:
        self.calls.append(("progress", done))

    def end_progress(self) -> None:
        self.calls.append(("progress", "end"))

    def remove(self, local_id: str) -> Job | None:
        self.calls.append(("removed", local_id))
        return self.job

    def restore(self, job: Job) -> None:
        self.calls.append(("restored", job.local_id))

    def jobs(self) -> list[Job]:
        return [self.job] if self.job else []

    def set_busy(self, busy: bool) -> None:
        self.calls.append(("busy", busy))

    def clear_submit_messages(self) -> None:
        self.calls.append(("cleared", None))

    def show_submit_error(self, text: str) -> None:
        self.calls.append(("not sent", text))

    def show_submit_result(self, job: Job) -> None:
        self.calls.append(("submitted", job.local_id))

    def fill_from(self, params: JobParams, parent_id: str | None = None) -> None:
        self.calls.append(("filled", parent_id))

    def activate(self, job: Job) -> None:
        self.calls.append(("activated", job.local_id))


class Guard:
    """Stands in for the budget guard: approves or refuses every request."""

    def __init__(self) -> None:
        self.allow = True
        self.last_note = ""
        self.asked: list[list[JobParams]] = []

    async def approve(self, requests: Sequence[JobParams]) -> bool:
        self.asked.append(list(requests))
        self.last_note = "" if self.allow else "Over the monthly budget."
        return self.allow


@pytest.fixture
def guard() -> Guard:
    return Guard()


@pytest.fixture
def actions(
    qtbot: Any, qloop: qasync.QEventLoop, tmp_path: Path, make_context: Any, guard: Guard
) -> Iterator[tuple[JobActions, Recorder]]:
    controller = Controller(make_context(tmp_path / "data"), loop=qloop)
    parent = QWidget()
    qtbot.addWidget(parent)
    fake = Recorder()
    built = JobActions(
        controller,
        selection=fake,
        status=fake,
        progress=fake,
        parent=parent,
        composer=fake,
        guard=guard,
        jobs=fake,
        detail=fake,
        check_now=lambda: fake.calls.append(("checked", None)),
        open_settings=lambda: fake.calls.append(("settings", None)),
        focus_search=lambda: fake.calls.append(("find", None)),
    )
    yield built, fake
    controller.close()


def test_every_row_of_the_table_is_an_action_with_its_name_and_key(
    actions: tuple[JobActions, Recorder],
) -> None:
    built, _fake = actions
    for spec in ACTIONS:
        action = getattr(built, spec.attr)
        assert action.objectName() == spec.object_name
        assert action.text() == spec.text
        assert action.shortcut().toString() == (spec.shortcut or "")
    names = {spec.attr for spec in ACTIONS}
    assert {name for name in TOOLBAR + TOOLBAR_MORE + CONTEXT_MENU if name} - names == {"picks"}


def test_nothing_selected_disables_the_job_actions(actions: tuple[JobActions, Recorder]) -> None:
    built, _fake = actions
    built.update_enabled(None)
    for spec in ACTIONS:
        if spec.enabled_when is not None:
            assert not getattr(built, spec.attr).isEnabled(), spec.attr
    assert built.settings.isEnabled() and built.find.isEnabled() and built.refresh.isEnabled()


def test_submit_remove_and_undo_report_to_the_sinks(
    actions: tuple[JobActions, Recorder], run: Any
) -> None:
    built, fake = actions
    job = run(built.submit_job(PARAMS, None))
    assert job is not None
    assert ("busy", True) in fake.calls and ("submitted", job.local_id) in fake.calls
    assert ("select", job.local_id) in fake.calls
    assert built.controller.preferences.last_params["model"] == PARAMS.model

    fake.job = job
    fake.calls.clear()
    built.remove.trigger()
    assert fake.calls[0] == ("removed", job.local_id)
    assert fake.calls[-1][0] == "undo offered"
    assert built.undo_remove.isEnabled()
    built.undo_remove.trigger()
    assert ("restored", job.local_id) in fake.calls and ("undo hidden", None) in fake.calls
    assert not built.undo_remove.isEnabled()

    built.resubmit.trigger()
    assert ("filled", job.local_id) in fake.calls
    built.preview.trigger()
    assert ("activated", job.local_id) in fake.calls
    built.settings.trigger()
    built.find.trigger()
    assert ("settings", None) in fake.calls and ("find", None) in fake.calls


def test_a_refused_submit_sends_nothing_and_says_why(
    actions: tuple[JobActions, Recorder], guard: Guard, run: Any
) -> None:
    built, fake = actions
    guard.allow = False
    assert run(built.submit_job(PARAMS, None)) is None
    assert guard.asked == [[PARAMS]]
    assert ("not sent", "Over the monthly budget.") in fake.calls
    assert fake.calls[-1] == ("busy", False)
    assert built.controller.engine.unfinished_jobs() == []
    assert not any(name in ("submitted", "select") for name, _value in fake.calls)


def test_a_job_of_another_gateway_offers_no_server_actions() -> None:
    """A job made in demo mode must not be asked about on the real gateway (and back)."""
    finished = Job(
        local_id="j",
        params=PARAMS,
        state=JobState.COMPLETED,
        created_at=1.0,
        updated_at=1.0,
        remote_id="G-1",
        download=DownloadState.DONE,
        files=("/videos/a.mp4",),
    )
    here = JobFacts(finished, owned=True)
    elsewhere = JobFacts(finished, owned=False)
    assert here.linkable and here.deletable and here.on_disk
    assert not elsewhere.linkable and not elsewhere.deletable and elsewhere.on_disk
