"""What people write: Chinese roads, places, names, phone numbers and the report, result and reason texts."""

from __future__ import annotations

import random

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

# Texts of IoT sensor alarms per small class (only these classes have sensors).
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
# Return texts per reason code of data/handling.yaml ("default" for codes this list does not know).
RETURN_REASONS: dict[str, list[str]] = {
    "not_ours": ["不属于本单位职责范围，请重新派遣", "该问题属于物业管理范围，建议转社区"],
    "wrong_location": ["现场核实地址有误，无法找到问题点位", "定位偏差较大，现场无此门牌"],
    "cannot_handle": ["涉及产权纠纷，本单位无法处置", "需专业设备，现有力量无法处置"],
    "duplicate": ["与已派遣案件重复，请合并处理"],
    "not_found": ["到达现场未发现所述问题", "现场已恢复正常，未发现问题"],
    "info_missing": ["案件描述不清，缺少具体位置和照片"],
    "default": ["经核实不宜由本单位处置，申请退回"],
}
EXTEND_REASONS = ["需协调多方，申请延期", "等待材料采购，预计需延长处置时间", "天气原因无法施工，申请延期"]
SUSPEND_REASONS = ["当事人联系不上，申请挂账", "涉及司法程序，暂无法处置，申请挂账", "需等待上级审批，申请挂账"]
APPROVE_NOTES = {
    "extend": ["同意延期，请在新时限内办结", "情况属实，同意延期"],
    "suspend": ["同意挂账，条件具备后立即恢复办理", "情况属实，同意挂账"],
}
REFUSE_REASONS = ["理由不充分，不予批准，请按原时限办结", "可以现场处置，不同意挂账/延期"]
UPHOLD_REASONS = ["经审定属于本单位职责，维持原派遣", "退单理由不成立，请继续处置"]
REVOKE_REASONS = ["派遣有误，撤回重新派遣", "责任单位调整，撤销派遣"]
SUPERVISE_REASONS = ["群众反映强烈，请加快处置", "领导关注案件，督办", "多次超时，予以督办"]
PART_RESULTS = ["协办部分已完成，已反馈主办单位", "已配合现场处置完毕", "本部门协办事项已落实"]
ESCALATE_REASONS = ["涉及多个部门，需要上级协调", "当事人拒不整改，需要提级处理", "问题反复出现，申请上报区级"]
REJECT_REASONS = ["现场复核问题仍然存在，请重新处置", "处置照片与现场不符，要求返工"]
VOID_REASONS = ["不在本区管辖范围，已告知来电人向属地反映", "重复上报，作废"]


def person_name(rng: random.Random) -> str:
    """A common Chinese full name: surname and given name."""
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
