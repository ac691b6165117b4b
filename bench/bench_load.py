"""Query latency of the running web server with 1, 5, 10 and 20 simultaneous sessions.

Usage::

    python bench/bench_load.py --kb KB                   # starts `fengqiao serve` itself
    python bench/bench_load.py --url http://127.0.0.1:8501 [--pid PID]
    python bench/bench_load.py --kb KB --sessions 1,5,10,20 --questions 5 --json

Each simulated mediator is one Streamlit session spoken to the way the browser does,
over the websocket ``/_stcore/stream`` with ``BackMsg``/``ForwardMsg`` protobufs, but
without a browser (headless Chromium on the same two cores inflated earlier figures
several-fold): it opens the page (a rerun with an empty query string), signs in when the
page asks for it, then types one question after another into the question box (a rerun
with that widget's new value) and waits for the ``script_finished`` message. A
question's latency runs from sending the rerun to that message: search, answer
extraction, rendering every element of the page and sending it. All sessions start
together and every session asks different questions (no cache can help across them).

Beside p50/p95 per level the script prints the server's CPU seconds per question (from
/proc; the machine is shared, so latency depends on load, CPU cost much less), which
says what the two cores can serve at best: ``sessions × cpu_per_question / 2``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ui.samples import QUESTIONS as SAMPLE_QUESTIONS  # noqa: E402

TARGET_S = 1.0  # per question at 10 concurrent sessions (issue 15)
QUESTION_LABEL = "请输入纠纷情况"  # the ask page's question box (its label starts so)
DONE_MARK = "检索用时"  # the caption the ask page writes last, once the answer is rendered
QUESTIONS = SAMPLE_QUESTIONS  # ui/samples.py: the one list


class LoadError(RuntimeError):
    """The server did not answer as a browser would expect (closed, error element, timeout)."""


@dataclass
class Rendered:
    """What one script run sent: its elements' texts, widget ids by label, and how it ended."""

    texts: list[str] = field(default_factory=list)
    widgets: dict[str, str] = field(default_factory=dict)  # label -> widget id
    buttons: dict[str, str] = field(default_factory=dict)  # label -> widget id (buttons)
    exceptions: list[str] = field(default_factory=list)
    status: int = -1
    seconds: float = 0.0

    def has(self, text: str) -> bool:
        return any(text in t for t in self.texts)

    def widget(self, label_start: str) -> str | None:
        return next((wid for lab, wid in self.widgets.items() if lab.startswith(label_start)), None)


class Session:
    """One browser tab's conversation with a Streamlit server, without the browser."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 120.0,
        local_addr: tuple[str, int] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        scheme = "wss" if parts.scheme == "https" else "ws"
        self.ws_url = f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream"
        self.timeout = timeout
        self.page_hash = ""
        self.session_id = ""
        self.last: Rendered = Rendered()
        self._ws: Any = None
        self._connect: dict[str, Any] = {}
        if local_addr is not None:  # e.g. 127.0.0.2: another computer, as the server sees it
            self._connect["local_addr"] = local_addr
        if headers:
            self._connect["additional_headers"] = headers

    async def __aenter__(self) -> Session:
        import websockets
        from websockets.typing import Origin, Subprotocol

        self._ws = await websockets.connect(
            self.ws_url,
            subprotocols=[Subprotocol("streamlit")],
            origin=Origin(self.origin),
            max_size=None,
            **self._connect,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def open(self, query_string: str = "") -> Rendered:
        """Load the page, as a browser does on navigation."""
        return await self._rerun(query_string=query_string)

    async def set_widgets(self, values: dict[str, str], *, click: str | None = None) -> Rendered:
        """Send new text values for widgets (by id), optionally clicking a button (by id)."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        states = []
        for wid, value in values.items():
            ws = WidgetState(id=wid)
            ws.string_value = value
            states.append(ws)
        if click is not None:
            ws = WidgetState(id=click)
            ws.trigger_value = True
            states.append(ws)
        return await self._rerun(states=states)

    async def ask(self, question: str) -> Rendered:
        """Type a question into the ask page's box and press Enter."""
        box = self.last.widget(QUESTION_LABEL)
        if box is None:
            raise LoadError(f"页面上没有问题输入框；页面内容：{self.last.texts[:5]}")
        rendered = await self.set_widgets({box: question})
        if rendered.exceptions:
            raise LoadError(f"页面出错：{rendered.exceptions[0][:200]}")
        if not rendered.has(DONE_MARK):
            raise LoadError(f"没有得到检索结果：{question}；页面内容：{rendered.texts[-3:]}")
        return rendered

    async def login(self, user: str, password: str) -> Rendered:
        """Fill in and submit the login form when the page shows one."""
        name = self.last.widget("用户名")
        secret = self.last.widget("密码")
        submit = self.last.buttons.get("登录")
        if name is None or secret is None or submit is None:
            raise LoadError("页面没有登录表单")
        return await self.set_widgets({name: user, secret: password}, click=submit)

    async def _rerun(self, *, query_string: str = "", states: Sequence[object] = ()) -> Rendered:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        msg.rerun_script.query_string = query_string
        msg.rerun_script.page_script_hash = self.page_hash
        msg.rerun_script.widget_states.widgets.extend(states)  # type: ignore[arg-type]
        start = time.perf_counter()
        await self._ws.send(msg.SerializeToString())
        rendered = await asyncio.wait_for(self._collect(), self.timeout)
        rendered.seconds = time.perf_counter() - start
        self.last = rendered
        return rendered

    async def _collect(self) -> Rendered:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        out = Rendered()
        while True:
            data = await self._ws.recv()
            fm = ForwardMsg()
            fm.ParseFromString(data)
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = fm.new_session.page_script_hash or self.page_hash
                self.session_id = fm.new_session.initialize.session_id or self.session_id
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                _element(fm.delta.new_element, out)
            elif kind == "script_finished":
                out.status = int(fm.script_finished)
                if out.status == 0:  # FINISHED_SUCCESSFULLY (not "early for rerun")
                    return out


