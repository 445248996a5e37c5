"""Secret hygiene: after full runs with a known key, the key is nowhere it should not be.

Not in any file under the data or config folders (journal, logs, videos, settings), not in a
diagnostics export or a crash report, and in no request except those to the configured
gateway: signed links and redirects to other hosts never carry Authorization, even when the
gateway (or a proxy) echoes the key back in its answers. Plain http to another machine is
refused, an ``HTTP_PROXY`` never sees the key, and TLS verification stays on whatever the
environment says.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from core.demo_gateway import DemoGateway
from core.diagnostics import diagnostics_text
from core.errors import ErrorKind, GatewayError
from core.gateway import GatewayClient
from core.journal import Journal
from core.logsetup import setup_logging

from .faultproxy import CdnServer, FaultProxy
from .figures import FIGURES

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
KEY = "phaseo_v1_sk_HYGIENEtestKEY0123456789abcdef"
#: A key that does not look like a Phaseo key: only exact-value redaction can catch it.
PLAIN_KEY = "sk-live-PLAINshapedSECRET-77aa99"


def _forms(key: str) -> list[bytes]:
    """The ways a key could sit in a file: as text, UTF-16 (Windows tools), JSON-escaped."""
    return [key.encode(), key.encode("utf-16-le"), key.replace("_", "\\u005f").encode()]


def leaks_in(folder: Path, key: str) -> list[str]:
    """Every file under ``folder`` holding the key in any of its forms."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if any(form in data for form in _forms(key)):
                found.append(str(path.relative_to(folder)))
    return found


def record_leaks(where: str, leaks: list[str]) -> None:
    """Count leaks in the figures."""
    FIGURES.add(key_leaks=len(leaks))
    for leak in leaks:
        FIGURES.problem(f"key leak: {where}: {leak}")


@pytest.fixture
def keyed_gateway() -> Iterator[tuple[DemoGateway, FaultProxy, CdnServer]]:
    """A gateway that only accepts KEY, behind the recording proxy, with a second origin."""
    gateway = DemoGateway(
        queued_seconds=0.1,
        processing_seconds=0.3,
        poll_after_seconds=1,
        video_scale=0.25,
        fps=4,
        api_key=KEY,
    ).start()

    def prompt_of(job_id: str) -> str | None:
        job = gateway._api.store.get(job_id)
        return job.params.prompt if job is not None else None

    proxy = FaultProxy(gateway.base_url, prompt_of=prompt_of).start()
    cdn = CdnServer(proxy)
    try:
        yield gateway, proxy, cdn
    finally:
        cdn.stop()
        proxy.stop()
        gateway.stop()


