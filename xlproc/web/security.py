"""Passwords (argon2id), session and invitation tokens, CSRF tokens, login rate limits."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

SESSION_COOKIE = "xlproc_session"
CSRF_COOKIE = "xlproc_csrf"
CSRF_FIELD = "csrf_token"
MIN_PASSWORD = 10

_hasher = PasswordHasher()  # argon2id, memory-hard (64 MiB, 3 passes by default)
# A hash to verify against when the account does not exist, so timing does not tell.
_DUMMY = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a session or invitation token (never the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def password_problem(password: str, confirm: str) -> str:
    """A Chinese message when the new password is not acceptable, else ''."""
    if password != confirm:
        return "两次输入的密码不一致"
    if len(password) < MIN_PASSWORD:
        return f"密码至少 {MIN_PASSWORD} 位"
    if len(set(password)) < 4:
        return "密码过于简单，请使用更多不同的字符"
    return ""


class LoginLimiter:
    """At most ``attempts`` failed logins per account and per address in ``window`` seconds.

    Kept in memory: the portal runs as one server process (uvicorn without --workers).
    """

    def __init__(self, attempts: int, window: float):
        self.attempts, self.window = attempts, window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures[key]
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def blocked(self, username: str, address: str) -> int:
        """Seconds to wait before the next attempt (0: may try now)."""
        now = time.monotonic()
        with self._lock:
            wait = 0.0
            for key in (f"u:{username.casefold()}", f"a:{address}"):
                q = self._recent(key, now)
                if len(q) >= self.attempts:
                    wait = max(wait, self.window - (now - q[0]))
            return int(wait) + 1 if wait > 0 else 0

    def failed(self, username: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (f"u:{username.casefold()}", f"a:{address}"):
                self._recent(key, now).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"u:{username.casefold()}", None)
