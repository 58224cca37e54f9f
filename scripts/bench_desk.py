#!/usr/bin/env python
"""GridCommand desk benchmark (issue 11): the command center with thousands of open cases and the simulator running.

    python scripts/bench_desk.py                                  # 1,000 then 5,000 open cases, baseline and now
    python scripts/bench_desk.py --cases 1000 --runs 3 --idle-seconds 30 --skip-baseline

For each number of open cases: a SQLite database is prepared once with the demo city, the e2e accounts and the open
cases (tests/e2e/busy.py, through the engine), and copied for each server, so both columns start from the same data.
Then, for the baseline (--baseline, default HEAD, unpacked at /tmp/gc-baseline-<sha>, its server run with that tree's
packages) and for this checkout ("now"), one `gridcommand serve` with the demo simulator reporting --rate incidents
a minute and moving --officers officers, and headless Debian Chromium (Playwright) signed in as the dispatcher:

1. time to interactive of `/`, from navigation start until the queue shows rows (`#cc-queue .gc-qrow[data-id]`),
   the incident markers are drawn (`.gc-inc` or `.gc-cluster`), the grid layer is drawn (leaflet paths, or a painted
   canvas, in the map's overlay pane) and Socket.IO is connected (`.gc-conn.gc-conn-on`); a fresh browser context
   (cold cache) per run, each milestone's time printed too;
2. idle browser CPU: the page open, nobody touching it, for --idle-seconds while the simulator adds cases; CDP
   Performance.getMetrics TaskDuration and ScriptDuration deltas over wall time (percent of one core), and the
   renderer processes' CPU time (CDP SystemInfo.getProcessInfo);
3. time to open a case: --clicks clicks on random visible queue rows, from the click until the drawer shows that
   case (`#cc-drawer[data-incident=<id>]`, or, in the older drawer, its `.gc-d-id code` reading the case number or
   the id's first 8 characters); how many opened another case or nothing within 5 s.

A script, not a test: slow figures never fail it. Figures on a shared machine drift: compare columns of one run.
Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

# (importing it sets the test keys in os.environ, as the e2e servers get them)
from tests.e2e.conftest import (
    CHROMIUM,
    E2E_ACCOUNTS,
    E2E_PASSWORD,
    FLAGS,
    _prepare_database,
    _run,
    _serve,
    _server_env,
)

BASELINE_COMMIT = "HEAD"  # --baseline: the commit compared with this checkout (its files, not the working tree's)
BASELINE_TREE = Path("/tmp/gc-baseline")
PAGE_TIMEOUT_S = 120.0  # a busy shared machine can take this long
OPEN_TIMEOUT_S = 5.0
POLL_MS = 25  # between probes of the drawer (each probe waits for the page's main thread)
SETTLE_S = 5.0  # after the page is interactive, before the idle window starts
TODAY = {  # the figures, quoted for reference
    "tti1000": "1.0-2.3 s quiet; 5.5-8.6 s busy",
    "tti5000": "2.7-2.8 s quiet",
}
TARGETS = {"tti1000": "<= 1 s", "tti5000": "<= 2 s", "cpu": "< 5 %", "open": "<= 1 s each"}

# Records when each milestone of "interactive" is first reached (performance.now(), ms since navigation start).
MILESTONES_JS = """(() => {
  if (window.top !== window) return;
  const t = window.__gcTTI = {};
  const painted = (pane) => {
    for (const c of pane.querySelectorAll('canvas')) {
      if (!c.width || !c.height) continue;
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let on = 0, n = 0;
      for (let i = 3; i < d.length; i += 4 * 64) { n++; if (d[i] !== 0) on++; }
      if (n && on / n >= 0.10) return true;
    }
    return false;
  };
  const checks = {
    queue: () => !!document.querySelector('#cc-queue .gc-qrow[data-id]'),
    markers: () => !!document.querySelector('.gc-inc, .gc-cluster'),
    grid: () => {
      const pane = document.querySelector('.leaflet-container .leaflet-overlay-pane');
      return !!pane && (!!pane.querySelector('path.leaflet-interactive, path') || painted(pane));
    },
    socket: () => !!document.querySelector('.gc-conn.gc-conn-on'),
  };
  const tick = () => {
    for (const k in checks) if (t[k] === undefined && checks[k]()) t[k] = performance.now();
    if (Object.keys(checks).every(k => t[k] !== undefined)) { t.ready = Math.max(t.queue, t.markers, t.grid, t.socket); return; }
    setTimeout(tick, 25);
  };
  tick();
})();"""

# Remembers when the last click happened and on which queue row (capture phase, before the page's own handlers).
CLICK_CLOCK_JS = """document.addEventListener('click', (ev) => {
  window.__gcClickAt = performance.now();
  const row = ev.target.closest && ev.target.closest('#cc-queue .gc-qrow[data-id]');
  window.__gcClickedId = row ? row.getAttribute('data-id') : null;
}, true);
// when the drawer took each case (its data-incident), to the microtask: a probe from outside may come much later
window.__gcShownAt = {};
new MutationObserver(ms => ms.forEach(m => {
  if (m.target.id === 'cc-drawer') window.__gcShownAt[m.target.getAttribute('data-incident')] = performance.now();
})).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-incident']});"""

