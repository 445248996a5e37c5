"""Builds the objects one run of Reelgate needs: paths, settings, key, gateway, journal, engine.

Both front ends (the command line and the window) start here, so demo mode, key lookup and
base-URL rules behave the same everywhere.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.demo_gateway import DEMO_API_KEY, DemoGateway
from core.engine import Engine
from core.errors import GatewayError
from core.gateway import DEFAULT_BASE_URL, GatewayClient
from core.gateway_http import is_loopback_host
from core.image_files import ca_bundle_from_env
from core.journal import Journal
from core.logsetup import REDACTION
from core.paths import AppPaths, resolve_paths
from core.poll_policy import PollPolicy, RequestBudget
from core.secrets import SecretStore, key_in_environment, open_secret_store, resolve_api_key
from core.settings import Settings, load_settings

logger = logging.getLogger(__name__)

#: Demo jobs move fast so a newcomer sees the whole loop within seconds.
DEMO_TIMING = {"queued_seconds": 2.0, "processing_seconds": 6.0, "poll_after_seconds": 2}


@dataclass
class AppContext:
    """Everything a running Reelgate holds; ``close()`` releases it."""

    paths: AppPaths
    settings: Settings
    secrets: SecretStore
    journal: Journal
    client: GatewayClient
    engine: Engine
    demo: DemoGateway | None
    key_source: str
    messages: list[str] = field(default_factory=list)

    @property
    def runs_demo_gateway(self) -> bool:
        """Whether the built-in demo gateway serves this run (the user's choice is a setting)."""
        return self.demo is not None

    @property
    def has_key(self) -> bool:
        """Whether a real API key is configured (demo mode needs none)."""
        return self.client.has_key and not self.runs_demo_gateway

    def close(self) -> None:
        """Stop the demo gateway and close the journal and HTTP session."""
        self.client.close()
        self.journal.close()
        if self.demo is not None:
            self.demo.stop()


def start_demo_gateway(state_path: Path | None = None, **overrides: Any) -> DemoGateway:
    """Start the in-process demo gateway on a free loopback port.

    With ``state_path``, its jobs are kept in that file, so a restart picks them up again.
    ``overrides`` are any :class:`DemoGateway` options (timings, ``video_scale``, ...).
    """
    options: dict[str, Any] = {**DEMO_TIMING, "image_ca_bundle": ca_bundle_from_env(), **overrides}
    options["poll_after_seconds"] = int(options["poll_after_seconds"])
    return DemoGateway(state_path=state_path, **options).start()


def open_context(
    *,
    data_dir: str | Path | None = None,
    base_url: str | None = None,
    demo: bool | None = None,
    secrets: SecretStore | None = None,
    demo_overrides: dict[str, Any] | None = None,
    policy: PollPolicy | None = None,
    budget: RequestBudget | None = None,
) -> AppContext:
    """Open everything. ``demo=None`` means: demo when no key and no base URL are configured.

    ``policy`` and ``budget`` replace the engine's polling rules and request budget (the
    defaults suit the gateway in use: a gateway on this machine is asked again sooner).

    Raises :class:`GatewayError` (kind INSECURE) for a plain-http non-loopback base URL.
    """
    paths = resolve_paths(data_dir).ensure()
    settings, settings_message = load_settings(paths.settings)
    messages = [settings_message] if settings_message else []
    keyring_warning: str | None = None
    if secrets is None:
        secrets, keyring_warning = open_secret_store()
    key, key_source = resolve_api_key(secrets)
    REDACTION.add_secret(key)
    chosen_url = base_url or settings.base_url or None
    use_demo = demo
    if use_demo is None:
        use_demo = key is None and chosen_url is None
    if keyring_warning and not use_demo and not key_in_environment():
        messages.append(keyring_warning)
    journal = Journal.open(paths.journal)
    if journal.recovery_message:
        messages.append(journal.recovery_message)
    gateway: DemoGateway | None = None
    try:
        if use_demo:
            gateway = start_demo_gateway(
                paths.data_dir / "demo-gateway.json", **(demo_overrides or {})
            )
            client = GatewayClient(gateway.base_url, DEMO_API_KEY)
            key_source = "demo mode"
        else:
            url = chosen_url or DEFAULT_BASE_URL
            if key is None and is_loopback_host(urlsplit(url).hostname):
                # A gateway on this machine (e.g. `reelgate demo-gateway`) needs no real key.
                key, key_source = DEMO_API_KEY, "a local gateway (no key needed)"
            client = GatewayClient(url, key)
    except GatewayError:
        journal.close()
        if gateway is not None:
            gateway.stop()
        raise
    videos = Path(settings.download_dir) if settings.download_dir else paths.videos
    local = use_demo or is_loopback_host(urlsplit(client.base_url).hostname)
    # A gateway on this machine answers at once and costs nothing to ask: check back soon.
    if policy is None:
        policy = PollPolicy(first_poll_after=1.0) if local else PollPolicy()
    engine = Engine(
        journal,
        client,
        videos,
        policy=policy,
        budget=budget,
        gateway_label="demo" if use_demo else "default",
        # The demo gateway's port changes every run: its jobs belong to "demo", not a URL.
        identity="demo" if use_demo else None,
    )
    engine.clean_partials()  # .part files of downloads whose process is gone
    return AppContext(
        paths=paths,
        settings=settings,
        secrets=secrets,
        journal=journal,
        client=client,
        engine=engine,
        demo=gateway,
        key_source=key_source,
        messages=messages,
    )
