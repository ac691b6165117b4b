"""Nobody in: accounts, hashed passwords, sessions, lockout, the login gate, `serve`'s settings."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui import accounts as acc
from ui import cli
from ui.accounts import AccountError, Accounts, Throttle, local_session, start_session, touch

HERE = Path(__file__).parent / "data" / "ui"
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(HERE), str(REPO / "bench")]
from bench_load import Session  # noqa: E402
from fixture_server import running  # noqa: E402
from ui_kb import build_fixture_kb, load_fixture_kb  # noqa: E402

APP = str(REPO / "ui" / "app.py")
ADMIN_PW = "correct horse battery"
MEDIATOR_PW = "mediator pass 1"


@pytest.fixture
def users(tmp_path: Path) -> Accounts:
    a = Accounts.in_kb(tmp_path)
    a.add("王主任", ADMIN_PW, "admin")
    a.add("李调解", MEDIATOR_PW, "mediator")
    return a


# ---- the users file ---------------------------------------------------------------------


def test_passwords_are_salted_scrypt_hashes_in_a_private_file(users: Accounts) -> None:
    raw = users.path.read_text(encoding="utf-8")
    assert ADMIN_PW not in raw and MEDIATOR_PW not in raw
    hashes = [u["password_hash"] for u in json.loads(raw)["users"]]
    assert all(h.startswith("scrypt$65536$8$1$") for h in hashes)
    assert stat.S_IMODE(users.path.stat().st_mode) == 0o600
    assert [p.name for p in users.path.parent.iterdir()] == ["users.json"]  # no temp file left
    # the same password twice gives two different hashes (a salt per user)
    assert acc.hash_password("same password") != acc.hash_password("same password")


def test_a_wider_mode_is_narrowed_on_the_next_write(users: Accounts) -> None:
    os.chmod(users.path, 0o644)
    users.add("赵调解", "another pass", "mediator")
    assert stat.S_IMODE(users.path.stat().st_mode) == 0o600


def test_authenticate(users: Accounts) -> None:
    assert users.authenticate("王主任", ADMIN_PW).role == "admin"  # type: ignore[union-attr]
    assert users.authenticate(" 李调解 ", MEDIATOR_PW).role == "mediator"  # type: ignore[union-attr]
    assert users.authenticate("王主任", MEDIATOR_PW) is None
    assert users.authenticate("nobody", ADMIN_PW) is None
    assert users.authenticate("王主任", "x" * 5000) is None  # refused before the KDF


def test_verify_rejects_damaged_hashes() -> None:
    good = acc.hash_password("a long password")
    assert acc.verify_password("a long password", good)
    for bad in ("", "plain", good.replace("scrypt", "md5"), good[:-8], "scrypt$1$2$3$@@$@@"):
        assert not acc.verify_password("a long password", bad)


def test_names_passwords_and_roles_are_checked(users: Accounts) -> None:
    with pytest.raises(AccountError, match="太短"):
        users.add("新人", "short", "mediator")
    with pytest.raises(AccountError, match="已经有"):
        users.add("王主任", "another pass", "admin")
    with pytest.raises(AccountError, match="角色"):
        users.add("新人", "another pass", "root")
    with pytest.raises(AccountError, match="控制字符"):
        users.add("新\x1b[2J人", "another pass", "mediator")


def test_the_last_administrator_stays(users: Accounts) -> None:
    with pytest.raises(AccountError, match="最后一个管理员"):
        users.remove("王主任")
    with pytest.raises(AccountError, match="最后一个管理员"):
        users.set_role("王主任", "mediator")
    users.add("张主任", "another pass", "admin")
    users.remove("王主任")
    assert [a.name for a in users.all()] == ["张主任", "李调解"]


def test_a_damaged_users_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "users.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(AccountError, match="users.json") as info:
        Accounts.in_kb(tmp_path).any()
    assert "建议" in info.value.line()


# ---- sessions and lockout ---------------------------------------------------------------


def test_sessions_expire_when_idle_and_after_a_working_day(users: Accounts) -> None:
    account = users.get("李调解")
    assert account is not None
    s = start_session(account, now=1000.0)
    assert touch(s, users, now=1000.0 + acc.IDLE_SECONDS - 1) is not None
    assert touch(s, users, now=1000.0 + acc.IDLE_SECONDS + 1) is None
    t = 1000.0
    while t < 1000.0 + acc.LIFETIME_SECONDS - 600:  # busy all day: renewed every 10 minutes
        renewed = touch(s, users, now=t + 600)
        assert renewed is not None
        s, t = renewed, t + 600
    assert touch(s, users, now=1000.0 + acc.LIFETIME_SECONDS + 1) is None


def test_a_password_change_or_removal_ends_sessions(users: Accounts) -> None:
    admin, mediator = users.get("王主任"), users.get("李调解")
    assert admin is not None and mediator is not None
    s_admin, s_med = start_session(admin), start_session(mediator)
    other_process = Accounts(users.path)  # the CLI changes the file; the server sees it
    other_process.set_password("李调解", "a new password")
    assert touch(s_med, users) is None
    assert touch(s_admin, users) is not None
    other_process.add("张主任", "another pass", "admin")
    other_process.remove("王主任")
    assert touch(s_admin, users) is None


def test_local_sessions_need_no_account(tmp_path: Path) -> None:
    s = local_session(now=0.0)
    assert s.is_admin and touch(s, Accounts.in_kb(tmp_path), now=60.0) is not None


def test_lockout_backs_off_after_repeated_failures() -> None:
    th = Throttle()
    name, addr = "王主任", "10.0.0.9"
    for i in range(acc.FREE_FAILURES):
        assert th.begin(name, addr, now=100.0 + i) == 0
    last = 100.0 + acc.FREE_FAILURES - 1
    assert th.wait_seconds(name, addr, now=last + 1) == pytest.approx(acc.BACKOFF_BASE_SECONDS - 1)
    assert th.begin(name, addr, now=last + 1) > 0  # refused, and not counted
    assert th.wait_seconds("李调解", addr, now=last + 1) == 0  # another account, same address
    assert th.wait_seconds(name, "10.0.0.7", now=last + 1) == 0  # the owner elsewhere
    assert th.begin(name, addr, now=last + 31) == 0
    assert th.wait_seconds(name, addr, now=last + 32) == pytest.approx(
        2 * acc.BACKOFF_BASE_SECONDS - 1
    )
    th.succeeded(name, addr)
    assert th.wait_seconds(name, addr, now=last + 33) == 0


def test_one_address_guessing_many_names_is_slowed() -> None:
    th = Throttle()
    for i in range(acc.ADDRESS_FAILURES):
        assert th.begin(f"名字{i}", "10.0.0.9", now=100.0) == 0
    assert th.wait_seconds("王主任", "10.0.0.9", now=101.0) > 0
    assert th.wait_seconds("王主任", "10.0.0.8", now=101.0) == 0


def test_guesses_from_many_addresses_never_lock_the_owner_out() -> None:
    th = Throttle()
    for i in range(acc.ACCOUNT_FAILURES):  # a few tries each from many computers
        assert th.begin("王主任", f"10.0.{i // 4}.{i % 4}", now=100.0) == 0
    assert th.wait_seconds("王主任", "10.0.0.1", now=101.0) > 0  # a guessing address waits
    assert th.wait_seconds("王主任", "192.168.1.2", now=101.0) == 0  # the owner's does not
    assert th.begin("王主任", "10.9.9.9", now=101.0) == 0  # a new guesser: one try
    assert th.wait_seconds("王主任", "10.9.9.9", now=102.0) > 0


def test_parallel_wrong_passwords_get_no_more_checks_than_serial_ones(
    users: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """100 wrong passwords at once from one address: at most FREE_FAILURES hashes are
    computed, and the real administrator then signs in from another address."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    acc._dummy_hash()  # computed once, not counted
    checks: list[str] = []
    count_lock = threading.Lock()
    real_scrypt = acc._scrypt
    start = threading.Barrier(100)

    def counting_scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
        with count_lock:
            checks.append(password)
        return real_scrypt(password, salt, n, r, p)

    monkeypatch.setattr(acc, "_scrypt", counting_scrypt)
    th = Throttle()

    def attempt(i: int) -> acc.SignIn:
        start.wait()
        return acc.sign_in(users, th, "王主任", f"wrong password {i}", "10.0.0.66")

    with ThreadPoolExecutor(max_workers=100) as pool:
        results = list(pool.map(attempt, range(100)))
    assert len(checks) <= acc.FREE_FAILURES
    assert all(r.account is None for r in results)
    assert sum(r.wait > 0 for r in results) >= 100 - acc.FREE_FAILURES
    # the attacker's address, even with the right password, waits
    assert acc.sign_in(users, th, "王主任", ADMIN_PW, "10.0.0.66").wait > 0
    owner = acc.sign_in(users, th, "王主任", ADMIN_PW, "192.168.1.10")
    assert owner.account is not None and owner.account.is_admin


