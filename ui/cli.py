"""The ``fengqiao`` command: a thin argparse layer over ``retrieval.service``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.config import MAX_FILE_MB
from ingest.errors import FengqiaoError
from ingest.printable import printable

if TYPE_CHECKING:
    from retrieval.admin import AddReport
    from retrieval.asking import Answered
    from retrieval.build import BuildReport
    from retrieval.evaluate import EvalResult
    from retrieval.service import Service

APP = Path(__file__).resolve().parent / "app.py"
LOOPBACK = "127.0.0.1"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _quiet_libraries()
    try:
        return int(args.handler(args) or 0)
    except FengqiaoError as exc:
        print(printable(exc.line()), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("已中断。已完成的部分保存在缓存中，再次运行会从中断处继续。", file=sys.stderr)
        return 130


def _quiet_libraries() -> None:
    """Only warnings of our own reach the user; libraries' debug and info lines do not."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("bm25s", "jieba", "faiss", "sentence_transformers", "transformers", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _kb(args: argparse.Namespace) -> Path:
    from retrieval.kb_folder import default_kb

    return Path(args.kb) if args.kb else default_kb()


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"需要整数，收到“{text}”") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"不能为负数（收到 {value}）")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fengqiao", description="枫桥：人民调解法律知识检索助手")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def kb_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--kb", type=Path, default=None, help="知识库文件夹（默认 kb/ 或 FENGQIAO_KB）"
        )

    def source_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--statutes", type=Path, nargs="+", action="extend", default=[], help="法规文件夹"
        )
        sp.add_argument(
            "--cases", type=Path, nargs="+", action="extend", default=[], help="案例文件夹或文件"
        )
        sp.add_argument(
            "--model", default=None, help="sentence-transformers 模型名称或路径（默认 e5-small）"
        )
        sp.add_argument("--force", action="store_true", help="即使新知识库比现有的少一半以上也替换")

    def store_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--store",
            default=None,
            metavar="URI",
            help="检索存储：flat（默认，知识库文件夹中的索引）、milvus-lite:///路径/名称.db（本机文件），"
            "或 Milvus 服务器 milvus://主机:19530（milvus+tls:// 为加密连接）；"
            "服务器令牌只从环境变量 FENGQIAO_MILVUS_TOKEN 读取，不接受命令行参数，也不写入任何文件。"
            "Milvus 为空或与知识库不一致时先从知识库自动填入（不重新计算向量）",
        )

    def serve_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--port", type=int, default=8501)
        sp.add_argument(
            "--host", default=LOOPBACK, help="监听地址（默认只允许本机访问：127.0.0.1）"
        )
        sp.add_argument(
            "--behind-proxy",
            action="store_true",
            help="经由本机的反向代理（Caddy、nginx 等加 HTTPS）访问：每个访问者都须登录，"
            "访问者地址取自代理加的 X-Forwarded-For；需要先有管理员账户",
        )

    sp = sub.add_parser("fetch", help="下载法规合集，或安装发布的预建索引（需要联网）")
    what = sp.add_mutually_exclusive_group()
    what.add_argument(
        "--url", default=None, help="法规压缩包地址（默认固定版本的 LawRefBook Laws）"
    )
    what.add_argument(
        "--index",
        default=None,
        metavar="URL",
        help="预建索引压缩包的地址或本地文件（fengqiao build --export 生成）；必须同时给出 --sha256。"
        "校验通过后整体替换知识库的索引，失败时原索引不变",
    )
    sp.add_argument("--sha256", default=None, help="压缩包的 SHA-256 校验值（发布方给出）")
    sp.add_argument(
        "--model", default=None, help="本机检索用的向量模型（默认 e5-small）；索引须由同一模型构建"
    )
    kb_arg(sp)
    sp.set_defaults(handler=_fetch)

    sp = sub.add_parser("build", help="从法规和案例文件建立（或增量更新）知识库")
    source_args(sp)
    kb_arg(sp)
    sp.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda"],
        default="auto",
        help="计算向量的设备：auto（默认，有 CUDA 显卡时用显卡）、cpu、cuda；不影响向量本身",
    )
    sp.add_argument(
        "--ray",
        default=None,
        metavar="ADDRESS",
        help="在 Ray 集群上计算向量：头节点地址（如 10.0.0.5:6379 或 ray://10.0.0.5:10001），"
        "local 为在本机启动 Ray；结果写入同一向量缓存，中断后再次运行会继续",
    )
    sp.add_argument(
        "--export",
        type=Path,
        default=None,
        metavar="FILE",
        help="构建后把索引导出为带校验的压缩包（.tar.gz 或 .tar），并打印其 SHA-256",
    )
    sp.set_defaults(handler=_build)

    sp = sub.add_parser("add", help="把自己的法规或调解记录文件加入知识库并增量更新")
    sp.add_argument("files", type=Path, nargs="+")
    sp.add_argument("--force", action="store_true", help="即使新知识库比现有的少一半以上也替换")
    kb_arg(sp)
    sp.set_defaults(handler=_add)

    sp = sub.add_parser("query", help="在终端检索法条和类似案例")
    sp.add_argument("question")
    sp.add_argument("--k", type=_positive, default=10, help="返回的法条数")
    sp.add_argument("--cases-k", type=_positive, default=5, help="返回的案例数")
    sp.add_argument("--json", action="store_true", help="输出 JSON")
    kb_arg(sp)
    store_arg(sp)
    sp.set_defaults(handler=_query)

    sp = sub.add_parser("eval", help="用查询集评估检索质量")
    sp.add_argument("--queries", type=Path, required=True, nargs="+", action="extend")
    sp.add_argument("--tier", choices=["curated", "national"], default="curated")
    sp.add_argument(
        "--leave",
        choices=["source", "one", "none"],
        default="source",
        help="查询不能使用哪些案例：source=同一查询集的全部案例（默认），one=只排除自身，none=不排除",
    )
    sp.add_argument("--limit", type=_positive, default=None, help="只评估前 N 条查询")
    sp.add_argument(
        "--configs",
        default="",
        help="只评估这些检索配置，逗号分隔（如 hybrid,bm25；默认全部）",
    )
    sp.add_argument("--json", action="store_true")
    kb_arg(sp)
    store_arg(sp)
    sp.set_defaults(handler=_eval)

    sp = sub.add_parser("serve", help="打开网页界面")
    serve_args(sp)
    kb_arg(sp)
    store_arg(sp)
    sp.set_defaults(handler=_serve)

    sp = sub.add_parser("run", help="需要时先建立知识库，再打开网页界面")
    source_args(sp)
    serve_args(sp)
    kb_arg(sp)
    store_arg(sp)
    sp.set_defaults(handler=_run)

    sp = sub.add_parser(
        "user", help="网页账户：管理员（admin）、调解员（mediator）和研判员（analyst）"
    )
    users = sp.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        ("add", "添加账户（提示输入两次密码）"),
        ("passwd", "修改密码（该账户已登录的会话随即失效）"),
        ("role", "修改角色"),
        ("remove", "删除账户"),
        ("list", "列出账户"),
    ):
        up = users.add_parser(action, help=text)
        if action != "list":
            up.add_argument("name", help="用户名（姓名或工号）")
        if action in ("add", "role"):
            up.add_argument(
                "--role",
                choices=["admin", "mediator", "analyst"],
                required=True,
                help="admin、mediator 或 analyst（研判员）",
            )
        if action in ("add", "passwd"):
            up.add_argument(
                "--password-stdin", action="store_true", help="从标准输入读一行作为密码（脚本用）"
            )
        kb_arg(up)
        up.set_defaults(handler=_user)

    from ui import county_cli  # fengqiao sync: the county record store (issue 24)

    county_cli.register(sub, kb_arg)
    return p


