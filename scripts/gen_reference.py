#!/usr/bin/env python3
"""Generate Jiesu's shipped reference data (reference/*.csv).

Usage:  python3 scripts/gen_reference.py [ADMIN_DIVISIONS_DIR]

ADMIN_DIVISIONS_DIR defaults to ../shared/data/admin-divisions-cn relative to the repo root
(the directory above this script's directory). Python 3 standard library only. Output is
deterministic: running it twice gives byte-identical files.

Outputs (UTF-8, header row, comma separated, minimal quoting, "\\n" line ends):

  reference/units.csv        code,name,level,parent_code,short_name,aliases
  reference/time_limits.csv  class,name_zh,name_en,acknowledge_minutes,reply_minutes,day_kind
  reference/categories.csv   code,name,name_en,parent_code,level,default_unit_code,
                             time_limit_class,keywords

units.csv
---------
Source of the administrative units: NBS 统计用区划代码和城乡划分代码 (as of 2022-10-31), via
the admin-divisions-cn extract (beijing_districts.csv / beijing_streets.csv /
beijing_villages.csv). Codes are read as strings. Rows produced:

  center        1      code `center`
  district     16      6-digit code; short_name drops the 区 suffix (朝阳区 -> 朝阳)
  subdistrict 165      9-digit code, kind 街道
  township    178      9-digit code, kind 镇 (107), 乡 (15) and 地区 (56; 地区办事处, one unit
                       that is both a 乡/镇 and a street office)
  zone          6      9-digit code >= 400, kind 特殊区域: development zones / the airport, not
                       街乡镇; they are NOT part of the 343 units of the monthly ranking
                       -> 165 + 178 = 343 streets/townships + 6 zones = 349
  community  3,735     12-digit code; names ending 社区居委会 (2,543) / 社区居民委员会 (600) /
                       居民委员会 (13) / 居委会 (9) / 社区 (570, including 5 NBS placeholder
                       虚拟社区 "virtual communities", code xxxxxxxxx498). 34 communities
                       carry NBS codes 4xx (virtual / 工作站 / development-zone communities)
  village    3,800     12-digit code; names ending 村委会 (3,359) / 村民委员会 (358), 57 names
                       ending just in 村 (丰台区, listed without the 委员会 suffix) and 26 海淀区
                       "…股份经济合作社生活区" (the residential area of a former village now
                       run by its collective economic cooperative after 撤村; no 居委会 yet,
                       so treated as village). The data README's "about 4,330 villages /
                       3,205 communities" counts the 613 居民委员会 names as 村民委员会.
  department   34      code dept.<pinyin initials>; municipal 委办局 and vertically managed
                       bureaus a 12345 center dispatches to (Jiesu defaults, editable)
  company      14      code co.<ascii>; public-service companies (Jiesu defaults, editable)

The name-based community/village split agrees with the NBS code ranges (001-199 居委会,
200-399 村委会, 4xx special communities, 5xx 生活区); the generator checks this.

short_name is the spoken form, aliases are further spoken forms separated by `|`:
  多福巷社区居委会 -> short 多福巷社区, alias 多福巷
  四道口居民委员会 -> short 四道口居委会, alias 四道口
  六合庄村村委会 / 东邵渠村民委员会 -> short 六合庄村 / 东邵渠村, alias 六合庄 / 东邵渠
  (an alias is only added when it keeps at least 2 characters: 焦村 gets none)
  望京街道 -> 望京; 杨镇地区 -> 杨镇; 张镇 stays 张镇; 长哨营满族乡 -> 长哨营 (alias 长哨营乡)
Short names are not unique (e.g. 怀柔 is both a district and 怀柔地区); match on code.

Row order: center, departments, companies (each by code), then all division units by code
(a district is followed by its streets, each street by its communities/villages).

time_limits.csv
---------------
Jiesu defaults (办理时限), editable configuration, not an official table:
  emergency  紧急            ack 30 min,  reply 2 h   calendar
  utilities  水电气热等公共服务 ack 60 min,  reply 24 h  calendar
  general    一般            ack 120 min, reply 7 d   working  (7 x 1440 = 10080)
  complex    复杂            ack 120 min, reply 15 d  working  (15 x 1440 = 21600)
Working-day minutes are minutes of 24-hour days counted only on working days (Mon-Fri,
adjusted by the holiday calendar), so 7 working days = 10080 minutes. The acknowledge
limit uses the same day_kind as the reply limit. Consultations answered at intake
(直接答复) are never dispatched, so they have no class.

categories.csv
--------------
Jiesu's own three-level taxonomy (editable): 14 level-1, 58 level-2, 132 level-3 rows; every
leaf is at level 3. Level-1 includes exactly the seven labels of
the TipDM training data (城乡建设, 环境保护, 交通运输, 教育文体, 劳动和社会保障, 商贸旅游,
卫生计生) plus 公共服务, 市场监管, 公共安全, 民政, 企业服务, 政务服务, 其他. Codes are
pinyin-initial dotted paths (cxjs, cxjs.wygl, cxjs.wygl.sf). default_unit_code is a
department or company in units.csv; in practice most requests are dispatched by area to a
street/township through the dispatch catalogue, the default unit is the fallback/lead
department. keywords (leaves only) feed the keyword fallback classifier. Rows are sorted
by code, so each category directly follows its parent.
"""

import csv
import io
import os
import re
import sys

UNIT_CODE_RE = re.compile(r"^[A-Za-z0-9._-]{1,32}$")

# ---------------------------------------------------------------------------------------
# Departments and companies (Jiesu defaults)
# ---------------------------------------------------------------------------------------

