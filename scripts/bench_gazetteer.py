"""Address matching speed: the gazetteer's indexed match against scoring every entry (the naive baseline),
measured in the same run on the same queries.

    python scripts/bench_gazetteer.py [--roads 3000] [--landmarks 1000] [--queries 400]

The city: the demo's address file (data/demo_city/addresses.geojson, when present), the demo grids'
communities and streets, and generated roads and landmarks up to the sizes asked for. Queries are entries'
names as call-takers type them: with house numbers and building noise, a homophone typo, a wrong suffix.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.gazetteer import Entry, Gazetteer, areas_from_grids, load_addresses
from geo.importer import load_grids

CHARS = "望江清波湖滨紫阳小营南星采荷和睦天水星河芙蓉春晖丁兰近江竹林建国朝晖三堡锦绣新民凤起庆春解放延安中山环城秋涛"
HOMOPHONES = {
    "望": "汪",
    "江": "姜",
    "清": "青",
    "湖": "胡",
    "阳": "杨",
    "建": "健",
    "国": "果",
    "新": "欣",
    "民": "明",
}
ROAD_SUFFIX = ("路", "街", "巷", "大道")
PLACE_SUFFIX = ("医院", "中学", "小学", "公园", "广场", "大厦", "菜市场", "派出所")


def synthetic(rng: random.Random, roads: int, landmarks: int) -> list[Entry]:
    out: list[Entry] = []
    for i in range(roads):
        name = "".join(rng.sample(CHARS, 2)) + rng.choice(("", "东", "西", "南", "北")) + rng.choice(ROAD_SUFFIX)
        x, y = 120.11 + rng.random() * 0.09, 30.23 + rng.random() * 0.08
        out.append(Entry("road", name, f"Road {i}", (), ((x, y), (x + 0.01, y + 0.002)), (1, 2 * rng.randint(20, 200))))
    for i in range(landmarks):
        name = "".join(rng.sample(CHARS, rng.randint(2, 4))) + rng.choice(PLACE_SUFFIX)
        point = (120.11 + rng.random() * 0.09, 30.23 + rng.random() * 0.08)
        out.append(Entry("landmark", name, f"Place {i}", (), (point,), category="poi"))
    return out


def typed(rng: random.Random, entry: Entry) -> str:
    """How a call-taker might type this entry."""
    name = entry.name
    if rng.random() < 0.3:
        i = rng.randrange(len(name))
        name = name[:i] + HOMOPHONES.get(name[i], name[i]) + name[i + 1 :]
    if entry.kind == "road":
        if rng.random() < 0.2:
            name = name[:-1] + ("街" if name.endswith("路") else "路")
        name += f"{rng.randint(1, 150)}号" + rng.choice(("", "3幢2单元", "501室"))
    return "云河区" + name if rng.random() < 0.3 else name


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roads", type=int, default=3000)
    parser.add_argument("--landmarks", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args()
    rng = random.Random(7)
    entries = areas_from_grids(load_grids(ROOT / "data" / "demo_city" / "grids.geojson"))
    demo_file = ROOT / "data" / "demo_city" / "addresses.geojson"
    demo = load_addresses(demo_file) if demo_file.exists() else []
    entries += demo + synthetic(rng, max(0, args.roads - len(demo)), args.landmarks)
    started = time.perf_counter()
    gazetteer = Gazetteer(entries)
    built = time.perf_counter() - started
    queries = [typed(rng, rng.choice(entries)) for _ in range(args.queries)]
    for q in queries:  # warm: every character's pinyin cached, as in a process that has run a while
        gazetteer.match(q)
    results = {}
    for label, exhaustive in (("indexed", False), ("naive (every entry scored)", True)):
        times, tops = [], []
        for q in queries:
            t0 = time.perf_counter()
            found = gazetteer.match(q, exhaustive=exhaustive)
            times.append(time.perf_counter() - t0)
            tops.append(found[0].label if found else None)
        results[label] = (percentiles(times), tops)
    print(f"entries: {len(entries)} ({len(demo)} from the demo file), index built in {built * 1000:.0f} ms")
    for label, ((p50, p95), _) in results.items():
        print(f"{label:28s} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   ({len(queries)} queries)")
    indexed, naive = (tops for _, tops in results.values())
    same = sum(a == b for a, b in zip(indexed, naive, strict=True))
    print(f"same top candidate in both: {same}/{len(queries)}")


if __name__ == "__main__":
    main()
