"""The login gate of the web pages and the role checks the pages call.

Who may do what:

- With no account in ``<kb>/users.json``, a browser on the server's own computer is the
  administrator, as before accounts existed: whoever sits at that keyboard can run
  ``fengqiao add`` or edit the knowledge base folder anyway, so a password would protect
  nothing there. A browser from any other computer (or through a proxy) is refused,
  with the one command that creates the first administrator.
- Once any account exists, everybody signs in, at the server's keyboard too: the
  committee chose accounts, and a shared office computer has several users.
- Administrators upload files, rebuild, delete or bulk-import precedents and change
  the knowledge base; mediators search, browse, build case files, export, and record
  and correct the committee's resolved cases (调解案例): they resolved those disputes,
  and each record is masked and its articles verified before it is saved.

A session is one browser tab's Streamlit session (``st.session_state``): reloading the
page signs out, idle or long-lived sessions end (``ui.accounts.touch``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

import streamlit as st

from ui.accounts import (
    AccountError,
    Accounts,
    Session,
    Throttle,
    local_session,
    sign_in,
    start_session,
    touch,
)

_SESSION = "fengqiao_auth_session"
_NOTICE = "fengqiao_auth_notice"
_FAILED = "fengqiao_auth_failed"
_NAME = "fengqiao-login-name"
_PASSWORD = "fengqiao-login-password"
# Headers a reverse proxy adds: behind one, every browser looks like this computer.
_PROXY_HEADERS = ("X-Forwarded-For", "X-Real-Ip", "Forwarded", "X-Forwarded-Host")
FIRST_ADMIN = "fengqiao user add 姓名 --role admin"
BEHIND_PROXY_ENV = "FENGQIAO_BEHIND_PROXY"  # "1": `serve --behind-proxy` (see client_address)

# One per server process, shared by every session (each a thread): see ui.accounts.Throttle.
THROTTLE = Throttle()


def _accounts() -> Accounts:
    from retrieval.kb_folder import default_kb

    return Accounts.in_kb(default_kb().resolve())


def client_address(
    peer: str | None, headers: Mapping[str, str | None], behind_proxy: bool
) -> str | None:
    """The browser's address for the login gate; None only for this computer's own browser.

    Behind a reverse proxy (``fengqiao serve --behind-proxy``) every request arrives from
    the proxy, so nobody is this computer: the address is the one the proxy adds last to
    ``X-Forwarded-For``, or "代理" when it adds none. Without that setting a forwarding
    header from a loopback peer still means a proxy; a proxy that adds no header cannot be
    told from this computer's browser, which is why ``--behind-proxy`` exists.
    """
    if behind_proxy:
        hops = [h.strip() for h in str(headers.get("X-Forwarded-For") or "").split(",")]
        return hops[-1] or "代理"
    proxied = any(isinstance(headers.get(h), str) for h in _PROXY_HEADERS)
    if peer is None and proxied:
        return "代理"
    return peer


def _client() -> str | None:
    """The browser's address, or None for this computer (no proxy in between)."""
    ip = st.context.ip_address
    remote = ip if isinstance(ip, str) else None  # None: loopback, or no network peer (tests)
    try:
        headers: Mapping[str, str | None] = st.context.headers
    except Exception:  # no request headers outside a real server
        headers = {}
    return client_address(remote, headers, os.environ.get(BEHIND_PROXY_ENV) == "1")


def _account_problem(exc: AccountError, client: str | None) -> str:
    """What a damaged users.json shows: the whole line (with its path) only at this computer."""
    if client is None:
        return exc.line()
    return "错误：账户文件无法读取，暂时不能登录。建议：请管理员在运行枫桥的电脑上查看"


