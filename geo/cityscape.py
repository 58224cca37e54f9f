"""Generate the demo city's offline base map (roads, water, landmarks) and its address gazetteer.

Deterministic for a seed and the district/street outlines of the demo city (grids.geojson).
Roads form a gently curved, rotated grid: arterials (大道/路) cross the whole district, secondary
roads (路/街) run part of the way, lanes (巷) branch off them. The river 云河 crosses the district,
a lake sits beside it, and ~60 landmarks stand beside the roads.

House numbers (the gazetteer): each road runs from its start to its end as written; walking that
way, odd numbers are on the left and even numbers on the right, starting at 1 (left) and 2 (right),
one pair about every 20 m. `numbers: [first, last]` is the range along that direction. A road cut
in pieces (by the lake) is several features with the same name and consecutive ranges.
Usage: python -m geo.cityscape [--grids data/demo_city/grids.geojson] [--out data/demo_city] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from geo.democity import DEFAULT_SEED, dumps

HOUSE_SPACING_M = 20.0  # metres of frontage per house number pair
DECIMALS = 6
# Road name stems "中文:Pinyin", shuffled per seed; every road takes its own stem, so names are unique.
ROAD_STEMS = """望江:Wangjiang 清泰:Qingtai 延安:Yan'an 中山:Zhongshan 庆春:Qingchun 凤起:Fengqi 解放:Jiefang
建国:Jianguo 秋涛:Qiutao 婺江:Wujiang 复兴:Fuxing 之江:Zhijiang 钱江:Qianjiang 新塘:Xintang 艮山:Genshan
江城:Jiangcheng 南山:Nanshan 北山:Beishan 湖墅:Hushu 文一:Wenyi 文二:Wen'er 文三:Wensan 学院:Xueyuan
教工:Jiaogong 保俶:Baochu 曙光:Shuguang 天目山:Tianmushan 古墩:Gudun 丰潭:Fengtan 西溪:Xixi 留下:Liuxia
灵隐:Lingyin 虎跑:Hupao 玉泉:Yuquan 孤山:Gushan 平海:Pinghai 长生:Changsheng 惠兴:Huixing 青年:Qingnian
浣纱:Huansha 龙游:Longyou 仁和:Renhe 邮电:Youdian 开元:Kaiyuan 河坊:Hefang 高银:Gaoyin 大井:Dajing
鼓楼:Gulou 城隍:Chenghuang 清河:Qinghe 定安:Ding'an 劳动:Laodong 东坡:Dongpo 岳王:Yuewang 学士:Xueshi
将军:Jiangjun 菩提:Puti 金钗:Jinchai 柳营:Liuying 银杏:Yinxing 桂花:Guihua 樱花:Yinghua 梧桐:Wutong
香樟:Xiangzhang 枫林:Fenglin 竹竿:Zhugan 横河:Henghe 新华:Xinhua 人民:Renmin 和平:Heping 胜利:Shengli
光明:Guangming 朝阳:Chaoyang 水亭:Shuiting 汇金:Huijin 明珠:Mingzhu 星光:Xingguang 锦江:Jinjiang
紫荆:Zijing 玉兰:Yulan 茶花:Chahua 石榴:Shiliu 白鹭:Bailu 青松:Qingsong 翠柏:Cuibai 春风:Chunfeng"""
ROAD_SUFFIX = {"大道": "Avenue", "路": "Road", "街": "Street", "巷": "Lane"}
# Landmarks: category -> list of (中文, English, aliases); "{s}"/"{p}" take a nearby road's stem.
FIXED_LANDMARKS: dict[str, list[tuple[str, str, list[str]]]] = {
    "hospital": [
        ("云河市第一人民医院", "Yunhe First People's Hospital", ["市一医院"]),
        ("云河区中医院", "Yunhe TCM Hospital", ["区中医院"]),
        ("云河市妇幼保健院", "Yunhe Maternal and Child Hospital", ["妇保院"]),
    ],
    "school": [
        ("云河区实验小学", "Yunhe Experimental Primary School", ["实验小学"]),
        ("云河第一中学", "Yunhe No. 1 High School", ["云河一中"]),
        ("云河职业技术学院", "Yunhe Vocational College", ["云河职院"]),
    ],
    "station": [
        ("云河火车站", "Yunhe Railway Station", ["火车站", "云河站"]),
        ("云河汽车客运站", "Yunhe Coach Station", ["汽车站"]),
    ],
    "government": [
        ("云河区人民政府", "Yunhe District Government", ["区政府"]),
        ("云河区城市管理局", "Yunhe Urban Management Bureau", ["城管局"]),
        ("云河区公安分局", "Yunhe Public Security Bureau", ["公安分局"]),
    ],
    "mall": [("云河万象城", "Yunhe MixC Mall", ["万象城"])],
    "park": [],
    "market": [],
}
PATTERNS: dict[str, list[tuple[str, str, str]]] = {
    "hospital": [("{s}社区卫生服务中心", "{p} Community Health Center", "{s}卫生中心")],
    "school": [("{s}小学", "{p} Primary School", ""), ("{s}中学", "{p} Middle School", "")],
    "station": [("{s}地铁站", "{p} Metro Station", "{s}站")],
    "mall": [("{s}广场", "{p} Plaza", ""), ("{s}购物中心", "{p} Shopping Center", "")],
    "park": [("{s}公园", "{p} Park", "")],
    "market": [("{s}农贸市场", "{p} Farmers' Market", "{s}菜场")],
    "government": [],
}
PATTERN_COUNTS = {"hospital": 4, "school": 9, "station": 8, "mall": 5, "park": 6, "market": 7}
LANDMARK_GAP_M = 180.0


class _Frame:
    """A local metric frame (metres east/north of an origin) for lon/lat geometry."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0, self.lat0 = lon0, lat0
        self.kx, self.ky = 111_320.0 * math.cos(math.radians(lat0)), 110_540.0

    def to_m(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, lambda c: (c - [self.lon0, self.lat0]) * [self.kx, self.ky])

    def to_deg(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, lambda c: c / [self.kx, self.ky] + [self.lon0, self.lat0])


