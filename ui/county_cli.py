"""``fengqiao sync``: a committee's recorded cases up to the county store, or through a USB bundle."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.atomic import write_bytes
from ingest.printable import printable
from retrieval.errors import CountyError
from retrieval.kb_folder import KBFolder

if TYPE_CHECKING:
    from retrieval.county.sync import Identity

URI_ENV = "FENGQIAO_COUNTY_URI"


def register(
    sub: argparse._SubParsersAction, kb_arg: Callable[[argparse.ArgumentParser], None]
) -> None:  # type: ignore[type-arg]
    sp = sub.add_parser(
        "sync",
        help="把本调委会的调解案例同步到县级数据库（或导出/导入U盘同步包）",
        description=(
            "fengqiao sync --to postgresql://… 同步到县级库；"
            "--export 包.zip 导出到U盘；--import 包.zip --to … 在乡镇/县导入；"
            "--demo --to … 生成合成演示数据（单独存放，不与真实记录混合）。"
        ),
    )
    sp.add_argument(
        "--to", default=None, metavar="URI", help=f"县级 PostgreSQL 地址（默认环境变量 {URI_ENV}）"
    )
    route = sp.add_mutually_exclusive_group()
    route.add_argument(
        "--export", type=Path, default=None, metavar="BUNDLE", help="导出同步包（.zip）"
    )
    route.add_argument(
        "--import", dest="import_", type=Path, default=None, metavar="BUNDLE", help="导入同步包"
    )
    route.add_argument("--demo", action="store_true", help="向演示库写入合成数据")
    sp.add_argument("--committee", default="", help="调委会名称（第一次同步时填写，之后记住）")
    sp.add_argument("--town", default="", help="所在乡镇")
    sp.add_argument("--county", default="", help="所在县（区）")
    sp.add_argument("--batch", type=int, default=200, help="每批记录数（每批一个事务）")
    sp.add_argument("--records", type=int, default=20000, help="--demo：合成记录数")
    sp.add_argument("--seed", type=int, default=7, help="--demo：随机种子")
    kb_arg(sp)
    sp.set_defaults(handler=_sync)


def _identity(args: argparse.Namespace, kb: Path) -> Identity:
    from retrieval.county.sync import Identity

    path = KBFolder(kb).county_config
    saved: dict[str, str] = {}
    if path.exists():
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CountyError(
                f"{path} 无法读取（{exc}）", "删除它，再用 --committee 等重新填写"
            ) from None
    who = Identity(
        args.committee or saved.get("committee", ""),
        args.town or saved.get("town", ""),
        args.county or saved.get("county", ""),
    ).check()
    mine = {**saved, "committee": who.committee, "town": who.town, "county": who.county}
    if mine != saved:
        write_bytes(path, json.dumps(mine, ensure_ascii=False, indent=1).encode("utf-8"))
    return who


def _uri(args: argparse.Namespace) -> str:
    uri = args.to or os.environ.get(URI_ENV, "")
    if not uri:
        raise CountyError(
            "没有县级数据库地址", f"加上 --to postgresql://… 或设置环境变量 {URI_ENV}"
        )
    return str(uri)


def _sync(args: argparse.Namespace) -> int:
    from retrieval.county import sync as county_sync
    from retrieval.kb_folder import default_kb

    kb = Path(args.kb) if args.kb else default_kb()
    if args.batch < 1:
        raise CountyError(f"--batch {args.batch} 无效", "用一个正整数，如 200")

    def progress(done: int, total: int) -> None:
        print(f"\r已提交第 {done}/{total} 批", end="", file=sys.stderr, flush=True)

    if args.demo:
        from retrieval.county.synthetic import load_demo

        n = load_demo(_uri(args), records=args.records, seed=args.seed)
        print(f"已在演示库（county_demo）写入 {n} 条合成记录；研判页选择“演示数据”即可查看")
        return 0
    if args.export is not None:
        who = _identity(args, kb)
        n = county_sync.export_bundle(kb, who, args.export)
        print(
            printable(
                f"已导出 {n} 条记录到 {args.export}；拷到乡镇后运行 fengqiao sync --import {args.export.name} --to …"
            )
        )
        return 0
    if args.import_ is not None:
        report = county_sync.import_bundle(
            args.import_, _uri(args), batch_size=args.batch, progress=progress
        )
    else:
        who = _identity(args, kb)
        report = county_sync.sync(kb, _uri(args), who, batch_size=args.batch, progress=progress)
    if report.batches:
        print(file=sys.stderr)
    print(
        printable(
            f"{report.committee}：新增 {report.added}，更新 {report.updated}，"
            f"撤回 {report.withdrawn}，未变 {report.unchanged}"
        )
    )
    if args.import_ is None:
        _pull_shared(kb, _uri(args), who.committee)
    return 0


def _pull_shared(kb: Path, uri: str, committee: str) -> None:
    """After a push: remember the county store and pull the other committees' cases, so
    they join this committee's similar cases (``retrieval/county/shared.py``)."""
    from retrieval.county import shared

    saved = shared.read_config(kb)
    remembered = shared.without_password(uri)
    if saved.get("uri") != remembered:
        saved["uri"] = remembered
        write_bytes(
            KBFolder(kb).county_config,
            json.dumps(saved, ensure_ascii=False, indent=1).encode("utf-8"),
        )
    path = KBFolder(kb).county_shared
    try:
        got = shared.pull(shared.Source(uri, committee), path)
    except CountyError as exc:  # the push went through: say so, do not fail the sync
        print(printable(f"县级共享案例这次没有取回（{exc.message}）；网页运行时会在后台再取"))
        return
    print(
        f"县级共享案例：其他调委会 {got.total} 条（新增 {got.added}，更新 {got.updated}，"
        f"撤回 {got.withdrawn}）"
    )
    if shared.unembedded(path):
        from retrieval.admin import recorded_model
        from retrieval.encoders.embedder import load_embedder

        print("正在为新取回的共享案例计算向量……", file=sys.stderr)
        n = shared.embed_missing(path, load_embedder(recorded_model(kb)))
        print(f"已为 {n} 条共享案例计算向量，问答检索的类似案例中可见")
