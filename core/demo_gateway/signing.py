"""HMAC-signed, expiring download links that work without an Authorization header."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlencode

from core.demo_gateway.api_errors import ApiError

DISPOSITIONS = ("attachment", "inline")


class LinkSigner:
    """Mints and checks signed content links with a per-server secret."""

    def __init__(self, secret: bytes | None = None) -> None:
        """Use `secret`, or a fresh random one (links die with the server)."""
        self._secret = secret or secrets.token_bytes(32)

    @property
    def secret(self) -> bytes:
        """The signing secret (kept with saved gateway state so links outlive a restart)."""
        return self._secret

    def _signature(
        self, job_id: str, index: int, expires: int, nonce: str, disposition: str
    ) -> str:
        message = f"{job_id}\n{index}\n{expires}\n{nonce}\n{disposition}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def mint(
        self, content_url: str, job_id: str, index: int, expires: int, disposition: str = ""
    ) -> str:
        """A signed URL for `content_url` (a job's ``.../content``), valid until `expires`."""
        nonce = secrets.token_hex(4)
        query = {"index": str(index), "expires": str(expires), "nonce": nonce}
        if disposition:
            query["disposition"] = disposition
        query["signature"] = self._signature(job_id, index, expires, nonce, disposition)
        return f"{content_url}?{urlencode(query)}"

    def verify(self, job_id: str, query: dict[str, str], now: float) -> tuple[int, str]:
        """Check a signed link's query; returns (index, disposition) or raises 403/410."""
        try:
            index = int(query.get("index", "0"))
            expires = int(query["expires"])
        except (KeyError, ValueError):
            raise _invalid(job_id) from None
        nonce = query.get("nonce", "")
        disposition = query.get("disposition", "")
        expected = self._signature(job_id, index, expires, nonce, disposition)
        if not hmac.compare_digest(expected, query.get("signature", "")):
            raise _invalid(job_id)
        if now >= expires:
            raise ApiError(
                410,
                "link_expired",
                "This download link has expired",
                reason="signed_url_expired",
                description="Mint a new link with POST /videos/{id}/download_url or GET the job.",
                generation_id=job_id,
                extra={"expired_at": expires},
            )
        return index, disposition


def _invalid(job_id: str) -> ApiError:
    return ApiError(
        403,
        "invalid_signature",
        "The download link's signature is not valid",
        reason="signed_url_invalid",
        generation_id=job_id,
    )