def generate(grids: Mapping[str, Any], seed: int = DEFAULT_SEED) -> tuple[dict[str, Any], dict[str, Any]]:
    """(basemap, gazetteer) FeatureCollections for a demo city's grids, identical for the same seed."""
    rng = random.Random(seed * 7 + 11)
    levels = {"district": [], "street": []}  # type: dict[str, list[dict[str, Any]]]
    for f in grids["features"]:
        if f["properties"]["level"] in levels:
            levels[f["properties"]["level"]].append(f)
    district_deg = shape(levels["district"][0]["geometry"])
    frame = _Frame(round(district_deg.centroid.x, 4), round(district_deg.centroid.y, 4))
    district = frame.to_m(district_deg)
    theta = rng.uniform(-0.35, 0.35)
    river, river_line, lake, creek = _water(rng, district, theta)
    blocked = shapely.union_all([river, lake]).buffer(12)
    stems = [tuple(s.split(":")) for s in ROAD_STEMS.split()]
    rng.shuffle(stems)
    roads = _roads(rng, district, theta, lake.buffer(15), blocked, stems)
    streets = [
        (f["properties"]["name"], f["properties"].get("name_en", ""), frame.to_m(shape(f["geometry"])))
        for f in sorted(levels["street"], key=lambda f: f["properties"]["code"])
    ]
    landmarks = _landmarks(rng, district, roads, blocked, streets, lake)
    water = [
        ("river", "云河", "Yun River", river),
        ("lake", "月湖", "Moon Lake", lake),
        ("river", "青溪", "Qing Creek", creek),
    ]
    base = [_feature(frame.to_deg(g), layer="water", cls=c, name=n, name_en=e) for c, n, e, g in water]
    labels = [_rounded(frame.to_deg(p)) for p in _label_points(river_line, roads)]
    base[0]["properties"]["label"] = labels[0]  # a winding river's centroid misses it
    base += [
        _feature(frame.to_deg(shapely.simplify(g, 2.0)), layer="road", cls=c, name=n, name_en=e, label=at)
        for (c, n, e, g), at in zip(roads, labels[1:], strict=True)
    ]
    base += [_feature(frame.to_deg(p), layer="landmark", cls=c, name=n, name_en=e) for c, n, e, _, p in landmarks]
    gazetteer = [f for road in roads for f in _road_entries(road, frame)]
    gazetteer += [
        _feature(frame.to_deg(p), kind="landmark", name=n, name_en=e, aliases=a, category=c)
        for c, n, e, a, p in landmarks
    ]
    return _collection("云河区 base map (fictional)", base), _collection(
        "云河区 address gazetteer (fictional)", gazetteer
    )