def _element(element: Any, out: Rendered) -> None:
    kind = element.WhichOneof("type")
    el = getattr(element, kind)
    if kind == "exception":
        out.exceptions.append(f"{el.type}: {el.message}")
        return
    text = getattr(el, "body", "") or getattr(el, "label", "")
    if text:
        out.texts.append(str(text))
    wid = getattr(el, "id", "")
    if wid and getattr(el, "label", ""):
        (out.buttons if kind in ("button", "form_submit_button") else out.widgets)[el.label] = wid
        if kind == "button" and getattr(el, "is_form_submitter", False):
            out.buttons[el.label] = wid


@dataclass
class Level:
    sessions: int
    latencies: list[float]
    search_ms: list[float]
    wall: float
    cpu: float | None  # server CPU seconds used during the level

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p95(self) -> float:
        return _pct(self.latencies, 0.95)

    def json(self) -> dict[str, object]:
        n = len(self.latencies)
        return {
            "sessions": self.sessions,
            "questions": n,
            "p50_s": round(self.p50, 3),
            "p95_s": round(self.p95, 3),
            "max_s": round(max(self.latencies), 3),
            "search_p50_ms": round(statistics.median(self.search_ms), 1)
            if self.search_ms
            else None,
            "throughput_qps": round(n / self.wall, 2),
            "server_cpu_per_question_s": round(self.cpu / n, 3) if self.cpu is not None else None,
        }


def _pct(xs: Sequence[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(q * len(s))) - 1))]


def _search_ms(rendered: Rendered) -> float | None:
    for t in reversed(rendered.texts):
        if t.startswith(DONE_MARK):
            digits = "".join(ch for ch in t if ch.isdigit() or ch == ".")
            return float(digits) if digits else None
    return None


async def one_user(
    url: str,
    questions: Sequence[str],
    *,
    user: str | None = None,
    password: str | None = None,
    start: asyncio.Barrier | None = None,
) -> list[Rendered]:
    """Open the page (sign in if asked), wait at the start barrier, then ask each question."""
    async with Session(url) as s:
        try:
            page = await s.open()
            if page.widget("用户名") is not None:
                if user is None or password is None:
                    raise LoadError("服务器要求登录：请用 --user 和 FENGQIAO_PASSWORD 提供账户")
                page = await s.login(user, password)
                if page.widget(QUESTION_LABEL) is None:
                    raise LoadError(f"登录失败：{page.texts[-3:]}")
        except BaseException:
            if start is not None:
                await start.abort()  # the others must not wait for this session forever
            raise
        if start is not None:
            await start.wait()
        return [await s.ask(q) for q in questions]