def _fetch(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ingest.fetch import fetch

    if args.index:
        return _fetch_index(args)
    with tqdm(unit="B", unit_scale=True, desc="下载", file=sys.stderr) as bar:

        def progress(done: int, total: int | None) -> None:
            bar.total = total
            bar.update(done - bar.n)

        got = fetch(_kb(args), url=args.url, sha256=args.sha256, progress=progress)
    note = "校验通过" if got.verified else "没有已知校验值，已记录本次的值"
    print(f"已下载并解压到 {got.path}（{got.bytes / 1e6:.1f} MB，SHA-256 {got.sha256}，{note}）")
    print(f"下一步：fengqiao build --statutes {got.path}")
    return 0


def _fetch_index(args: argparse.Namespace) -> int:
    """Install a published prebuilt index: checked whole, then swapped in (else nothing changes)."""
    from tqdm import tqdm

    from retrieval.archive import install_index
    from retrieval.encoders.embedder import load_embedder

    if not args.sha256:
        raise FengqiaoError(
            f"安装预建索引 {args.index} 需要校验值",
            "加上 --sha256 发布方给出的 64 位校验值（索引不经校验不会安装）",
        )
    kb = _kb(args)
    key = load_embedder(args.model).key  # refuse an index this PC could not query
    with tqdm(unit="B", unit_scale=True, desc="下载索引", file=sys.stderr) as bar:

        def progress(done: int, total: int | None) -> None:
            bar.total = total
            bar.update(done - bar.n)

        got = install_index(args.index, args.sha256, kb, model_key=key, progress=progress)
    corpus = got.corpus
    print(
        printable(
            f"已安装预建索引到 {got.path}（{got.files} 个文件，{got.bytes / 1e6:.1f} MB，"
            f"SHA-256 {got.sha256} 校验通过；{corpus.get('articles', 0)} 条法条，"
            f"{corpus.get('cases', 0)} 个案例，模型 {got.model.get('name', '')}）"
        )
    )
    _warn_dropin_left_out(kb)
    print(f"下一步：fengqiao serve --kb {kb}")
    return 0


def _warn_dropin_left_out(kb: Path) -> None:
    """A prebuilt index holds only the publisher's sources: say which of this computer's
    drop-in files are no longer searchable, and how to bring them back."""
    from retrieval.kb_folder import KBFolder

    left = KBFolder(kb).dropin_files()
    if left:
        names = "、".join(p.name for p in left[:10]) + ("等" if len(left) > 10 else "")
        print(
            printable(
                f"注意：drop-in 中的 {len(left)} 个文件（{names}）不在安装的预建索引中，现在检索不到。"
                f"建议：用 fengqiao build --statutes 本机法规文件夹 --kb {kb} 重建（会读入 drop-in），"
                "或请索引发布方把这些文件加入后重新发布"
            ),
            file=sys.stderr,
        )


def _build(args: argparse.Namespace) -> int:
    from retrieval.admin import rebuild

    if args.export is not None:
        from retrieval.archive import check_archive_name

        check_archive_name(args.export)  # before a long build, not after it
    report = rebuild(
        _kb(args),
        statutes=args.statutes,
        cases=args.cases,
        model=args.model,
        force=args.force,
        show_progress=True,
        device=args.device,
        ray=args.ray,
    )
    _print_build(report)
    if args.export is not None:
        from retrieval.archive import export_index

        info = export_index(_kb(args), args.export)
        print(
            printable(
                f"已导出索引压缩包 {info.path}（{info.files} 个文件，{info.bytes / 1e6:.1f} MB）"
            )
        )
        print(f"SHA-256 {info.sha256}（也写在 {info.path.name}.sha256）")
        print(f"安装：fengqiao fetch --index 地址/{info.path.name} --sha256 {info.sha256}")
    return 0


def _print_build(report: BuildReport) -> None:
    for problem in report.problems:
        print(printable(f"注意：{problem}"), file=sys.stderr)
    for note in report.notes:
        print(printable(note))
    for file in report.files:
        if file.rejected or file.duplicates:
            print(printable(file.summary()))
    print(report.summary())


def _add(args: argparse.Namespace) -> int:
    from retrieval.admin import Upload, add_files

    uploads = []
    for path in args.files:
        if not path.is_file():
            raise FengqiaoError(
                f"找不到文件 {path}", "检查路径；法规文件夹请用 fengqiao build --statutes"
            )
        uploads.append(Upload.from_path(path))
    report = add_files(_kb(args), uploads, force=args.force, show_progress=True)
    _print_add(report)
    return 1 if report.refused and not (report.saved or report.precedents) else 0


def _print_add(report: AddReport) -> None:
    for name, reason in report.refused:
        print(printable(f"未导入 {name}：{reason}"), file=sys.stderr)
    if report.build is not None:
        _print_build(report.build)
    for saved in report.saved:
        for line in report.lines(saved):
            print(printable(line))
    for name, result in report.precedents:
        for line in report.precedent_lines(name, result):
            print(printable(line))


class _FillBars:
    """Progress bars on stderr while a Milvus store is filled from the knowledge base."""

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}

    def __call__(self, corpus: str, done: int, total: int) -> None:
        from tqdm import tqdm

        name = {"articles": "填入法条", "cases": "填入案例"}.get(corpus, corpus)
        bar = self.bars.get(corpus)
        if bar is None:
            bar = self.bars[corpus] = tqdm(total=total, desc=name, unit="段", file=sys.stderr)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()  # one finished line per corpus, not two bars fighting over a line

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def _open(args: argparse.Namespace) -> Service:
    """The knowledge base served from ``--store`` (env FENGQIAO_STORE, else the folder's files)."""
    from retrieval.loader import store_factory
    from retrieval.service import Service

    bars = _FillBars()
    try:
        return Service.load(_kb(args), stores=store_factory(args.store, progress=bars))
    finally:
        bars.close()