# code, official full name, short_name, aliases
DEPARTMENTS = [
    ("dept.zjw", "北京市住房和城乡建设委员会", "市住建委", ["住建委", "住建局", "住房城乡建设委"]),
    ("dept.cgw", "北京市城市管理委员会", "市城管委", ["城管委"]),
    ("dept.cgzf", "北京市城市管理综合行政执法局", "市城管执法局", ["城管执法局", "城管", "城管执法"]),
    ("dept.ga", "北京市公安局", "市公安局", ["公安局", "公安", "派出所", "交管局", "交警"]),
    ("dept.jtw", "北京市交通委员会", "市交通委", ["交通委", "交通局"]),
    ("dept.sthjj", "北京市生态环境局", "市生态环境局", ["生态环境局", "环保局"]),
    ("dept.scjgj", "北京市市场监督管理局", "市市场监管局", ["市场监管局", "工商局", "质监局"]),
    ("dept.rsj", "北京市人力资源和社会保障局", "市人力社保局", ["人力社保局", "人社局", "社保局", "劳动监察"]),
    ("dept.jw", "北京市教育委员会", "市教委", ["教委", "教育局"]),
    ("dept.wjw", "北京市卫生健康委员会", "市卫生健康委", ["卫健委", "卫生局"]),
    ("dept.ghzrzyw", "北京市规划和自然资源委员会", "市规划自然资源委", ["规自委", "规划委", "国土局"]),
    ("dept.swj", "北京市水务局", "市水务局", ["水务局"]),
    ("dept.yllhj", "北京市园林绿化局", "市园林绿化局", ["园林绿化局", "园林局", "绿化队"]),
    ("dept.mzj", "北京市民政局", "市民政局", ["民政局"]),
    ("dept.whlyj", "北京市文化和旅游局", "市文化和旅游局", ["文旅局", "旅游局", "文化局"]),
    ("dept.ybj", "北京市医疗保障局", "市医保局", ["医保局"]),
    ("dept.zfgjj", "北京住房公积金管理中心", "公积金中心", ["公积金管理中心"]),
    ("dept.tax", "国家税务总局北京市税务局", "市税务局", ["税务局"]),
    ("dept.yjglj", "北京市应急管理局", "市应急局", ["应急管理局", "应急局", "安监局"]),
    ("dept.sfj", "北京市司法局", "市司法局", ["司法局", "司法所"]),
    ("dept.tyj", "北京市体育局", "市体育局", ["体育局"]),
    ("dept.fgw", "北京市发展和改革委员会", "市发展改革委", ["发改委", "物价局"]),
    ("dept.jxj", "北京市经济和信息化局", "市经济和信息化局", ["经信局"]),
    ("dept.commerce", "北京市商务局", "市商务局", ["商务局", "商委"]),
    ("dept.nyncj", "北京市农业农村局", "市农业农村局", ["农业农村局", "农委"]),
    ("dept.tyjrj", "北京市退役军人事务局", "市退役军人局", ["退役军人事务局", "退役军人局"]),
    ("dept.yjj", "北京市药品监督管理局", "市药监局", ["药监局"]),
    ("dept.xf", "北京市消防救援总队", "市消防救援总队", ["消防", "消防队", "消防支队"]),
    ("dept.zwfwj", "北京市政务服务和数据管理局", "市政务服务和数据管理局", ["政务服务局", "政数局", "政务服务中心"]),
    ("dept.rfb", "北京市人民防空办公室", "市人防办", ["人防办", "民防局"]),
    ("dept.wwj", "北京市文物局", "市文物局", ["文物局"]),
    ("dept.jrj", "北京市地方金融管理局", "市金融管理局", ["金融局", "金融办"]),
    ("dept.txglj", "北京市通信管理局", "市通信管理局", ["通信管理局", "通管局"]),
    ("dept.yzglj", "北京市邮政管理局", "市邮政管理局", ["邮政管理局", "邮管局"]),
]

COMPANIES = [
    ("co.water", "北京市自来水集团有限责任公司", "自来水集团", ["自来水公司", "北京自来水"]),
    ("co.drainage", "北京城市排水集团有限责任公司", "排水集团", ["北京排水集团", "排水公司"]),
    ("co.power", "国网北京市电力公司", "北京电力", ["电力公司", "供电公司", "国网北京电力", "供电局"]),
    ("co.gas", "北京市燃气集团有限责任公司", "燃气集团", ["燃气公司", "北京燃气"]),
    ("co.heating", "北京市热力集团有限责任公司", "热力集团", ["热力公司", "北京热力"]),
    ("co.cmcc", "中国移动通信集团北京有限公司", "北京移动", ["中国移动北京公司", "移动公司"]),
    ("co.unicom", "中国联合网络通信有限公司北京市分公司", "北京联通", ["中国联通北京市分公司", "联通公司"]),
    ("co.telecom", "中国电信股份有限公司北京分公司", "北京电信", ["中国电信北京分公司", "电信公司"]),
    ("co.bus", "北京公共交通控股（集团）有限公司", "北京公交集团", ["北京公交", "公交公司"]),
    ("co.metro", "北京市地铁运营有限公司", "北京地铁", ["地铁公司", "地铁运营公司"]),
    ("co.mtr", "北京京港地铁有限公司", "京港地铁", ["港铁"]),
    ("co.post", "中国邮政集团有限公司北京市分公司", "北京邮政", ["中国邮政北京分公司", "邮局"]),
    ("co.gehua", "北京歌华有线电视网络股份有限公司", "歌华有线", ["歌华", "有线电视"]),
    ("co.railway", "中国铁路北京局集团有限公司", "北京铁路局", ["铁路局", "北京局集团"]),
]

CENTER = ("center", "北京市12345市民服务热线", "center", "", "12345热线", ["12345", "市民热线", "12345市民服务热线"])

# The six 特殊区域 (NBS township codes >= 400): hand-written spoken forms.
ZONE_SPOKEN = {
    "北京经济技术开发区": ("北京经开区", ["经开区", "亦庄开发区", "北京亦庄", "亦庄经济技术开发区"]),
    "中关村国家自主创新示范区大兴生物医药产业基地": ("大兴生物医药基地", ["生物医药基地", "中关村大兴生物医药产业基地"]),
    "大兴经济开发区": ("大兴经开区", ["大兴开发区"]),
    "大兴国际机场": ("大兴机场", ["新机场", "北京大兴国际机场"]),
    "北京雁栖经济开发区": ("雁栖开发区", ["雁栖经济开发区"]),
    "中关村科技园区密云园": ("中关村密云园", ["密云园区", "密云园"]),
}

# ---------------------------------------------------------------------------------------
# Time limits
# ---------------------------------------------------------------------------------------

TIME_LIMITS = [
    ("emergency", "紧急", "Emergency", 30, 120, "calendar"),
    ("utilities", "水电气热等公共服务", "Public utilities", 60, 24 * 60, "calendar"),
    ("general", "一般", "General", 120, 7 * 1440, "working"),
    ("complex", "复杂", "Complex", 120, 15 * 1440, "working"),
]

# ---------------------------------------------------------------------------------------
# Category taxonomy
# ---------------------------------------------------------------------------------------
# Nested: (code_part, name, name_en, default_unit, time_class, children | keywords)
# Level 1 and 2 entries carry a list of children; level 3 entries carry a keyword string.

E, U, G, C = "emergency", "utilities", "general", "complex"