def _curve(rng: random.Random, offset: float, theta: float, half: float, amp: float) -> LineString:
    """A gently waving line at distance offset from the origin, rotated by theta, 2*half metres long."""
    wave, phase = rng.uniform(2500, 6000), rng.uniform(0, 2 * math.pi)
    t = np.arange(-half, half + 1, 150.0)
    u = offset + amp * np.sin(2 * math.pi * t / wave + phase)
    c, s = math.cos(theta), math.sin(theta)
    return LineString(np.column_stack([u * c - t * s, u * s + t * c]))


def _water(rng: random.Random, district: Polygon, theta: float) -> tuple[Polygon, LineString, Polygon, LineString]:
    """The river 云河 across the district, the lake 月湖 beside it and the creek 青溪 joining them."""
    line = _curve(rng, rng.uniform(-1200, 1200), theta + math.pi / 2 + rng.uniform(-0.4, 0.4), 7000, 420)
    line = shapely.simplify(line.intersection(district.buffer(300)), 1.0)
    river = line.buffer(rng.uniform(40, 55), quad_segs=4).intersection(district)
    while True:
        centre = Point(rng.uniform(-3000, 3000), rng.uniform(-3000, 3000))
        if (
            district.buffer(-900).contains(centre)
            and 700 < centre.distance(line) < 1300
            and centre.distance(Point(0, 0)) > 600
        ):
            break
    k = np.arange(48)
    ang = 2 * math.pi * k / 48
    r = 1 + 0.12 * np.sin(3 * ang + rng.uniform(0, 6)) + 0.06 * np.sin(5 * ang + rng.uniform(0, 6))
    rx, ry = rng.uniform(300, 420), rng.uniform(220, 300)
    lake = Polygon(np.column_stack([centre.x + rx * r * np.cos(ang), centre.y + ry * r * np.sin(ang)]))
    end = line.interpolate(line.project(centre))
    mid = Point((centre.x + end.x) / 2 + rng.uniform(-120, 120), (centre.y + end.y) / 2 + rng.uniform(-120, 120))
    creek = LineString([centre, mid, end]).difference(lake).difference(river)
    if creek.geom_type != "LineString":
        creek = max(shapely.get_parts(creek), key=lambda g: g.length)
    course = max(shapely.get_parts(line.intersection(district)), key=lambda g: g.length)
    return river, course, lake, creek


