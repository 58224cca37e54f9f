#!/usr/bin/env python
"""The grid index at 100,000 irregular unit grids and on the demo city: memory, build time, points/s, answers.

    python scripts/bench_grids.py [--units 100000] [--points 1000000] [--one 200000] [--naive 300]
    python scripts/bench_grids.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/DB   # + load_index

A generated city (a jittered lattice of octagon-like unit grids ≈ 100 m across, 2 % with an enclave unit in a
hole, some enclaves paired into MultiPolygons; communities of 8 × 8 units, streets of 5 × 5 communities, one
district; unit codes not in reading order), then the demo city (data/demo_city). For each, in the same run:
  - GridIndex (geo/grids.py): build time (wall and CPU), memory it holds (RSS growth after malloc_trim, the grids
    themselves not counted; again after all the locate runs, once GEOS has built its lazy caches), peak growth;
  - its lattice alone next to the baselines: the previous lattice design (copied below: one tree query per bucket
    box, Python lists) and a bare shapely STRtree (query(points, predicate="intersects") + smallest code);
  - vectorised locate over `--points` uniform points (median of 3), one by one over `--one` of them;
  - answers: all agree on every point and every unit vertex (ties), and `naive_locate` on `--naive` points.
Targets (QUALITY.md): at 100k unit grids ≤ 100 MiB, ≤ 1 s to build, ≥ 1M points/s vectorised, ≥ 200k/s one by one.
`--pg-url`: the grids replace that database's `grid` rows and `gridstore.load_index` is timed. Shared machines
drift (the CPU-time figures drift less): compare figures within one run.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import math
import resource
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
from geo.grids import Grid, GridIndex, Level, _BucketIndex, naive_locate
from geo.importer import load_grids

DEMO_GRIDS = REPO_ROOT / "data" / "demo_city" / "grids.geojson"
CELL = (0.001, 0.0009)  # degrees lon, lat: ≈ 96 m × 100 m, like the demo city
ORIGIN = (120.0, 30.0)
COMMUNITY_SIDE, STREET_SIDE = 8, 5  # units per community side, communities per street side
ENCLAVE_SHARE = 0.02
_LIBC = ctypes.CDLL("libc.so.6")


# ------------------------------------------------------------------------------------------- the city


def _unit_rings(side: int, rng: np.random.Generator) -> np.ndarray:
    """(side², 9, 2) closed rings: jittered corners shared by neighbours, plus a jittered midpoint on each edge."""
    w, h = CELL
    cj, ci = np.meshgrid(np.arange(side + 1), np.arange(side + 1))
    cx = ORIGIN[0] + (cj + rng.uniform(-0.25, 0.25, cj.shape)) * w
    cy = ORIGIN[1] + (ci + rng.uniform(-0.25, 0.25, ci.shape)) * h
    hx = (cx[:, :-1] + cx[:, 1:]) / 2
    hy = (cy[:, :-1] + cy[:, 1:]) / 2 + rng.uniform(-0.15, 0.15, (side + 1, side)) * h
    vx = (cx[:-1, :] + cx[1:, :]) / 2 + rng.uniform(-0.15, 0.15, (side, side + 1)) * w
    vy = (cy[:-1, :] + cy[1:, :]) / 2
    i, j = np.divmod(np.arange(side * side), side)
    corners = [(cx, cy, i, j), (hx, hy, i, j), (cx, cy, i, j + 1), (vx, vy, i, j + 1), (cx, cy, i + 1, j + 1)]
    corners += [(hx, hy, i + 1, j), (cx, cy, i + 1, j), (vx, vy, i, j), (cx, cy, i, j)]
    return np.round(np.stack([np.column_stack([x[a, b], y[a, b]]) for x, y, a, b in corners], axis=1), 7)


def _with_enclaves(rings: np.ndarray, side: int, rng: np.random.Generator) -> tuple[list, list[int]]:
    """Unit geometries and their lattice cell: some cells get a hole holding an enclave unit (pairs of enclaves in
    one community become one MultiPolygon unit)."""
    geoms: list = list(shapely.polygons(rings))
    cells = list(range(len(rings)))
    chosen = np.flatnonzero(rng.random(len(rings)) < ENCLAVE_SHARE)
    centre = rings[chosen, :8].mean(axis=1, keepdims=True)
    inner = np.round(centre + 0.3 * (rings[chosen] - centre), 7)
    pending: dict[int, tuple[int, Polygon]] = {}
    for c, hole in zip(chosen.tolist(), inner):
        geoms[c] = Polygon(rings[c], [hole])
        community = _community_of(c, side)
        if community in pending:
            geoms.append(MultiPolygon([pending.pop(community)[1], Polygon(hole)]))
            cells.append(c)
        else:
            pending[community] = (c, Polygon(hole))
    geoms += [enclave for _, enclave in pending.values()]
    cells += [c for c, _ in pending.values()]
    return geoms, cells


def _community_of(cell: int, side: int) -> int:
    """Community number of a lattice cell (blocks of COMMUNITY_SIDE × COMMUNITY_SIDE cells)."""
    i, j = divmod(cell, side)
    per_row = -(-side // COMMUNITY_SIDE)
    return (i // COMMUNITY_SIDE) * per_row + j // COMMUNITY_SIDE


def make_city(n_units: int, seed: int) -> list[Grid]:
    """About n_units irregular unit grids with communities, streets and one district above them."""
    rng = np.random.default_rng(seed)
    side = math.isqrt(max(1, int(n_units / (1 + ENCLAVE_SHARE * 0.75))))
    geoms, cells = _with_enclaves(_unit_rings(side, rng), side, rng)
    members: dict[int, list[int]] = {}
    for k, cell in enumerate(cells):
        members.setdefault(_community_of(cell, side), []).append(k)
    per_row = -(-side // COMMUNITY_SIDE)
    district = "330100"
    grids: list[Grid] = []
    comm_codes: dict[int, str] = {}
    for comm in sorted(members):
        ci, cj = divmod(comm, per_row)
        street = f"{district}{(ci // STREET_SIDE) * 100 + cj // STREET_SIDE + 1:03d}"
        comm_codes[comm] = f"{street}{(ci % STREET_SIDE) * STREET_SIDE + cj % STREET_SIDE + 1:03d}"
    for comm, ks in members.items():
        serials = rng.permutation(len(ks)) + 1  # codes not in reading order
        for k, serial in zip(ks, serials.tolist()):
            code = f"{comm_codes[comm]}{serial:03d}"
            grids.append(Grid(code, f"单元{code}", Level.UNIT, comm_codes[comm], geoms[k], {"households": 300}))
    return grids + _upper_levels(grids, comm_codes, district)


def _upper_levels(units: list[Grid], comm_codes: dict[int, str], district: str) -> list[Grid]:
    """Communities (union of their units), streets (union of their communities) and the district (their box)."""
    by_parent: dict[str, list] = {}
    for g in units:
        by_parent.setdefault(g.parent_code or "", []).append(g.geometry)
    comms = [
        Grid(c, f"社区{c}", Level.COMMUNITY, c[:9], shapely.coverage_union_all(by_parent[c]))
        for c in sorted(comm_codes.values())
    ]
    streets: dict[str, list] = {}
    for g in comms:
        streets.setdefault(g.code[:9], []).append(g.geometry)
    upper = [Grid(s, f"街道{s}", Level.STREET, district, shapely.union_all(gs)) for s, gs in sorted(streets.items())]
    box = shapely.box(*shapely.total_bounds([g.geometry for g in units]))
    return [*comms, *upper, Grid(district, "演示区", Level.DISTRICT, None, box)]


# ------------------------------------------------------------------------------------- the old lattice


class OldBucketIndex:
    """The previous design (geo/grids.py before issue 12): a lattice of box geometries queried one by one."""

    BUCKETS_PER_UNIT = 16
    MAX_BUCKETS = 2_000_000
    EPS = 1e-9

    def __init__(self, geoms: np.ndarray, tree: shapely.STRtree):
        self.geoms = geoms
        bounds = shapely.bounds(geoms)
        self.ux0, self.uy0, self.ux1, self.uy1 = (bounds[:, k].copy() for k in range(4))
        envelope_area = (self.ux1 - self.ux0) * (self.uy1 - self.uy0)
        self.is_box = (
            (shapely.get_type_id(geoms) == 3)
            & (shapely.get_num_interior_rings(geoms) == 0)
            & np.isclose(shapely.area(geoms), envelope_area, rtol=1e-12, atol=0.0)
        )
        self.minx, self.miny = float(bounds[:, 0].min()), float(bounds[:, 1].min())
        self.maxx, self.maxy = float(bounds[:, 2].max()), float(bounds[:, 3].max())
        width, height = max(self.maxx - self.minx, 1e-9), max(self.maxy - self.miny, 1e-9)
        size = math.sqrt(width * height / min(self.BUCKETS_PER_UNIT * len(geoms), self.MAX_BUCKETS))
        self.nbx, self.nby = int(width / size) + 1, int(height / size) + 1
        bx, by = width / self.nbx, height / self.nby
        self.inv_bx, self.inv_by = 1.0 / bx, 1.0 / by
        iy, ix = np.divmod(np.arange(self.nbx * self.nby), self.nbx)
        x0, y0 = self.minx + ix * bx, self.miny + iy * by
        boxes = shapely.box(x0 - self.EPS, y0 - self.EPS, x0 + bx + self.EPS, y0 + by + self.EPS)
        bucket_idx, unit_idx = tree.query(boxes, predicate="intersects")
        order = np.lexsort((unit_idx, bucket_idx))
        bucket_idx, unit_idx = bucket_idx[order], unit_idx[order]
        counts = np.bincount(bucket_idx, minlength=len(boxes))
        self.cand_start = np.concatenate(([0], np.cumsum(counts)))
        self.cand_units = unit_idx
        sure = np.where(counts == 0, -1, -2).astype(np.int64)
        single = np.flatnonzero(counts == 1)
        only = unit_idx[self.cand_start[single]]
        covered = shapely.covers(self.geoms[only], boxes[single])
        sure[single[covered]] = only[covered]
        self.sure = sure
        self._sure_list = sure.tolist()
        starts, units = self.cand_start.tolist(), unit_idx.tolist()
        self._cands = {int(b): units[starts[b] : starts[b + 1]] for b in np.flatnonzero(sure == -2)}
        self._box_list, self._bounds_list = self.is_box.tolist(), bounds.tolist()

    def locate(self, x: float, y: float) -> int:
        """Index of the smallest-code unit covering (x, y), -1 if none."""
        if x < self.minx or x > self.maxx or y < self.miny or y > self.maxy:
            return -1
        ix = min(int((x - self.minx) * self.inv_bx), self.nbx - 1)
        iy = min(int((y - self.miny) * self.inv_by), self.nby - 1)
        bucket = iy * self.nbx + ix
        answer = self._sure_list[bucket]
        if answer != -2:
            return answer
        for u in self._cands[bucket]:
            if self._box_list[u]:
                x0, y0, x1, y1 = self._bounds_list[u]
                if x0 <= x <= x1 and y0 <= y <= y1:
                    return u
            elif shapely.lib.intersects_xy(self.geoms[u], x, y):
                return u
        return -1

    def locate_many(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Vectorised locate (the old box fast path is left out: the generated units are never boxes)."""
        result = np.full(x.size, -1, dtype=np.int64)
        inside = np.flatnonzero((x >= self.minx) & (x <= self.maxx) & (y >= self.miny) & (y <= self.maxy))
        ix = np.minimum(((x[inside] - self.minx) * self.inv_bx).astype(np.int64), self.nbx - 1)
        iy = np.minimum(((y[inside] - self.miny) * self.inv_by).astype(np.int64), self.nby - 1)
        bucket = iy * self.nbx + ix
        answer = self.sure[bucket]
        result[inside] = np.maximum(answer, -1)
        amb = np.flatnonzero(answer == -2)
        starts = self.cand_start[bucket[amb]]
        counts = self.cand_start[bucket[amb] + 1] - starts
        pt = np.repeat(inside[amb], counts)
        unit = self.cand_units[np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(pt.size)]
        hit = shapely.intersects_xy(self.geoms[unit], x[pt], y[pt])
        hp, hu = pt[hit], unit[hit]
        first = np.r_[True, hp[1:] != hp[:-1]]
        result[hp[first]] = hu[first]
        return result