TAXONOMY = [
    ("cxjs", "城乡建设", "Urban and rural construction", "dept.zjw", G, [
        ("wygl", "物业管理", "Property management", "dept.zjw", G, [
            ("sf", "物业服务收费", "Property service fees", "dept.zjw", G, "物业费|物业收费|物业乱收费|涨物业费|公摊|停车费|车位费"),
            ("fw", "物业服务质量", "Property service quality", "dept.zjw", G, "物业不作为|物业服务|物业公司|保洁|门禁|维修不及时|业委会|业主大会|维修资金"),
        ]),
        ("fdc", "房地产市场", "Real estate market", "dept.zjw", G, [
            ("jf", "商品房交付和办证", "New housing delivery and title", "dept.zjw", G, "交房|延期交房|开发商|烂尾|房屋质量|房产证|不动产证|网签|购房"),
            ("zl", "房屋租赁和中介", "Rental housing and agencies", "dept.zjw", G, "租房|房东|押金|群租|长租公寓|中介|黑中介|二手房|租赁合同"),
        ]),
        ("zfbz", "住房保障", "Housing security", "dept.zjw", G, [
            ("bzf", "保障性住房和公房", "Affordable and public housing", "dept.zjw", G, "公租房|共有产权房|保障房|经适房|两限房|廉租房|轮候|公房|房改房"),
            ("gjj", "住房公积金", "Housing provident fund", "dept.zfgjj", G, "公积金|公积金提取|公积金贷款|缴存|公积金中心"),
        ]),
        ("jzgc", "建设工程", "Construction works", "dept.zjw", G, [
            ("aq", "施工安全和管理", "Construction site safety", "dept.zjw", G, "施工|工地|脚手架|塔吊|围挡|基坑|占道施工|工程款"),
            ("zx", "房屋装修管理", "Home renovation", "dept.zjw", G, "装修|拆改承重墙|砸墙|装修扰民|破坏承重|私自改造"),
            ("lj", "老旧小区改造和加装电梯", "Old compound renewal and lifts", "dept.zjw", G, "老旧小区改造|综合整治|外墙保温|节能改造|抗震加固|加装电梯|老楼加装电梯"),
        ]),
        ("gh", "规划与违法建设", "Planning and illegal construction", "dept.ghzrzyw", C, [
            ("wj", "违法建设", "Illegal construction", "dept.cgzf", G, "违建|违章建筑|违法建设|私搭乱建|加盖|私建|圈占"),
            ("fa", "规划方案和采光", "Planning schemes and daylight", "dept.ghzrzyw", C, "规划|规划方案|控规|容积率|规划调整|规划公示|采光|遮挡|日照"),
        ]),
        ("zs", "征收拆迁", "Expropriation and demolition", "dept.zjw", C, [
            ("bc", "拆迁补偿和安置", "Compensation and resettlement", "dept.zjw", C, "拆迁|补偿|征收|拆迁款|回迁|回迁房|安置房|过渡费|棚户区|棚改"),
        ]),
        ("szss", "市政设施", "Municipal facilities", "dept.cgw", G, [
            ("dl", "道路和附属设施", "Roads and street furniture", "dept.cgw", G, "道路破损|坑洼|路面塌陷|人行道|步道砖|盲道|过街天桥|护栏|修路"),
            ("ld", "路灯照明", "Street lighting", "dept.cgw", G, "路灯|路灯不亮|照明|灯不亮|路灯坏|景观灯"),
            ("jg", "井盖缺失破损", "Missing or broken manhole covers", "dept.cgw", E, "井盖|井盖缺失|井盖破损|窨井|下水井盖|井盖丢失"),
        ]),
        ("csgl", "城市管理", "City management", "dept.cgzf", G, [
            ("zd", "占道经营和广告", "Street vending and advertising", "dept.cgzf", G, "占道经营|摆摊|小商贩|流动摊贩|游商|出店经营|小广告|牌匾|广告牌"),
            ("hw", "环境卫生和垃圾分类", "Sanitation and waste sorting", "dept.cgw", G, "垃圾|清扫|脏乱差|公厕|垃圾清运|垃圾分类|垃圾桶|厨余垃圾|桶站|大件垃圾"),
        ]),
        ("czjs", "村镇建设", "Village and town development", "dept.nyncj", C, [
            ("td", "宅基地和集体土地", "Homesteads and collective land", "dept.nyncj", C, "宅基地|农房|翻建|建房审批|土地承包|土地流转|集体资产|分红|村务公开"),
        ]),
    ]),
    ("hjbh", "环境保护", "Environmental protection", "dept.sthjj", G, [
        ("zs", "噪声污染", "Noise", "dept.sthjj", G, [
            ("sg", "夜间施工噪音", "Construction noise at night", "dept.cgzf", G, "夜间施工|施工噪音|半夜施工|连夜施工|夜间作业|打桩|施工扰民"),
            ("sh", "社会生活噪声", "Neighbourhood noise", "dept.ga", G, "广场舞|噪音|扰民|音响|喇叭|KTV|酒吧|吵闹|鸣笛|炸街"),
            ("gy", "工业和设备噪声", "Industrial and equipment noise", "dept.sthjj", G, "工厂噪音|设备噪音|风机|空调外机|冷却塔|机器轰鸣"),
        ]),
        ("dq", "大气污染", "Air pollution", "dept.sthjj", G, [
            ("yy", "餐饮油烟", "Restaurant fumes", "dept.cgzf", G, "油烟|餐饮油烟|排烟|烟道|油烟净化|烧烤"),
            ("fq", "工业废气和异味", "Industrial emissions and odours", "dept.sthjj", G, "废气|异味|臭味|烟囱|刺鼻|排放|气味|危废"),
            ("yc", "扬尘和焚烧", "Dust and open burning", "dept.cgzf", G, "扬尘|尘土|苫盖|裸土|土方|灰尘|焚烧|烧垃圾|秸秆"),
        ]),
        ("sw", "水污染", "Water pollution", "dept.sthjj", G, [
            ("ps", "污水排放和河道污染", "Discharge and river pollution", "dept.sthjj", G, "排污|偷排|污水直排|废水|河道|黑臭水体|河水污染|排污口"),
        ]),
        ("hjzf", "环评和环境执法", "EIA and enforcement", "dept.sthjj", C, [
            ("hp", "环评和验收", "Environmental impact assessment", "dept.sthjj", C, "环评|未批先建|环保验收|环评公示|环境影响评价|环保手续"),
            ("fs", "基站和电磁辐射", "Base-station radiation", "dept.sthjj", G, "基站|辐射|信号塔|电磁|天线|电磁辐射|高压线"),
        ]),
        ("lh", "园林绿化", "Greening and parks", "dept.yllhj", G, [
            ("sm", "树木修剪和病虫害", "Trees and pests", "dept.yllhj", G, "树木|修剪|剪树|树枝|砍树|伐树|杨柳絮|飞絮|虫害|打药"),
            ("ld", "绿地和公园", "Green space and parks", "dept.yllhj", G, "绿地|草坪|绿化带|毁绿|占绿|绿化|公园|绿道"),
        ]),
    ]),
    ("jtys", "交通运输", "Transport", "dept.jtw", G, [
        ("ggjt", "公共交通", "Public transport", "dept.jtw", G, [
            ("gj", "公交服务和线路", "Bus service and routes", "co.bus", G, "公交|公交车|公交站|到站|不停靠|甩站|公交线路|增设线路|开通公交"),
            ("dt", "地铁服务", "Metro service", "co.metro", G, "地铁|地铁站|站台|安检|车厢|换乘|末班车|首班车"),
        ]),
        ("czc", "出租汽车和网约车", "Taxis and ride-hailing", "dept.jtw", G, [
            ("cz", "出租车服务", "Taxi service", "dept.jtw", G, "出租车|拒载|绕路|议价|不打表|的哥|出租汽车"),
            ("wy", "网约车", "Ride-hailing", "dept.jtw", G, "网约车|滴滴|专车|快车|顺风车|网约车平台"),
        ]),
        ("tc", "停车和慢行", "Parking and cycling", "dept.jtw", G, [
            ("wt", "违法停车", "Illegal parking", "dept.ga", G, "违停|乱停车|违章停车|乱停乱放|堵路|挡车|僵尸车"),
            ("sf", "停车收费和停车设施", "Parking fees and facilities", "dept.jtw", G, "停车收费|咪表|电子收费|停车场|路侧停车|停车难|停车位"),
            ("dc", "共享单车", "Shared bicycles", "dept.jtw", G, "共享单车|单车|美团单车|哈啰|青桔|单车乱停"),
        ]),
        ("dljt", "道路交通", "Road traffic", "dept.ga", G, [
            ("xh", "信号灯和标志标线", "Signals, signs and markings", "dept.ga", G, "红绿灯|信号灯|标线|交通标志|斑马线|限行标志|电子眼"),
            ("yd", "交通拥堵和秩序", "Congestion and traffic order", "dept.ga", G, "拥堵|堵车|早晚高峰|路口|通行|加塞|逆行|高速|收费站"),
        ]),
        ("cl", "车辆和驾驶人", "Vehicles and drivers", "dept.jtw", G, [
            ("jz", "驾驶证、机动车和驾校", "Licences, vehicles and driving schools", "dept.ga", G, "驾驶证|驾照|车辆年检|机动车|上牌|违章处理|扣分|驾校|学车"),
            ("zb", "小客车指标", "Car quota lottery", "dept.jtw", G, "摇号|小客车指标|新能源指标|家庭摇号|购车指标|指标"),
        ]),
        ("kd", "快递和邮政", "Courier and postal services", "dept.yzglj", G, [
            ("kd", "快递和邮政服务", "Courier and postal service", "dept.yzglj", G, "快递|丢件|派送|快递员|驿站|快递柜|邮政|邮局|包裹"),
        ]),
    ]),
    ("jywt", "教育文体", "Education, culture and sports", "dept.jw", G, [
        ("jcjy", "基础教育", "Basic education", "dept.jw", G, [
            ("rx", "入学入园", "School and kindergarten admission", "dept.jw", G, "入学|入园|幼儿园|学位|学区|划片|小升初|上学"),
            ("sf", "教育收费", "School fees", "dept.jw", G, "学费|学校乱收费|补课费|资料费|校服费|教辅费|学校收费"),
            ("jx", "教学管理和教师", "Teaching and teachers", "dept.jw", G, "作业多|减负|双减|放学时间|课后服务|教师|老师|体罚|师德|有偿补课"),
            ("aq", "校园安全", "School safety", "dept.jw", G, "校园|霸凌|欺凌|学校食堂|校车|校园安全"),
            ("px", "校外培训", "Off-campus tutoring", "dept.jw", G, "培训机构|校外培训|课外班|培训班|辅导班|退费"),
        ]),
        ("ks", "考试招生和学籍", "Exams, enrolment and student status", "dept.jw", G, [
            ("zk", "中高考招生", "Entrance exams", "dept.jw", G, "中考|高考|招生|录取|志愿|加分|考试院|大学|高校"),
            ("xj", "学籍和转学", "Student status and transfers", "dept.jw", G, "学籍|转学|借读|随迁子女|非京籍|休学|毕业证"),
        ]),
        ("wt", "文化体育", "Culture and sports", "dept.whlyj", G, [
            ("wh", "文化服务和文化市场", "Culture services and market", "dept.whlyj", G, "图书馆|文化馆|博物馆|文化活动|网吧|演出|剧本杀|娱乐场所"),
            ("ww", "文物保护", "Cultural relics", "dept.wwj", G, "文物|古建|历史建筑|故居|文保单位|胡同保护|四合院"),
            ("ty", "体育设施和场馆", "Sports facilities", "dept.tyj", G, "健身器材|健身设施|篮球场|体育场|球场|游泳馆|健身房|体育馆"),
        ]),
    ]),
    ("ldsb", "劳动和社会保障", "Labour and social security", "dept.rsj", G, [
        ("ldgx", "劳动关系", "Labour relations", "dept.rsj", G, [
            ("qx", "拖欠工资", "Unpaid wages", "dept.rsj", G, "拖欠工资|欠薪|不发工资|克扣工资|农民工|讨薪|工资"),
            ("ht", "劳动合同和工时", "Contracts and working time", "dept.rsj", G, "劳动合同|不签合同|解除合同|辞退|经济补偿|加班|加班费|年假|劳务派遣"),
            ("zc", "劳动争议仲裁", "Labour dispute arbitration", "dept.rsj", C, "劳动仲裁|仲裁|劳动争议|仲裁委|仲裁院"),
        ]),
        ("sb", "社会保险", "Social insurance", "dept.rsj", G, [
            ("yl", "养老保险和退休", "Pensions and retirement", "dept.rsj", G, "养老保险|养老金|缴费年限|补缴|退休|办理退休|退休金|提前退休"),
            ("gs", "工伤保险", "Work injury insurance", "dept.rsj", G, "工伤|工伤认定|伤残鉴定|工伤赔偿|劳动能力鉴定"),
            ("jn", "社保缴纳和失业保险", "Contributions and unemployment insurance", "dept.rsj", G, "社保|断缴|社保转移|社保卡|缴费基数|失业金|失业保险"),
            ("yb", "医疗和生育保险", "Medical and maternity insurance", "dept.ybj", G, "医保|报销|医保卡|门诊报销|异地就医|定点医院|生育津贴|生育保险"),
        ]),
        ("jy", "就业和人才", "Employment and talent", "dept.rsj", G, [
            ("jy", "就业服务", "Employment services", "dept.rsj", G, "就业|招聘|找工作|求职|就业补贴|灵活就业|创业"),
            ("px", "职业培训和职称", "Vocational training and titles", "dept.rsj", G, "职业培训|职业技能|技能证书|职称|职称评审|技能鉴定"),
            ("lh", "积分落户和人才引进", "Points-based hukou and talent", "dept.rsj", G, "积分落户|人才引进|工作居住证|进京|引进人才|落户指标"),
        ]),
    ]),
    ("smly", "商贸旅游", "Commerce and tourism", "dept.commerce", G, [
        ("ly", "旅游管理", "Tourism", "dept.whlyj", G, [
            ("jq", "景区管理", "Scenic areas", "dept.whlyj", G, "景区|门票|景点|游客|景区排队|长城"),
            ("lxs", "旅行社和导游", "Travel agencies and guides", "dept.whlyj", G, "旅行社|导游|跟团|强制购物|旅游团|低价游|一日游"),
            ("zs", "住宿和民宿", "Lodging", "dept.whlyj", G, "民宿|酒店|宾馆|短租|住宿|旅馆"),
        ]),
        ("sy", "商业服务", "Commercial services", "dept.commerce", G, [
            ("ykf", "单用途预付卡", "Prepaid cards", "dept.commerce", G, "预付卡|办卡|储值卡|会员卡|跑路|退卡|充值|闭店"),
            ("bm", "便民商业网点", "Neighbourhood shops", "dept.commerce", G, "菜市场|便利店|早餐|便民|超市|理发|买菜难|菜店"),
            ("jz", "家政和生活服务", "Domestic and personal services", "dept.commerce", G, "家政|保姆|月嫂|钟点工|家政公司|洗衣|汽车维修|二手车"),
        ]),
    ]),
    ("wsjs", "卫生计生", "Health and family planning", "dept.wjw", G, [
        ("ylfw", "医疗服务", "Medical services", "dept.wjw", G, [
            ("jz", "就医服务和收费", "Access to care and fees", "dept.wjw", G, "挂号|看病|医院|号贩子|就诊|预约挂号|社区医院|家庭医生|医疗收费|检查费"),
            ("jf", "医疗质量和医患纠纷", "Care quality and disputes", "dept.wjw", C, "医生|护士|服务态度|误诊|医疗事故|医疗纠纷|手术"),
            ("ff", "非法行医", "Illegal medical practice", "dept.wjw", G, "非法行医|黑诊所|无证行医|医美|整形|诊所"),
        ]),
        ("ggws", "公共卫生", "Public health", "dept.wjw", G, [
            ("jk", "疾病预防和疫苗接种", "Disease prevention and vaccination", "dept.wjw", G, "疫苗|接种|疾控|传染病|预防接种|核酸|疫情"),
            ("cs", "公共场所卫生和病媒", "Public venue hygiene and pests", "dept.wjw", G, "卫生许可|公共场所卫生|游泳池|老鼠|蟑螂|蚊子|消杀"),
        ]),
        ("jsrk", "计划生育和人口", "Family planning and population", "dept.wjw", G, [
            ("jl", "计生奖励扶助", "Family-planning benefits", "dept.wjw", G, "独生子女|独生子女费|失独|计划生育|特别扶助|一次性奖励|计生"),
            ("sy", "生育登记和出生证明", "Birth registration and certificates", "dept.wjw", G, "生育登记|出生证明|出生医学证明|准生证|三孩|二胎"),
        ]),
        ("spyp", "食品药品", "Food and drugs", "dept.scjgj", G, [
            ("sp", "食品安全", "Food safety", "dept.scjgj", G, "食品安全|过期食品|变质|餐馆卫生|食物中毒|吃坏肚子|外卖|后厨"),
            ("yp", "药品、器械和保健品", "Drugs, devices and health products", "dept.yjj", G, "药品|药店|医疗器械|假药|处方药|保健品|化妆品|会销"),
        ]),
    ]),
    ("ggfw", "公共服务", "Public utilities", "dept.cgw", U, [
        ("gs", "供水", "Water supply", "co.water", U, [
            ("ts", "停水和水费", "Water outage and bills", "co.water", U, "停水|没水|断水|不来水|停水通知|水费|水表|阶梯水价"),
            ("dmj", "大面积停水和爆管", "Large-scale outage or main burst", "co.water", E, "大面积停水|整个小区停水|爆管|自来水管爆裂|多栋楼停水"),
            ("sz", "水压和水质", "Pressure and quality", "co.water", U, "水压低|水压|水质|黄水|水浑浊|水有异味|自来水"),
        ]),
        ("ps", "排水", "Drainage", "co.drainage", U, [
            ("dd", "污水管道堵塞", "Sewer blockage", "co.drainage", U, "下水道|堵塞|污水外溢|返水|化粪池|冒水|下水不通"),
            ("js", "道路积水", "Street flooding", "co.drainage", U, "积水|内涝|雨水篦子|排水不畅|暴雨|路面积水"),
        ]),
        ("gd", "供电", "Power supply", "co.power", U, [
            ("td", "停电和电费", "Power outage and bills", "co.power", U, "停电|没电|跳闸|断电|电压不稳|电费|电表|阶梯电价"),
            ("dmj", "大面积停电", "Large-scale outage", "co.power", E, "大面积停电|整片停电|整个小区停电|变压器烧|多栋楼停电"),
            ("ss", "电力设施和充电桩", "Power facilities and EV chargers", "co.power", U, "电线|电线杆|变压器|电缆|电线裸露|配电箱|充电桩|接电|增容"),
        ]),
        ("rq", "燃气", "Gas supply", "co.gas", U, [
            ("xl", "燃气泄漏", "Gas leak", "co.gas", E, "燃气泄漏|煤气泄漏|天然气味|漏气|燃气味|煤气味"),
            ("fw", "停气和燃气服务", "Gas outage and service", "co.gas", U, "停气|没气|燃气表|燃气卡|燃气报装|燃气费|天然气|液化气|煤气罐"),
        ]),
        ("gr", "供暖", "Heating", "co.heating", U, [
            ("sw", "室温不达标", "Room temperature below standard", "co.heating", U, "暖气不热|室温|不达标|温度低|供暖不热|家里冷|暖气"),
            ("lp", "暖气漏水", "Radiator leak", "co.heating", U, "暖气漏水|暖气片|暖气管|跑水|暖气阀门|漏水"),
            ("sf", "供暖费、报停和煤改电", "Heating fees and clean heating", "co.heating", G, "采暖费|供暖费|报停|取暖费|热费|煤改电|煤改气|清洁取暖|电采暖"),
        ]),
        ("tx", "通信和广电", "Telecom and cable TV", "dept.txglj", G, [
            ("xh", "通信信号和网络", "Signal and broadband", "dept.txglj", G, "信号差|没信号|手机信号|宽带|断网|光纤|网速"),
            ("zf", "通信资费和服务", "Telecom charges and service", "dept.txglj", G, "话费|套餐|扣费|携号转网|营业厅|销号|有线电视|歌华|机顶盒"),
        ]),
    ]),
    ("scjg", "市场监管", "Market regulation", "dept.scjgj", G, [
        ("xfwq", "消费维权", "Consumer rights", "dept.scjgj", G, [
            ("zl", "商品质量", "Product quality", "dept.scjgj", G, "质量问题|假货|三无产品|以次充好|退换货|假冒伪劣"),
            ("fw", "消费纠纷和网购", "Consumer disputes and online shopping", "dept.scjgj", G, "退款|不退钱|消费纠纷|霸王条款|售后|消费者|网购|电商|直播带货"),
        ]),
        ("zx", "市场秩序", "Market order", "dept.scjgj", G, [
            ("jg", "价格违法", "Price violations", "dept.scjgj", G, "明码标价|价格欺诈|乱涨价|哄抬价格|标价|价格|收费不合理"),
            ("jl", "计量", "Weights and measures", "dept.scjgj", G, "缺斤短两|电子秤|计量|短斤少两|鬼秤|少秤"),
            ("wz", "无照经营和虚假宣传", "Unlicensed business and false advertising", "dept.scjgj", G, "无照经营|无证经营|营业执照|黑作坊|非法经营|虚假广告|虚假宣传"),
        ]),
        ("tzsb", "特种设备", "Special equipment", "dept.scjgj", U, [
            ("dt", "电梯故障", "Elevator faults", "dept.scjgj", U, "电梯|电梯故障|电梯停运|电梯维保|电梯异响|电梯坏了|锅炉|游乐设施"),
            ("kr", "电梯困人", "People trapped in elevator", "dept.scjgj", E, "困在电梯|电梯困人|被困电梯|关在电梯|电梯卡住"),
        ]),
    ]),
    ("ggaq", "公共安全", "Public safety", "dept.ga", G, [
        ("za", "治安管理", "Public order", "dept.ga", G, [
            ("zx", "治安秩序", "Public order problems", "dept.ga", G, "打架|斗殴|醉酒|寻衅滋事|治安|可疑人员|偷盗|赌博|吸毒"),
            ("zp", "诈骗", "Fraud", "dept.ga", G, "诈骗|电信诈骗|被骗|骗子|冒充|刷单|骗钱"),
        ]),
        ("hj", "户籍和证件", "Hukou and IDs", "dept.ga", G, [
            ("hk", "户口办理", "Hukou registration", "dept.ga", G, "户口|落户|迁户口|户籍|集体户|户口本|迁出"),
            ("zj", "身份证和居住证", "ID cards and residence permits", "dept.ga", G, "身份证|居住证|补办身份证|暂住证|出入境|护照|港澳通行证"),
        ]),
        ("xf", "消防安全", "Fire safety", "dept.xf", G, [
            ("td", "消防通道堵塞", "Blocked fire lanes", "dept.xf", G, "消防通道|消防车道|楼道堆物|堵塞通道|安全出口|占用通道"),
            ("yh", "消防隐患", "Fire hazards", "dept.xf", G, "消防设施|灭火器|消火栓|火灾隐患|电动车充电|飞线充电|电动车进楼"),
        ]),
        ("dw", "动物管理", "Animals", "dept.ga", G, [
            ("yq", "养犬管理", "Dog keeping", "dept.ga", G, "养狗|遛狗|不拴绳|犬只|狗咬人|大型犬|狗叫|狗屎"),
            ("ll", "流浪动物", "Stray animals", "dept.nyncj", G, "流浪狗|流浪猫|野狗|流浪动物|野猫"),
        ]),
        ("yj", "应急和安全生产", "Emergencies and work safety", "dept.yjglj", G, [
            ("fx", "防汛和自然灾害", "Floods and natural hazards", "dept.yjglj", E, "防汛|地质灾害|山体滑坡|泥石流|大树倒伏|倒树|汛期"),
            ("aq", "安全生产隐患和危化品", "Work-safety hazards and chemicals", "dept.yjglj", E, "安全隐患|危险化学品|危化品|易燃易爆|坍塌|有限空间|生产安全"),
            ("rf", "人防工程和地下空间", "Civil-defence works and basements", "dept.rfb", G, "地下室|人防工程|地下空间|群租地下室|地下室住人|人防"),
        ]),
    ]),
    ("mz", "民政", "Civil affairs", "dept.mzj", G, [
        ("yl", "养老服务", "Elderly care", "dept.mzj", G, [
            ("jg", "养老机构", "Care homes", "dept.mzj", G, "养老院|养老机构|敬老院|护理院|养老床位|护工"),
            ("jj", "居家养老和老年福利", "Home care and elderly benefits", "dept.mzj", G, "老年餐|助餐|居家养老|养老驿站|养老助残卡|高龄津贴|老年卡"),
        ]),
        ("jz", "社会救助", "Social assistance", "dept.mzj", G, [
            ("db", "低保和特困", "Minimum living allowance", "dept.mzj", G, "低保|特困|困难补助|低收入|救助金|特困供养"),
            ("ls", "临时救助和流浪乞讨", "Temporary aid and homelessness", "dept.mzj", G, "流浪乞讨|乞讨|救助站|临时救助|露宿|流浪人员"),
        ]),
        ("swu", "社会事务", "Social affairs", "dept.mzj", G, [
            ("hy", "婚姻和殡葬", "Marriage and funerals", "dept.mzj", G, "结婚登记|离婚登记|婚姻登记|殡葬|墓地|公墓|骨灰|殡仪馆"),
            ("cj", "残疾人服务", "Disability services", "dept.mzj", G, "残疾人|残疾证|残疾补贴|残联|轮椅|助残"),
            ("jc", "社区和村务工作", "Community and village committees", "dept.mzj", G, "居委会|社区工作者|村委会|换届选举|村干部|门牌|地名"),
        ]),
        ("yf", "退役军人和优抚", "Veterans and entitled groups", "dept.tyjrj", G, [
            ("yf", "退役军人服务", "Veterans' services", "dept.tyjrj", G, "退役军人|退伍|优抚|军属|伤残军人|转业安置|复员"),
        ]),
    ]),
    ("qyfw", "企业服务", "Enterprise services", "dept.jxj", G, [
        ("zc", "惠企政策", "Business support policies", "dept.jxj", G, [
            ("dx", "政策兑现和补贴", "Subsidies and policy delivery", "dept.jxj", G, "补贴|扶持资金|政策兑现|稳岗补贴|纾困|奖励资金|房租减免|减免租金"),
        ]),
        ("sp", "登记审批和税费", "Registration, permits and tax", "dept.zwfwj", G, [
            ("dj", "企业登记注销", "Company registration", "dept.scjgj", G, "注册公司|企业注销|变更登记|经营范围|工商登记|企业登记"),
            ("xk", "行政审批和许可", "Administrative approvals", "dept.zwfwj", G, "审批难|审批慢|许可证|资质|备案|行政许可"),
            ("ns", "纳税服务", "Tax services", "dept.tax", G, "发票|纳税|退税|税务|个税|开票|增值税"),
        ]),
        ("zj", "融资和账款", "Financing and payments", "dept.jxj", C, [
            ("qk", "拖欠企业账款", "Overdue payments to businesses", "dept.jxj", C, "拖欠账款|欠款|账款|政府采购款|中小企业款项|货款"),
            ("rz", "融资服务", "Financing", "dept.jrj", G, "贷款|融资|担保|续贷|抽贷|金融服务"),
        ]),
        ("yshj", "营商环境", "Business environment", "dept.zwfwj", G, [
            ("zf", "涉企执法检查", "Enforcement against businesses", "dept.zwfwj", G, "执法检查|罚款|重复检查|乱罚款|涉企|吃拿卡要"),
        ]),
    ]),
    ("zwfw", "政务服务", "Government services", "dept.zwfwj", G, [
        ("bs", "办事服务", "Service delivery", "dept.zwfwj", G, [
            ("ck", "窗口服务和证明材料", "Counters and paperwork", "dept.zwfwj", G, "政务服务中心|窗口|办事大厅|取号|开证明|证明材料|奇葩证明|盖章"),
            ("wb", "网上办事", "Online services", "dept.zwfwj", G, "网上办理|一网通办|小程序|系统故障|网站打不开|APP"),
            ("rx", "12345热线服务", "The hotline itself", "dept.zwfwj", G, "12345|热线|接线员|回访|工单|话务员"),
        ]),
        ("zf", "工作作风和信息公开", "Conduct and disclosure", "dept.zwfwj", G, [
            ("zf", "工作人员作风", "Officials' conduct", "dept.zwfwj", G, "不作为|态度恶劣|推诿|乱作为|扯皮|工作人员态度|信息公开"),
        ]),
        ("fl", "法律服务", "Legal services", "dept.sfj", G, [
            ("yz", "法律援助和公证", "Legal aid and notary", "dept.sfj", G, "法律援助|公证|律师|法律咨询|公证处|律所"),
            ("tj", "人民调解", "People's mediation", "dept.sfj", G, "调解|邻里纠纷|矛盾纠纷|人民调解|家庭纠纷|邻居"),
        ]),
    ]),
    ("qt", "其他", "Other", "", G, [
        ("qt", "其他诉求", "Other requests", "dept.zwfwj", G, [
            ("jy", "意见建议", "Suggestions", "dept.zwfwj", G, "合理化建议|提个建议|意见建议|献计献策|金点子"),
            ("by", "表扬感谢", "Praise", "dept.zwfwj", G, "表扬|锦旗|点赞|感谢信|好评|致谢"),
        ]),
    ]),
]