# Diagnosis only (BENCH_NO_ANIMATIONS=1): every CSS animation off, to tell their share of the idle CPU.
NO_ANIMATIONS_JS = """document.addEventListener('DOMContentLoaded', () => {
  const s = document.createElement('style');
  s.textContent = '*, *::before, *::after { animation: none !important; }';
  document.head.appendChild(s);
});"""

# What the drawer shows: the id in data-incident (new drawer) or the text of its case number code (older drawer).
DRAWER_JS = """() => {
  const d = document.querySelector('#cc-drawer');
  if (!d) return null;
  const code = d.querySelector('.gc-d-id code');
  const visible = !!(d.offsetWidth || d.offsetHeight || d.getClientRects().length);
  return {incident: d.getAttribute('data-incident'), code: code ? code.textContent.trim() : null, visible};
}"""

# Rows of the queue wholly visible on screen (inside every scrolling ancestor): id and the centre of the row.
VISIBLE_ROWS_JS = """() => {
  const box = document.querySelector('#cc-queue');
  if (!box) return [];
  let top = 0, bottom = window.innerHeight;
  for (let el = box; el; el = el.parentElement) {
    const r = el.getBoundingClientRect();
    if (el === box || getComputedStyle(el).overflowY !== 'visible') { top = Math.max(top, r.top); bottom = Math.min(bottom, r.bottom); }
  }
  return [...box.querySelectorAll('.gc-qrow[data-id]')].filter(r => {
    const x = r.getBoundingClientRect();
    return x.height > 0 && x.top >= top && x.bottom <= bottom && !r.classList.contains('gc-qrow-gone');
  }).map(r => { const x = r.getBoundingClientRect(); return [r.getAttribute('data-id'), x.left + x.width / 2, x.top + x.height / 2]; });
}"""


# ----- servers -------------------------------------------------------------------------------------------------


def ensure_baseline_tree(commit: str) -> Path:
    """The files of `commit` under /tmp (unpacked with `git archive` if absent: no worktree, no git state changed),
    checked to import its own packages, not this checkout's."""
    global BASELINE_COMMIT
    sha = _run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", commit], env=dict(os.environ), cwd=None).strip()
    BASELINE_COMMIT = sha
    tree = BASELINE_TREE.with_name(f"{BASELINE_TREE.name}-{sha}")
    if not (tree / "dispatcher").is_dir():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", sha], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    code = "import dispatcher, dashboard, workers; print(dispatcher.__file__, dashboard.__file__, workers.__file__)"
    files = _run([sys.executable, "-c", code], env=env, cwd=tree).split()
    if not files or not all(f.startswith(str(tree)) for f in files):
        raise SystemExit(f"the baseline tree imports the wrong packages: {files}")
    return tree


def same_schema(tree: Path) -> bool:
    """Whether the tree has exactly this checkout's migrations (then one prepared database serves both)."""
    versions = Path("dispatcher/store/migrations/versions")
    return {p.name for p in (tree / versions).glob("*.py")} == {p.name for p in (REPO_ROOT / versions).glob("*.py")}


def prepare_template(work: Path, cases: int, previous: Path | None, previous_cases: int, tree: Path | None) -> Path:
    """A database root with `cases` open cases, prepared with the tree's packages: a fresh one, or the previous
    (smaller) one topped up."""
    root = work / f"template-{'baseline' if tree else 'now'}-{cases}"
    started = time.monotonic()
    if previous is None:
        root.mkdir()
        _prepare_database(_server_env(root, tree), cases=cases, tree=tree)
    else:
        shutil.copytree(previous, root)
        command = [sys.executable, str(REPO_ROOT / "tests/e2e/busy.py"), "seed", "--count", str(cases - previous_cases)]
        _run([*command, "--seed", str(cases)], env=_server_env(root, tree), cwd=tree)
    label = f" for {BASELINE_COMMIT}" if tree else ""
    print(f"  prepared {cases} open cases{label} in {time.monotonic() - started:.0f} s", flush=True)
    return root


