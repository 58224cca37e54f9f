"""Demo simulator: officers patrolling their communities and incidents arriving, all through real HTTP.

The simulator makes the demo city look alive. It talks to a running GridCommand server only through
its public interfaces (``requests`` against ``base_url``):

* **Officers** — the roster comes from ``GET /api/v1/officers`` (retried every few seconds until the
  endpoint exists and lists someone). Each officer patrols inside the polygon of their home community
  (``grid_community``), walking (grid workers, 1.2–1.6 m/s) or riding an e-bike (enforcement,
  4–6 m/s) along straight segments between random waypoints, and sends a fix every
  ``fix_interval_s`` (staggered) with the OsmAnd / Traccar client protocol: ``GET /osmand?id=…``,
  the same as a form POST, or the JSON form. Fixes carry GPS jitter, occasionally a poor-accuracy
  fix, a duplicate or an out-of-order one, so the server's noise filter has work to do.
* **Incidents** — a Poisson stream of ``POST /api/v1/incidents`` with Chinese descriptions per
  category, points in unit grids (some communities are hotspots), mixed channels (grid worker near
  an officer, hotline with caller and phone, public, video, sensor) and ~3 % that land in triage
  (outside the district, unknown or missing category). A share of them is driven through the
  lifecycle (file, dispatch, claim, handle, verify, close; some escalated, returned or rejected;
  some left alone to go overdue).

Nothing here raises out of the loop: HTTP and connection errors are counted and logged at DEBUG;
``stop`` ends everything within a second; a status line is logged at INFO every 30 s.

Entry points: :func:`run_simulator` (for ``gridcommand demo``, in a thread) and ``python -m
workers.simulator --url URL`` (:func:`main`).
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import logging
import math
import queue
import random
import signal
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import shapely
import yaml
from shapely.geometry import LineString

from geo.distance import EARTH_RADIUS_M
from geo.grids import GridIndex, Level

log = logging.getLogger("gridcommand.simulator")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GRIDS = REPO_ROOT / "data" / "demo_city" / "grids.geojson"
DEFAULT_CATEGORIES = REPO_ROOT / "data" / "categories.yaml"

KNOTS_PER_MPS = 1.943844  # 1 m/s in knots (OsmAnd's default speed unit)
WALK_SPEED_MPS = (1.2, 1.6)  # grid workers on foot
EBIKE_SPEED_MPS = (4.0, 6.0)  # enforcement officers on e-bikes
JITTER_M = (3.0, 8.0)  # ordinary GPS error
POOR_ACCURACY_M = 150.0  # an occasional bad fix (indoors, urban canyon)
P_POOR_FIX = 0.03
P_DUPLICATE_FIX = 0.01
P_OUT_OF_ORDER_FIX = 0.01
P_TRIAGE_BAIT = 0.03  # outside the district, unknown or missing category
METRES_PER_DEG = EARTH_RADIUS_M * math.pi / 180.0

ROSTER_RETRY_S = 3.0
ROSTER_REFRESH_S = 120.0
STATUS_INTERVAL_S = 30.0
HTTP_TIMEOUT = (1.0, 3.0)  # connect, read
MAX_PLANS = 2000  # incidents being driven through the lifecycle at once
QUEUE_SIZE = 512


# ---------------------------------------------------------------------------------------------------
# Geometry: local metric frame, random points, patrol paths
# ---------------------------------------------------------------------------------------------------


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Metres between two nearby WGS-84 points (equirectangular; exact enough inside a district)."""
    k = math.cos(math.radians((lat1 + lat2) / 2.0))
    return math.hypot((lon2 - lon1) * METRES_PER_DEG * k, (lat2 - lat1) * METRES_PER_DEG)


def offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    """The point east_m / north_m metres from (lon, lat)."""
    return (lon + east_m / (METRES_PER_DEG * math.cos(math.radians(lat))), lat + north_m / METRES_PER_DEG)


