#!/usr/bin/env python
"""Where the command center's first paint and idle time go: one Chromium trace of a cold page load, then of the page at
rest, summarised by the renderer main thread's top-level work (script parse/compile, script run, style, layout,
paint, GC), plus the page's scripts by size.

    python scripts/bench_desk.py --cases 1000 --keep ...        # leaves <work>/template-now-1000
    python scripts/trace_desk.py /tmp/bench-desk-XXXX/template-now-1000 --idle-seconds 20

A diagnosis script (bench_desk.py holds the figures and their baseline). Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_desk import CHROMIUM, FLAGS, new_context, open_command_center, running, sign_in

CATEGORIES = ["toplevel", "devtools.timeline", "v8", "v8.execute", "blink", "disabled-by-default-devtools.timeline"]
GROUPS = {  # trace event name -> what a reader calls it
    "v8.compile": "script parse/compile",
    "v8.compileModule": "script parse/compile",
    "V8.ScriptCompiler": "script parse/compile",
    "v8.parseOnBackground": "script parse/compile",
    "EvaluateScript": "script run",
    "v8.run": "script run",
    "FunctionCall": "script run",
    "TimerFire": "script run",
    "EventDispatch": "script run",
    "FireAnimationFrame": "script run",
    "v8.callFunction": "script run",
    "RunMicrotasks": "script run",
    "ParseHTML": "HTML parse",
    "UpdateLayoutTree": "style",
    "RecalculateStyles": "style",
    "Layout": "layout",
    "Paint": "paint",
    "PrePaint": "paint",
    "Layerize": "paint",
    "UpdateLayer": "paint",
    "CompositeLayers": "paint",
    "MajorGC": "GC",
    "MinorGC": "GC",
    "V8.GC_SCAVENGER": "GC",
}


def main_thread(events: list[dict[str, Any]]) -> tuple[int, int] | None:
    """(pid, tid) of the page's renderer main thread."""
    for e in events:
        if e.get("ph") == "M" and e.get("name") == "thread_name" and e["args"].get("name") == "CrRendererMain":
            return e["pid"], e["tid"]
    return None


def summarise(raw: bytes, label: str) -> None:
    """Time on the renderer main thread by kind (outermost events only, so nothing is counted twice)."""
    events = json.loads(raw)["traceEvents"]
    main = main_thread(events)
    spans = sorted(
        (e["ts"], e["ts"] + e.get("dur", 0), e["name"])
        for e in events
        if e.get("ph") == "X" and (e["pid"], e["tid"]) == main and e.get("dur")
    )
    by_group: dict[str, float] = defaultdict(float)
    busy, stack_end = 0.0, -1.0
    open_groups: list[tuple[float, str]] = []
    for start, end, name in spans:
        group = GROUPS.get(name)
        open_groups = [(e, g) for e, g in open_groups if e > start]
        if group and not any(g for _, g in open_groups):  # the outermost classified event
            by_group[group] += (end - start) / 1000
            open_groups.append((end, group))
        if name in ("RunTask", "ThreadControllerImpl::RunTask") and start >= stack_end:
            busy += (end - start) / 1000
            stack_end = end
    first = min(s for s, _, _ in spans) if spans else 0
    last = max(e for _, e, _ in spans) if spans else 0
    print(f"\n{label}: main thread busy {busy:.0f} ms of {(last - first) / 1000:.0f} ms traced")
    for group, ms in sorted(by_group.items(), key=lambda kv: -kv[1]):
        print(f"  {group:<22}{ms:8.0f} ms")


def scripts_by_size(page) -> None:
    """The scripts the page fetched, largest first (decoded bytes)."""
    rows = page.evaluate(
        """() => performance.getEntriesByType('resource').filter(r => r.initiatorType === 'script')
             .map(r => [r.name.split('?')[0].split('/').slice(-2).join('/'), r.decodedBodySize, r.transferSize])"""
    )
    total = sum(r[1] for r in rows)
    print(f"\nscripts: {len(rows)}, {total / 1e6:.2f} MB decoded, {sum(r[2] for r in rows) / 1e6:.2f} MB transferred")
    for name, size, sent in sorted(rows, key=lambda r: -r[1])[:12]:
        print(f"  {size / 1e3:8.0f} kB ({sent / 1e3:6.0f} kB sent)  {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("template", type=Path, help="a prepared database root (bench_desk.py --keep)")
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--officers", type=int, default=60)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="trace-desk-"))
    with running(args.template, work, "now", None, args) as (base, _root), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = new_context(browser).new_page()
        page.on("console", lambda m: m.type == "error" and print("  console error:", m.text[:300], flush=True))
        sign_in(page, base)
        browser.start_tracing(page=page, categories=CATEGORIES)
        times = open_command_center(page, base)
        load = browser.stop_tracing()
        print("interactive:", ", ".join(f"{k} {v:.2f} s" for k, v in sorted(times.items(), key=lambda kv: kv[1])))
        summarise(load, "cold load until interactive")
        scripts_by_size(page)
        time.sleep(5)
        browser.start_tracing(page=page, categories=CATEGORIES)
        time.sleep(args.idle_seconds)
        summarise(browser.stop_tracing(), f"at rest for {args.idle_seconds:.0f} s")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