def copy_root(template: Path, root: Path, tree: Path | None) -> dict[str, str]:
    """A copy of the template database for one server; migrated with the tree's own migrations (no-op when equal)."""
    shutil.copytree(template, root)
    env = _server_env(root, tree)
    command = [sys.executable, "-m", "dashboard.cli", "db", "upgrade"]
    _run(command, env=env, cwd=tree)
    return env


def count_cases(root: Path) -> int:
    with contextlib.closing(sqlite3.connect(root / "e2e.sqlite")) as db:
        return int(db.execute("SELECT count(*) FROM incident").fetchone()[0])


def case_number(root: Path, incident_id: str) -> str | None:
    with contextlib.closing(sqlite3.connect(root / "e2e.sqlite")) as db:
        row = db.execute("SELECT case_number FROM incident WHERE id = ?", (incident_id,)).fetchone()
    return row[0] if row else None


# ----- the browser -----------------------------------------------------------------------------------------------


def new_context(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN")
    context.add_init_script(MILESTONES_JS)
    context.add_init_script(CLICK_CLOCK_JS)
    if os.environ.get("BENCH_NO_ANIMATIONS"):  # diagnosis: how much of the idle CPU is CSS animation
        context.add_init_script(NO_ANIMATIONS_JS)
    return context


def sign_in(page, base: str) -> None:
    """Sign in through the form, landing on /health so that no page bundle is loaded (or cached) yet."""
    page.goto(f"{base}/login?next=%2Fhealth", timeout=PAGE_TIMEOUT_S * 1000)
    page.fill("#username", E2E_ACCOUNTS["dispatcher"]["username"])
    page.fill("#password", E2E_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(lambda url: "/login" not in url, timeout=PAGE_TIMEOUT_S * 1000)


def open_command_center(page, base: str) -> dict[str, float]:
    """Navigate to / and wait until interactive; the milestones in seconds since navigation start."""
    page.goto(f"{base}/", wait_until="commit", timeout=PAGE_TIMEOUT_S * 1000)
    try:
        page.wait_for_function("() => window.__gcTTI && window.__gcTTI.ready", timeout=PAGE_TIMEOUT_S * 1000)
    except Exception:
        reached = page.evaluate("() => window.__gcTTI || {}")
        if "ready" in reached:  # just as the wait gave up
            return {k: v / 1000 for k, v in reached.items()}
        print(f"    not interactive within {PAGE_TIMEOUT_S:.0f} s; reached {sorted(reached)}", flush=True)
        return {}
    return {k: v / 1000 for k, v in page.evaluate("() => window.__gcTTI").items()}


def measure_tti(browser, base: str, runs: int) -> list[dict[str, float]]:
    results = []
    for run in range(runs):
        context = new_context(browser)
        try:
            page = context.new_page()
            sign_in(page, base)
            times = open_command_center(page, base)
        finally:
            context.close()
        results.append(times)
        if times:
            parts = ", ".join(f"{k} {times[k]:.2f}" for k in ("queue", "markers", "grid", "socket"))
            print(f"    run {run + 1}: interactive {times['ready']:.2f} s ({parts})", flush=True)
    return results


def process_cpu(cdp) -> dict[str, float]:
    """CPU seconds so far of Chromium's processes by type (renderer, browser, gpu, utility)."""
    totals: dict[str, float] = {}
    with contextlib.suppress(Exception):
        for info in cdp.send("SystemInfo.getProcessInfo")["processInfo"]:
            totals[info["type"]] = totals.get(info["type"], 0.0) + float(info["cpuTime"])
    return totals


def measure_idle(browser, page, root: Path, seconds: float) -> dict[str, float]:
    """CPU of the open page while nobody touches it for `seconds`."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    browser_cdp = browser.new_browser_cdp_session()
    page.wait_for_timeout(SETTLE_S * 1000)

    def metrics() -> dict[str, float]:
        return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}

    cases0, before, procs0, t0 = count_cases(root), metrics(), process_cpu(browser_cdp), time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    after, procs1, wall = metrics(), process_cpu(browser_cdp), time.monotonic() - t0
    arrived = count_cases(root) - cases0
    figures = {
        "task": 100 * (after["TaskDuration"] - before["TaskDuration"]) / wall,
        "script": 100 * (after["ScriptDuration"] - before["ScriptDuration"]) / wall,
        "arrived_per_min": arrived * 60 / wall,
    }
    if "renderer" in procs1 and "renderer" in procs0:
        figures["renderer"] = 100 * (procs1["renderer"] - procs0["renderer"]) / wall
    if procs1 and procs0:
        figures["chromium"] = 100 * (sum(procs1.values()) - sum(procs0.values())) / wall
    cdp.detach()
    browser_cdp.detach()
    line = ", ".join(f"{k} {v:.1f}" for k, v in figures.items())
    print(f"    idle {wall:.0f} s: {line} (percent of one core; cases/min)", flush=True)
    return figures


def shows(drawer: dict | None, incident_id: str, number: str | None) -> bool:
    if not drawer or not drawer.get("visible", True):
        return False
    if drawer.get("incident"):
        return drawer["incident"] == incident_id
    return drawer.get("code") in {number, incident_id[:8]}


def measure_open(page, root: Path, clicks: int, rng: random.Random, budget_s: float) -> dict[str, Any]:
    """Click (with the mouse, where an operator would) random visible queue rows; per click the seconds until the
    drawer shows the case under the pointer. Counts clicks that opened another case or nothing within 5 s, and
    rows that moved away between being seen and being clicked (the pointer hit another row)."""
    times: list[float] = []
    wrong = missing = moved = 0
    budget_ends = time.monotonic() + budget_s
    for n in range(clicks):
        if time.monotonic() > budget_ends:  # a saturated page answers every probe slowly: stop, say so
            print(f"    open: stopped after {n} of {clicks} clicks ({budget_s:.0f} s budget spent)", flush=True)
            break
        rows = page.evaluate(VISIBLE_ROWS_JS)
        if not rows:
            print("    no visible queue row to click", flush=True)
            page.wait_for_timeout(500)
            missing += 1
            continue
        chosen, x, y = rng.choice(rows)
        page.evaluate("() => { window.__gcClickAt = undefined; window.__gcClickedId = undefined; }")
        page.mouse.click(x, y)
        deadline, opened, clicked, numbers = time.monotonic() + OPEN_TIMEOUT_S, None, None, {}
        while time.monotonic() < deadline:
            drawer, at, clicked_at, clicked, shown_at = page.evaluate(
                f"() => [({DRAWER_JS})(), performance.now(), window.__gcClickAt, window.__gcClickedId,"
                " window.__gcClickedId && (window.__gcShownAt || {})[window.__gcClickedId]]"
            )
            if clicked and clicked not in numbers:
                numbers[clicked] = case_number(root, clicked)  # once per click, not per probe
            if clicked and clicked_at is not None and shows(drawer, clicked, numbers[clicked]):
                # when the drawer took the case (recorded by the page itself), else when a probe saw it
                opened = ((shown_at if shown_at and shown_at >= clicked_at else at) - clicked_at) / 1000
                break
            page.wait_for_timeout(POLL_MS)
        moved += bool(clicked and clicked != chosen)
        if opened is None and os.environ.get("BENCH_DEBUG"):
            print(f"    chose {chosen}, clicked {clicked}, drawer {page.evaluate(DRAWER_JS)}", flush=True)
        if opened is None:
            drawer = page.evaluate(DRAWER_JS)
            if drawer and drawer.get("visible", True) and (drawer.get("incident") or drawer.get("code")):
                wrong += 1
            else:
                missing += 1
            continue
        times.append(opened)
        page.wait_for_timeout(300)  # an operator reads a little before the next click
    print(
        f"    open: {len(times)} opened, {wrong} wrong, {missing} nothing, {moved} rows moved; {summary(times)}",
        flush=True,
    )
    return {"times": times, "wrong": wrong, "missing": missing, "moved": moved}


def measure_server(browser, base: str, root: Path, args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {"tti": measure_tti(browser, base, args.runs)}
    context = new_context(browser)
    try:
        page = context.new_page()
        sign_in(page, base)
        open_command_center(page, base)  # not interactive in time: measure what there is
        figures["idle"] = measure_idle(browser, page, root, args.idle_seconds)
        figures["open"] = measure_open(page, root, args.clicks, random.Random(args.seed), args.open_budget)
    finally:
        context.close()
    return figures


# ----- figures -----------------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"p50 {statistics.median(values):.2f} / p95 {percentile(values, 0.95):.2f} / max {max(values):.2f} s"


def rows_for(cases: int, figures: dict[str, Any]) -> dict[str, str]:
    tti = [t for t in figures.get("tti", []) if t]
    failed = len(figures.get("tti", [])) - len(tti)
    rows = {f"TTI / ({cases} open)": summary([t["ready"] for t in tti]) + (f", {failed} timed out" if failed else "")}
    for part in ("queue", "markers", "grid", "socket"):
        rows[f"  {part} shown"] = summary([t[part] for t in tti])
    idle = figures.get("idle")
    if idle:
        rows["idle CPU (tasks)"] = f"{idle['task']:.1f} % (script {idle['script']:.1f} %)"
        if "renderer" in idle:
            rows["idle CPU (renderer processes)"] = f"{idle['renderer']:.1f} %"
        rows["  cases arriving"] = f"{idle['arrived_per_min']:.0f}/min"
    opened = figures.get("open")
    if opened:
        rows["open a case"] = summary(opened["times"])
        rows["  wrong / nothing in 5 s"] = f"{opened['wrong']} / {opened['missing']}"
        rows["  row moved under the pointer"] = str(opened["moved"])
    else:
        rows["open a case"] = "n/a"
    return rows


def target_for(label: str, cases: int) -> str:
    if label.startswith("TTI"):
        return TARGETS["tti1000"] if cases <= 1000 else TARGETS["tti5000"]
    if label.startswith("idle CPU"):
        return TARGETS["cpu"]
    if label == "open a case":
        return TARGETS["open"]
    if label.startswith("  wrong"):
        return "0 / 0"
    return ""


def print_table(cases: int, baseline: dict[str, Any] | None, now: dict[str, Any]) -> None:
    now_rows = rows_for(cases, now)
    base_rows = rows_for(cases, baseline) if baseline else {}
    width = max(len(k) for k in now_rows) + 2
    print(f"\n{'figure':<{width}}| {'baseline (' + BASELINE_COMMIT + ')':<44}| {'now':<44}| target")
    print("-" * (width + 110))
    for label, value in now_rows.items():
        print(f"{label:<{width}}| {base_rows.get(label, '-'):<44}| {value:<44}| {target_for(label, cases)}")
    today = TODAY["tti1000"] if cases <= 1000 else TODAY["tti5000"]
    print(f"(the issue's figures today, TTI with {cases} open: {today}; the grid layer arriving last)\n", flush=True)


# ----- main ----------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def running(template: Path, work: Path, name: str, tree: Path | None, args) -> Iterator[tuple[str, Path]]:
    root = work / name
    env = copy_root(template, root, tree)
    with _serve(root, env, rate=args.rate, officers=args.officers, tree=tree, start_timeout_s=180) as server:
        yield str(server), root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--cases", default="1000,5000", help="open cases, comma-separated (default 1000,5000)")
    parser.add_argument("--runs", type=int, default=4, help="page loads per server for time to interactive")
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument(
        "--open-budget", type=float, default=240.0, help="seconds for all the clicks at most (a saturated page is slow)"
    )
    parser.add_argument("--rate", type=float, default=20.0, help="simulator: incidents a minute")
    parser.add_argument("--officers", type=int, default=60, help="simulator: officers moving")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--baseline", default=BASELINE_COMMIT, help="the commit to compare with (default HEAD)")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-now", action="store_true", help="measure only the baseline (e.g. while editing)")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (logs, databases)")
    args = parser.parse_args(argv)
    counts = sorted(int(c) for c in args.cases.split(","))
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    tree = None if args.skip_baseline else ensure_baseline_tree(args.baseline)
    work = Path(tempfile.mkdtemp(prefix="bench-desk-"))
    print(f"bench_desk: {counts} open cases, simulator {args.rate}/min with {args.officers} officers; in {work}")
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    results: list[tuple[int, dict | None, dict]] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
            shared = tree is None or same_schema(tree)
            if not shared:
                print(f"  {BASELINE_COMMIT} has other migrations: its databases are prepared with its own code")
            template = base_template = None
            previous = 0
            for cases in counts:
                print(f"\n== {cases} open cases", flush=True)
                template = prepare_template(work, cases, template, previous, None)
                if not shared:
                    base_template = prepare_template(work, cases, base_template, previous, tree)
                previous = cases
                baseline = None
                if tree is not None:
                    print(f"  baseline ({BASELINE_COMMIT}):", flush=True)
                    source = template if shared else base_template
                    assert source is not None
                    with running(source, work, f"baseline-{cases}", tree, args) as (base, root):
                        baseline = measure_server(browser, base, root, args)
                now: dict[str, Any] = {}
                if not args.skip_now:
                    print("  now:", flush=True)
                    with running(template, work, f"now-{cases}", None, args) as (base, root):
                        now = measure_server(browser, base, root, args)
                results.append((cases, baseline, now))
                print_table(cases, baseline, now)
            browser.close()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"== summary ({time.monotonic() - started:.0f} s)")
    for cases, baseline, now in results:
        print_table(cases, baseline, now)
    return 0


if __name__ == "__main__":
    sys.exit(main())