def _roads(
    rng: random.Random,
    district: Polygon,
    theta: float,
    lake: Polygon,
    blocked: BaseGeometry,
    stems: list[tuple[str, ...]],
) -> list[tuple[str, str, str, BaseGeometry]]:
    """(class, name, name_en, geometry in metres) for arterials, secondary roads and lanes."""
    names = iter(stems)
    roads: list[tuple[str, str, str, BaseGeometry]] = []

    def add(cls: str, suffix: str, geom: BaseGeometry) -> None:
        geom = geom.intersection(district).difference(lake)
        if geom.length < 150:
            return
        zh, pinyin = next(names)
        roads.append((cls, zh + suffix, f"{pinyin} {ROAD_SUFFIX[suffix]}", _line_or_multi(geom)))

    for axis in (0.0, math.pi / 2):
        for k, base in enumerate((-1700.0, 0.0, 1700.0)):
            suffix = "大道" if k == 1 else "路"
            add(
                "arterial", suffix, _curve(rng, base + rng.uniform(-250, 250), theta + axis, 6500, rng.uniform(40, 160))
            )
    for axis in (0.0, math.pi / 2):
        for base in np.arange(-3850.0, 3900.0, 550.0):
            if min(abs(base - a) for a in (-1700, 0, 1700)) < 400 or rng.random() < 0.25:
                continue
            line = _curve(rng, base + rng.uniform(-80, 80), theta + axis, 6500, rng.uniform(20, 80))
            line = line.intersection(district)
            if line.geom_type != "LineString" or line.length < 600:
                continue
            a, b = rng.uniform(0, 0.35), rng.uniform(0.6, 1.0)
            add("secondary", rng.choice(("路", "路", "街")), substring(line, a, b, normalized=True))
    network = shapely.union_all([g for *_, g in roads])
    lanes = 0
    for _ in range(400):
        if lanes >= 26:
            break
        cls, *_, host = roads[rng.randrange(len(roads))]
        if cls == "lane":
            continue
        hosts = shapely.get_parts(host)
        h = hosts[rng.randrange(len(hosts))]
        at = rng.uniform(0.1, 0.9) * h.length
        p, q = h.interpolate(at), h.interpolate(min(at + 5, h.length))
        dx, dy = q.x - p.x, q.y - p.y
        norm = math.hypot(dx, dy) or 1
        side, length = rng.choice((-1, 1)), rng.uniform(220, 450)
        lane = LineString([(p.x, p.y), (p.x - side * dy / norm * length, p.y + side * dx / norm * length)])
        tip = Point(lane.coords[-1])
        if (
            not district.buffer(-50).contains(tip)
            or lane.intersects(blocked)
            or network.distance(tip) < 120
            or network.distance(lane.interpolate(0.5, normalized=True)) < 90
        ):
            continue
        add("lane", "巷", lane)
        network = network.union(lane)
        lanes += 1
    return roads


def _label_points(river: LineString, roads: list[tuple[str, str, str, BaseGeometry]]) -> list[Point]:
    """Where the river's and each road's name is written: along its course, apart from the names already placed
    (two roads crossing at their midpoints would print one name over the other)."""
    placed = [river.interpolate(0.5, normalized=True)]
    gaps = {"arterial": 600.0, "secondary": 450.0, "lane": 150.0}
    for cls, *_, geom in roads:
        line = max(shapely.get_parts(geom), key=lambda g: g.length)
        spots = [line.interpolate(f, normalized=True) for f in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8)]
        placed.append(next((p for p in spots if min(p.distance(q) for q in placed) >= gaps[cls]), spots[0]))
    return placed


def _rounded(point: BaseGeometry) -> list[float]:
    return [round(point.x, DECIMALS), round(point.y, DECIMALS)]


def _line_or_multi(geom: BaseGeometry) -> BaseGeometry:
    """Line parts of geom, merged, longest kept whole: a LineString or MultiLineString."""
    parts = [g for g in shapely.get_parts(shapely.line_merge(geom)) if g.length > 30]
    return parts[0] if len(parts) == 1 else shapely.MultiLineString(parts)


