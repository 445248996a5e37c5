"""DemoGateway: a real local HTTP server speaking the Phaseo video API, plus serve_forever()."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from core.demo_gateway.api import MIB, GatewayConfig, VideoApi
from core.demo_gateway.faults import FaultProfile
from core.demo_gateway.persistence import StateFile
from core.demo_gateway.prices import FAULTS
from core.demo_gateway.server import GatewayServer
from core.demo_gateway.signing import LinkSigner
from core.demo_gateway.store import Job, RequestLog, Stats
from core.demo_start import DEMO_API_KEY


class DemoGateway:
    """A local, fault-injectable stand-in for the gateway's video API that renders real MP4s."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        queued_seconds: float = 1.0,
        processing_seconds: float = 4.0,
        poll_after_seconds: int = 2,
        fault_profile: FaultProfile | None = None,
        api_key: str | None = None,
        video_scale: float = 1.0,
        clock: Callable[[], float] = time.time,
        link_ttl_seconds: int = 900,
        fps: int = 12,
        chunked_content: bool = True,
        output_ttl_seconds: float | None = None,
        max_content_bytes: int = 512 * MIB,
        chunk_size: int = MIB,
        state_path: Path | None = None,
        per_key_jobs: bool = False,
        image_ca_bundle: str | None = None,
        pricing_fault: str | None = None,
        listener: socket.socket | None = None,
    ) -> None:
        """Configure the gateway; nothing listens until start().

        With `per_key_jobs`, each job belongs to the key that made it, as on the real
        gateway where jobs belong to an account: any other key gets 404 for it and does not
        see it in the list.

        With `state_path`, jobs are saved to that JSON file on every create, delete and forced
        state, and the first start() takes back the jobs saved there by an earlier gateway
        (see `core.demo_gateway.persistence`). `image_ca_bundle` names extra certificates to
        trust when fetching image URLs (a test's or demo's local HTTPS server). `listener`
        is a loopback socket already bound and listening to serve on (see core.demo_start).
        """
        if not 0.0 < video_scale <= 1.0:
            raise ValueError("video_scale must be within (0, 1]")
        if fps < 1:
            raise ValueError("fps must be at least 1")
        self._host = host
        self._requested_port = port
        self._listener = listener
        self.config = GatewayConfig(
            queued_seconds=queued_seconds,
            processing_seconds=processing_seconds,
            poll_after_seconds=poll_after_seconds,
            api_key=api_key,
            video_scale=video_scale,
            clock=clock,
            link_ttl_seconds=link_ttl_seconds,
            fps=fps,
            chunked_content=chunked_content,
            output_ttl_seconds=output_ttl_seconds,
            max_content_bytes=max_content_bytes,
            chunk_size=chunk_size,
            per_key_jobs=per_key_jobs,
            image_ca_bundle=image_ca_bundle,
        )
        self.fault_profile = fault_profile or FaultProfile()
        self._stats = Stats()
        self._log = RequestLog()
        self._api = VideoApi(self.config, self.fault_profile, self._stats)
        self.pricing_fault = pricing_fault
        self._server: GatewayServer | None = None
        self._thread: threading.Thread | None = None
        self.state_path = None if state_path is None else Path(state_path)
        self._restored = False

    @property
    def pricing_fault(self) -> str | None:
        """The pricing endpoints' switched-on fault (``prices.FAULTS``), or None."""
        return self._api.pricing_fault

    @pricing_fault.setter
    def pricing_fault(self, fault: str | None) -> None:
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"pricing_fault must be one of {', '.join(FAULTS)} or None")
        self._api.pricing_fault = fault

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Self:
        """Bind and serve on a background daemon thread; returns self."""
        if self._server is not None:
            return self
        self._restore()
        server = GatewayServer(
            (self._host, self._requested_port), self._api, self._stats, self._log, self._listener
        )
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"demo-gateway:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def _restore(self) -> None:
        """Once per gateway: take back saved jobs and save every later change."""
        if self.state_path is None or self._restored:
            return
        self._restored = True
        state = StateFile(self.state_path, self._api.signer.secret)
        saved = state.load()
        if saved.secret:
            self._api.signer = LinkSigner(saved.secret)
            state.secret = saved.secret
        self._api.store.restore(saved.jobs, saved.last_seq)
        self._api.store.observe(state)

    def stop(self) -> None:
        """Stop serving, cut open connections and join the server thread."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        """Start on entering a `with` block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on leaving the `with` block."""
        self.stop()

    # -- addresses -----------------------------------------------------------------------

    @property
    def host(self) -> str:
        """The host the server is bound to."""
        return self._host

    @property
    def port(self) -> int:
        """The bound port (the real one when constructed with port 0)."""
        if self._server is None:
            raise RuntimeError("DemoGateway is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``, the value to use as the API base URL."""
        host = self._host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/v1"

    # -- observation ---------------------------------------------------------------------

    @property
    def stats(self) -> dict[str, int]:
        """A snapshot of request and fault counters (``"create"``, ``"fault:429"``, ...)."""
        return self._stats.snapshot()

    @property
    def requests_log(self) -> list[tuple[str, str, dict[str, str]]]:
        """Every request received so far as (method, path with query, headers)."""
        return self._log.snapshot()

    @property
    def create_bodies(self) -> list[Any]:
        """The most recent ``POST /videos`` bodies as received (decoded JSON), oldest first."""
        return list(self._api.received)

    def job_ids(self) -> list[str]:
        """Ids of live (not deleted) jobs, oldest first."""
        return [job.id for job in self._api.store.ordered(descending=False)]

    def job_status(self, job_id: str) -> str:
        """The status word a GET would show for the job right now (KeyError if unknown)."""
        return self._job(job_id).phase(self.config.clock(), self.config.output_ttl_seconds).status

    def _job(self, job_id: str) -> Job:
        job = self._api.store.get(job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    def job_bytes(self, job_id: str, index: int = 0) -> bytes:
        """Exact bytes served for that output; ValueError above 64 MiB (see job_size)."""
        return self._job(job_id).payloads[index].materialise()

    def job_size(self, job_id: str, index: int = 0) -> int:
        """Exact byte count served for that output."""
        return self._job(job_id).payloads[index].size

    def job_sha256(self, job_id: str, index: int = 0) -> str:
        """Hex SHA-256 of the bytes served for that output (streamed, cached)."""
        return self._job(job_id).payloads[index].sha256()

    # -- control -------------------------------------------------------------------------

    def complete_now(self, job_id: str) -> None:
        """Force the job to ``completed`` at the current clock time."""
        self._api.store.force(job_id, "completed", self.config.clock())

    def fail_now(
        self,
        job_id: str,
        code: str = "provider_error",
        message: str = "The provider failed to render the video (forced).",
        *,
        as_string: bool | None = None,
    ) -> None:
        """Force the job to ``failed``; the error is an object unless `as_string` (or provider)."""
        job = self._job(job_id)
        use_string = job.error_as_string if as_string is None else as_string
        error: Any = f"{code}: {message}" if use_string else {"code": code, "message": message}
        self._api.store.force(job_id, "failed", self.config.clock(), error)

    def expire_now(self, job_id: str) -> None:
        """Force the job to ``expired``."""
        self._api.store.force(job_id, "expired", self.config.clock())

    def cancel_now(self, job_id: str) -> None:
        """Force the job to ``cancelled``."""
        self._api.store.force(job_id, "cancelled", self.config.clock())


def serve_forever(host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> None:
    """Run a DemoGateway in the foreground until interrupted; prints the base URL once listening.

    The base URL is printed alone on stdout's first line; a human note goes to stderr.
    Keyword arguments go to DemoGateway (``state_path=`` keeps jobs across restarts).
    """
    gateway = DemoGateway(host, port, **kwargs).start()
    print(gateway.base_url, flush=True)
    key = kwargs.get("api_key") or f"any non-empty key (the app uses {DEMO_API_KEY!r})"
    print(f"Reelgate demo gateway listening; Bearer key: {key}. Ctrl+C stops.", file=sys.stderr)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        gateway.stop()
