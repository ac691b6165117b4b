"""Accounts for the web pages: roles, scrypt-hashed passwords in ``<kb>/users.json``, sessions, lockout.

Nothing here imports Streamlit: the CLI (``fengqiao user …``) and the login gate
(``ui/auth.py``) share it, and tests drive it without a server.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import stat
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, cast

from ingest.atomic import replacing
from ingest.errors import FengqiaoError
from retrieval.kb_folder import KBFolder

# analyst: a town's or county's 研判 staff, for whom the county analysis page is made
Role = Literal["admin", "mediator", "analyst"]
ROLES: tuple[Role, ...] = ("admin", "mediator", "analyst")
ROLE_NAMES: dict[Role, str] = {"admin": "管理员", "mediator": "调解员", "analyst": "研判员"}
FORMAT = 1
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # a megabyte "password" would still be hashed: refuse it before the KDF
MAX_NAME = 32

# scrypt with 64 MiB per hash (n=2**16, r=8): ~0.3-0.4 s on this 2-core machine, so a
# stolen users.json yields a few guesses per second per core. The parameters are stored
# with every hash, so raising them later leaves old passwords valid.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**16, 8, 1
SALT_BYTES, KEY_BYTES = 16, 32
# At most two hashes at a time: each takes 64 MiB, and a login flood must not take the
# server's memory (the lockout below stops it after a few tries per name and address).
_KDF_SLOTS = threading.BoundedSemaphore(2)

IDLE_SECONDS = 30 * 60  # a session unused this long ends
LIFETIME_SECONDS = 12 * 60 * 60  # and every session ends after a working day

FREE_FAILURES = 5  # failed logins on one account from one address before the back-off
ADDRESS_FAILURES = 20  # from one address over all names
ACCOUNT_FAILURES = 20  # on one account over all addresses (see Throttle)
BACKOFF_BASE_SECONDS = 30.0  # then 30 s, 60 s, 120 s … per further failure
BACKOFF_MAX_SECONDS = 15 * 60.0
FORGET_SECONDS = 15 * 60.0  # failures older than this (with no newer one) are forgotten


class AccountError(FengqiaoError):
    """A user name, password or users file that cannot be used."""


@dataclass(frozen=True)
class Account:
    """One person who may sign in: the name they type, their role and their password's hash."""

    name: str
    role: Role
    password_hash: str  # "scrypt$n$r$p$salt$key", salt and key in base64
    created: str  # ISO UTC
    changed: str  # when the password or role last changed: older sessions end

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def role_name(self) -> str:
        return ROLE_NAMES[self.role]


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """A salted scrypt hash of ``password`` with its parameters, for users.json."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, n, r, p)
    b64 = base64.b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(key).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches ``encoded``; the comparison takes the same time either way."""
    try:
        scheme, n, r, p, salt, key = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key, validate=True)
        got = _scrypt(password, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except ValueError:  # a damaged hash never matches
        return False
    return hmac.compare_digest(got, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    with _KDF_SLOTS:
        return hashlib.scrypt(
            password.encode("utf-8"),
            salt=salt,
            n=n,
            r=r,
            p=p,
            maxmem=2 * 128 * r * n * p + (1 << 20),
            dklen=KEY_BYTES,
        )


# A hash to check against when the name is unknown, so "no such user" takes as long as
# "wrong password" and the login page does not tell which names exist.
_DUMMY_HASH = ""


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if not _DUMMY_HASH:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def check_name(name: str) -> str:
    """The name, stripped; AccountError for an empty, overlong or unprintable one."""
    name = name.strip()
    if not name:
        raise AccountError("用户名不能为空", "用姓名或工号，如 张三")
    if len(name) > MAX_NAME:
        raise AccountError(f"用户名太长（{len(name)} 字，最多 {MAX_NAME} 字）", "用姓名或工号")
    if any(not ch.isprintable() or ch.isspace() for ch in name):
        raise AccountError("用户名不能包含空格或控制字符", "用姓名或工号，如 张三")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            f"密码太短（{len(password)} 位，至少 {MIN_PASSWORD} 位）", "用一句好记的长密码"
        )
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"密码太长（最多 {MAX_PASSWORD} 个字符）", "换一个短一些的密码")
    return password


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise AccountError(
            f"没有“{role}”这个角色", "用 admin（管理员）、mediator（调解员）或 analyst（研判员）"
        )
    return cast(Role, role)