def _landmarks(
    rng: random.Random,
    district: Polygon,
    roads: list[tuple[str, str, str, BaseGeometry]],
    blocked: BaseGeometry,
    streets: list[tuple[str, str, Polygon]],
    lake: Polygon,
) -> list[tuple[str, str, str, list[str], Point]]:
    """(category, name, name_en, aliases, point in metres) beside the roads, inside the district."""
    placed: list[tuple[str, str, str, list[str], Point]] = []
    used: set[str] = set()
    arterials = [r for r in roads if r[0] == "arterial"]

    def spot(pool: list[tuple[str, str, str, BaseGeometry]], area: BaseGeometry) -> tuple[Point, str, str] | None:
        for _ in range(300):
            _, name, name_en, geom = pool[rng.randrange(len(pool))]
            parts = shapely.get_parts(geom)
            line = parts[rng.randrange(len(parts))]
            at = rng.uniform(0.05, 0.95) * line.length
            p, q = line.interpolate(at), line.interpolate(min(at + 5, line.length))
            dx, dy = q.x - p.x, q.y - p.y
            norm, off = math.hypot(dx, dy) or 1, rng.choice((-1, 1)) * rng.uniform(35, 60)
            pt = Point(p.x - dy / norm * off, p.y + dx / norm * off)
            inside = area.buffer(-40).contains(pt) and blocked.distance(pt) > 15
            if inside and all(pt.distance(o[4]) >= LANDMARK_GAP_M for o in placed):
                stem = name[:-2] if name.endswith("大道") else name[:-1]
                return pt, stem, name_en.rsplit(" ", 1)[0]
        return None

    def put(cat: str, zh: str, en: str, aliases: list[str], pt: Point) -> None:
        if zh not in used:
            used.add(zh)
            placed.append((cat, zh, en, [a for a in aliases if a], pt))

    shore = lake.exterior.interpolate(rng.uniform(0, lake.exterior.length))
    out = math.atan2(shore.y - lake.centroid.y, shore.x - lake.centroid.x)  # on the shore, 60 m from the water
    park = Point(shore.x + 60 * math.cos(out), shore.y + 60 * math.sin(out))
    put("park", "月湖公园", "Moon Lake Park", ["月湖"], park)
    for zh, en, geom in streets:
        found = spot([r for r in roads if r[0] != "lane"], geom)
        if found:
            put("government", f"{zh}办事处", f"{en.removesuffix(' St.')} Subdistrict Office", [f"{zh}办"], found[0])
    for cat, entries in FIXED_LANDMARKS.items():
        for zh, en, aliases in entries:
            found = spot(arterials if cat in ("station", "government") else roads, district)
            if found:
                put(cat, zh, en, aliases, found[0])
    for cat, count in PATTERN_COUNTS.items():
        for n in range(count):
            found = spot(arterials if cat == "station" else roads, district)
            if found:
                pt, s, p = found
                zh, en, alias = PATTERNS[cat][n % len(PATTERNS[cat])]
                put(cat, zh.format(s=s), en.format(p=p), [alias.format(s=s)], pt)
    return placed


def _road_entries(road: tuple[str, str, str, BaseGeometry], frame: _Frame) -> Iterator[dict[str, Any]]:
    """Gazetteer features of one road: one LineString per piece, west→east or south→north, numbered on."""
    _, name, name_en, geom = road
    parts = list(shapely.get_parts(geom))
    first = 1
    ordered = []
    for part in parts:
        (x0, y0), (x1, y1) = part.coords[0], part.coords[-1]
        along_x = abs(x1 - x0) >= abs(y1 - y0)
        if (x1 < x0) if along_x else (y1 < y0):
            part = part.reverse()
        ordered.append(part)
    along_x = abs(ordered[0].coords[-1][0] - ordered[0].coords[0][0]) >= abs(
        ordered[0].coords[-1][1] - ordered[0].coords[0][1]
    )
    ordered.sort(key=lambda g: g.coords[0][0] if along_x else g.coords[0][1])
    for part in ordered:
        last = first - 1 + 2 * max(1, round(part.length / HOUSE_SPACING_M))
        line = frame.to_deg(shapely.simplify(part, 2.0))
        yield _feature(line, kind="road", name=name, name_en=name_en, aliases=[], numbers=[first, last])
        first = last + 1


def _feature(geom: BaseGeometry, *, cls: str | None = None, **props: Any) -> dict[str, Any]:
    """A GeoJSON feature, coordinates rounded to 6 decimals; cls becomes the `class` property."""
    if cls is not None:
        props["class"] = cls
    rounded = shapely.transform(geom, lambda c: np.round(c, DECIMALS))
    return {"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(rounded))}


def _collection(name: str, features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "name": name, "features": features}


def main(argv: list[str] | None = None) -> None:
    """Command line: write basemap.geojson and addresses.geojson next to the demo city's grids."""
    parser = argparse.ArgumentParser(prog="python -m geo.cityscape", description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=Path, default=Path("data/demo_city/grids.geojson"))
    parser.add_argument("--out", type=Path, default=Path("data/demo_city"))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    base, gazetteer = generate(json.loads(args.grids.read_text(encoding="utf-8")), args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "basemap.geojson").write_text(dumps(base) + "\n", encoding="utf-8")
    (args.out / "addresses.geojson").write_text(dumps(gazetteer) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