# The seven level-1 labels of the TipDM training data; checked against classify_train.csv
# when that file is present next to the admin-divisions data.
TRAINING_LABELS = ["城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生"]


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------

def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_csv(path, header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else str(v) for v in r])
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())


def join_aliases(aliases, exclude):
    out = []
    for a in aliases:
        if a and a not in exclude and a not in out:
            out.append(a)
    return "|".join(out)


# ---------------------------------------------------------------------------------------
# Administrative units
# ---------------------------------------------------------------------------------------

STREET_KIND_LEVEL = {"街道": "subdistrict", "镇": "township", "乡": "township", "地区": "township",
                     "特殊区域": "zone"}


def street_kind(row):
    kind = (row.get("kind") or "").strip()
    if kind:
        return kind
    name, code = row["name"], row["code"]
    if int(code[6:9]) >= 400:
        return "特殊区域"
    for suffix in ("街道", "地区", "镇", "乡"):
        if name.endswith(suffix):
            return suffix
    raise SystemExit("cannot classify township-level unit %s %s" % (code, name))


def street_spoken(name, kind):
    """short_name and aliases of a township-level unit."""
    if kind == "特殊区域":
        if name in ZONE_SPOKEN:
            short, aliases = ZONE_SPOKEN[name]
            return short, aliases
        return name, []
    aliases = []
    stem = name
    m = re.match(r"^(.+?)(满族|回族|蒙古族)乡$", name)
    if m:
        stem = m.group(1)
        aliases.append(stem + "乡")
    else:
        for suffix in ("街道办事处", "地区办事处", "办事处", "街道", "地区", "镇", "乡"):
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                stem = name[: -len(suffix)]
                break
    return stem, aliases