async def run_level(
    url: str,
    sessions: int,
    pool: Sequence[str],
    per_session: int,
    *,
    user: str | None = None,
    password: str | None = None,
    pid: int | None = None,
) -> Level:
    """``sessions`` users open the page, then all start asking at the same moment."""
    go = asyncio.Barrier(sessions + 1)
    tasks = [
        asyncio.create_task(
            one_user(
                url,
                [pool[(i * per_session + j) % len(pool)] for j in range(per_session)],
                user=user,
                password=password,
                start=go,
            )
        )
        for i in range(sessions)
    ]
    try:
        await go.wait()  # every session has connected and rendered its empty page
    except asyncio.BrokenBarrierError:
        await asyncio.gather(*tasks)  # raises the failed session's error
        raise
    cpu0 = _cpu_seconds(pid)
    t0 = time.perf_counter()
    results = await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    cpu1 = _cpu_seconds(pid)
    rendered = [r for user_runs in results for r in user_runs]
    searched = [ms for ms in map(_search_ms, rendered) if ms is not None]
    cpu = cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else None
    return Level(sessions, [r.seconds for r in rendered], searched, wall, cpu)


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a process and its children so far (Linux /proc)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(x) for x in fields[11:15]) / ticks


def wait_healthy(
    url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
            raise LoadError(f"服务器没有启动：{url}")
        time.sleep(0.3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def question_pool(path: Path | None, n: int, seed: int = 15) -> list[str]:
    """Questions: the built-in mediator questions, then eval queries (shuffled) if given."""
    pool = list(QUESTIONS)
    if path is not None:
        with path.open(encoding="utf-8") as f:
            extra = [json.loads(line)["query"] for line in f if line.strip()]
        random.Random(seed).shuffle(extra)
        pool += [q for q in extra if len(q) <= 200]
    if len(pool) < n:
        raise SystemExit(f"错误：只有 {len(pool)} 个问题，需要 {n} 个。建议：加 --queries 查询集")
    return pool[:n]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running server (default: start `fengqiao serve --kb KB`)")
    ap.add_argument("--kb", type=Path, help="knowledge base to serve when --url is not given")
    ap.add_argument("--pid", type=int, help="the server's process id (for its CPU time)")
    ap.add_argument("--sessions", default="1,5,10,20", help="concurrency levels, comma-separated")
    ap.add_argument("--questions", type=int, default=5, help="questions per session per level")
    ap.add_argument(
        "--queries",
        type=Path,
        default=Path(os.environ.get("FENGQIAO_EVAL", REPO.parent / "shared" / "eval"))
        / "lawyer-llama.jsonl",
        help="extra questions (JSONL with a query field), so no two sessions ask the same",
    )
    ap.add_argument("--user", help="account name, when the server asks for a login")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    levels = [int(x) for x in args.sessions.split(",") if x.strip()]
    password = os.environ.get("FENGQIAO_PASSWORD")
    need = sum(levels) * args.questions
    pool = question_pool(args.queries if args.queries.exists() else None, need)
    proc = None
    url, pid = args.url, args.pid
    if url is None:
        if args.kb is None:
            raise SystemExit("错误：需要 --url 或 --kb。建议：--kb 指向已建好的知识库")
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "serve", "--kb", str(args.kb), "--port", str(port)],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
        url, pid = f"http://127.0.0.1:{port}", proc.pid
    try:
        wait_healthy(url, proc)
        # Warm the shared service (index, model, jieba) once, as the first visitor would.
        asyncio.run(one_user(url, [QUESTIONS[0]], user=args.user, password=password))
        rows = []
        offset = 0
        for n in levels:
            chunk = pool[offset : offset + n * args.questions]
            offset += n * args.questions
            level = asyncio.run(
                run_level(url, n, chunk, args.questions, user=args.user, password=password, pid=pid)
            )
            rows.append(level.json())
            if not args.json:
                _print_row(level, first=len(rows) == 1)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    load = os.getloadavg()
    if args.json:
        print(json.dumps({"url": url, "loadavg": load, "levels": rows}, ensure_ascii=False))
    else:
        print(f"机器负载（1/5/15 分钟）：{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}（2 核）")
    return 0


def _print_row(level: Level, *, first: bool) -> None:
    if first:
        print(
            f"{'并发会话':>8} {'问题数':>6} {'p50 秒':>8} {'p95 秒':>8} {'检索 p50 ms':>11}"
            f" {'每题服务器 CPU 秒':>16} {'目标':>10}"
        )
    j = level.json()
    target = f"≤ {TARGET_S:.0f} s" if level.sessions == 10 else ""
    cpu = j["server_cpu_per_question_s"]
    print(
        f"{level.sessions:>8} {j['questions']:>6} {level.p50:>8.2f} {level.p95:>8.2f}"
        f" {j['search_p50_ms'] or 0:>11.0f} {cpu if cpu is not None else '-':>16} {target:>10}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