def _query(args: argparse.Namespace) -> int:
    from retrieval.serialise import answered_json

    service = _open(args)
    answered = service.ask(args.question, k=args.k, k_cases=args.cases_k)
    fresh, stale = answered.freshness, answered.stale_as_of
    if args.json:
        out = answered_json(answered)
        out["freshness"] = {
            "data_as_of": service.catalogue.data_as_of,
            "stale": bool(stale),
            "text": fresh.text if fresh is not None else "",
        }
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    _print_answered(answered, stale)
    if fresh is not None:
        print(f"\n【数据】{fresh.text}")
    return 0


def _print_answered(answered: Answered, stale_as_of: str = "") -> None:
    """The answer as text; with ``stale_as_of`` every status names the data date."""
    from retrieval.answer import NO_POINT
    from ui.text import dated_status

    result = answered.result
    _print_guidance(answered, risk=True)  # risk signs first: they may call for action now
    for notice in result.notices:
        print(f"【提示】{notice.text}")
    for cited in answered.cited:
        if cited.article is not None:
            status = dated_status(cited.article.status, stale_as_of)
            print(f"【引用】{cited.article.citation}（{status}）")
    if stale_as_of:
        print(
            f"【注意】效力状态以 {stale_as_of} 的法规数据为准，距今已超过一年；"
            "此后修订或废止的法律法规未反映在这里，使用前请核对最新法律文本。"
        )
    if answered.answer.quotes:
        print("答案要点（法条原文摘录）")
        for n, quote in enumerate(answered.answer.quotes, 1):
            lead = f"{quote.lead}{'' if quote.adjacent else '……'}" if quote.lead else ""
            print(f"{n}. “{lead}{quote.text}”——{quote.citation}")
        print()
    elif result.articles and not answered.cited:
        print(f"答案要点：{NO_POINT}\n")
    _print_guidance(answered, risk=False)
    print(f"适用法条（{len(result.articles)}）")
    for hit in result.articles:
        a = hit.record
        print(
            f"\n{hit.rank}. {a.citation}  [{dated_status(a.status, stale_as_of)}]  "
            f"{' / '.join(a.path)}"
        )
        print(f"   {a.text}".replace("\n", "\n   "))
    if result.cases:
        print(f"\n类似案例（{len(result.cases)}）")
    for case_hit in result.cases:
        c = case_hit.record
        shown = c.result
        text = shown.text.replace("\n", " ")
        print(f"\n{case_hit.rank}. {c.title}  [{c.label} · {c.dispute_type}]")
        if text:
            print(f"   {shown.label}：{text[:160]}{'…' if len(text) > 160 else ''}")
        for cit in c.flagged:
            print(f"   引用待核：{cit.raw} {cit.verdict_note}")