def _cli(data: Path, key: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PHASEO_API_KEY", "HTTP_PROXY")}
    env.update(
        REELGATE_DATA_DIR=str(data),
        PHASEO_API_KEY=key,
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--verbose", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_after_a_full_run_the_key_is_in_no_file_export_report_or_foreign_request(
    tmp_path: Path, keyed_gateway: tuple[DemoGateway, FaultProxy, CdnServer]
) -> None:
    """Two real runs (one echoing the key back, one failing), exports and a crash report."""
    _gateway, proxy, cdn = keyed_gateway
    data = tmp_path / "data"
    echo = "{px:status-echo-key} {px:status-echo-ok} {px:content-redirect-cdn} a lantern at sea"
    first = _cli(data, KEY, "generate", "--base-url", proxy.base_url, "--prompt", echo,
                 "--duration", "1", "--output", str(tmp_path / "out" / "lantern.mp4"))  # fmt: skip
    second = _cli(data, KEY, "generate", "--base-url", proxy.base_url, "--prompt", "[fail] x",
                  "--duration", "1")  # fmt: skip
    listing = _cli(data, KEY, "jobs", "--base-url", proxy.base_url)
    FIGURES.add(runs=1, jobs=2)
    FIGURES.add_faults({"key echoed back by the gateway": 2, "redirect to another origin": 1})
    assert first.returncode == 0, first.stdout + first.stderr
    assert second.returncode == 3, second.stdout + second.stderr
    assert listing.returncode == 0
    for result in (first, second, listing):
        assert KEY not in result.stdout + result.stderr

    # Diagnostics exports (as the review panel builds them) and a crash report.
    exports = tmp_path / "exports"
    exports.mkdir()
    with Journal.open(data / "journal.db") as journal:
        for job in journal.jobs():
            events = journal.events(job.local_id)
            for redacted in ((KEY,), ()):  # also without being told the key: pattern redaction
                text = diagnostics_text(job, events, redacted=redacted)
                (exports / f"{job.local_id}-{len(redacted)}.json").write_text(text, "utf-8")
    from ui.crash import build_report, write_report

    try:
        header = f"Authorization: Bearer {KEY}"
        raise RuntimeError(f"the gateway said {header!r} while holding {KEY}")
    except RuntimeError as exc:
        report = build_report(type(exc), exc, exc.__traceback__, redacted=(KEY,))
    assert write_report(data / "crash-reports", report) is not None

    leaks = leaks_in(data, KEY) + leaks_in(exports, KEY) + leaks_in(tmp_path / "out", KEY)
    assert (data / "logs" / "reelgate.log").stat().st_size > 0, "debug logging was on"
    assert (data / "config").is_dir()

    # Requests: the key only ever went to the configured gateway, never in a URL.
    for call in proxy.calls:
        assert KEY not in call.path
        auth = call.headers.get("authorization")
        if call.route == "signed":
            assert auth is None
        else:
            assert auth == f"Bearer {KEY}", call
    assert cdn.calls, "the content was fetched from the other origin"
    for path, headers in cdn.calls:
        if "authorization" in headers or any(KEY in v for v in headers.values()) or KEY in path:
            leaks.append(f"request to the other origin {path}")
    record_leaks("full run", leaks)
    assert not leaks, leaks
    assert proxy.injected["status-echo-key"] == 1 and proxy.injected["status-echo-ok"] == 1


def test_logs_redact_keys_of_any_shape(tmp_path: Path) -> None:
    """Known values, key-shaped text, Bearer headers and tracebacks: all redacted on disk."""
    import logging

    root = logging.getLogger()
    before = list(root.handlers)
    redaction = setup_logging(tmp_path / "logs", verbose=True)
    redaction.add_secret(PLAIN_KEY)
    try:
        log = logging.getLogger("reliability.secrets")
        log.info("header Authorization: Bearer %s", PLAIN_KEY)
        log.info("env PHASEO_API_KEY=%s and %s", KEY, {"authorization": f"Bearer {KEY}"})
        log.warning("plain %s", PLAIN_KEY)
        try:
            raise ValueError(f"bad key {KEY} / {PLAIN_KEY}")
        except ValueError:
            log.exception("failure")
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                handler.close()
                root.removeHandler(handler)
    leaks = leaks_in(tmp_path, KEY) + leaks_in(tmp_path, PLAIN_KEY)
    record_leaks("logs", leaks)
    assert not leaks, leaks
    assert "[redacted]" in (tmp_path / "logs" / "reelgate.log").read_text()
    client = GatewayClient("https://api.example.com/v1", KEY)
    assert KEY not in repr(client) and KEY not in repr(client._auth)


# -- where the key may travel ------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    """Records every request; ``/hop?to=URL`` redirects, anything else answers a job."""

    protocol_version = "HTTP/1.1"
    server: _RecordingServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        """Record, then redirect or answer."""
        self.server.calls.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        if "/hop" in self.path:
            target = self.path.split("to=", 1)[1]
            self.send_response(302)
            self.send_header("Location", requests.utils.unquote(target))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"id": "G-1", "status": "queued"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _RecordingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.calls: list[tuple[str, dict[str, str]]] = []
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}).start()

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@pytest.fixture
def two_origins() -> Iterator[tuple[_RecordingServer, _RecordingServer]]:
    """The gateway origin and a foreign one."""
    gateway, foreign = _RecordingServer(), _RecordingServer()
    yield gateway, foreign
    for server in (gateway, foreign):
        server.shutdown()
        server.server_close()


def test_redirects_to_other_hosts_and_signed_links_never_carry_the_key(
    two_origins: tuple[_RecordingServer, _RecordingServer],
) -> None:
    """A redirect to another origin drops Authorization; signed links are fetched without it."""
    gateway, foreign = two_origins
    client = GatewayClient(f"http://127.0.0.1:{gateway.port}/v1", KEY)
    elsewhere = requests.utils.quote(f"http://localhost:{foreign.port}/v1/videos/G-1", safe="")
    with client:
        client._call_json("GET", f"/videos/hop?to={elsewhere}")
        client.open_signed(f"http://127.0.0.1:{foreign.port}/v1/videos/G-1/content?sig=x").close()
        with pytest.raises(GatewayError) as refused:
            insecure = requests.utils.quote("http://example.invalid/steal", safe="")
            client._call_json("GET", f"/videos/hop?to={insecure}")
        with pytest.raises(GatewayError) as refused_link:
            client.open_signed("http://example.invalid/v1/videos/G-1/content?sig=x")
    FIGURES.add_faults({"redirect to another origin": 1, "insecure redirect": 1})
    assert refused.value.kind is ErrorKind.INSECURE
    assert refused_link.value.kind is ErrorKind.INSECURE
    assert gateway.calls[0][1]["authorization"] == f"Bearer {KEY}"
    assert foreign.calls, "the other origin was reached"
    leaks = [path for path, headers in foreign.calls if "authorization" in headers]
    record_leaks("foreign origin", leaks)
    assert not leaks


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/v1",
        "http://api.phaseo.app/v1",
        "http://127.0.0.1.nip.io/v1",
        "http://localhost.evil.example/v1",
        "http://0x7f000001/v1",
        "http://[::ffff:127.0.0.1]/v1",
        "http://127.0.0.1:80@evil.example/v1",
        "ftp://127.0.0.1/v1",
        "HTTP://EXAMPLE.COM/v1",
    ],
)
def test_plain_http_to_anything_but_this_machine_is_refused(url: str) -> None:
    """The key may only travel over https, or plain http to a literal loopback address."""
    FIGURES.add(hostile_inputs=1)
    with pytest.raises((GatewayError, ValueError)) as caught:
        GatewayClient(url, KEY)
    if isinstance(caught.value, GatewayError):
        assert caught.value.kind is ErrorKind.INSECURE
    assert KEY not in str(caught.value)


