"""Incident reports as the city's channels send them: which class, which channel, where, and who reports it."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from geo.grids import GridIndex, Level

from .catalogue import Catalogue
from .patrols import Patrol, random_offset, random_point_in
from .phrases import ROADS, SENSOR_CLASSES, VIDEO_PREFIX, describe, fill, person_name, phone_number

# How often each class is reported (relative), roughly what a city's daily mix looks like.
CATEGORY_WEIGHTS: dict[str, float] = {
    "暴露垃圾": 14,
    "道路不洁": 8,
    "店外经营": 10,
    "无照经营游商": 7,
    "机动车乱停放": 10,
    "非机动车乱停放": 5,
    "共享单车乱停放": 6,
    "上水井盖": 1,
    "污水井盖": 1.5,
    "雨水井盖": 1,
    "路灯": 4,
    "道路破损": 3,
    "违章建筑（施工）": 2,
    "噪声扰民": 5,
    "非法小广告": 7,
    "占道堆物": 4,
    "露天烧烤": 2,
    "油烟污染": 2,
    "施工扰民": 1.5,
    "工地扬尘": 1.5,
    "废弃家具设备": 2,
    "果皮箱": 1.5,
    "行道树": 1,
    "道路积水": 1,
    "乱搭乱挂": 2,
    "其他街面秩序问题": 1,
    "健身设施": 0.5,
}
# Cameras (AI video analysis) and IoT sensors only see some problems.
VIDEO_CLASSES = [
    "暴露垃圾",
    "店外经营",
    "无照经营游商",
    "机动车乱停放",
    "非机动车乱停放",
    "共享单车乱停放",
    "占道堆物",
    "露天烧烤",
    "道路积水",
]
CHANNEL_WEIGHTS = {"grid_worker": 35, "hotline": 25, "public": 20, "video": 12, "sensor": 8}
UNKNOWN_CATEGORY = "029999"  # not in the catalogue: lands in triage (unknown_category)
P_TRIAGE_BAIT = 0.03  # outside the district, unknown or missing category
HOTSPOTS = 6  # communities that report six times as much as the others


def weighted_choice(weights: Mapping[str, float], rng: random.Random) -> str:
    """One key, drawn with the relative weights given."""
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys], k=1)[0]


class IncidentWriter:
    """Writes incident report bodies (CreateIncident fields) for the grids and catalogue of one demo city."""

    def __init__(self, grids: GridIndex, catalogue: Catalogue, rng: random.Random):
        self.grids = grids
        self.class_codes = catalogue.class_codes
        communities = grids.by_level(Level.COMMUNITY)
        self.communities = [c for c in communities if grids.children(c.code)]
        hot = set(rng.sample(range(len(self.communities)), k=min(HOTSPOTS, len(self.communities))))
        self.community_weights = [6.0 if i in hot else 1.0 for i in range(len(self.communities))]
        districts = grids.by_level(Level.DISTRICT)
        self.district_bounds = districts[0].geometry.bounds if districts else (0.0, 0.0, 0.0, 0.0)

    def write(self, rng: random.Random, patrols: Sequence[Patrol] = ()) -> dict[str, Any]:
        """One report body; grid workers report from near one of the patrols, a few reports are triage bait."""
        channel = weighted_choice(CHANNEL_WEIGHTS, rng)
        name = self._small_class(channel, rng)
        body: dict[str, Any] = {"channel": channel, "category_code": self.class_codes[name]}
        lon, lat = self._incident_point(rng)
        if channel == "grid_worker":
            if patrols:
                patrol = rng.choice(patrols)
                lon, lat = random_offset(*patrol.position, rng, 3.0, 30.0)
                body["reporter_name"] = patrol.name or person_name(rng)
            else:
                body["reporter_name"] = person_name(rng)
            body["description"] = describe(name, rng)
        elif channel == "hotline":
            body["reporter_name"] = person_name(rng)[0] + rng.choice(["先生", "女士"])
            body["reporter_phone"] = phone_number(rng)
            body["address"] = self._address(lon, lat, rng)
            body["description"] = f"市民来电反映：{describe(name, rng)}，希望尽快处理"
            body["external_id"] = f"12345-{datetime.now(UTC):%Y%m%d}-{rng.randint(0, 999999):06d}"
        elif channel == "public":
            body["reporter_name"] = rng.choice(["热心市民", "匿名用户"]) if rng.random() < 0.4 else person_name(rng)
            body["description"] = describe(name, rng) + rng.choice(["", "，拍照上传", "，请城管来看看"])
        elif channel == "video":
            body["description"] = rng.choice(VIDEO_PREFIX) + describe(name, rng)
            body["external_id"] = f"CAM-{rng.randint(1, 2400):05d}-{rng.randint(0, 10**8):08d}"
        else:  # sensor
            body["description"] = fill(SENSOR_CLASSES[name], rng)
            body["external_id"] = f"IOT-{rng.randint(1, 9999):04d}-{rng.randint(0, 10**8):08d}"
        lon, lat = self._bait(body, lon, lat, rng)
        body["lon"], body["lat"] = round(lon, 7), round(lat, 7)
        return body

    def _small_class(self, channel: str, rng: random.Random) -> str:
        """Cameras and sensors see only some classes; people report the usual daily mix."""
        if channel == "video":
            return rng.choice([n for n in VIDEO_CLASSES if n in self.class_codes])
        if channel == "sensor":
            return rng.choice([n for n in SENSOR_CLASSES if n in self.class_codes])
        return weighted_choice({k: v for k, v in CATEGORY_WEIGHTS.items() if k in self.class_codes}, rng)

    def _bait(self, body: dict[str, Any], lon: float, lat: float, rng: random.Random) -> tuple[float, float]:
        """Now and then a report for triage: outside the district, an unknown class or none; returns its point."""
        roll = rng.random()
        if roll < P_TRIAGE_BAIT * 0.5:
            lon, lat = self._outside_point(rng)  # lands in triage: outside_grid
            body.setdefault("address", "临区交界处，具体位置不详")
        elif roll < P_TRIAGE_BAIT * 0.85:
            body["category_code"] = UNKNOWN_CATEGORY  # unknown_category
        elif roll < P_TRIAGE_BAIT:
            body.pop("category_code")  # no category given
        return lon, lat

    def _incident_point(self, rng: random.Random) -> tuple[float, float]:
        community = rng.choices(self.communities, weights=self.community_weights, k=1)[0]
        unit = rng.choice(self.grids.children(community.code))
        return random_point_in(unit.geometry, rng)

    def _outside_point(self, rng: random.Random) -> tuple[float, float]:
        minx, miny, maxx, maxy = self.district_bounds
        for _ in range(20):
            side = rng.randrange(4)
            d = rng.uniform(0.005, 0.03)
            if side == 0:
                lon, lat = maxx + d, rng.uniform(miny, maxy)
            elif side == 1:
                lon, lat = minx - d, rng.uniform(miny, maxy)
            elif side == 2:
                lon, lat = rng.uniform(minx, maxx), maxy + d
            else:
                lon, lat = rng.uniform(minx, maxx), miny - d
            if self.grids.locate(lon, lat) is None:
                return lon, lat
        return maxx + 0.05, maxy + 0.05

    def _address(self, lon: float, lat: float, rng: random.Random) -> str:
        path = self.grids.locate(lon, lat)
        where = ""
        if path is not None:
            street = self.grids.find(path.street) if path.street else None
            community = self.grids.find(path.community) if path.community else None
            where = (street.name if street else "") + (community.name if community else "")
        return f"{where}{rng.choice(ROADS)}{rng.randint(1, 399)}号附近"