# Ordered longest first; (suffix, level, spoken-suffix kept in short_name)
VILLAGE_SUFFIXES = [
    ("社区居民委员会", "community", "社区"),
    ("社区居民居委会", "community", "社区"),
    ("社区居委会", "community", "社区"),
    ("居民委员会", "community", "居委会"),
    ("居委会", "community", "居委会"),
    ("村民委员会", "village", "村"),
    ("村委会", "village", "村"),
]


def village_spoken(name):
    """(level, short_name, aliases) of a community/village-level unit."""
    if name.endswith("股份经济合作社生活区"):
        # 小营股份经济合作社生活区 -> 小营生活区 / 小营
        # 万柳（集团）股份经济合作社六郎庄生活区 -> (not this branch: see below)
        stem = name[: -len("股份经济合作社生活区")]
        short = stem + "生活区"
        aliases = [stem]
        if stem.endswith("村") and len(stem) >= 3:
            aliases.append(stem[:-1])
        return "village", short, aliases
    if name.endswith("生活区") and "股份经济合作社" in name:
        stem = name.split("股份经济合作社", 1)[1][: -len("生活区")]
        return "village", stem + "生活区", [stem]
    for suffix, level, keep in VILLAGE_SUFFIXES:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            if level == "village":
                short = stem if stem.endswith("村") else stem + "村"
                base = short[:-1]
                return level, short, ([base] if len(base) >= 2 else [])
            if keep == "社区":
                return level, stem + "社区", ([stem] if len(stem) >= 2 else [])
            return level, stem + "居委会", ([stem] if len(stem) >= 2 else [])
    if name.endswith("虚拟社区"):
        return "community", name, []
    if name.endswith("社区"):
        stem = name[: -len("社区")]
        return "community", name, ([stem] if len(stem) >= 2 else [])
    if name.endswith("村"):
        base = name[:-1]
        return "village", name, ([base] if len(base) >= 2 else [])
    raise SystemExit("cannot classify community/village %s" % name)


