"""App authentication as ARI does it: HTTP basic or ``api_key=user:password``.

Credentials are the ones the registry issued; their scrypt hashes reach us through Consul KV.
scrypt is slow on purpose, so a successful check is remembered (keyed by a SHA-256 of the
password, never the password) for as long as the app's stored hash stays the same. An unknown app
costs the same scrypt check (against a dummy hash), so timing does not tell which names exist;
repeated failures are refused for a while (:mod:`gateway.login_limits`). Before refusing, the
apps are read from Consul again (any failure does it, so timing still tells nothing): an app
created or given a new password a moment ago may not be in this process's last snapshot yet,
though another gateway process already let it in.
"""

import asyncio
import base64
import binascii
import hashlib

from ariscale_common.discovery import AppRecord
from ariscale_common.errors import Forbidden, Unauthorized
from ariscale_common.passwords import generate_password, hash_password, verify_password
from gateway.consul_watch import ConsulWatch
from gateway.login_limits import LoginLimiter


def parse_credentials(authorization: str | None, api_key: str | None) -> tuple[str, str] | None:
    """``(user, password)`` from a Basic header or an api_key; None when neither is usable."""
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, sep, password = decoded.partition(":")
        return (user, password) if sep else None
    if api_key:
        user, sep, password = api_key.partition(":")
        return (user, password) if sep else None
    return None


class Authenticator:
    def __init__(self, watch: ConsulWatch, limiter: LoginLimiter | None = None) -> None:
        self._watch = watch
        self._limiter = limiter or LoginLimiter()
        self._verified: dict[tuple[str, str], str] = {}  # (user, sha256(password)) -> stored hash
        self._dummy_hash = hash_password(generate_password())  # same cost as a real one

    async def authenticate(self, authorization: str | None, api_key: str | None, client: str = "") -> str:
        """The app name the credentials belong to; Unauthorized / Forbidden otherwise."""
        credentials = parse_credentials(authorization, api_key)
        if credentials is None:
            raise Unauthorized("authentication required: HTTP basic or api_key=app:password")
        user, password = credentials
        record = self._watch.snapshot.apps.get(user)
        stored = _hash_of(record)
        digest = hashlib.sha256(password.encode()).hexdigest()
        if stored is None or self._verified.get((user, digest)) != stored:
            generation = hashlib.sha256((stored or "").encode()).hexdigest()[:16]
            self._limiter.begin(client, user, generation)
            valid = False
            try:
                valid = await self._verify(password, stored)
                if not valid:
                    record = (await self._watch.fresh()).apps.get(user)
                    if _hash_of(record) not in (None, stored):
                        stored = _hash_of(record)
                        valid = await self._verify(password, stored)
            finally:
                self._limiter.end(client, user, generation, failed=not valid)
            if not valid or stored is None:
                raise Unauthorized(f"unknown application or wrong password for {user!r}")
            self._verified[(user, digest)] = stored
        assert record is not None
        if not record.enabled:
            raise Forbidden(f"application {user!r} is disabled")
        return user

    async def _verify(self, password: str, stored: str | None) -> bool:
        valid = await asyncio.to_thread(verify_password, password, stored or self._dummy_hash)
        return valid and stored is not None


def _hash_of(record: AppRecord | None) -> str | None:
    return record.password_hash if record is not None and record.password_hash else None
