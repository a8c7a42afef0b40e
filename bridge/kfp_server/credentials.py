"""The local server's credentials, kept as salted hashes, never as the secrets.

A bearer token or a session cookie value is stored as
``pbkdf2_sha256$ITERATIONS$SALT$HASH`` (a cookie as ``NAME=`` + that), so the
database file does not give the secret away. Checking a presented secret costs
one PBKDF2 the first time it is seen; the digests of secrets that passed are
remembered in memory (per stored hash), so a poll costs one SHA-256.
Comparisons are constant-time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import hashlib
import hmac
import http.cookies
import secrets
import threading
from typing import Mapping

__all__ = ["HASH_PREFIX", "hash_secret", "hash_cookie", "is_hashed", "Checker"]

HASH_PREFIX = "pbkdf2_sha256$"
_ITERATIONS = 120_000


def is_hashed(value: str) -> bool:
    return value.startswith(HASH_PREFIX) and value.count("$") == 3


def hash_secret(secret: str, *, iterations: int = _ITERATIONS) -> str:
    """The storage form of ``secret``: a salted PBKDF2-SHA256 hash."""
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt.encode(), iterations).hex()
    return f"{HASH_PREFIX}{iterations}${salt}${digest}"


def hash_cookie(cookie: str) -> str:
    """``NAME=VALUE`` as ``NAME=<hash of VALUE>`` (the name is not secret)."""
    name, _, value = cookie.partition("=")
    return f"{name.strip()}={hash_secret(value.strip())}"


def _matches(secret: str, stored: str) -> bool:
    try:
        _, iterations, salt, digest = stored.split("$")
        computed = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt.encode(), int(iterations)).hex()
    except (ValueError, UnicodeEncodeError):
        return False
    return hmac.compare_digest(computed, digest)


class Checker:
    """Checks request headers against the stored hashes; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._passed: dict[str, set[bytes]] = {}  # stored hash -> SHA-256 of secrets that matched it

    def _check(self, secret: str, stored: str) -> bool:
        seen = hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()
        with self._lock:
            known = self._passed.get(stored, set())
        if any(hmac.compare_digest(seen, digest) for digest in known):
            return True
        if not _matches(secret, stored):
            return False
        with self._lock:
            if len(self._passed) > 16:  # old hashes after rotations
                self._passed.clear()
            self._passed.setdefault(stored, set()).add(seen)
        return True

    def allows(self, headers: Mapping[str, str], bearer_hash: str | None, cookie_hash: str | None) -> bool:
        """True when the headers carry the bearer token or the session cookie."""
        if bearer_hash is not None:
            scheme, _, token = (headers.get("Authorization") or "").partition(" ")
            if scheme.lower() == "bearer" and token.strip() and self._check(token.strip(), bearer_hash):
                return True
        if cookie_hash is not None:
            name, _, stored = cookie_hash.partition("=")
            jar: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
            try:
                jar.load(headers.get("Cookie") or "")
            except http.cookies.CookieError:
                return False
            if name in jar and self._check(jar[name].value, stored):
                return True
        return False