def _print_guidance(answered: Answered, *, risk: bool) -> None:
    """办理提示: the risk section (``risk``) or the others, each point with its quote."""
    from retrieval.guidance import SECTIONS
    from ui.guidance_text import guidance_lines

    g = answered.guidance
    lines = guidance_lines(g, sections=("风险",) if risk else SECTIONS[1:])
    if lines:
        title = "办理提示 · 风险" if risk else f"办理提示（{'、'.join(g.dispute_types)}）"
        print(f"{title}（每条附所依据的法条原文）")
        print("\n".join(lines))
        print()


def _eval(args: argparse.Namespace) -> int:
    from retrieval.config import CONFIGS
    from retrieval.errors import EvalError
    from retrieval.evaluate import evaluate

    configs = [c.strip() for c in args.configs.split(",") if c.strip()] or None
    unknown = [c for c in configs or () if c not in CONFIGS]
    if unknown:
        raise EvalError(
            f"未知的检索配置：{'、'.join(unknown)}", f"可用的配置：{'、'.join(CONFIGS)}"
        )
    service = _open(args)
    for path in args.queries:
        result = evaluate(
            service,
            path,
            tier=args.tier,
            configs=configs,
            leave=args.leave,
            limit=args.limit,
            show_progress=not args.json,
        )
        if args.json:
            # One object per query file; "file" says which (an added field, INTERFACES allows it).
            print(json.dumps({"file": str(path), **result.to_json()}, ensure_ascii=False, indent=1))
        else:
            _print_eval(path, result)
    return 0


