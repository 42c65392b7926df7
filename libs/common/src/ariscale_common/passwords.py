"""Application credentials: generated once, shown once, stored only as a salted scrypt hash.

The registry hashes; the gateway verifies what an app presents against the hash the registry
mirrors into Consul KV (``AppRecord.password_hash``, see :mod:`ariscale_common.discovery`).

Hash format, self-describing so the cost can be raised later without breaking stored hashes::

    scrypt$<n>$<r>$<p>$<salt, urlsafe base64>$<derived key, urlsafe base64>

scrypt at the default cost takes tens of milliseconds of CPU: call these through
``asyncio.to_thread`` from async code, and cache successful verifications in hot paths.
"""

import base64
import binascii
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
COST_N = 2**14
BLOCK_SIZE_R = 8
PARALLELISM_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
# Enough for n=2**17, r=8 (128 * r * n bytes) plus slack.
_MAX_MEMORY = 256 * 1024 * 1024


def generate_password() -> str:
    """A fresh random password (32 url-safe characters, 192 bits)."""
    return secrets.token_urlsafe(24)


def hash_password(password: str, *, n: int = COST_N, r: int = BLOCK_SIZE_R, p: int = PARALLELISM_P) -> str:
    """The storable hash of ``password`` with a new random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, n, r, p, KEY_BYTES)
    return "$".join((SCHEME, str(n), str(r), str(p), _b64(salt), _b64(key)))


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; False on mismatch or a malformed hash."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != SCHEME:
            return False
        expected = _unb64(key)
        actual = _derive(password, _unb64(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(actual, expected)


def _derive(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEMORY, dklen=length)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