# ---- the command line -------------------------------------------------------------------


def _cli(args: list[str], stdin: str = "", monkeypatch: pytest.MonkeyPatch | None = None) -> int:
    if monkeypatch is not None:
        import io

        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return cli.main(args)


def test_user_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    kb = str(tmp_path)
    assert (
        _cli(
            ["user", "add", "王主任", "--role", "admin", "--kb", kb, "--password-stdin"],
            ADMIN_PW + "\n",
            monkeypatch,
        )
        == 0
    )
    assert (
        _cli(
            ["user", "add", "李调解", "--role", "mediator", "--kb", kb, "--password-stdin"],
            "short\n",
            monkeypatch,
        )
        == 1
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("错误：密码太短") and "建议" in err[0]
    assert (
        _cli(
            ["user", "add", "李调解", "--role", "mediator", "--kb", kb, "--password-stdin"],
            MEDIATOR_PW + "\n",
            monkeypatch,
        )
        == 0
    )
    assert _cli(["user", "list", "--kb", kb]) == 0
    out = capsys.readouterr().out
    assert "王主任  管理员" in out and "李调解  调解员" in out
    assert (
        _cli(
            ["user", "passwd", "李调解", "--kb", kb, "--password-stdin"],
            "a new password\n",
            monkeypatch,
        )
        == 0
    )
    assert Accounts.in_kb(tmp_path).authenticate("李调解", "a new password") is not None
    assert _cli(["user", "remove", "王主任", "--kb", kb]) == 1  # the last administrator
    assert _cli(["user", "role", "李调解", "--role", "admin", "--kb", kb]) == 0
    assert _cli(["user", "remove", "王主任", "--kb", kb]) == 0


@pytest.fixture
def built_kb(tmp_path_factory: pytest.TempPathFactory, fake_embedder: object) -> Path:
    return build_fixture_kb(tmp_path_factory.mktemp("kb"), fake_embedder)


@pytest.fixture
def exec_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """`serve` replaces itself with Streamlit: record the command instead."""
    calls: list[list[str]] = []

    def fake_exec(path: str, argv: list[str], env: dict[str, str]) -> None:
        calls.append(list(argv))
        raise SystemExit(0)

    monkeypatch.setattr(cli.os, "execve", fake_exec)
    return calls


def _option(cmd: list[str], name: str) -> str:
    return cmd[cmd.index(f"--{name}") + 1]


def test_serve_defaults_to_this_computer_with_hardened_settings(
    built_kb: Path, exec_calls: list[list[str]]
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["serve", "--kb", str(built_kb)])
    cmd = exec_calls[0]
    assert _option(cmd, "server.address") == "127.0.0.1"
    assert _option(cmd, "server.maxUploadSize") == "50"
    assert _option(cmd, "server.enableXsrfProtection") == "true"
    assert _option(cmd, "client.toolbarMode") == "minimal"
    assert _option(cmd, "browser.gatherUsageStats") == "false"
    assert _option(cmd, "runner.postScriptGC") == "false"
    assert _option(cmd, "server.fileWatcherType") == "none"
    # the one person at this computer, no accounts, no proxy: tracebacks help them
    assert _option(cmd, "client.showErrorDetails") == "full"
    assert "--browser.serverAddress" not in cmd


def test_error_details_only_for_the_local_single_user(
    built_kb: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A traceback names server paths: never shown once accounts exist (a shared computer,
    or a proxy in front) nor behind a proxy, where every visitor is another computer."""
    from ui.auth import BEHIND_PROXY_ENV

    calls: list[tuple[list[str], dict[str, str]]] = []

    def fake_exec(path: str, argv: list[str], env: dict[str, str]) -> None:
        calls.append((list(argv), dict(env)))
        raise SystemExit(0)

    monkeypatch.setattr(cli.os, "execve", fake_exec)
    kb = str(built_kb)
    assert cli.main(["serve", "--kb", kb, "--behind-proxy"]) == 1  # no administrator yet
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--behind-proxy" in err[0] and "--role admin" in err[0]
    Accounts.in_kb(built_kb).add("王主任", ADMIN_PW, "admin")
    for argv, proxy in (
        (["serve", "--kb", kb], "0"),
        (["serve", "--kb", kb, "--behind-proxy"], "1"),
    ):
        with pytest.raises(SystemExit):
            cli.main(argv)
        cmd, env = calls[-1]
        assert _option(cmd, "client.showErrorDetails") == "none", argv
        assert env[BEHIND_PROXY_ENV] == proxy


def test_behind_a_proxy_nobody_is_this_computer() -> None:
    from ui.auth import client_address

    xff = {"X-Forwarded-For": "203.0.113.9, 192.168.1.20"}
    assert client_address(None, {}, behind_proxy=False) is None  # this computer's browser
    assert client_address(None, xff, behind_proxy=False) == "代理"
    # a proxy that adds no forwarding header: LAN users must not look local
    assert client_address(None, {}, behind_proxy=True) == "代理"
    assert client_address(None, {"X-Forwarded-For": ""}, behind_proxy=True) == "代理"
    assert client_address(None, xff, behind_proxy=True) == "192.168.1.20"  # the proxy's own hop
    assert client_address("10.0.0.5", {}, behind_proxy=False) == "10.0.0.5"


def test_a_damaged_users_file_shows_its_path_only_at_this_computer(
    make_app: Callable[[], AppTest], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui import auth

    (tmp_path / "users.json").write_text("{not json", encoding="utf-8")
    at = make_app().run()
    assert any(str(tmp_path) in e.value for e in at.error)  # the administrator's keyboard
    monkeypatch.setattr(auth, "_client", lambda: "192.168.1.20")
    at = make_app().run()
    (shown,) = [e.value for e in at.error]
    assert "账户文件无法读取" in shown and str(tmp_path) not in shown and "users.json" not in shown
    assert "问答检索" not in _headings(at)


def test_serving_the_office_network_needs_an_administrator(
    built_kb: Path, exec_calls: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["serve", "--kb", str(built_kb), "--host", "0.0.0.0"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "fengqiao user add" in err[0] and "--role admin" in err[0]
    assert exec_calls == []
    Accounts.in_kb(built_kb).add("李调解", MEDIATOR_PW, "mediator")
    assert cli.main(["serve", "--kb", str(built_kb), "--host", "0.0.0.0"]) == 1  # no admin yet
    Accounts.in_kb(built_kb).add("王主任", ADMIN_PW, "admin")
    with pytest.raises(SystemExit):
        cli.main(["serve", "--kb", str(built_kb), "--host", "0.0.0.0"])
    assert _option(exec_calls[0], "server.address") == "0.0.0.0"
    assert _option(exec_calls[0], "client.showErrorDetails") == "none"
    # set, so Streamlit does not ask checkip.amazonaws.com for this computer's address
    assert _option(exec_calls[0], "browser.serverAddress") not in ("", "0.0.0.0")


def test_run_refuses_before_building(
    built_kb: Path, monkeypatch: pytest.MonkeyPatch, exec_calls: list[list[str]]
) -> None:
    builds: list[object] = []
    monkeypatch.setattr(cli.subprocess, "call", lambda *a, **k: builds.append(a) or 0)
    assert cli.main(["run", "--kb", str(built_kb), "--host", "192.168.1.5"]) == 1
    assert builds == [] and exec_calls == []


def test_loopback_addresses() -> None:
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        assert acc.is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.5", "10.0.0.1", "fengqiao.local", ""):
        assert not acc.is_loopback(host), host


# ---- the login gate (AppTest) -----------------------------------------------------------


@pytest.fixture
def make_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, built_kb: Path
) -> Callable[[], AppTest]:
    monkeypatch.setenv("FENGQIAO_KB", str(tmp_path))
    service = load_fixture_kb(built_kb)

    def make() -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["fengqiao_service_override"] = service
        return at

    return make


def _headings(at: AppTest) -> list[str]:
    return [h.value for h in at.title] + [h.value for h in at.header]


def _login(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    at.button[0].click()
    return at.run()


def test_without_accounts_the_person_at_this_computer_is_administrator(
    make_app: Callable[[], AppTest],
) -> None:
    at = make_app().run()
    assert "问答检索" in _headings(at)
    assert at.session_state["fengqiao_auth_session"].is_admin


def test_without_accounts_other_computers_are_refused(
    make_app: Callable[[], AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui import auth

    monkeypatch.setattr(auth, "_client", lambda: "192.168.1.20")
    at = make_app().run()
    assert "问答检索" not in _headings(at)
    assert any("fengqiao user add" in e.value for e in at.error)


def test_with_accounts_everybody_signs_in(make_app: Callable[[], AppTest], tmp_path: Path) -> None:
    users = Accounts.in_kb(tmp_path)
    users.add("王主任", ADMIN_PW, "admin")
    users.add("李调解", MEDIATOR_PW, "mediator")
    at = make_app().run()
    assert _headings(at) == ["枫桥 · 登录"]
    assert [t.label for t in at.text_input] == ["用户名", "密码"]
    _login(at, "李调解", "wrong password")
    assert [e.value for e in at.error] == ["用户名或密码不正确。"]
    assert "问答检索" not in _headings(at)
    _login(at, "李调解", MEDIATOR_PW)
    assert "问答检索" in _headings(at)
    assert any("李调解（调解员）" in c.value for c in at.sidebar.caption)
    assert not at.session_state["fengqiao_auth_session"].is_admin
    # (logging out is tested against the real server below: AppTest runs a page's own
    # file directly on the run after st.navigation, so it cannot show the gate again)


def test_repeated_failures_lock_the_name(make_app: Callable[[], AppTest], tmp_path: Path) -> None:
    from ui import auth

    auth.THROTTLE.succeeded("王主任", "本机")
    Accounts.in_kb(tmp_path).add("王主任", ADMIN_PW, "admin")
    at = make_app().run()
    try:
        for _ in range(acc.FREE_FAILURES):
            _login(at, "王主任", "wrong password")
        _login(at, "王主任", ADMIN_PW)  # even the right password waits now
        assert any("秒后再试" in e.value for e in at.error)
        assert "问答检索" not in _headings(at)
    finally:
        auth.THROTTLE.succeeded("王主任", "本机")


def test_mediators_get_no_upload_on_the_knowledge_page(
    make_app: Callable[[], AppTest], tmp_path: Path
) -> None:
    users = Accounts.in_kb(tmp_path)
    users.add("王主任", ADMIN_PW, "admin")
    users.add("李调解", MEDIATOR_PW, "mediator")
    at = make_app().run()
    _login(at, "李调解", MEDIATOR_PW)
    at.switch_page("views/knowledge.py").run()
    assert [t.value for t in at.title] == ["知识库"]
    assert not at.get("file_uploader")
    assert any("只有管理员" in i.value for i in at.info)


def test_require_admin() -> None:
    def page() -> None:
        import streamlit as st

        from ui import auth
        from ui.accounts import Session

        role = st.session_state["role"]
        st.session_state["fengqiao_auth_session"] = Session("x", role, "", 0.0, 0.0)
        if auth.require_admin("导入文件"):
            st.button("保存并更新知识库")

    at = AppTest.from_function(page)
    at.session_state["role"] = "mediator"
    at.run()
    assert not at.button and "只有管理员可以导入文件" in at.info[0].value
    at.session_state["role"] = "admin"
    at.run()
    assert [b.label for b in at.button] == ["保存并更新知识库"]


# ---- against a running server -----------------------------------------------------------


@pytest.fixture(scope="module")
def server_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_kb(tmp_path_factory.mktemp("served"))


@pytest.fixture(scope="module")
def server(server_kb: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running(server_kb, tmp_path_factory.mktemp("log") / "streamlit.log") as url:
        yield url


def _xsrf(url: str) -> str:
    with urllib.request.urlopen(f"{url}/_stcore/health") as r:
        cookie = r.headers.get("Set-Cookie", "")
    return cookie.split("_streamlit_xsrf=", 1)[1].split(";", 1)[0]


def _put_status(url: str, session_id: str, size: int) -> int:
    """The status of an upload announcing ``size`` bytes, before a byte of the body is sent."""
    import http.client

    token = _xsrf(url)
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=20)
    try:
        conn.putrequest("PUT", f"/_stcore/upload_file/{session_id}/file1")
        conn.putheader("Content-Type", "multipart/form-data; boundary=x")
        conn.putheader("Content-Length", str(size))
        conn.putheader("X-Xsrftoken", token)
        conn.putheader("Cookie", f"_streamlit_xsrf={token}")
        conn.endheaders()
        return conn.getresponse().status  # a server that waits for the body times out here
    finally:
        conn.close()


def test_the_server_refuses_uploads_over_the_file_limit(server: str) -> None:
    from ingest.config import MAX_FILE_MB

    async def upload(size: int) -> int:
        async with Session(server) as s:  # the upload belongs to an open browser session
            await s.open()
            return await asyncio.to_thread(_put_status, server, s.session_id, size)

    assert asyncio.run(upload((MAX_FILE_MB + 1) << 20)) == 413  # Streamlit's default: 200 MB


def test_a_browser_from_another_computer_gets_no_page_without_accounts(server: str) -> None:
    async def visit(**kw: object) -> list[str]:
        async with Session(server, **kw) as s:  # type: ignore[arg-type]
            return (await s.open("q=离婚")).texts

    assert any("问答检索" in t for t in asyncio.run(visit()))  # this computer
    for kw in ({"local_addr": ("127.0.0.2", 0)}, {"headers": {"X-Forwarded-For": "10.1.2.3"}}):
        texts = asyncio.run(visit(**kw))
        assert not any("问答检索" in t for t in texts), kw
        assert any("fengqiao user add" in t for t in texts), kw


def test_no_search_before_signing_in(server: str, server_kb: Path) -> None:
    users = Accounts.in_kb(server_kb)
    users.add("李调解", MEDIATOR_PW, "mediator")
    try:

        async def attempt() -> tuple[list[str], list[str]]:
            async with Session(server) as s:
                page = await s.open("q=男方不同意离婚")  # a shared link, not signed in
                # a forged rerun: the question box's id as the signed-in page would have it
                forged = await s.set_widgets({"$$ID-forged-q": "男方不同意离婚"})
                await s.open()
                signed = await s.login("李调解", MEDIATOR_PW)
                answered = await s.ask("男方不同意离婚，女方可以怎么办？")
                out = await s.set_widgets({}, click=answered.buttons["退出登录"])
                again = await s.set_widgets({s.last.widget("请输入") or "$$ID-q": "离婚"})
                return (
                    page.texts + forged.texts,
                    signed.texts + answered.texts,
                    out.texts + again.texts,
                )

        before, during, after = asyncio.run(attempt())
        assert "枫桥 · 登录" in before and not any("检索用时" in t for t in before)
        assert not any("第一千零七十九条" in t for t in before)
        assert any("检索用时" in t for t in during)
        assert "已退出登录。" in after and not any("检索用时" in t for t in after)
    finally:
        users.path.unlink()


def test_one_file_size_limit_for_add_the_page_and_streamlit() -> None:
    """``fengqiao add``, the knowledge page and Streamlit's own upload cap take the same files."""
    import tomllib

    from ingest.config import MAX_FILE_MB
    from retrieval.admin import Admin
    from retrieval.kb_folder import KBFolder

    toml = tomllib.loads((Path(cli.APP).parent / ".streamlit" / "config.toml").read_text("utf-8"))
    assert toml["server"]["maxUploadSize"] == MAX_FILE_MB == Admin(KBFolder(Path("kb"))).limit_mb