def _print_eval(path: Path, result: EvalResult) -> None:
    names = ["R@1", "R@5", "R@10", "R@20", "R@100", "Hit@1", "Hit@10", "MRR@10", "nDCG@10"]
    leave = {"source": "排除同一查询集的案例", "one": "只排除自身", "none": "不排除"}[result.leave]
    print(f"{path.name}: {result.queries} 条查询，层级 {result.tier}，{leave}，模型 {result.model}")
    print(f"{'配置':<14}" + "".join(f"{n:>9}" for n in names))
    for config, metrics in result.by_config.items():
        mark = " *" if config == result.default else ""
        print(f"{config + mark:<16}" + "".join(f"{metrics.get(n, 0.0):>9.3f}" for n in names))
    if result.adapter_saw:
        print(
            f"注意：查询适配器训练时用过 {'、'.join(result.adapter_saw)} 的问题，以上不是留出评估；"
            "留出评估请设 FENGQIAO_MODEL=不含这些来源训练的适配器（bench/adapt_e5.py ship --hold-out）"
            "，见 docs/quality.md"
        )


def streamlit_options(host: str, port: int, *, error_details: bool = False) -> list[str]:
    """The Streamlit settings `serve` and `run` start the server with (`--key value` pairs).

    ``error_details``: tracebacks (they name files and code) in the page, for the one
    person at this computer only (``show_error_details``).
    """
    from ui.accounts import is_loopback

    options = {
        "server.port": str(port),
        "server.address": host,
        "server.headless": "true",
        # refused while streaming, before a 200 MB upload is buffered whole
        "server.maxUploadSize": str(MAX_FILE_MB),  # Streamlit's own default is 200 MB
        "server.enableXsrfProtection": "true",
        "server.enableCORS": "true",
        # no source watching in service: after every page view Streamlit walked all loaded
        # modules and ran a full garbage collection, together a third of the server's CPU
        # per question at 10 concurrent sessions (bench/bench_load.py)
        "server.fileWatcherType": "none",
        "server.runOnSave": "false",
        "runner.postScriptGC": "false",
        "global.developmentMode": "false",
        "browser.gatherUsageStats": "false",
        # Streamlit's own English "You can now view…" with http://0.0.0.0 (and, headless, a
        # look-up of this computer's public address over the internet): we print our own
        "logger.hideWelcomeMessage": "true",
        # and its English info lines ("Uvicorn server started on …"); warnings still show
        "logger.level": "warning",
        "client.toolbarMode": "minimal",
        "client.showErrorDetails": "full" if error_details else "none",
    }
    if not is_loopback(host):
        # Listening on 0.0.0.0 without it, Streamlit asks checkip.amazonaws.com for this
        # computer's internet address at every start (streamlit/web/bootstrap.py
        # _print_url, and as a fallback in server_util.is_url_from_allowed_origins)
        options["browser.serverAddress"] = lan_address(host)
    return [arg for key, value in options.items() for arg in (f"--{key}", value)]