def bearing_deg(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Compass bearing from the first point to the second: 0 = north, 90 = east."""
    k = math.cos(math.radians((lat1 + lat2) / 2.0))
    east, north = (lon2 - lon1) * k, (lat2 - lat1)
    if east == 0 and north == 0:
        return 0.0
    return math.degrees(math.atan2(east, north)) % 360.0


def random_point_in(geometry, rng: random.Random, tries: int = 200) -> tuple[float, float]:
    """A uniformly random (lon, lat) inside a (prepared) polygon, by rejection in its bounding box."""
    minx, miny, maxx, maxy = geometry.bounds
    for _ in range(tries):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(geometry, x, y):
            return x, y
    p = geometry.representative_point()
    return p.x, p.y


def random_offset(lon: float, lat: float, rng: random.Random, low_m: float, high_m: float) -> tuple[float, float]:
    """A point between low_m and high_m metres away from (lon, lat) in a random direction."""
    r, a = rng.uniform(low_m, high_m), rng.uniform(0.0, 2.0 * math.pi)
    return offset(lon, lat, r * math.sin(a), r * math.cos(a))


def speed_for_role(role: str | None, rng: random.Random) -> tuple[float, str]:
    """Cruising speed (m/s) and mode: enforcement rides e-bikes, everyone else walks."""
    text = (role or "").lower()
    if any(word in text for word in ("enforce", "law", "执法", "城管", "patrol_bike", "ebike")):
        return rng.uniform(*EBIKE_SPEED_MPS), "ebike"
    return rng.uniform(*WALK_SPEED_MPS), "walk"


@dataclass
class Fix:
    """One position report as a tracker app would send it."""

    device_id: str
    lon: float
    lat: float
    timestamp: float  # unix seconds
    speed_mps: float
    bearing: float
    altitude: float
    accuracy: float
    battery: float  # 0..100
    is_moving: bool
    charging: bool = False


class Patrol:
    """One officer walking or riding inside a community polygon, waypoint to waypoint on straight segments.

    The true track always stays inside the polygon: every segment is checked to be covered by it.
    Reported fixes add GPS noise on top (see :meth:`fix`).
    """

    def __init__(
        self,
        device_id: str,
        name: str,
        role: str | None,
        area,
        rng: random.Random,
        *,
        start: tuple[float, float] | None = None,
        now: float = 0.0,
        officer_id: str | None = None,
    ):
        self.device_id, self.name, self.role = device_id, name, role
        self.officer_id = officer_id or device_id
        self.area = area
        shapely.prepare(self.area)
        self.rng = rng
        self.cruise, self.mode = speed_for_role(role, rng)
        if start is None or not shapely.contains_xy(self.area, *start):
            start = random_point_in(self.area, rng)
        self.lon, self.lat = start
        self.t = now
        self.target: tuple[float, float] | None = None
        self.pause_until = now + rng.uniform(0.0, 20.0)
        self.heading = rng.uniform(0.0, 360.0)
        self.battery = rng.uniform(55.0, 100.0)
        self.charging = False
        self.altitude = rng.uniform(6.0, 18.0)
        self.speed = 0.0
        self.cruise_now = self.cruise
        self.lock = threading.Lock()  # two fixes of one officer may be in flight at once

    @property
    def position(self) -> tuple[float, float]:
        return self.lon, self.lat

    def _segment_ok(self, lon: float, lat: float) -> bool:
        return bool(self.area.covers(LineString([(self.lon, self.lat), (lon, lat)])))

    def next_waypoint(self) -> tuple[float, float] | None:
        """A random point of the community reachable in a straight line inside it (nearby preferred)."""
        reach = 400.0 if self.mode == "walk" else 900.0
        for _ in range(25):
            lon, lat = random_offset(self.lon, self.lat, self.rng, 60.0, reach)
            if shapely.contains_xy(self.area, lon, lat) and self._segment_ok(lon, lat):
                return lon, lat
        for _ in range(25):
            lon, lat = random_point_in(self.area, self.rng)
            if self._segment_ok(lon, lat):
                return lon, lat
        return None

    def advance(self, now: float) -> None:
        """Move along the path up to time `now` (seconds)."""
        dt = max(0.0, now - self.t)
        self.t = now
        self._drain_battery(dt)
        while dt > 0:
            if self.pause_until > now - dt:  # standing: checking a shop, talking to a resident
                used = min(dt, self.pause_until - (now - dt))
                dt -= used
                self.speed = 0.0
                continue
            if self.target is None:
                self.target = self.next_waypoint()
                if self.target is None:  # cornered in a sliver of the polygon: wait a little
                    self.pause_until = now + 30.0
                    self.speed = 0.0
                    return
                self.cruise_now = self.cruise * self.rng.uniform(0.9, 1.1)
            tx, ty = self.target
            remaining = distance_m(self.lon, self.lat, tx, ty)
            speed = self.cruise_now
            step = speed * dt
            self.heading = bearing_deg(self.lon, self.lat, tx, ty) if remaining > 0 else self.heading
            if step >= remaining:
                self.lon, self.lat = tx, ty
                dt -= remaining / speed if speed > 0 else dt
                self.target = None
                # dwell at the waypoint now and then
                if self.rng.random() < 0.35:
                    self.pause_until = now - dt + self.rng.uniform(10.0, 90.0)
                self.speed = speed
            else:
                f = step / remaining
                self.lon += (tx - self.lon) * f
                self.lat += (ty - self.lat) * f
                self.speed = speed
                dt = 0.0

    def _drain_battery(self, dt: float) -> None:
        if self.charging:
            self.battery = min(100.0, self.battery + dt * 0.02)
            if self.battery >= 95.0:
                self.charging = False
        else:
            self.battery = max(1.0, self.battery - dt * (0.0015 if self.mode == "walk" else 0.002))
            if self.battery <= 15.0:
                self.charging = True  # a power bank comes out

    def fix(self, now: float) -> Fix:
        """Advance to `now` and report a noisy fix of the current position."""
        self.advance(now)
        moving = self.speed > 0 and self.pause_until <= now
        if self.rng.random() < P_POOR_FIX:
            accuracy = POOR_ACCURACY_M
            lon, lat = random_offset(self.lon, self.lat, self.rng, 20.0, POOR_ACCURACY_M)
        else:
            accuracy = round(self.rng.uniform(*JITTER_M), 1)
            lon, lat = random_offset(self.lon, self.lat, self.rng, JITTER_M[0], JITTER_M[1])
        speed = self.speed * self.rng.uniform(0.92, 1.08) if moving else 0.0
        return Fix(
            device_id=self.device_id,
            lon=lon,
            lat=lat,
            timestamp=float(int(now)),
            speed_mps=speed,
            bearing=self.heading if moving else self.heading,
            altitude=self.altitude + self.rng.uniform(-2.0, 2.0),
            accuracy=accuracy,
            battery=self.battery,
            is_moving=moving,
            charging=self.charging,
        )


# ---------------------------------------------------------------------------------------------------
# OsmAnd / Traccar client protocol
# ---------------------------------------------------------------------------------------------------


def mps_to_knots(speed_mps: float) -> float:
    return speed_mps * KNOTS_PER_MPS


def osmand_query(fix: Fix) -> dict[str, str]:
    """The query (or form) parameters of an OsmAnd fix: id, lat, lon, unix timestamp, speed in knots."""
    return {
        "id": fix.device_id,
        "lat": f"{fix.lat:.7f}",
        "lon": f"{fix.lon:.7f}",
        "timestamp": str(int(fix.timestamp)),
        "speed": f"{mps_to_knots(fix.speed_mps):.2f}",
        "bearing": f"{fix.bearing:.1f}",
        "altitude": f"{fix.altitude:.1f}",
        "accuracy": f"{fix.accuracy:.1f}",
        "batt": f"{fix.battery:.0f}",
        "charge": "true" if fix.charging else "false",
    }


def osmand_json(fix: Fix) -> dict[str, Any]:
    """The JSON form (Traccar Client / background-geolocation): speed in m/s, ISO timestamp."""
    return {
        "device_id": fix.device_id,
        "location": {
            "timestamp": datetime.fromtimestamp(fix.timestamp, UTC).isoformat().replace("+00:00", "Z"),
            "coords": {
                "latitude": round(fix.lat, 7),
                "longitude": round(fix.lon, 7),
                "accuracy": round(fix.accuracy, 1),
                "speed": round(fix.speed_mps, 2),
                "heading": round(fix.bearing, 1),
                "altitude": round(fix.altitude, 1),
            },
            "is_moving": fix.is_moving,
            "battery": {"level": round(fix.battery / 100.0, 2), "is_charging": fix.charging},
        },
    }


# ---------------------------------------------------------------------------------------------------
# Poisson arrivals
# ---------------------------------------------------------------------------------------------------


def next_gap_s(rate_per_min: float, rng: random.Random) -> float:
    """Seconds to the next arrival of a Poisson process with this rate (inf for rate ≤ 0)."""
    if rate_per_min <= 0:
        return math.inf
    return rng.expovariate(rate_per_min / 60.0)


def arrivals(rate_per_min: float, rng: random.Random, start: float = 0.0) -> Iterator[float]:
    """Arrival times of a Poisson process from `start`."""
    t = start
    while True:
        t += next_gap_s(rate_per_min, rng)
        yield t


# ---------------------------------------------------------------------------------------------------
# Incident content: templates, channels, places
# ---------------------------------------------------------------------------------------------------

ROADS = [
    "云河路",
    "望江路",
    "清波街",
    "湖滨路",
    "紫阳街",
    "小营巷",
    "南星路",
    "采荷路",
    "解放路",
    "庆春路",
    "建国南路",
    "秋涛路",
    "凤起东路",
    "中河中路",
    "环城东路",
    "景芳路",
    "江锦路",
    "之江路",
    "钱潮路",
    "新塘路",
]
PLACES = [
    "菜市场门口",
    "公交站旁",
    "小区东门",
    "小学门口",
    "十字路口",
    "便利店门前",
    "地铁口",
    "公园入口",
    "人行天桥下",
    "农贸市场北侧",
    "小区南门",
    "银行门口",
    "老年活动中心旁",
    "快递驿站门口",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁沈任姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严覃武"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "海燕",
    "志强",
    "玉兰",
    "晓东",
    "丹",
    "鹏",
    "婷",
    "斌",
    "红梅",
    "建国",
    "雪",
]

# Templates per small class, keyed by the class's name_zh in data/categories.yaml.
# Placeholders: {road} {place} {n} (a number) {m} (metres) {t} (a time of day).
TEMPLATES: dict[str, list[str]] = {
    "暴露垃圾": [
        "{road}{place}有暴露垃圾，堆放约{n}袋，无人清理",
        "{place}垃圾桶满溢，周边散落生活垃圾",
        "{road}{n}号旁人行道上有一堆暴露垃圾，气味较大",
        "绿化带边有人乱扔垃圾，已堆积多日",
    ],
    "道路不洁": [
        "{road}路面有大片泥渍和油污，影响通行",
        "{road}{place}路面脏乱，落叶纸屑较多未清扫",
        "{road}非机动车道有碎玻璃，存在安全隐患",
        "{place}地面有大量烟头和纸屑",
    ],
    "店外经营": [
        "{road}{n}号水果店占道经营，货架摆到人行道上",
        "{place}餐馆在店外摆桌经营，占用人行道约{m}米",
        "{road}一排小店出店经营，行人只能走机动车道",
        "{road}{n}号五金店占道经营，堆放货物",
    ],
    "无照经营游商": [
        "{place}有流动摊贩聚集，约{n}个摊位",
        "{road}{place}有人推三轮车卖水果，占用盲道",
        "晚上{t}{place}有游商摆摊卖小吃",
        "{road}人行道上有流动摊贩，影响行人通行",
    ],
    "机动车乱停放": [
        "{road}{n}号门前机动车违停，堵塞消防通道",
        "{place}有{n}辆小汽车停在人行道上",
        "{road}路口机动车乱停放，公交车无法进站",
        "{place}有车辆长时间占用非机动车道停放",
    ],
    "非机动车乱停放": ["{place}电动车乱停放，堵住了盲道", "{road}{n}号门口电瓶车停放杂乱，行人难以通行"],
    "共享单车乱停放": [
        "{place}共享单车堆积约{n}辆，占用人行道",
        "{road}地铁口共享单车乱停放，堵塞出入口",
        "{place}共享单车倒伏一地，无人整理",
    ],
    "上水井盖": ["{road}{n}号前自来水井盖缺失，非常危险", "{place}上水井盖破损下陷，车辆经过有异响"],
    "污水井盖": ["{road}{place}污水井盖缺失，已有行人差点踩空", "{road}{n}号旁污水井盖破损，有污水冒出"],
    "雨水井盖": ["{road}雨水井盖缺失，夜间看不清", "{place}雨水箅子被偷，留下一个大洞"],
    "路灯": ["{road}{n}号附近路灯不亮，晚上很黑", "{place}连续{n}盏路灯不亮已有几天", "{road}路灯忽明忽暗，灯杆有倾斜"],
    "道路破损": ["{road}{n}号前路面坑洼，电动车易摔倒", "{place}人行道地砖松动破损约{m}米"],
    "违章建筑（施工）": [
        "{road}{n}号楼顶正在搭建彩钢棚，疑似违建",
        "{place}小区一楼住户私自扩建院墙",
        "{road}{n}号底商私搭乱建雨棚，占用公共空间",
    ],
    "噪声扰民": [
        "{place}广场舞音响声音太大，晚上{t}还在跳",
        "{road}{n}号酒吧噪音扰民，凌晨仍未停止",
        "{road}{n}号商铺用高音喇叭招揽顾客，噪声扰民",
    ],
    "非法小广告": [
        "{place}电线杆上贴满小广告",
        "{road}{n}号墙面有喷涂的办证小广告",
        "{place}楼道内乱贴小广告，清理后又出现",
    ],
    "占道堆物": ["{road}{n}号门前堆放建材，占用人行道", "{place}有人长期堆放杂物，影响通行"],
    "露天烧烤": ["{place}晚上{t}有露天烧烤，油烟很大", "{road}夜宵摊露天烧烤，占道经营到深夜"],
    "油烟污染": ["{road}{n}号饭店油烟直排，楼上住户无法开窗", "{place}餐馆油烟扰民，未安装净化器"],
    "施工扰民": ["{road}工地夜间{t}仍在施工，噪音很大", "{place}附近工地凌晨打桩，严重扰民"],
    "工地扬尘": ["{road}工地裸土未覆盖，刮风时扬尘严重", "{place}附近工地车辆出场未冲洗，扬尘较大"],
    "废弃家具设备": ["{place}有人丢弃旧沙发和床垫", "{road}{n}号旁堆放废弃家具多日无人清运"],
    "果皮箱": ["{road}果皮箱破损，垃圾外漏", "{place}垃圾桶被撞倒，桶盖缺失"],
    "行道树": ["{road}{n}号前行道树枯死，有倒伏风险", "{place}树枝过低，遮挡交通标志"],
    "道路积水": ["{road}下穿通道积水约{n}0厘米，车辆无法通行", "{place}雨后积水严重，排水不畅"],
    "乱搭乱挂": ["{road}{n}号居民楼飞线充电，电线从窗口垂下", "{place}行道树上拉绳晾晒衣物"],
    "其他街面秩序问题": ["{place}有人占用公共空间长期摆放物品，无法判断归属", "{road}{n}号门前秩序混乱，需要现场核实"],
    "健身设施": ["{place}健身器材损坏，螺丝松动", "小区健身路径的漫步机断裂，存在安全隐患"],
}

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
SENSOR_CLASSES = {
    "上水井盖": "井盖倾斜传感器报警：{code} 号井盖位移/开启，角度{n}°",
    "污水井盖": "智能井盖监测：{code} 号污水井盖异常开启",
    "雨水井盖": "井盖监测终端报警：{code} 号雨水井盖倾斜{n}°",
    "道路积水": "积水监测点 {code} 水位 {n}0 cm，超过警戒值",
    "噪声扰民": "噪声监测点 {code} 等效声级 {n}dB(A)，超过夜间限值",
    "工地扬尘": "扬尘监测点 {code} PM10 浓度 {n}0 μg/m³，超标",
    "路灯": "单灯控制器 {code} 报告故障：灯具不亮",
}
VIDEO_PREFIX = ["视频智能识别：", "AI 视频巡查发现：", "监控点位告警："]
CHANNEL_WEIGHTS = {"grid_worker": 35, "hotline": 25, "public": 20, "video": 12, "sensor": 8}
UNKNOWN_CATEGORY = "029999"  # not in the catalogue: lands in triage (unknown_category)

HANDLE_RESULTS = {
    "default": [
        "已到现场处置完毕，现场已恢复正常",
        "已安排人员处理，问题已解决，附处置后照片",
        "已联系责任单位整改到位",
        "现场核实后已处置，已告知当事人",
    ],
    "暴露垃圾": ["已安排保洁员清运垃圾，现场已清理干净"],
    "店外经营": ["已劝导店主将货物搬回店内，并告知相关规定"],
    "机动车乱停放": ["已联系车主挪车，对违停车辆贴单处理"],
    "共享单车乱停放": ["已通知运营企业清运单车，现场已整理"],
    "非法小广告": ["已清除小广告，并对号码进行停机处理"],
    "路灯": ["已更换灯具，路灯恢复正常"],
}
RETURN_REASONS = [
    "不属于本单位职责范围，请重新派遣",
    "现场核实地址有误，无法找到问题点位",
    "该问题属于物业管理范围，建议转社区",
]
ESCALATE_REASONS = ["涉及多个部门，需要上级协调", "当事人拒不整改，需要提级处理", "问题反复出现，申请上报区级"]
REJECT_REASONS = ["现场复核问题仍然存在，请重新处置", "处置照片与现场不符，要求返工"]
VOID_REASONS = ["不在本区管辖范围，已告知来电人向属地反映", "重复上报，作废"]


def load_category_codes(path: str | Path = DEFAULT_CATEGORIES) -> dict[str, str]:
    """Small class name_zh → code, from data/categories.yaml."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    codes: dict[str, str] = {}
    for family in data.get("families", []):
        for big in family.get("big_classes", []):
            for cls in big.get("classes", []):
                codes[str(cls["name_zh"])] = str(cls["code"])
    return codes


def load_no_department_codes(path: str | Path = DEFAULT_CATEGORIES) -> set[str]:
    """Codes of the classes without a default department (they need a department named at filing)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return {
        str(cls["code"])
        for family in data.get("families", [])
        for big in family.get("big_classes", [])
        for cls in big.get("classes", [])
        if cls.get("default_department", "x") is None
    }


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def phone_number(rng: random.Random) -> str:
    """A fake mainland mobile number: 11 digits starting with 1."""
    return rng.choice(["13", "15", "17", "18", "19"]) + "".join(str(rng.randrange(10)) for _ in range(9))


def fill(template: str, rng: random.Random) -> str:
    """A template with its placeholders filled in."""
    return template.format(
        road=rng.choice(ROADS),
        place=rng.choice(PLACES),
        n=rng.randint(2, 9),
        m=rng.randint(3, 30),
        t=f"{rng.randint(21, 23)}点",
        code=f"{rng.randint(1, 9999):04d}",
    )


def describe(name_zh: str, rng: random.Random) -> str:
    """A realistic Chinese description of a problem of this small class."""
    return fill(rng.choice(TEMPLATES[name_zh]), rng)


def weighted_choice(weights: Mapping[str, float], rng: random.Random) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys], k=1)[0]


# ---------------------------------------------------------------------------------------------------
# Lifecycle plans
# ---------------------------------------------------------------------------------------------------

DELAYS_S = {
    "file": (10, 30),
    "dispatch": (10, 60),
    "claim": (5, 40),
    "handle": (20, 120),
    "verify": (10, 60),
    "close": (5, 30),
    "escalate": (15, 60),
    "return": (10, 60),
    "reject": (10, 40),
    "void": (20, 60),
}
FULL = ["file", "dispatch", "claim", "handle", "verify", "close"]
PLANS: dict[str, tuple[float, list[str]]] = {
    "untouched": (18, []),  # left alone: the filing clock runs out (overdue)
    "filed": (8, FULL[:1]),
    "dispatched": (9, FULL[:2]),
    "claimed": (9, FULL[:3]),
    "handled": (7, FULL[:4]),
    "verified": (4, FULL[:5]),
    "closed": (22, FULL),
    "escalated": (6, ["file", "escalate", "dispatch", "claim"]),
    "returned": (6, ["file", "dispatch", "return", "dispatch", "claim", "handle"]),
    "rework": (5, ["file", "dispatch", "claim", "handle", "reject", "claim", "handle", "verify", "close"]),
}


def choose_plan(rng: random.Random) -> list[str]:
    """The actions (in order) one incident will go through; some stop early so every state shows."""
    name = rng.choices(list(PLANS), weights=[w for w, _ in PLANS.values()], k=1)[0]
    return list(PLANS[name][1])


# ---------------------------------------------------------------------------------------------------
# The simulator
# ---------------------------------------------------------------------------------------------------


@dataclass
class SimStats:
    """Counters, updated from several threads (under `lock`)."""

    fixes_sent: int = 0
    fixes_rejected: int = 0
    fixes_dropped: int = 0  # not sent because the request queue was full
    incidents_created: int = 0
    incidents_rejected: int = 0
    actions_done: int = 0
    actions_rejected: int = 0
    errors: int = 0  # connection errors and 5xx
    roster_size: int = 0
    channels: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + n)


@dataclass(order=True)
class _Event:
    due: float
    seq: int
    kind: str = field(compare=False)
    payload: Any = field(compare=False, default=None)


DEPARTMENT_ACTIONS = frozenset({"claim", "transfer", "return", "handle"})


class Simulator:
    """Officers and incidents against one server; see the module docstring. Call :meth:`run`."""

    def __init__(
        self,
        base_url: str,
        *,
        officers: int = 300,
        incident_rate_per_min: float = 20,
        seed: int = 7,
        fix_interval_s: float = 5.0,
        threads: int = 6,
        grids: GridIndex | None = None,
        grids_path: str | Path = DEFAULT_GRIDS,
        categories_path: str | Path = DEFAULT_CATEGORIES,
        lifecycle_time_scale: float = 1.0,
        status_interval_s: float = STATUS_INTERVAL_S,
        stats: SimStats | None = None,
        session=None,
        tokens: dict[str, str] | None = None,
    ):
        self.base = base_url.rstrip("/")
        self.max_officers = max(0, int(officers))
        self.rate = float(incident_rate_per_min)
        self.fix_interval = max(0.2, float(fix_interval_s))
        self.threads = max(1, int(threads))
        self.rng = random.Random(seed)  # content: bodies, plans, patrols (under _content_lock)
        self.arrival_rng = random.Random(seed + 1)  # the scheduler thread's Poisson clock
        self._content_lock = threading.RLock()
        self.time_scale = lifecycle_time_scale
        self.status_interval = status_interval_s
        self.stats = stats or SimStats()
        self.run_id = uuid.uuid4().hex[:12]  # idempotency keys stay unique across restarts with one seed
        self.grids = grids if grids is not None else _load_index(grids_path)
        codes = load_category_codes(categories_path)
        self.class_codes = {name: codes[name] for name in TEMPLATES if name in codes}
        self.no_department = load_no_department_codes(categories_path)
        self.code_names = {code: name for name, code in self.class_codes.items()}
        self._prepare_places()
        self.patrols: dict[str, Patrol] = {}
        self._patrol_list: list[Patrol] = []
        self._heap: list[_Event] = []
        self._seq = itertools.count()
        self._heap_lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_SIZE)
        self._plans = 0
        self._session = session
        self.tokens = tokens or {}  # "leader": files, dispatches, verifies, closes; "dept": claims, handles, returns
        self._last_fix: dict[str, Fix] = {}
        self._formats: dict[str, str] = {}
        self.by_department: dict[str, list[str]] = {}  # on-duty officer ids per department (dispatch assignees)

    # ----- setup ---------------------------------------------------------------------------------

    def _prepare_places(self) -> None:
        communities = self.grids.by_level(Level.COMMUNITY)
        self.communities = [c for c in communities if self.grids.children(c.code)]
        hot = set(self.rng.sample(range(len(self.communities)), k=min(6, len(self.communities))))
        self.community_weights = [6.0 if i in hot else 1.0 for i in range(len(self.communities))]
        districts = self.grids.by_level(Level.DISTRICT)
        self.district_bounds = districts[0].geometry.bounds if districts else (0.0, 0.0, 0.0, 0.0)

    def _make_session(self):
        import requests
        from requests.adapters import HTTPAdapter

        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=self.threads + 2, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = "GridCommand-demo-simulator/1"
        session.headers.update(self._signed("read"))
        return session

    # ----- scheduling ----------------------------------------------------------------------------

    def _push(self, due: float, kind: str, payload: Any = None) -> None:
        with self._heap_lock:
            heapq.heappush(self._heap, _Event(due, next(self._seq), kind, payload))

    def _submit(self, fn: Callable[[], None]) -> bool:
        try:
            self._queue.put_nowait(fn)
            return True
        except queue.Full:
            return False

    def run(self, stop: threading.Event) -> None:
        """Run until `stop` is set; returns within about a second of it."""
        own_session = self._session is None
        if own_session:
            self._session = self._make_session()
        workers = [
            threading.Thread(target=self._work, args=(stop,), name=f"sim-http-{i}", daemon=True)
            for i in range(self.threads)
        ]
        for w in workers:
            w.start()
        now = time.monotonic()
        self._push(now, "roster")
        self._push(now + next_gap_s(self.rate, self.arrival_rng), "incident")
        next_status = now + self.status_interval
        window_start, window_fixes = now, 0
        try:
            while not stop.is_set():
                now = time.monotonic()
                with self._heap_lock:
                    due = []
                    while self._heap and self._heap[0].due <= now:
                        due.append(heapq.heappop(self._heap))
                    wait = (self._heap[0].due - now) if self._heap else 0.25
                for event in due:
                    try:
                        self._dispatch_event(event, now)
                    except Exception:
                        log.debug("simulator event %s failed", event.kind, exc_info=True)
                        self.stats.add("errors")
                if now >= next_status:
                    with self.stats.lock:
                        sent = self.stats.fixes_sent
                    rate = (sent - window_fixes) / max(1e-9, now - window_start)
                    window_start, window_fixes = now, sent
                    log.info(self.status_line(rate))
                    next_status = now + self.status_interval
                stop.wait(min(max(wait, 0.0), 0.1))
        finally:
            deadline = time.monotonic() + 0.7
            for w in workers:
                w.join(timeout=max(0.0, deadline - time.monotonic()))
            if own_session and not any(w.is_alive() for w in workers):
                self._session.close()

    def status_line(self, fixes_per_s: float) -> str:
        s = self.stats
        return (
            f"simulator: {len(self._patrol_list)} officers moving, {fixes_per_s:.1f} fixes/s "
            f"(sent {s.fixes_sent}, rejected {s.fixes_rejected}, dropped {s.fixes_dropped}); "
            f"incidents created {s.incidents_created} (rejected {s.incidents_rejected}); "
            f"actions {s.actions_done} (rejected {s.actions_rejected}); errors {s.errors}"
        )

    def _work(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                task = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if stop.is_set():
                return
            try:
                task()
            except Exception:
                log.debug("simulator request failed", exc_info=True)
                self.stats.add("errors")

    def _dispatch_event(self, event: _Event, now: float) -> None:
        kind = event.kind
        if kind == "roster":
            if not self._submit(self._fetch_roster):
                self._push(now + 1.0, "roster")
        elif kind == "fix":
            device_id = event.payload
            if device_id in self.patrols:  # dropped from the roster: its fixes stop
                self._push(event.due + self.fix_interval, "fix", device_id)
                patrol = self.patrols[device_id]
                if not self._submit(lambda: self._send_fixes(patrol)):
                    self.stats.add("fixes_dropped")
        elif kind == "incident":
            self._push(now + next_gap_s(self.rate, self.arrival_rng), "incident")
            if not self._submit(self._create_incident):
                self.stats.add("incidents_rejected")
        elif kind == "action" and not self._submit(lambda: self._do_action(event.payload)):
            self._push(now + 1.0, "action", event.payload)

    # ----- HTTP helpers --------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs):
        """One request; None on a connection error (counted). Never raises for HTTP reasons."""
        import requests

        try:
            return self._session.request(method, self.base + path, timeout=HTTP_TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            self.stats.add("errors")
            log.debug("%s %s: %s", method, path, exc)
            return None

    # ----- officers ------------------------------------------------------------------------------

    def _fetch_roster(self) -> None:
        now = time.monotonic()
        response = self._request("GET", "/api/v1/officers", params={"page_size": 500})
        items: list[dict] = []
        if response is not None and response.status_code == 200:
            try:
                body = response.json()
                items = body.get("items", []) if isinstance(body, dict) else list(body)
            except ValueError:
                items = []
        elif response is not None:
            log.debug("officer roster: HTTP %s (endpoint not there yet?)", response.status_code)
        with self._content_lock:
            added = self.install_roster(items, now) if items else 0
        self.stats.roster_size = len(self.patrols)
        if added:
            log.info("simulator: %d officers patrolling", len(self.patrols))
        self._push(now + (ROSTER_REFRESH_S if self.patrols else ROSTER_RETRY_S), "roster")

    def install_roster(self, items: Sequence[Mapping[str, Any]], now: float) -> int:
        """Start patrols for roster entries not yet moving (up to `officers`); returns how many were added."""
        usable = [o for o in items if isinstance(o, Mapping) and o.get("device_id")]
        active = [
            o
            for o in usable
            if str(o.get("status") or "").lower() not in {"off_duty", "on_leave", "inactive", "disabled"}
        ]
        chosen = (active or usable)[: self.max_officers]
        by_department: dict[str, list[str]] = {}
        for o in active:
            if o.get("department_code") and o.get("id"):
                by_department.setdefault(str(o["department_code"]), []).append(str(o["id"]))
        self.by_department = by_department
        new = [o for o in chosen if str(o["device_id"]) not in self.patrols]
        slots = max(1, len(chosen))
        added = 0
        for officer in new:
            patrol = self._patrol_for(officer, now)
            if patrol is None:
                continue
            self.patrols[patrol.device_id] = patrol
            self._formats[patrol.device_id] = self.rng.choices(["get", "form", "json"], weights=[75, 15, 10])[0]
            added += 1
            # stagger: officer k of n starts k/n of an interval later, so the load is smooth
            start = now + self.fix_interval * ((len(self.patrols) - 1) % slots) / slots
            self._push(start, "fix", patrol.device_id)
        self._patrol_list = list(self.patrols.values())
        return added

    def _patrol_for(self, officer: Mapping[str, Any], now: float) -> Patrol | None:
        position = officer.get("position") or None
        start = _lon_lat(position) if isinstance(position, Mapping) else None
        community = self.grids.find(str(officer.get("grid_community") or ""))
        if community is None or community.level != Level.COMMUNITY:
            path = self.grids.locate(*start) if start else None
            community = self.grids.find(path.community) if path and path.community else None
        if community is None:
            if not self.communities:
                return None
            key = str(officer.get("id") or officer["device_id"]).encode()
            community = self.communities[zlib.crc32(key) % len(self.communities)]
        area = community.geometry
        rng = random.Random(f"{self.rng.random()}:{officer['device_id']}")
        return Patrol(
            str(officer["device_id"]),
            str(officer.get("name") or ""),
            officer.get("role"),
            area,
            rng,
            start=start,
            now=time.time(),
            officer_id=str(officer.get("id") or "") or None,
        )

    def _send_fixes(self, patrol: Patrol) -> None:
        with patrol.lock:
            fix = patrol.fix(time.time())
            previous = self._last_fix.get(patrol.device_id)
            self._last_fix[patrol.device_id] = fix
            roll = patrol.rng.random()
        self._send_fix(fix, self._formats.get(patrol.device_id, "get"))
        if roll < P_DUPLICATE_FIX:
            self._send_fix(fix, "get")  # the app retried: the very same fix twice
        elif roll < P_DUPLICATE_FIX + P_OUT_OF_ORDER_FIX and previous is not None:
            self._send_fix(previous, "get")  # a buffered older fix arrives late (out of order)

    def _send_fix(self, fix: Fix, form: str) -> None:
        if form == "json":
            response = self._request("POST", "/osmand", json=osmand_json(fix))
        elif form == "form":
            response = self._request("POST", "/osmand", data=osmand_query(fix))
        else:
            response = self._request("GET", "/osmand", params=osmand_query(fix))
        if response is None:
            return
        if response.status_code < 300:
            self.stats.add("fixes_sent")
        else:
            self.stats.add("fixes_rejected")
            if response.status_code >= 500:
                self.stats.add("errors")
            log.debug("fix %s: HTTP %s %s", fix.device_id, response.status_code, response.text[:200])

    # ----- incidents -----------------------------------------------------------------------------

    def make_incident(self, rng: random.Random | None = None) -> dict[str, Any]:
        """One incident report body (CreateIncident fields)."""
        rng = rng or self.rng
        channel = weighted_choice(CHANNEL_WEIGHTS, rng)
        if channel == "video":
            name = rng.choice([n for n in VIDEO_CLASSES if n in self.class_codes])
        elif channel == "sensor":
            name = rng.choice([n for n in SENSOR_CLASSES if n in self.class_codes])
        else:
            name = weighted_choice({k: v for k, v in CATEGORY_WEIGHTS.items() if k in self.class_codes}, rng)
        body: dict[str, Any] = {"channel": channel, "category_code": self.class_codes[name]}
        lon, lat = self._incident_point(rng)
        patrols = self._patrol_list
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
        roll = rng.random()
        if roll < P_TRIAGE_BAIT * 0.5:
            lon, lat = self._outside_point(rng)  # lands in triage: outside_grid
            body.setdefault("address", "临区交界处，具体位置不详")
        elif roll < P_TRIAGE_BAIT * 0.85:
            body["category_code"] = UNKNOWN_CATEGORY  # unknown_category
        elif roll < P_TRIAGE_BAIT:
            body.pop("category_code")  # no category given
        body["lon"], body["lat"] = round(lon, 7), round(lat, 7)
        return body

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

    def _create_incident(self) -> None:
        with self._content_lock:
            body = self.make_incident()
            plan = choose_plan(self.rng)
        key = f"sim-{self.run_id}-{uuid.uuid4().hex[:16]}"
        headers = {"Idempotency-Key": key, **self._signed("report")}
        response = None
        for _attempt in range(2):  # a retry after a lost connection is safe: same key, same body
            response = self._request("POST", "/api/v1/incidents", json=body, headers=headers)
            if response is not None and response.status_code < 500:
                break
        if response is None or response.status_code != 201:
            self.stats.add("incidents_rejected")
            if response is not None:
                if response.status_code >= 500:
                    self.stats.add("errors")
                log.debug("create: HTTP %s %s", response.status_code, response.text[:300])
            return
        self.stats.add("incidents_created")
        with self.stats.lock:
            self.stats.channels[body["channel"]] = self.stats.channels.get(body["channel"], 0) + 1
        try:
            created = response.json()
        except ValueError:
            return
        with self._content_lock:
            self._start_plan(created, plan)

    def _start_plan(self, incident: Mapping[str, Any], plan: list[str]) -> None:
        status = incident.get("status")
        if status == "triage":
            plan = self._triage_plan(incident)
        if not plan or self._plans >= MAX_PLANS:
            return
        self._plans += 1
        state = {
            "id": incident["id"],
            "plan": plan,
            "category": incident.get("category_code"),
            "department": incident.get("department_code"),
            "handler": None,
        }
        self._schedule_next(state)

    def _triage_plan(self, incident: Mapping[str, Any]) -> list[str]:
        """A dispatcher looks at the triage queue: fixes the category and files, or voids what is not ours."""
        reason = (incident.get("triage") or {}).get("reason")
        if reason == "outside_grid":
            return ["void"] if self.rng.random() < 0.6 else []
        if reason in ("unknown_category", "no_department"):
            return ["file", "dispatch", "claim"] if self.rng.random() < 0.7 else []
        return []

    def _schedule_next(self, state: dict) -> None:
        with self._content_lock:
            if not state["plan"]:
                self._plans -= 1
                return
            action = state["plan"][0]
            low, high = DELAYS_S.get(action, (10, 60))
            delay = self.rng.uniform(low, high) * self.time_scale
        self._push(time.monotonic() + delay, "action", state)

    def _signed(self, action: str) -> dict[str, str]:
        """The Authorization header of whoever takes this action in a real city (a department or the center)."""
        who = "dept" if action in DEPARTMENT_ACTIONS else "leader"
        token = self.tokens.get(who)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def _end_plan(self) -> None:
        with self._content_lock:
            self._plans -= 1

    def _do_action(self, state: dict) -> None:
        with self._content_lock:
            action = state["plan"].pop(0)
            body = self._action_body(action, state)
        response = self._request(
            "POST", f"/api/v1/incidents/{state['id']}/actions/{action}", json=body, headers=self._signed(action)
        )
        if response is None or response.status_code >= 500:
            if response is not None:
                self.stats.add("errors")
            state["plan"].insert(0, action)  # try again a bit later
            if state.get("retries", 0) < 3:
                state["retries"] = state.get("retries", 0) + 1
                self._schedule_next(state)
            else:
                self._end_plan()
            return
        if response.status_code != 200:  # 409 (someone else acted) or 422: the plan ends here
            self.stats.add("actions_rejected")
            log.debug("%s %s: HTTP %s %s", action, state["id"], response.status_code, response.text[:300])
            self._end_plan()
            return
        self.stats.add("actions_done")
        try:
            updated = response.json()
            state["department"] = updated.get("department_code") or state["department"]
            state["category"] = updated.get("category_code") or state["category"]
        except ValueError:
            pass
        self._schedule_next(state)

    def _action_body(self, action: str, state: dict) -> dict[str, Any]:
        """The body of one lifecycle action, with plausible notes, reasons and results."""
        rng = self.rng
        department = state.get("department")
        if action == "file":
            body: dict[str, Any] = {"note": rng.choice(["情况属实，予以立案", "经核实符合立案条件", "立案"])}
            if state.get("category") in (None, UNKNOWN_CATEGORY):
                state["category"] = rng.choice(list(self.class_codes.values()))
                body["category_code"] = state["category"]
            if state.get("category") in self.no_department:
                body["department"] = rng.choice(["CGZF", "SQ"])
            return body
        if action == "dispatch":
            body = {"note": rng.choice(["请尽快处置", "请按时限处置并反馈", "派遣至责任单位"])}
            staff = self.by_department.get(str(department))
            if staff and rng.random() < 0.8:  # a named officer of the department: the map shows them busy
                body["assignee"] = state["handler"] = rng.choice(staff)
            return body
        if action == "claim":
            if not state.get("handler"):
                staff = self.by_department.get(str(department))
                state["handler"] = rng.choice(staff) if staff else None
            return {"note": "已签收"}
        if action == "handle":
            name = self.code_names.get(str(state.get("category")), "default")
            result = rng.choice(HANDLE_RESULTS.get(name, []) + HANDLE_RESULTS["default"])
            return {"result": result}
        if action == "verify":
            return {"note": rng.choice(["现场核查，问题已解决", "核查通过"])}
        if action == "close":
            return {"note": "结案"}
        if action == "escalate":
            return {"reason": rng.choice(ESCALATE_REASONS)}
        if action == "return":
            state["handler"] = None  # a return frees the handler
            return {"reason": rng.choice(RETURN_REASONS)}
        if action == "reject":
            return {"reason": rng.choice(REJECT_REASONS)}
        if action == "void":
            return {"reason": rng.choice(VOID_REASONS)}
        return {}


def _lon_lat(position: Mapping[str, Any]) -> tuple[float, float] | None:
    """(lon, lat) from a roster position in any of the usual spellings."""
    lon = position.get("lon", position.get("longitude", position.get("lng")))
    lat = position.get("lat", position.get("latitude"))
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


_INDEX_CACHE: dict[str, GridIndex] = {}
_INDEX_LOCK = threading.Lock()


def _load_index(path: str | Path) -> GridIndex:
    from geo.importer import load_grids

    key = str(Path(path).resolve())
    with _INDEX_LOCK:
        if key not in _INDEX_CACHE:
            _INDEX_CACHE[key] = GridIndex(load_grids(path), version="sim")
        return _INDEX_CACHE[key]


def run_simulator(
    base_url: str,
    *,
    officers: int = 300,
    incident_rate_per_min: float = 20,
    seed: int = 7,
    stop: threading.Event,
    fix_interval_s: float = 5.0,
    **options: Any,
) -> None:
    """Make the demo city look alive against the server at base_url until `stop` is set (returns within ~1 s).

    Extra keyword options go to :class:`Simulator` (threads, grids, lifecycle_time_scale, stats, ...).
    """
    try:
        simulator = Simulator(
            base_url,
            officers=officers,
            incident_rate_per_min=incident_rate_per_min,
            seed=seed,
            fix_interval_s=fix_interval_s,
            **options,
        )
    except Exception:
        log.exception("simulator could not start")
        return
    simulator.run(stop)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m workers.simulator --url http://127.0.0.1:8050``"""
    parser = argparse.ArgumentParser(prog="python -m workers.simulator", description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8050", help="base URL of the GridCommand server")
    parser.add_argument("--officers", type=int, default=300, help="at most this many officers move")
    parser.add_argument("--rate", type=float, default=20.0, help="incidents per minute (Poisson)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fix-interval", type=float, default=5.0, help="seconds between one officer's fixes")
    parser.add_argument("--threads", type=int, default=6, help="HTTP worker threads")
    parser.add_argument(
        "--lifecycle-time-scale",
        type=float,
        default=1.0,
        help="multiply the delays between lifecycle actions (0.1 = ten times faster)",
    )
    parser.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0 = never)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="-v: INFO status lines, -vv: DEBUG")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    stop = threading.Event()

    def _stop(signum, frame):
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    if args.duration > 0:
        timer = threading.Timer(args.duration, stop.set)
        timer.daemon = True
        timer.start()
    run_simulator(
        args.url,
        officers=args.officers,
        incident_rate_per_min=args.rate,
        seed=args.seed,
        stop=stop,
        fix_interval_s=args.fix_interval,
        threads=args.threads,
        lifecycle_time_scale=args.lifecycle_time_scale,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
