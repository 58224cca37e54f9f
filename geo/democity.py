"""Generate the fictional demo city 云河区 (Yunhe District) as a grid GeoJSON FeatureCollection.

Streets are Voronoi cells of seeded points clipped to a noisy round district, communities are
Voronoi cells inside each street, unit grids are ~100 m lattice cells clipped to communities.
All linework is noded once on a 1e-7° grid and polygonized, so neighbours share exact edges;
every larger polygon is a plain union of those faces (no further snapping).
Usage: python -m geo.democity OUT.geojson [--seed N]
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LinearRing, LineString, MultiPoint, MultiPolygon, Point, Polygon

DEFAULT_SEED = 20261128
DISTRICT_CODE = "330199"
CENTER = (120.16, 30.27)
RADIUS_LON, RADIUS_LAT = 0.046, 0.040  # ≈ 4.4 km each way
CELL_LON, CELL_LAT = 0.001, 0.0009  # ≈ 96 m × 100 m
GRID_SIZE = 1e-7  # coordinate precision in degrees (7 decimals)
SLIVER_FRACTION = 0.15
COMMUNITIES_PER_STREET = (6, 8)

STREETS = (
    ("望江", "Wangjiang"),
    ("清波", "Qingbo"),
    ("湖滨", "Hubin"),
    ("紫阳", "Ziyang"),
    ("小营", "Xiaoying"),
    ("南星", "Nanxing"),
    ("采荷", "Caihe"),
)
COMMUNITIES = (
    ("春晖", "Chunhui"),
    ("秋涛", "Qiutao"),
    ("玉皇", "Yuhuang"),
    ("凤凰", "Fenghuang"),
    ("梅花碑", "Meihuabei"),
    ("吴山", "Wushan"),
    ("定安", "Ding'an"),
    ("涌金", "Yongjin"),
    ("东坡", "Dongpo"),
    ("岳王", "Yuewang"),
    ("青年", "Qingnian"),
    ("龙翔", "Longxiang"),
    ("葵巷", "Kuixiang"),
    ("新民", "Xinmin"),
    ("紫花", "Zihua"),
    ("建国", "Jianguo"),
    ("复兴", "Fuxing"),
    ("海潮", "Haichao"),
    ("近江", "Jinjiang"),
    ("婺江", "Wujiang"),
    ("三堡", "Sanbao"),
    ("江城", "Jiangcheng"),
    ("洋泮", "Yangpan"),
    ("红梅", "Hongmei"),
    ("春江", "Chunjiang"),
    ("景华", "Jinghua"),
    ("常青", "Changqing"),
    ("丁兰", "Dinglan"),
    ("杨柳", "Yangliu"),
    ("花园", "Huayuan"),
    ("银杏", "Yinxing"),
    ("翠苑", "Cuiyuan"),
    ("晓霞", "Xiaoxia"),
    ("明月", "Mingyue"),
    ("荷花", "Hehua"),
    ("柳浪", "Liulang"),
    ("平湖", "Pinghu"),
    ("秋月", "Qiuyue"),
    ("桂花", "Guihua"),
    ("梧桐", "Wutong"),
    ("芙蓉", "Furong"),
    ("星河", "Xinghe"),
    ("云栖", "Yunqi"),
    ("锦绣", "Jinxiu"),
    ("和睦", "Hemu"),
    ("安吉", "Anji"),
    ("庆春", "Qingchun"),
    ("望湖", "Wanghu"),
    ("朝晖", "Zhaohui"),
    ("金沙", "Jinsha"),
    ("银泉", "Yinquan"),
    ("竹林", "Zhulin"),
    ("松涛", "Songtao"),
    ("碧波", "Bibo"),
    ("天水", "Tianshui"),
    ("长寿", "Changshou"),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢姜钟谭陆汪范金石廖贾夏方邹孟熊秦江薛顾毛钱严戴"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华红建文辉玲波宁斌慧婷国庆海燕晓东志红梅亮雪琴"
MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "177",
    "180",
    "181",
    "186",
    "187",
    "188",
    "189",
    "198",
    "199",
)


def generate(seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """The demo city as a GeoJSON FeatureCollection, identical for the same seed."""
    rng = random.Random(seed)
    district = _district_outline(rng)
    streets = _voronoi_cells(_seed_points(rng, district, len(STREETS), 0.012), district)
    communities = [
        _voronoi_cells(_seed_points(rng, street, rng.randint(*COMMUNITIES_PER_STREET), 0.006), street)
        for street in streets
    ]
    faces = _node_and_polygonize(district, streets, communities)
    units = _assign_units(faces, communities)
    return _collection(rng, units)


def _district_outline(rng: random.Random) -> Polygon:
    """A noisy ellipse around CENTER (~8-9 km across)."""
    n = 72
    phases = [rng.uniform(0, 2 * math.pi) for _ in range(3)]
    points = []
    for k in range(n):
        t = 2 * math.pi * k / n
        r = (
            1
            + 0.07 * math.sin(2 * t + phases[0])
            + 0.05 * math.sin(3 * t + phases[1])
            + 0.03 * math.sin(5 * t + phases[2])
        )
        r *= 1 + rng.uniform(-0.025, 0.025)
        points.append((CENTER[0] + RADIUS_LON * r * math.cos(t), CENTER[1] + RADIUS_LAT * r * math.sin(t)))
    return shapely.set_precision(Polygon(points), GRID_SIZE)


def _seed_points(rng: random.Random, area: Polygon, count: int, min_gap: float) -> list[Point]:
    """count seeded points inside area, at least min_gap degrees apart where possible."""
    minx, miny, maxx, maxy = area.bounds
    inner = area.buffer(-min_gap / 3)
    points: list[Point] = []
    gap = min_gap
    tries = 0
    while len(points) < count:
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        tries += 1
        if tries % 500 == 0:
            gap *= 0.8
        if inner.contains(p) and all(p.distance(q) >= gap for q in points):
            points.append(p)
    return points


def _voronoi_cells(points: list[Point], area: Polygon) -> list[Polygon]:
    """Voronoi cells of points clipped to area, in the order of the points."""
    cells = shapely.voronoi_polygons(MultiPoint(points), extend_to=area).geoms
    ordered = []
    for p in points:
        cell = next(c for c in cells if c.contains(p))
        ordered.append(cell.intersection(area))
    return ordered


def _node_and_polygonize(district: Polygon, streets: list[Polygon], communities: list[list[Polygon]]) -> list[Polygon]:
    """Faces of all boundaries and lattice lines, noded once on the precision grid."""
    minx, miny, maxx, maxy = district.bounds
    x0 = math.floor(minx / CELL_LON) * CELL_LON
    y0 = math.floor(miny / CELL_LAT) * CELL_LAT
    lines = [district.exterior]
    lines += [s.boundary for s in streets]
    lines += [c.boundary for cells in communities for c in cells]
    nx = int(math.ceil((maxx - x0) / CELL_LON)) + 1
    ny = int(math.ceil((maxy - y0) / CELL_LAT)) + 1
    lines += [LineString([(x0 + i * CELL_LON, miny - 0.01), (x0 + i * CELL_LON, maxy + 0.01)]) for i in range(nx)]
    lines += [LineString([(minx - 0.01, y0 + j * CELL_LAT), (maxx + 0.01, y0 + j * CELL_LAT)]) for j in range(ny)]
    noded = shapely.unary_union(lines, grid_size=GRID_SIZE)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    inside = shapely.contains(district, shapely.point_on_surface(faces))
    return list(faces[inside])


def _assign_units(faces: list[Polygon], communities: list[list[Polygon]]) -> dict[tuple[int, int], list[Polygon]]:
    """Unit grids per (street, community) index: faces grouped by lattice cell, slivers merged."""
    flat = [(s, c, poly) for s, cells in enumerate(communities) for c, poly in enumerate(cells)]
    tree = shapely.STRtree([poly for _, _, poly in flat])
    reps = shapely.point_on_surface(np.array(faces, dtype=object))
    groups: dict[tuple[int, int], dict[tuple[int, int], list[Polygon]]] = defaultdict(lambda: defaultdict(list))
    for face, rep in zip(faces, reps):
        hits = tree.query(rep, predicate="intersects")
        k = int(hits.min()) if hits.size else int(tree.query_nearest(rep)[0])
        s, c, _ = flat[k]
        cell = (math.floor(rep.x / CELL_LON), math.floor(rep.y / CELL_LAT))
        groups[(s, c)][cell].append(face)
    cell_area = CELL_LON * CELL_LAT
    units: dict[tuple[int, int], list[Polygon]] = {}
    for key in sorted(groups):
        pieces = [shapely.union_all(parts) for _, parts in sorted(groups[key].items())]
        units[key] = _merge_slivers(pieces, SLIVER_FRACTION * cell_area)
    return units


def _merge_slivers(pieces: list[Polygon], min_area: float) -> list[Polygon]:
    """Merge each piece smaller than min_area into the largest neighbour sharing an edge."""
    pieces = list(pieces)
    while True:
        small = [i for i, p in enumerate(pieces) if p.area < min_area]
        merged = False
        for i in sorted(small, key=lambda i: pieces[i].area):
            neighbours = [
                j for j, q in enumerate(pieces) if j != i and pieces[i].boundary.intersection(q.boundary).length > 0
            ]
            if not neighbours:
                continue
            j = max(neighbours, key=lambda j: pieces[j].area)
            pieces[j] = shapely.union(pieces[j], pieces[i])
            del pieces[i]
            merged = True
            break
        if not merged:
            return pieces


def _collection(rng: random.Random, units: dict[tuple[int, int], list[Polygon]]) -> dict[str, Any]:
    """The FeatureCollection: district, streets, communities (unions of units) and unit grids."""
    names = list(COMMUNITIES)
    rng.shuffle(names)
    phones: set[str] = set()
    features = []
    street_geoms, community_count = [], 0
    street_keys = sorted({s for s, _ in units})
    for s in street_keys:
        street_code = f"{DISTRICT_CODE}{s + 1:03d}"
        street_zh, street_en = STREETS[s]
        community_geoms = []
        for s2, c in sorted(k for k in units if k[0] == s):
            comm_code = f"{street_code}{c + 1:03d}"
            comm_zh, comm_en = names[community_count % len(names)]
            community_count += 1
            pieces = sorted(units[(s2, c)], key=lambda g: (-round(g.centroid.y, 6), round(g.centroid.x, 6)))
            if len(pieces) > 999:
                raise ValueError(f"community {comm_code} has {len(pieces)} unit grids, more than 3 digits allow")
            for n, geom in enumerate(pieces, start=1):
                features.append(
                    _feature(
                        f"{comm_code}{n:03d}",
                        f"{street_zh}街道{comm_zh}社区第{n:03d}网格",
                        f"{comm_en} Community Grid {n:03d}",
                        "unit",
                        comm_code,
                        geom,
                        _leader(rng, phones) | {"households": rng.randint(200, 500)},
                    )
                )
            community = shapely.union_all(pieces)
            community_geoms.append(community)
            features.append(
                _feature(
                    comm_code,
                    f"{comm_zh}社区",
                    f"{comm_en} Community",
                    "community",
                    street_code,
                    community,
                    _leader(rng, phones),
                )
            )
        street = shapely.union_all(community_geoms)
        street_geoms.append(street)
        features.append(
            _feature(street_code, f"{street_zh}街道", f"{street_en} St.", "street", DISTRICT_CODE, street, {})
        )
    district = shapely.union_all(street_geoms)
    features.append(_feature(DISTRICT_CODE, "云河区", "Yunhe District", "district", None, district, {}))
    depth = {"district": 0, "street": 1, "community": 2, "unit": 3}
    features.sort(key=lambda f: (depth[f["properties"]["level"]], f["properties"]["code"]))
    return {"type": "FeatureCollection", "name": "云河区 demo city (fictional)", "features": features}


def _leader(rng: random.Random, phones: set[str]) -> dict[str, str]:
    """A plausible grid leader name and a unique 11-digit mobile number."""
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    while True:
        phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if phone not in phones:
            phones.add(phone)
            return {"leader_name": name, "leader_phone": phone}


def _feature(
    code: str,
    name: str,
    name_en: str,
    level: str,
    parent: str | None,
    geom: Polygon | MultiPolygon,
    extra: Mapping[str, str | int],
) -> dict[str, Any]:
    """One GeoJSON Feature with counter-clockwise exteriors and 7-decimal coordinates."""
    geom = shapely.orient_polygons(geom)
    props = {"code": code, "name": name, "name_en": name_en, "level": level, "parent": parent, **extra}
    return {"type": "Feature", "properties": props, "geometry": _geojson_geometry(geom)}


def _geojson_geometry(geom: Polygon | MultiPolygon) -> dict[str, Any]:
    """GeoJSON geometry dict with coordinates rounded to 7 decimals."""

    def ring(r: LinearRing) -> list[list[float]]:
        return [[round(x, 7), round(y, 7)] for x, y in r.coords]

    def polygon(p: Polygon) -> list[list[list[float]]]:
        return [ring(p.exterior)] + [ring(h) for h in p.interiors]

    if geom.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": polygon(geom)}
    if geom.geom_type == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": [polygon(p) for p in geom.geoms]}
    raise ValueError(f"unexpected geometry {geom.geom_type}")


def dumps(collection: Mapping[str, Any]) -> str:
    """Compact, sorted, UTF-8 JSON text of a collection."""
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def main(argv: list[str] | None = None) -> None:
    """Command line: write the demo city GeoJSON to a file."""
    parser = argparse.ArgumentParser(prog="python -m geo.democity", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output .geojson path")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dumps(generate(args.seed)) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