def build_units(data_dir):
    districts = read_csv(os.path.join(data_dir, "beijing_districts.csv"))
    streets = read_csv(os.path.join(data_dir, "beijing_streets.csv"))
    villages = read_csv(os.path.join(data_dir, "beijing_villages.csv"))

    head = []
    c = CENTER
    head.append((c[0], c[1], c[2], c[3], c[4], join_aliases(c[5], {c[1], c[4]})))
    for code, name, short, aliases in sorted(DEPARTMENTS):
        head.append((code, name, "department", "", short, join_aliases(aliases, {name, short})))
    for code, name, short, aliases in sorted(COMPANIES):
        head.append((code, name, "company", "", short, join_aliases(aliases, {name, short})))

    div = []
    for r in districts:
        code, name = r["code"].strip(), r["name"].strip()
        assert re.fullmatch(r"\d{6}", code), code
        short = name[:-1] if name.endswith("区") and len(name) >= 3 else name
        div.append((code, name, "district", "", short, ""))
    for r in streets:
        code, name = r["code"].strip(), r["name"].strip()
        assert re.fullmatch(r"\d{9}", code), code
        parent = r["areaCode"].strip()
        assert parent == code[:6], (code, parent)
        kind = street_kind(r)
        short, aliases = street_spoken(name, kind)
        div.append((code, name, STREET_KIND_LEVEL[kind], parent, short,
                    join_aliases(aliases, {name, short})))
    for r in villages:
        code, name = r["code"].strip(), r["name"].strip()
        assert re.fullmatch(r"\d{12}", code), code
        parent = r["streetCode"].strip()
        assert parent == code[:9], (code, parent)
        level, short, aliases = village_spoken(name)
        div.append((code, name, level, parent, short, join_aliases(aliases, {name, short})))
    div.sort(key=lambda row: row[0])
    return head + div


