"""Make the 研判 page's first view as fast as the next: the cold work done once per server, early.

Measured at 1 M records (docs/scale.md, "The first call"): in a fresh process the page's
first view spent most of its time importing Altair and pandas and building the first
chart spec (Altair loads its JSON schema then), then opening a connection; the store's
queries themselves took tens of ms. When a county store is configured (env
``FENGQIAO_COUNTY_URI``), the first browser session to reach the server starts one
background thread that does all of that — and computes the page's default view (the
whole county, the last 12 months) into the store pool's memo, kept until the next sync
writes — while the user is still signing in.
"""

from __future__ import annotations

import logging
import os
import threading

from ui.county_cli import URI_ENV

_started = False
_lock = threading.Lock()
thread: threading.Thread | None = None  # the warm-up, once started (tests and the bench join it)


def start() -> threading.Thread | None:
    """Start the warm-up once per process (None when already started or not configured)."""
    global _started, thread
    uri = os.environ.get(URI_ENV, "")
    with _lock:
        if _started or not uri:
            return None
        _started = True
    thread = threading.Thread(target=_warm, args=(uri,), daemon=True, name="fengqiao-county-warm")
    thread.start()
    return thread


def _warm(uri: str) -> None:
    try:
        from ui import county_charts

        county_charts.trend([]).to_dict()  # Altair reads its JSON schema on the first spec
    except Exception:  # noqa: BLE001 - best effort: the page reports its own errors
        logging.getLogger(__name__).debug("county warm-up failed", exc_info=True)
        return
    for demo in (False, True):  # the real records, and the demo store where there is one
        try:
            _warm_store(uri, demo)
        except Exception:  # noqa: BLE001 - e.g. no demo store: nothing to warm there
            logging.getLogger(__name__).debug("county warm-up failed", exc_info=True)


def _warm_store(uri: str, demo: bool) -> None:
    from retrieval.county import analysis as an
    from retrieval.county.warning import add_months
    from ui import county_charts

    pool = an.pool(uri, demo)
    with pool.connection() as conn:
        span = an.month_span(conn)
        if span is None:
            return
        # the page's default view: the whole county, the last 12 months
        start = max(span[0], add_months(span[1], -11))
        ov = pool.overview(conn, an.Scope(), start, span[1])
    county_charts.trend(ov.by_month).to_dict()
    county_charts.heat(ov.by_region, "乡镇").to_dict()