class Accounts:
    """The accounts in one knowledge base's ``users.json`` (mode 0600, written atomically).

    Reads are cached by the file's modification time, so a password changed with the CLI
    reaches a running server at its next page view.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._cache: tuple[tuple[int, int], dict[str, Account]] | None = None
        self._lock = threading.Lock()

    @classmethod
    def in_kb(cls, kb_dir: str | Path) -> Accounts:
        return cls(KBFolder.of(kb_dir).accounts)

    # ---- reading -------------------------------------------------------------------

    def all(self) -> list[Account]:
        return sorted(self._load().values(), key=lambda a: (a.role != "admin", a.name))

    def get(self, name: str) -> Account | None:
        return self._load().get(name.strip())

    def any(self) -> bool:
        return bool(self._load())

    def has_admin(self) -> bool:
        return any(a.is_admin for a in self._load().values())

    def authenticate(self, name: str, password: str) -> Account | None:
        """The account when name and password match, else None (same work either way)."""
        if len(password) > MAX_PASSWORD:
            return None
        account = self.get(name)
        ok = verify_password(password, account.password_hash if account else _dummy_hash())
        return account if ok and account is not None else None

    def _load(self) -> dict[str, Account]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise AccountError(
                f"无法读取账户文件 {self.path}：{exc.strerror}", "检查文件权限"
            ) from None
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if self._cache is not None and self._cache[0] == stamp:
                return self._cache[1]
            accounts = self._parse()
            self._cache = (stamp, accounts)
            return accounts

    def _parse(self) -> dict[str, Account]:
        hint = f"用备份恢复 {self.path.name}，或删除它后用 fengqiao user add 重新创建账户"
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise AccountError(
                f"账户文件 {self.path} 无法读取（{type(exc).__name__}）", hint
            ) from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise AccountError(f"账户文件 {self.path} 格式不对", hint)
        out: dict[str, Account] = {}
        for n, row in enumerate(data.get("users", []), 1):
            try:
                account = Account(
                    name=check_name(str(row["name"])),
                    role=check_role(str(row["role"])),
                    password_hash=str(row["password_hash"]),
                    created=str(row.get("created", "")),
                    changed=str(row.get("changed", "")),
                )
            except (KeyError, TypeError, AccountError):
                raise AccountError(
                    f"账户文件 {self.path} 第 {n} 个账户缺少字段或有误", hint
                ) from None
            out[account.name] = account
        return out

    # ---- changing ------------------------------------------------------------------

    def add(self, name: str, password: str, role: str) -> Account:
        name, role_ = check_name(name), check_role(role)
        check_password(password)
        accounts = self._load()
        if name in accounts:
            raise AccountError(f"已经有名为“{name}”的账户", f"改密码用 fengqiao user passwd {name}")
        now = _now_iso()
        account = Account(name, role_, hash_password(password), now, now)
        self._write({**accounts, name: account})
        return account

    def set_password(self, name: str, password: str) -> Account:
        check_password(password)
        account = self._existing(name)
        changed = replace(account, password_hash=hash_password(password), changed=_now_iso())
        self._write({**self._load(), account.name: changed})
        return changed

    def set_role(self, name: str, role: str) -> Account:
        account = self._existing(name)
        changed = replace(account, role=check_role(role), changed=_now_iso())
        accounts = {**self._load(), account.name: changed}
        self._keep_an_admin(accounts, account)
        self._write(accounts)
        return changed

    def remove(self, name: str) -> Account:
        account = self._existing(name)
        accounts = {k: v for k, v in self._load().items() if k != account.name}
        self._keep_an_admin(accounts, account)
        self._write(accounts)
        return account

    def _existing(self, name: str) -> Account:
        account = self.get(name)
        if account is None:
            raise AccountError(f"没有名为“{name.strip()}”的账户", "用 fengqiao user list 查看账户")
        return account

    @staticmethod
    def _keep_an_admin(accounts: dict[str, Account], changed: Account) -> None:
        if changed.is_admin and accounts and not any(a.is_admin for a in accounts.values()):
            raise AccountError(
                "不能去掉最后一个管理员",
                "先用 fengqiao user add 姓名 --role admin 添加另一个管理员",
            )

    def _write(self, accounts: dict[str, Account]) -> None:
        data = {
            "format": FORMAT,
            "note": "枫桥网页账户（密码以 scrypt 加盐哈希保存）。不要提交到 git，不要发给别人。",
            "users": [
                {
                    "name": a.name,
                    "role": a.role,
                    "password_hash": a.password_hash,
                    "created": a.created,
                    "changed": a.changed,
                }
                for a in sorted(accounts.values(), key=lambda a: a.name)
            ],
        }
        payload = json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, replacing(self.path) as tmp:
            # created 0600 before a byte is written: the hashes are never readable by others
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
            os.chmod(tmp, stat.S_IRUSR | stat.S_IWUSR)  # the file existed with a wider mode
        self._cache = None


# ---- sessions -----------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """A signed-in browser session; ``touch`` renews it or says it has ended."""

    user: str
    role: Role
    account_changed: str  # the account's ``changed`` at sign-in
    started: float  # time.time()
    last_seen: float
    local: bool = False  # the person at the server's own keyboard, no account needed

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def role_name(self) -> str:
        return ROLE_NAMES[self.role]


def start_session(account: Account, now: float | None = None) -> Session:
    t = time.time() if now is None else now
    return Session(account.name, account.role, account.changed, t, t)


def local_session(now: float | None = None) -> Session:
    t = time.time() if now is None else now
    return Session("本机", "admin", "", t, t, local=True)


def touch(session: Session, accounts: Accounts, now: float | None = None) -> Session | None:
    """The session renewed at ``now``, or None when it has ended.

    It ends when idle longer than IDLE_SECONDS, older than LIFETIME_SECONDS, or when its
    account was removed or had its password or role changed since sign-in.
    """
    t = time.time() if now is None else now
    if t - session.last_seen > IDLE_SECONDS or t - session.started > LIFETIME_SECONDS:
        return None
    if session.local:
        return replace(session, last_seen=t)
    account = accounts.get(session.user)
    if account is None or account.changed != session.account_changed:
        return None
    return replace(session, role=account.role, last_seen=t)


# ---- lockout ------------------------------------------------------------------------


def _backoff(over: int) -> float:
    """The wait after ``over`` failures past the free ones: 30 s, 60 s, 120 s … 15 min."""
    return min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(over, 0))


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0


@dataclass
class Throttle:
    """Failed sign-ins counted per account and address, with an exponential back-off.

    Three counts, each with its own limit:

    - one account from one address (``FREE_FAILURES``): guessing one password locks
      that address out of that account, and nobody else;
    - one address over all names (``ADDRESS_FAILURES``): trying many names from one
      computer;
    - one account over all addresses (``ACCOUNT_FAILURES``): guessing from many
      computers. Past it, only an address that has not yet failed on this account may
      try, so the real owner signing in from their own computer is never locked out by
      somebody else's guesses, while each guessing computer gets one try per back-off.

    A try is counted *before* its password is checked (``begin``) and cleared when it
    succeeds: the check of the limits and the count are one step under one lock, so a
    burst of parallel tries gets no more password checks than serial ones. Kept in the
    server's memory (Streamlit runs one process, every browser session a thread): a
    restart clears it, which an attacker cannot cause from a browser.
    """

    _failures: dict[tuple[str, ...], _Failures] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def _keys(name: str, address: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        return ("pair", name, address), ("addr", address), ("user", name)

    def _count(self, key: tuple[str, ...]) -> _Failures:
        return self._failures.get(key) or _Failures()

    def _wait(self, name: str, address: str, t: float) -> float:
        pair_key, addr_key, user_key = self._keys(name, address)
        pair, addr, user = self._count(pair_key), self._count(addr_key), self._count(user_key)
        waits = [0.0]
        if pair.count >= FREE_FAILURES:
            waits.append(pair.last + _backoff(pair.count - FREE_FAILURES) - t)
        if addr.count >= ADDRESS_FAILURES:
            waits.append(addr.last + _backoff(addr.count - ADDRESS_FAILURES) - t)
        if user.count >= ACCOUNT_FAILURES and pair.count > 0:
            waits.append(user.last + _backoff(user.count - ACCOUNT_FAILURES) - t)
        return max(waits)

    def wait_seconds(self, name: str, address: str, now: float | None = None) -> float:
        """How long ``name`` from ``address`` must still wait before a try (0 = may try now)."""
        t = time.time() if now is None else now
        with self._lock:
            return max(0.0, self._wait(name, address, t))

    def begin(self, name: str, address: str, now: float | None = None) -> float:
        """Reserve one try: 0.0 when it may go ahead (it counts as failed until
        ``succeeded``), else the seconds to wait (nothing counted)."""
        t = time.time() if now is None else now
        with self._lock:
            self._forget(t)
            wait = self._wait(name, address, t)
            if wait > 0:
                return wait
            for key in self._keys(name, address):
                f = self._failures.setdefault(key, _Failures())
                f.count += 1
                f.last = t
            return 0.0

    def failed(self, name: str, address: str, now: float | None = None) -> None:
        """Count one failed try without a reservation (``begin`` already counts its try)."""
        t = time.time() if now is None else now
        with self._lock:
            self._forget(t)
            for key in self._keys(name, address):
                f = self._failures.setdefault(key, _Failures())
                f.count += 1
                f.last = t

    def succeeded(self, name: str, address: str) -> None:
        """The reserved try was right: this account from this address starts afresh.

        The address's and the account's counts are only given back the one try: a
        success on one's own account must not reset the guesses made at others.
        """
        pair_key, addr_key, user_key = self._keys(name, address)
        with self._lock:
            self._failures.pop(pair_key, None)
            for key in (addr_key, user_key):
                f = self._failures.get(key)
                if f is not None and f.count > 0:
                    f.count -= 1

    def _forget(self, t: float) -> None:
        # also keeps the table small under a flood of made-up names
        horizon = BACKOFF_MAX_SECONDS + FORGET_SECONDS
        for key in [k for k, f in self._failures.items() if t - f.last > horizon]:
            del self._failures[key]
        for key, f in self._failures.items():
            limit = {"pair": FREE_FAILURES, "addr": ADDRESS_FAILURES}.get(key[0], ACCOUNT_FAILURES)
            if f.count < limit and t - f.last > FORGET_SECONDS:
                f.count = 0


@dataclass(frozen=True)
class SignIn:
    """The outcome of one sign-in try: the account, or how long to wait, or neither (wrong)."""

    account: Account | None
    wait: float = 0.0


def sign_in(
    accounts: Accounts,
    throttle: Throttle,
    name: str,
    password: str,
    address: str,
    now: float | None = None,
) -> SignIn:
    """Check ``name``/``password`` from ``address`` under ``throttle``'s limits.

    The try is reserved before the password hash is computed, so parallel tries are
    refused as soon as the limit is reached, not after all of them were checked.
    """
    wait = throttle.begin(name, address, now)
    if wait > 0:
        return SignIn(None, wait)
    account = accounts.authenticate(name, password)
    if account is not None:
        throttle.succeeded(name, address)
    return SignIn(account)


# ---- where the server listens -------------------------------------------------------


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this computer (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or an interface address: reachable from the network