def gate() -> bool:
    """True when this browser session may see the pages; else it has drawn the login page.

    The one call ``ui/app.py`` makes before navigation: ``if not auth.gate(): st.stop()``.
    """
    client = _client()
    try:
        accounts = _accounts()
        has_accounts = accounts.any()
    except AccountError as exc:  # a damaged users.json locks everybody out, never in
        st.error(_account_problem(exc, client))
        return False
    if not has_accounts:
        if client is None:
            st.session_state[_SESSION] = local_session()
            return True
        st.title("枫桥")
        st.error(
            "本机以外的访问需要登录，但还没有任何账户。"
            f"建议：请管理员在运行枫桥的电脑上执行 {FIRST_ADMIN}，然后刷新本页。"
        )
        return False
    session = st.session_state.get(_SESSION)
    if isinstance(session, Session):
        renewed = None if session.local else touch(session, accounts)
        if renewed is not None:
            st.session_state[_SESSION] = renewed
            _sidebar(renewed)
            return True
        st.session_state.pop(_SESSION, None)
        st.session_state[_NOTICE] = "登录已过期或账户已变更，请重新登录。"
    _login_page(accounts, client)
    return False


def _login_page(accounts: Accounts, client: str | None) -> None:
    st.title("枫桥 · 登录")
    st.caption("人民调解法律知识检索。请用管理员分配的账户登录。")
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        st.info(notice)
    failed = st.session_state.pop(_FAILED, None)
    if failed:
        st.error(failed)
    with st.form("fengqiao-login", clear_on_submit=True):
        st.text_input("用户名", max_chars=64, key=_NAME)
        st.text_input("密码", type="password", max_chars=1024, key=_PASSWORD)
        # signing in in the callback: the run that follows already sees the session
        st.form_submit_button("登录", type="primary", on_click=_sign_in, args=(client,))
    st.caption("忘记密码：请管理员在运行枫桥的电脑上执行 fengqiao user passwd 用户名。")


def _sign_in(client: str | None) -> None:
    name = str(st.session_state.get(_NAME) or "").strip()
    password = str(st.session_state.get(_PASSWORD) or "")
    st.session_state[_PASSWORD] = ""  # not kept in the session beyond this check
    address = client or "本机"
    if not name or not password:
        wait = THROTTLE.wait_seconds(name, address)
        st.session_state[_FAILED] = (
            f"登录失败次数过多，请 {int(wait) + 1} 秒后再试。"
            if wait > 0
            else "请输入用户名和密码。"
        )
        return
    try:
        result = sign_in(_accounts(), THROTTLE, name, password, address)
    except AccountError as exc:
        st.session_state[_FAILED] = _account_problem(exc, client)
        return
    if result.wait > 0:
        st.session_state[_FAILED] = f"登录失败次数过多，请 {int(result.wait) + 1} 秒后再试。"
        return
    if result.account is None:
        st.session_state[_FAILED] = "用户名或密码不正确。"
        return
    st.session_state[_SESSION] = start_session(result.account, time.time())


def _sidebar(session: Session) -> None:
    box = st.sidebar.container(border=False)
    box.caption(f"当前用户：{session.user}（{session.role_name}）")
    box.button("退出登录", key="fengqiao-logout", type="tertiary", on_click=logout)


def logout() -> None:
    """End this browser session's sign-in; the run that follows shows the login page."""
    st.session_state.pop(_SESSION, None)
    st.session_state[_NOTICE] = "已退出登录。"


# ---- what the pages call -------------------------------------------------------------


def current() -> Session | None:
    """The signed-in session (the local administrator included), None before sign-in."""
    session = st.session_state.get(_SESSION)
    return session if isinstance(session, Session) else None


def is_admin() -> bool:
    """Whether this session may change the knowledge base (upload, rebuild, precedents)."""
    session = current()
    return session is not None and session.is_admin


def require_admin(action: str = "这项操作") -> bool:
    """True for an administrator; otherwise one line saying who can, and False.

    Pages call it before every control that changes the knowledge base and draw the
    control only when it returns True: a control never drawn cannot be triggered.
    """
    if is_admin():
        return True
    st.info(f"只有管理员可以{action}。如需操作，请用管理员账户登录。")
    return False


def require_user(action: str = "这项操作") -> bool:
    """True for any signed-in user (a mediator or an administrator); otherwise one line, False.

    With accounts, the gate admits signed-in users only, so this fails only where no
    gate ran; it keeps a write control from being drawn there all the same.
    """
    if current() is not None:
        return True
    st.info(f"登录后才能{action}。请用管理员分配的账户登录。")
    return False
