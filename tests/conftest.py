"""Shared fixtures: a fake deterministic embedder and tiny knowledge bases built from tests/data."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from ingest.records import Article, Case, Citation

DATA = Path(__file__).parent / "data" / "retrieval"
REPO = Path(__file__).resolve().parent.parent


class FakeEmbedder:
    """Hashed bag of characters and character bigrams: same protocol as the real embedder.

    Deterministic and instant, so retrieval tests are exact and need no model.
    """

    name = "fake-chars"
    key = "fake-chars-v1"
    dim = 256

    def __init__(self) -> None:
        self.calls = 0  # passages encoded, so tests can see the cache at work
        self.prepared: list[int] = []  # what each embed_units announced

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, np.float32)
        grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
        for g in grams:
            if g.strip() and not g.isascii():
                h = int.from_bytes(hashlib.md5(g.encode()).digest()[:4], "little")
                v[h % self.dim] += 1.0 if len(g) == 1 else 2.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return (
            np.stack([self._vec(t) for t in texts])
            if texts
            else np.zeros((0, self.dim), np.float32)
        )

    def encode_article_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_queries(texts)

    def encode_passages(
        self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        self.calls += len(texts)
        return self.encode_queries(texts)

    def prepare_passages(self, count: int) -> None:
        self.prepared.append(count)

    def count_tokens(self, text: str) -> int:
        return len(text) + 2


def _fake_config():  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from retrieval.config import DEFAULT_CONFIG

    # the similar-case floors are e5 cosines; the fake embedder's cosines are lower
    return replace(DEFAULT_CONFIG, similar_floor=0.2, similar_floor_untyped=0.3)


FAKE_CONFIG = _fake_config()


def corpus_dir() -> Path:
    """The shared real corpus: env FENGQIAO_CORPUS or ../shared/corpus beside the repo."""
    return Path(os.environ.get("FENGQIAO_CORPUS") or REPO.parent / "shared" / "corpus")


def fixture_cases() -> list[Case]:
    """Three tiny cases citing fixture articles (one is a consultation used leave-one-out)."""
    return [
        Case(
            id="case-noise",
            kind="调解案例",
            title="楼上装修噪音扰民纠纷",
            dispute_type="邻里关系",
            sections=(
                ("基本案情", "邻居家装修，晚上十点以后还在电钻施工，噪音很大，影响休息。"),
                ("争议焦点", "夜间施工噪声是否侵害相邻权。"),
            ),
            cited=(
                Citation("《民法典》第二百九十四条", "民法典", "294", resolved_id="民法典:294"),
            ),
            date="2023-05-01",
        ),
        Case(
            id="case-divorce",
            kind="典型案例",
            title="一方不同意离婚的调解",
            dispute_type="婚姻家庭",
            sections=(("基本案情", "妻子要求离婚，丈夫坚决不同意，双方分居两年。"),),
            cited=(
                Citation("《民法典》第一千零七十九条", "民法典", "1079", resolved_id="民法典:1079"),
            ),
            date="2022-01-10",
        ),
        Case(
            id="lawbench-3-8-9999",
            kind="法律咨询",
            title="公司拖欠工资怎么办",
            dispute_type="劳动劳务",
            sections=(
                ("问题", "公司连续三个月拖欠工资，我能不能辞职并要补偿？"),
                ("回答", "可以依据劳动合同法第三十八条解除。"),
            ),
            cited=(
                Citation("劳动合同法第三十八条", "劳动合同法", "38", resolved_id="劳动合同法:38"),
            ),
        ),
    ]


@pytest.fixture(scope="session")
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def tiny_kb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A knowledge base built once per session from tests/data/retrieval with the fake embedder."""
    from retrieval.build import build_kb

    kb_dir = tmp_path_factory.mktemp("kb")
    build_kb(
        kb_dir, statutes=[DATA / "statutes"], embedder=FakeEmbedder(), case_records=fixture_cases()
    )
    return kb_dir


@pytest.fixture(scope="session")
def tiny_kb(tiny_kb_dir: Path):
    from retrieval.service import Service

    return Service.load(tiny_kb_dir, embedder=FakeEmbedder(), config=FAKE_CONFIG)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Debian chromium for a real-browser test module (tests/browser_util.py)."""
    from tests.browser_util import chromium

    with chromium() as launched:
        yield launched


# ---- a local HTTP server for download tests (fetch --index, archives) ----------------------


class FileServer:
    """Serves files from a folder with HTTP Range; ``cut_at`` drops the connection mid-file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cut_at: int | None = None
        self.ranges: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = server.root / self.path.lstrip("/")
                if not path.is_file():
                    self.send_error(404)
                    return
                data = path.read_bytes()
                start = 0
                rng = self.headers.get("Range")
                if rng:
                    server.ranges.append(rng)
                    start = int(rng.split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                body = data[start:]
                if server.cut_at is not None:
                    body = body[: server.cut_at]
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FileServer]:
    root = tmp_path / "www"
    root.mkdir()
    s = FileServer(root)
    yield s
    s.httpd.shutdown()


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Bytes handed to st.download_button, by file name (made on the page or on the click)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    seen: dict[str, bytes] = {}
    original = MediaFileManager.add

    def add(
        self, path_or_data, mimetype, coordinates, file_name=None, is_for_static_download=False
    ):  # type: ignore[no-untyped-def]
        if file_name and isinstance(path_or_data, bytes):
            seen[file_name] = path_or_data
        return original(
            self, path_or_data, mimetype, coordinates, file_name, is_for_static_download
        )

    original_deferred = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kw):  # type: ignore[no-untyped-def]
        # made on the click (ui/casefile.py): the bytes the click would serve
        data = data_callable()
        if file_name and isinstance(data, bytes):
            seen[file_name] = data
        return original_deferred(self, data_callable, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add", add)
    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return seen


# The parts of the curated statutes the answer-bar and interpretation tests read, taken
# from the corpus at test time (not copied into the repository): 相邻关系, 婚姻家庭编 and
# 继承编, 第1165/1179条, 饲养动物损害责任, and the two interpretations, whole.
ANSWER_LAWS = (
    "最高人民法院关于适用民法典婚姻家庭编的解释（一）",
    "最高人民法院关于适用民法典继承编的解释（一）",
)
ANSWER_CIVIL_CODE = ((288, 296), (1040, 1163), (1165, 1165), (1179, 1179), (1245, 1251))


@pytest.fixture(scope="session")
def answer_articles() -> list[Article]:
    """Current articles of the curated corpus for the answer-bar tests (skips without it)."""
    from ingest.statutes import load_statutes

    curated = corpus_dir() / "statutes"
    if not curated.is_dir():
        pytest.skip(f"真实语料不存在：{curated}（设置 FENGQIAO_CORPUS）")
    return [
        a
        for a in load_statutes([curated], workers=1).articles
        if a.current
        and not a.suffix
        and (
            a.law in ANSWER_LAWS
            or (a.law == "民法典" and any(lo <= a.number <= hi for lo, hi in ANSWER_CIVIL_CODE))
        )
    ]