def test_a_proxy_from_the_environment_never_sees_the_key_for_a_local_gateway(
    two_origins: tuple[_RecordingServer, _RecordingServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``HTTP_PROXY`` set (corporate machines): a loopback gateway is still reached directly."""
    gateway, proxy = two_origins
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with GatewayClient(f"http://127.0.0.1:{gateway.port}/v1", KEY) as client:
        assert client.get("G-1").id == "G-1"
    FIGURES.add_faults({"HTTP_PROXY in the environment": 1})
    record_leaks("environment proxy", [path for path, _ in proxy.calls])
    assert not proxy.calls and gateway.calls


# -- TLS verification ---------------------------------------------------------------------------


def _certificates(folder: Path) -> tuple[Path, Path, Path, Path, Path]:
    """A test CA, a server certificate for 127.0.0.1 signed by it, and one for another name."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(text: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    def write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return path

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Reelgate test CA"))
        .issuer_name(name("Reelgate test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = folder / "ca.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))

    def leaf(alt: x509.GeneralName, stem: str) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(stem))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        cert_path = folder / f"{stem}.pem"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cert_path, write_key(key, folder / f"{stem}.key")

    good = leaf(x509.IPAddress(ipaddress.ip_address("127.0.0.1")), "loopback")
    wrong = leaf(x509.DNSName("not-this-host.example"), "wrong-name")
    return ca_path, *good, *wrong


def _tls_server(cert: Path, key: Path) -> _RecordingServer:
    import ssl

    server = _RecordingServer.__new__(_RecordingServer)
    ThreadingHTTPServer.__init__(server, ("127.0.0.1", 0), _Recorder)
    server.calls = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}).start()
    return server


class _VerifySpy(requests.adapters.HTTPAdapter):
    """Records the ``verify`` value every request is sent with."""

    seen: list[object]

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.seen.append(kwargs.get("verify"))
        return super().send(request, **kwargs)


def test_tls_verification_stays_on_whatever_the_environment_or_session_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Self-signed: refused, also with ``CURL_CA_BUNDLE=""`` and a ``verify=False`` session.

    ``REQUESTS_CA_BUNDLE`` naming a CA file is honoured as a trust store (corporate CAs):
    verification stays on, so a certificate for another name is still refused.
    """
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # CI machines often set these
        monkeypatch.delenv(name, raising=False)
    ca, cert, key, wrong_cert, wrong_key = _certificates(tmp_path)
    good, wrong = _tls_server(cert, key), _tls_server(wrong_cert, wrong_key)
    spy = _VerifySpy()
    spy.seen = []
    careless = requests.Session()
    careless.verify = False  # a caller's session must not switch verification off
    careless.mount("https://", spy)
    try:
        url = f"https://127.0.0.1:{good.port}/v1"
        for env in (
            {},
            {"CURL_CA_BUNDLE": "", "REQUESTS_CA_BUNDLE": ""},
            {"PYTHONHTTPSVERIFY": "0"},
        ):
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            for session in (None, careless):
                with pytest.raises(GatewayError) as caught:
                    GatewayClient(url, KEY, session=session).get("G-1")
                assert caught.value.code == "tls_certificate", caught.value
                FIGURES.add_faults({"untrusted TLS certificate": 1})
        # Never off: True, or (from the environment) a CA file that exists.
        assert spy.seen and all(value is True for value in spy.seen), spy.seen
        assert False not in spy.seen and "" not in spy.seen
        client = GatewayClient(url, KEY)
        assert client._session.verify is True
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
        assert client.get("G-1").id == "G-1"  # the CA file is a trust store, not an off switch
        with pytest.raises(GatewayError) as caught:
            GatewayClient(f"https://127.0.0.1:{wrong.port}/v1", KEY).get("G-1")
        assert caught.value.code == "tls_certificate"
        assert not wrong.calls and len(good.calls) == 1
    finally:
        for server in (good, wrong):
            server.shutdown()
            server.server_close()


def test_no_code_switches_tls_verification_off() -> None:
    """No ``verify=False``, unverified SSL context or silenced certificate warning anywhere."""
    forbidden = ("verify=False", "CERT_NONE", "_create_unverified_context", "disable_warnings",
                 "check_hostname = False", "check_hostname=False")  # fmt: skip
    offenders = []
    for folder in ("core", "ui"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            offenders += [f"{path.name}: {word}" for word in forbidden if word in text]
    assert not offenders, offenders