def tree_locate_many(tree: shapely.STRtree, n: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bare STRtree baseline: every covering unit per point, keep the smallest index."""
    point_idx, unit_idx = tree.query(shapely.points(x, y), predicate="intersects")
    best = np.full(x.size, n, dtype=np.int64)
    np.minimum.at(best, point_idx, unit_idx)
    best[best == n] = -1
    return best


# ----------------------------------------------------------------------------------------- measuring


def rss_mib() -> float:
    """Resident set size now, after returning freed heap pages to the system."""
    gc.collect()
    _LIBC.malloc_trim(0)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def timed_build(build):
    """(result, wall s, cpu s, MiB held afterwards, MiB of peak growth) of one build."""
    peak_mib = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # high-water RSS so far
    before, peak_before = rss_mib(), peak_mib()
    wall, cpu = time.perf_counter(), time.process_time()
    built = build()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return built, wall, cpu, rss_mib() - before, max(0.0, peak_mib() - max(peak_before, before))


def rate_vec(fn, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(answers, points/s wall, points/s cpu): median of 3 runs."""
    fn(x[:1000], y[:1000])
    runs = []
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn(x, y)
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    return out, x.size / statistics.median(r[0] for r in runs), x.size / statistics.median(r[1] for r in runs)


def rate_one(fn, x: np.ndarray, y: np.ndarray) -> tuple[list, float, float]:
    """(answers, points/s wall, points/s cpu) of a per-point Python loop."""
    xs, ys = x.tolist(), y.tolist()
    wall, cpu = time.perf_counter(), time.process_time()
    out = [fn(a, b) for a, b in zip(xs, ys)]
    return out, len(xs) / (time.perf_counter() - wall), len(xs) / (time.process_time() - cpu)


def _k(rate: float) -> str:
    return f"{rate / 1e6:.2f}M/s" if rate >= 1e6 else f"{rate / 1e3:.0f}k/s" if rate >= 1e3 else f"{rate:.0f}/s"


def sample_points(units: list[Grid], n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n points uniform in the units' box and a little beyond it."""
    x0, y0, x1, y1 = shapely.total_bounds([g.geometry for g in units])
    pad = 0.01 * (x1 - x0)
    return rng.uniform(x0 - pad, x1 + pad, n), rng.uniform(y0 - pad, y1 + pad, n)


def bench_city(label: str, grids: list[Grid], args: argparse.Namespace, rng: np.random.Generator) -> bool:
    """Print one city's figures; True if every answer agrees."""
    units = [g for g in grids if g.level == Level.UNIT]
    print(f"\n## {label}: {len(grids):,} grids, {len(units):,} unit grids")
    x, y = sample_points(units, args.points, rng)
    vx, vy = shapely.get_coordinates([g.geometry for g in units]).T
    base = rss_mib()
    index, wall, cpu, held, peak = timed_build(lambda: GridIndex(grids, version="bench"))
    print(f"GridIndex: built in {wall:.2f} s wall ({cpu:.2f} s CPU); holds {held:.0f} MiB, peak +{peak:.0f} MiB")
    geoms = index._unit_geoms
    rows = {"new lattice (in GridIndex)": timed_build(lambda: _BucketIndex(geoms))}
    if not args.no_old:
        rows["old lattice (baseline)"] = timed_build(lambda: OldBucketIndex(geoms, index._tree))
        print(f"old lattice peak during build: +{rows['old lattice (baseline)'][4]:.0f} MiB")
    rows["bare STRtree"] = timed_build(lambda: shapely.STRtree(geoms))
    print(f"{'index':32} {'build wall/cpu':>15} {'holds':>8} {'vectorised wall/cpu':>20} {'one by one wall/cpu':>20}")
    answers = {name: _speeds(name, row, len(units), x, y, args.one, (vx, vy)) for name, row in rows.items()}
    paths, pw, pc = rate_one(index.locate, x[: args.one], y[: args.one])
    _, gw, gc_ = rate_vec(index.locate_codes, x, y)
    print(f"{'GridIndex.locate_codes / .locate':32} {'':15} {'':8} {_k(gw):>9}/{_k(gc_):>9} {_k(pw):>9}/{_k(pc):>9}")
    ok = _agreement(index, units, answers, paths, x, y, args.naive)
    del rows, answers, paths
    print(f"GridIndex holds {rss_mib() - base:.0f} MiB after all the locate runs (GEOS builds caches lazily)")
    return ok


def _speeds(name: str, row: tuple, n: int, x: np.ndarray, y: np.ndarray, n_one: int, vertices: tuple) -> tuple:
    """Print one index's figures; return its answers (random points, one by one, vertices)."""
    idx, build_wall, build_cpu, held, _ = row
    if isinstance(idx, shapely.STRtree):
        vec = lambda a, b: tree_locate_many(idx, n, a, b)
        one = lambda a, b: tree_locate_many(idx, n, np.array([a]), np.array([b]))[0]
        n_one //= 20  # ~20 µs a point: a sample is enough
    else:
        vec, one = idx.locate_many, idx.locate
    got, vw, vc = rate_vec(vec, x, y)
    ones, ow, oc = rate_one(one, x[:n_one], y[:n_one])
    rates = f"{_k(vw):>9}/{_k(vc):>9} {_k(ow):>9}/{_k(oc):>9}"
    print(f"{name:32} {build_wall:6.2f}/{build_cpu:5.2f} s {held:4.0f} MiB {rates}")
    return got, np.asarray(ones), vec(*vertices)


def _agreement(
    index: GridIndex, units: list[Grid], answers: dict, paths: list, x: np.ndarray, y: np.ndarray, n_naive: int
) -> bool:
    """Print whether every index gives the same answers (random points, unit vertices, naive loop)."""
    ref_vec, _, ref_vertex = answers["bare STRtree"]
    ok = True
    for name, (vec, one, vertex) in answers.items():
        same = bool((vec == ref_vec).all() and (one == ref_vec[: one.size]).all() and (vertex == ref_vertex).all())
        ok &= same
        said = f"{'agrees' if same else 'DISAGREES'} with the STRtree on {vec.size:,} points"
        print(f"  {name}: {said}, {one.size:,} one by one, {vertex.size:,} unit vertices")
    codes = index.unit_codes
    path_units = [p.unit if p else None for p in paths]
    same = path_units == [codes[i] if i >= 0 else None for i in ref_vec[: len(paths)].tolist()]
    t = time.perf_counter()
    naive = [naive_locate(units, a, b) for a, b in zip(x[:n_naive].tolist(), y[:n_naive].tolist())]
    naive_rate = n_naive / (time.perf_counter() - t)
    same_naive = naive == [codes[i] if i >= 0 else None for i in ref_vec[:n_naive].tolist()]
    said = f"paths {'agree' if same else 'DISAGREE'}; naive_locate {'agrees' if same_naive else 'DISAGREES'}"
    print(f"  GridIndex.locate {said} ({n_naive} points by naive_locate: {naive_rate:,.0f} points/s)")
    return ok and same and same_naive


def bench_pg(pg_url: str, grids: list[Grid]) -> None:
    """Write the grids to PostgreSQL, then time gridstore.load_index (read + build)."""
    from dispatcher.store.db import make_engine, make_sessions
    from dispatcher.store.gridstore import load_index, replace_grids
    from dispatcher.store.migrate import upgrade

    engine = make_engine(pg_url)
    upgrade(engine)
    sessions = make_sessions(engine)
    t = time.perf_counter()
    with sessions.begin() as session:
        replace_grids(session, grids, source="bench_grids", actor="bench", now=datetime.now(UTC))
    print(f"\n## PostgreSQL: wrote {len(grids):,} grids in {time.perf_counter() - t:.1f} s")
    for _ in range(2):
        wall, cpu = time.perf_counter(), time.process_time()
        with sessions() as session:
            index = load_index(session)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"load_index: {len(index):,} grids read and indexed in {wall:.2f} s wall ({cpu:.2f} s CPU here)")
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--one", type=int, default=200_000)
    parser.add_argument("--naive", type=int, default=300)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--no-old", action="store_true", help="skip the old lattice (≈ 1 GiB at 100k units)")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--pg-url", help="also time gridstore.load_index on this (scratch) PostgreSQL database")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    t = time.perf_counter()
    city = make_city(args.units, args.seed)
    print(f"generated {len(city):,} grids in {time.perf_counter() - t:.1f} s")
    ok = bench_city(f"Generated city ({args.units:,} irregular unit grids)", city, args, rng)
    if not args.skip_demo:
        ok &= bench_city("Demo city", load_grids(DEMO_GRIDS), args, rng)
    if args.pg_url:
        bench_pg(args.pg_url, city)
    print("\nanswers agree everywhere" if ok else "\nANSWERS DISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
