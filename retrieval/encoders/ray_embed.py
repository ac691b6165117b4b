"""Distributed embedding with Ray Data: unit texts embedded on a cluster's workers into the embedding cache.

The texts not yet in the cache are split into batches that ``ray.data``'s ``map_batches``
hands to a pool of actors, each holding one copy of the model. Results stream back to
the driver, which writes every ``group`` vectors as one cache shard (atomic), so a run
killed half-way keeps what it finished: the next run, like ``fengqiao build``, embeds
only what is missing. The build then reads every vector from the cache as usual.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.config import CHECKPOINT_GROUP, LOCAL_RAY_START_ATTEMPTS
from retrieval.encoders.embcache import EmbeddingCache, text_hash
from retrieval.encoders.embedder import Embedder
from retrieval.errors import FengqiaoError, RayEmbedError

log = logging.getLogger(__name__)

# the repository root (retrieval/encoders/ray_embed.py → three levels up): the workers import from it
PACKAGE_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class RayEmbedReport:
    """What one distributed embedding run did."""

    embedded: int  # texts embedded now
    reused: int  # distinct texts already in the cache
    seconds: float
    actors: int
    cluster_cpus: float


class _EmbedActor:
    """One model per actor, loaded once; ``__call__`` embeds a batch of passages."""

    def __init__(
        self, model: str | None, factory: Callable[[], Embedder] | None, batch: int, share: int
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if factory is not None:
            self.embedder = factory()
        else:
            from retrieval.encoders.embedder import STEmbedder

            # passages only: the query engine is not needed on a worker
            self.embedder = STEmbedder(model, query_engine="st")
        self.embedder.prepare_passages(share)  # about this actor's part of the work
        self.batch = batch

    def __call__(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in rows["text"]]
        vecs = self.embedder.encode_passages(texts, batch_size=self.batch)
        return {"key": rows["key"], "vec": np.asarray(vecs, np.float32)}


def embed_with_ray(
    texts: Sequence[str],
    cache: EmbeddingCache,
    *,
    model: str | None = None,
    address: str | None = None,
    actors: int | None = None,
    cpus_per_actor: float = 1.0,
    batch_size: int = 256,
    model_batch: int = 32,
    group: int = CHECKPOINT_GROUP,
    embedder_factory: Callable[[], Embedder] | None = None,
    num_cpus: int | None = None,
    runtime_env: dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RayEmbedReport:
    """Embed the texts missing from ``cache`` on a Ray cluster and add them to it.

    Args:
        texts: passage texts (``Unit.text``); duplicates and cached ones are skipped.
        cache: the build's ``EmbeddingCache`` (its model key must be the model's key).
        model: model name or folder, loaded by ``STEmbedder`` on every actor (it must be
            on each worker's disk: workers never download weights).
        address: ``ray://head:10001`` or ``head:6379`` of a running cluster; None starts
            a local Ray on this machine (``num_cpus`` cores; a failed start is tried again,
            ``LOCAL_RAY_START_ATTEMPTS`` in all).
        actors: actor-pool size (default: one per ``cpus_per_actor`` CPUs of the cluster).
        batch_size: texts per ``map_batches`` call; ``model_batch`` per forward pass.
        group: vectors per cache shard, the unit of work a killed run can lose.
        embedder_factory: builds the embedder on each actor instead of ``model``
            (tests pass a fake one).
        runtime_env: Ray runtime environment; by default a local cluster gets this
            package on ``PYTHONPATH`` and a remote one must have fengqiao installed.
        progress: called with (texts done, texts to do).
    """
    t0 = time.perf_counter()
    todo: dict[str, str] = {}
    for t in texts:
        k = text_hash(t)
        if k not in todo and not cache.has(k):
            todo[k] = t
    reused = len({text_hash(t) for t in texts}) - len(todo)
    if not todo:
        return RayEmbedReport(0, reused, time.perf_counter() - t0, 0, 0.0)
    try:
        import ray
    except ImportError as e:
        raise RayEmbedError(
            "未安装 Ray，无法分布式向量化", "pip install 'ray[data]'，或去掉 --ray 在本机构建"
        ) from e
    for name in ("ray", "ray.data"):  # its start-up and progress lines are not ours to print
        logging.getLogger(name).setLevel(logging.ERROR)
    started = not ray.is_initialized()
    if started:
        _start(ray, address, num_cpus, runtime_env)
    try:
        # library code prints nothing: the caller's progress callback is the only output
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        cpus = float(ray.cluster_resources().get("CPU", 1.0))
        pool = actors or max(1, int(cpus // cpus_per_actor))
        # length-sorted, as in build.embed_units: batches of similar length pad less
        order = sorted(todo, key=lambda k: (len(todo[k]), k))
        ds = ray.data.from_items([{"key": k, "text": todo[k]} for k in order])
        out = ds.map_batches(
            _EmbedActor,
            fn_constructor_kwargs={
                "model": model,
                "factory": embedder_factory,
                "batch": model_batch,
                "share": len(order) // pool,
            },
            batch_size=batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=pool),
            num_cpus=cpus_per_actor,
        )
        done = 0
        for rows in out.iter_batches(batch_size=group, batch_format="numpy"):
            keys = [k.decode() if isinstance(k, bytes) else str(k) for k in rows["key"]]
            cache.add(keys, np.asarray(rows["vec"], np.float32))
            done += len(keys)
            if progress:
                progress(done, len(order))
    except FengqiaoError:
        raise
    except Exception as e:  # a failed task or lost worker: what was written stays cached
        raise RayEmbedError(
            f"分布式向量化失败：{_first_line(e, 200)}",
            "已完成的向量已保存在缓存中，修复后重新运行会从中断处继续",
        ) from e
    finally:
        if started:
            ray.shutdown()
    return RayEmbedReport(len(order), reused, time.perf_counter() - t0, pool, cpus)


def _start(
    ray: Any, address: str | None, num_cpus: int | None, runtime_env: dict[str, Any] | None
) -> None:
    """Join the cluster at ``address``, or start a local Ray: tried again when it fails, as
    its node start-up times out on a busy machine (Ray's fixed 30 s wait)."""
    local = address is None
    if runtime_env is None and local:
        runtime_env = {"env_vars": {"PYTHONPATH": str(PACKAGE_ROOT)}}
    attempts = LOCAL_RAY_START_ATTEMPTS if local else 1
    for attempt in range(1, attempts + 1):
        try:
            ray.init(
                address=address,
                num_cpus=num_cpus if local else None,
                runtime_env=runtime_env,
                include_dashboard=False,
                log_to_driver=False,
                ignore_reinit_error=True,
                logging_level=logging.WARNING,
            )
            return
        except Exception as e:  # ray 2.60 raises a bare Exception when its node start times out
            # stops a node that came up but could not be joined; one that never came up is
            # left to Ray's reaper, which ends it with this process
            ray.shutdown()
            if attempt < attempts:
                log.warning("本机 Ray 启动失败（%s），再试一次", _first_line(e, 160))
                continue
            if local:
                raise RayEmbedError(
                    f"本机 Ray 启动失败（已试 {attempts} 次）：{_first_line(e, 160)}",
                    "电脑较忙时稍后重新运行（已算好的向量保存在缓存中，不会重算），"
                    "或去掉 --ray 直接在本机构建",
                ) from e
            raise RayEmbedError(
                f"无法连接 Ray 集群（{address}）：{_first_line(e, 160)}",
                "确认头节点已用 ray start --head 启动、地址和端口正确",
            ) from e


def _first_line(error: BaseException, limit: int) -> str:
    """The first line of ``error``'s message, shortened, without its full stop (the hint follows)."""
    return (str(error).splitlines() or [type(error).__name__])[0][:limit].rstrip("。.")