WILDCARDS = ("0.0.0.0", "::", "")


def lan_address(host: str = "") -> str:
    """The address office computers reach this one at: ``host`` itself unless it is a
    wildcard, else this computer's address on the office network (its host name when
    none is found).

    Connecting a UDP socket sends nothing: it only asks the system which interface would
    be used, so this works offline and never reaches the internet.
    """
    import socket

    if host.strip().strip("[]") not in WILDCARDS:
        return host
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            address = str(probe.getsockname()[0])
    except OSError:
        address = ""
    if address and not address.startswith("127.") and address != "0.0.0.0":
        return address
    return socket.gethostname() or LOOPBACK


def started_message(host: str, port: int) -> str:
    """What `serve` prints: in Chinese, with addresses a browser can open (never 0.0.0.0)."""
    from ui.accounts import is_loopback

    if is_loopback(host):
        return (
            f"枫桥已启动。请在本机的浏览器中打开 http://{LOOPBACK}:{port}\n"
            "（只有本机可以访问；按 Ctrl+C 停止）"
        )
    where = lan_address(host)
    return (
        f"枫桥已启动（办公室其他电脑需要登录）。请在浏览器中打开 http://{where}:{port}\n"
        f"本机也可以打开 http://{LOOPBACK}:{port} （按 Ctrl+C 停止）"
        if host.strip().strip("[]") in WILDCARDS
        else f"枫桥已启动（需要登录）。请在浏览器中打开 http://{where}:{port} （按 Ctrl+C 停止）"
    )


def show_error_details(kb: Path, host: str, behind_proxy: bool) -> bool:
    """Tracebacks only in the local single-user mode: listening on loopback, no proxy in
    front, no accounts (with accounts, several people share the computer or a proxy)."""
    from ui.accounts import Accounts, is_loopback

    return is_loopback(host) and not behind_proxy and not Accounts.in_kb(kb).any()


def check_can_serve(kb: Path, host: str, behind_proxy: bool = False) -> None:
    """Refuse to listen beyond this computer while nobody can sign in as administrator."""
    from ui.accounts import Accounts, is_loopback

    if is_loopback(host) and not behind_proxy:
        return
    if not Accounts.in_kb(kb).has_admin():
        how = (
            "经由反向代理提供服务（--behind-proxy）"
            if behind_proxy
            else f"在办公网络上提供服务（--host {host}）"
        )
        raise FengqiaoError(
            f"{how}需要登录，但知识库 {kb} 还没有管理员账户",
            f"先运行 fengqiao user add 姓名 --role admin --kb {kb}，再启动",
        )