# ---------------------------------------------------------------------------------------
# Categories
# ---------------------------------------------------------------------------------------

def build_categories():
    rows = []

    def walk(nodes, parent_code, level):
        for part, name, name_en, unit, tclass, rest in nodes:
            code = part if not parent_code else parent_code + "." + part
            if isinstance(rest, list):
                rows.append((code, name, name_en, parent_code, level, unit, tclass, ""))
                walk(rest, code, level + 1)
            else:
                rows.append((code, name, name_en, parent_code, level, unit, tclass, rest))

    walk(TAXONOMY, "", 1)
    rows.sort(key=lambda r: r[0])
    return rows


# ---------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------

def check(units, time_limits, categories, data_dir):
    errors = []
    codes = [u[0] for u in units]
    code_set = set(codes)
    if len(codes) != len(code_set):
        errors.append("duplicate unit codes")
    for u in units:
        if not UNIT_CODE_RE.match(u[0]):
            errors.append("bad unit code %r" % u[0])
        if u[3] and u[3] not in code_set:
            errors.append("unit %s: unknown parent %s" % (u[0], u[3]))
        if "|" in u[4] or "," in u[0]:
            errors.append("unit %s: bad short_name" % u[0])
    unit_level = {u[0]: u[2] for u in units}
    parent_level = {"district": {""}, "subdistrict": {"district"}, "township": {"district"},
                    "zone": {"district"}, "community": {"subdistrict", "township", "zone"},
                    "village": {"subdistrict", "township", "zone"}}
    for u in units:
        if u[2] in parent_level and unit_level.get(u[3], "") not in parent_level[u[2]]:
            errors.append("unit %s: parent level mismatch" % u[0])

    # NBS village-level code ranges: 001-199 居委会, 200-399 村委会, 4xx special/virtual
    # communities, 5xx (海淀) cooperative-run 生活区. The name-based level must agree.
    for u in units:
        if u[2] in ("community", "village"):
            n = int(u[0][9:])
            want = "community" if n < 200 or 400 <= n < 500 else "village"
            if u[2] != want:
                errors.append("unit %s %s: level %s disagrees with code range" % (u[0], u[1], u[2]))

    classes = {t[0] for t in time_limits}
    for t in time_limits:
        if t[5] not in ("calendar", "working"):
            errors.append("time limit %s: bad day_kind" % t[0])

    cat_codes = [c[0] for c in categories]
    cat_set = set(cat_codes)
    if len(cat_codes) != len(cat_set):
        errors.append("duplicate category codes")
    by_code = {c[0]: c for c in categories}
    has_child = {c[3] for c in categories if c[3]}
    for c in categories:
        code, name, _, parent, level, unit, tclass, kw = c
        if not UNIT_CODE_RE.match(code):
            errors.append("bad category code %r" % code)
        if level == 1 and parent:
            errors.append("category %s: level 1 with parent" % code)
        if level > 1 and (parent not in by_code or by_code[parent][4] != level - 1):
            errors.append("category %s: bad parent %s" % (code, parent))
        if unit and unit_level.get(unit) not in ("department", "company"):
            errors.append("category %s: default unit %s not a department/company" % (code, unit))
        if not unit and level != 1:
            errors.append("category %s: no default unit" % code)
        if tclass not in classes:
            errors.append("category %s: unknown time class %s" % (code, tclass))
        if code not in has_child:
            n = len(kw.split("|")) if kw else 0
            if level != 3:
                errors.append("category %s: leaf at level %d" % (code, level))
            if not 3 <= n <= 10:
                errors.append("category %s: %d keywords" % (code, n))
    level1 = {c[1] for c in categories if c[4] == 1}
    missing = [l for l in TRAINING_LABELS if l not in level1]
    if missing:
        errors.append("level-1 categories missing training labels: %s" % missing)
    train = os.path.join(os.path.dirname(os.path.abspath(data_dir)), "tipdm2020",
                         "classify_train.csv")
    if os.path.exists(train):
        labels = {r["label"] for r in read_csv(train)}
        if labels != set(TRAINING_LABELS):
            errors.append("training labels differ: %s" % sorted(labels))
    return errors


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    data_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        repo, "..", "shared", "data", "admin-divisions-cn")
    data_dir = os.path.normpath(data_dir)
    out = os.path.join(repo, "reference")
    os.makedirs(out, exist_ok=True)

    units = build_units(data_dir)
    categories = build_categories()
    errors = check(units, TIME_LIMITS, categories, data_dir)
    if errors:
        for e in errors:
            print("error:", e, file=sys.stderr)
        sys.exit(1)

    write_csv(os.path.join(out, "units.csv"),
              ["code", "name", "level", "parent_code", "short_name", "aliases"], units)
    write_csv(os.path.join(out, "time_limits.csv"),
              ["class", "name_zh", "name_en", "acknowledge_minutes", "reply_minutes", "day_kind"],
              TIME_LIMITS)
    write_csv(os.path.join(out, "categories.csv"),
              ["code", "name", "name_en", "parent_code", "level", "default_unit_code",
               "time_limit_class", "keywords"], categories)

    counts = {}
    for u in units:
        counts[u[2]] = counts.get(u[2], 0) + 1
    order = ["center", "department", "company", "district", "subdistrict", "township", "zone",
             "community", "village"]
    print("units.csv: %d rows" % len(units))
    for lv in order:
        print("  %-12s %5d" % (lv, counts.get(lv, 0)))
    print("time_limits.csv: %d rows" % len(TIME_LIMITS))
    cc = {}
    for c in categories:
        cc[c[4]] = cc.get(c[4], 0) + 1
    print("categories.csv: %d rows (level 1: %d, level 2: %d, level 3: %d)"
          % (len(categories), cc.get(1, 0), cc.get(2, 0), cc.get(3, 0)))


if __name__ == "__main__":
    main()