def _serve(args: argparse.Namespace) -> int:
    """Check, then replace this process with the Streamlit server (nothing of ours stays resident)."""
    from retrieval.index_folder import IndexFolder
    from retrieval.stores.fill import STORE_ENV, prepare_store, store_uri

    kb = _kb(args).resolve()
    IndexFolder.of(kb).check()  # a missing index fails here, in one line, not in the browser
    check_can_serve(kb, args.host, args.behind_proxy)
    store = store_uri(args.store if args.store is not None else os.environ.get(STORE_ENV))
    # reachable and filled now, in one line on failure, not in the browser
    bars = _FillBars()
    try:
        store = prepare_store(kb, store, progress=bars)
    finally:
        bars.close()
    # the web app reads both from the environment (the Milvus token stays there too)
    from ui.auth import BEHIND_PROXY_ENV

    env = dict(os.environ, FENGQIAO_KB=str(kb), **{STORE_ENV: store})
    env[BEHIND_PROXY_ENV] = "1" if args.behind_proxy else "0"
    details = show_error_details(kb, args.host, args.behind_proxy)
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        *streamlit_options(args.host, args.port, error_details=details),
    ]
    message = started_message(args.host, args.port)
    if args.behind_proxy:
        message += "\n（经由反向代理提供服务：请用代理的地址打开，需要登录）"
    print(message, flush=True)
    sys.stderr.flush()
    os.execve(sys.executable, cmd, env)  # does not return


def _run(args: argparse.Namespace) -> int:
    """Build in a child process, then serve: the server never holds the build's memory.

    The build loads torch, the model and the parsed corpus; run in this process, 1.1 GB of
    it stayed resident while the server ran (``bench/bench_run_memory.py``). In a child it
    is all returned when the child ends, and ``_serve`` then replaces this process with
    the server, which loads only the index (254 MB in all).
    """
    check_can_serve(_kb(args).resolve(), args.host, args.behind_proxy)  # before a long build
    cmd = [sys.executable, "-m", "ui.cli", "build", "--kb", str(_kb(args))]
    for flag, paths in (("--statutes", args.statutes), ("--cases", args.cases)):
        if paths:
            cmd += [flag, *map(str, paths)]
    if args.model:
        cmd += ["--model", args.model]
    if args.force:
        cmd.append("--force")
    env = dict(os.environ, PYTHONPATH=str(APP.parent.parent))
    code = subprocess.call(cmd, env=env)
    if code != 0:
        return code
    return _serve(args)


def _user(args: argparse.Namespace) -> int:
    from ui.accounts import Accounts

    kb = _kb(args)
    accounts = Accounts.in_kb(kb)
    if args.action == "list":
        rows = accounts.all()
        if not rows:
            print(f"知识库 {kb} 还没有账户。添加管理员：fengqiao user add 姓名 --role admin")
        for a in rows:
            print(printable(f"{a.name}  {a.role_name}  创建于 {a.created[:10]}"))
        return 0
    if args.action == "remove":
        gone = accounts.remove(args.name)
        print(printable(f"已删除账户 {gone.name}（{gone.role_name}）"))
        return 0
    if args.action == "role":
        changed = accounts.set_role(args.name, args.role)
        print(printable(f"{changed.name} 现在是{changed.role_name}；其已登录的会话需要重新登录"))
        return 0
    password = _read_password(args.password_stdin)
    if args.action == "add":
        added = accounts.add(args.name, password, args.role)
        print(printable(f"已添加{added.role_name} {added.name}（账户保存在 {accounts.path}）"))
    else:
        changed = accounts.set_password(args.name, password)
        print(printable(f"已修改 {changed.name} 的密码；其已登录的会话需要重新登录"))
    return 0


def _read_password(from_stdin: bool) -> str:
    from ui.accounts import check_password

    if from_stdin:
        return check_password(sys.stdin.readline().rstrip("\r\n"))
    import getpass

    first = check_password(getpass.getpass("密码（至少 8 位）："))
    if getpass.getpass("再输入一次：") != first:
        raise FengqiaoError("两次输入的密码不一致", "重新运行命令，仔细输入两次相同的密码")
    return first


if __name__ == "__main__":
    sys.exit(main())
