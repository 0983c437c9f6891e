//! What simulated requesters say: phrasings per category, with slots the simulator fills.
//! `{p}` is the place as people say it (a community or estate name), `{b}` a building number,
//! `{h}` an hour of the night, `{d}` a number of days. The texts are written for the
//! simulator; they are not real requests.

/// Who leads a category's orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lead {
    /// The street/township of the place (属地), perhaps with its community co-handling.
    Local,
    /// The category's default unit (a department or a public-service company), perhaps with
    /// the street co-handling.
    Owner,
}

/// Months in which a problem is more (or less) common.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Season {
    /// All year.
    Flat,
    /// Heating season, November to March.
    Winter,
    /// Rainy season, June to August.
    Summer,
    /// Building season, April to October.
    Building,
}

impl Season {
    /// The weight multiplier in a month (1–12).
    pub fn factor(self, month: u32) -> f64 {
        match self {
            Season::Flat => 1.0,
            Season::Winter if month >= 11 || month <= 3 => 5.0,
            Season::Winter => 0.15,
            Season::Summer if (6..=8).contains(&month) => 5.0,
            Season::Summer => 0.3,
            Season::Building if (4..=10).contains(&month) => 1.6,
            Season::Building => 0.6,
        }
    }
}

/// A problem a requester can report.
#[derive(Debug)]
pub struct Problem {
    /// The category code (reference/categories.csv).
    pub category: &'static str,
    /// `complaint`, `help`, `report` or `suggestion`.
    pub kind: &'static str,
    /// Relative frequency.
    pub weight: f64,
    /// Who leads.
    pub lead: Lead,
    /// When it peaks.
    pub season: Season,
    /// Whether enterprises raise it (便企纾困).
    pub enterprise: bool,
    /// Phrasings.
    pub texts: &'static [&'static str],
}

/// A question answered at intake from the knowledge base (most consultations).
#[derive(Debug)]
pub struct Question {
    /// The category code.
    pub category: &'static str,
    /// Relative frequency.
    pub weight: f64,
    /// Phrasings.
    pub texts: &'static [&'static str],
    /// The answer the operator gives.
    pub answer: &'static str,
    /// Whether enterprises ask it.
    pub enterprise: bool,
}

/// Problems, by category.
pub const PROBLEMS: &[Problem] = &[
    // Problems without one place (issue #22 item 5): a city-wide policy asked about from
    // everywhere, and one developer's project written about in many ways and places; the
    // hotspot miner keys them by the policy and the company.
    Problem {
        category: "ldsb.jy.lh",
        kind: "help",
        weight: 5.0,
        lead: Lead::Owner,
        season: Season::Flat,
        enterprise: false,
        texts: &[
            "咨询人才购房补贴什么时候发放，我住{p}，申请提交{d}天了还没有到账。",
            "请问人才新政补贴的申请条件是什么，在{p}买的房能不能申请。",
            "人才购房补助审核通过{d}天了一直没发，家住{p}，请问补贴发放进度。",
        ],
    },
    Problem {
        category: "cxjs.fdc.jf",
        kind: "complaint",
        weight: 4.0,
        lead: Lead::Owner,
        season: Season::Flat,
        enterprise: false,
        texts: &[
            "投诉恒远云栖置业有限公司延期交房，合同约定的交房日期已过{d}天，买房人住在{p}附近租房。",
            "恒远云栖公司开发的楼盘墙体开裂、渗水，{p}的业主多次找开发商没有结果。",
            "反映恒远云栖房地产开发公司拖延办理房产证，已经交房{d}天，业主在{p}等着落户。",
        ],
    },
    Problem {
        category: "hjbh.zs.sg",
        kind: "complaint",
        weight: 8.0,
        lead: Lead::Local,
        season: Season::Building,
        enterprise: false,
        texts: &[
            "{p}旁边的工地夜里{h}点还在施工，噪音特别大，孩子没法睡觉，希望有关部门管一管。",
            "{p}附近工地连续几天夜间施工，打桩声音很响，{h}点多还在干，严重扰民。",
            "反映{p}东侧工地夜间施工扰民，渣土车进出声音大，请尽快处理。",
        ],
    },
    Problem {
        category: "hjbh.zs.sh",
        kind: "complaint",
        weight: 4.0,
        lead: Lead::Local,
        season: Season::Flat,
        enterprise: false,
        texts: &[
            "{p}广场舞音响声音太大，每天晚上九点多还不停，影响居民休息。",
            "{p}{b}号楼楼下商铺放音乐招揽顾客，声音很大，希望处理。",
            "{p}楼上住户夜里经常装修敲打，物业协调无果，请求帮助。",
        ],
    },
    Problem {
        category: "cxjs.csgl.hw",
        kind: "complaint",
        weight: 8.0,
        lead: Lead::Local,
        season: Season::Flat,
        enterprise: false,
        texts: &[
            "{p}{b}号楼旁边的垃圾桶满了好几天没人清运，味道很大。",
            "{p}垃圾分类桶站周边脏乱，厨余垃圾散落一地，希望加强清扫。",
            "{p}门口有大件垃圾堆放一周了，没人清理，影响通行。",
        ],
    },
    Problem {
        category: "cxjs.csgl.zd",
        kind: "report",
        weight: 4.0,
        lead: Lead::Local,
        season: Season::Building,
        enterprise: false,
        texts: &[
            "{p}门口每天晚上有流动摊贩占道经营，油烟大还堵路。",
            "{p}附近商户出店经营，把货物摆到人行道上，行人只能走机动车道。",
        ],
    },
    Problem {
        category: "cxjs.gh.wj",
        kind: "report",
        weight: 4.0,
        lead: Lead::Local,
        season: Season::Building,
        enterprise: false,
        texts: &[
            "{p}{b}号楼一层住户私自扩建院子，搭建彩钢房，属于违法建设。",
            "举报{p}楼顶有人搭建违建，存在安全隐患，请查处。",
        ],
    },
    Problem {
        category: "cxjs.wygl.fw",
        kind: "complaint",
        weight: 6.0,
        lead: Lead::Local,
        season: Season::Flat,
        enterprise: false,
        texts: &[
            "{p}物业不作为，{b}号楼单元门禁坏了一个月都不修。",
            "{p}物业服务差，楼道灯坏了多次报修没人管，老人晚上上下楼很危险。",
            "{p}小区内道路破损、绿化无人打理，物业收费却不减，请求督促物业整改。",
        ],
    },
    Problem {
        category: "cxjs.wygl.sf",
        kind: "complaint",
        weight: 2.0,
        lead: Lead::Local,
        season: Season::Flat,
        enterprise: false,
        texts: &["{p}物业擅自上涨物业费，没有经过业主大会，请相关部门核查。"],
    },
    Problem {
        category: "cxjs.jzgc.lj",
        kind: "suggestion",
        weight: 2.0,
        lead: Lead::Local,
        season: Season::Flat,
        enterprise: false,
        texts: &[
            "{p}{b}号楼是老楼，老人多，希望尽快加装电梯，已经征集了大部分住户意见。",
            "建议把{p}纳入老旧小区改造，外墙脱落、管线老化严重。",
        ],
    },
    Problem {
        category: "cxjs.szss.ld",
        kind: "report",
        weight: 3.0,
        lead: Lead::Local,
        season: Season::Winter,
        enterprise: false,
        texts: &[
            "{p}门口的路灯坏了好几盏，晚上一片漆黑，行人容易摔倒。",
            "{p}附近路口路灯不亮已经一周，请尽快维修。",
        ],
    },
    Problem {
        category: "cxjs.szss.jg",
        kind: "report",
        weight: 1.0,
        lead: Lead::Owner,
        season: Season::Flat,
        enterprise: false,
        texts: &["{p}门口马路上井盖丢失，已经有电动车差点掉进去，非常危险，请马上处理。"],
    },
    Problem {
        category: "cxjs.szss.dl",
        kind: "report",
        weight: 3.0,
        lead: Lead::Local,
        season: Season::Flat,
        enterprise: false,
        texts: &[
            "{p}东门外人行道地砖破损严重，坑坑洼洼，老人孩子容易绊倒。",
            "{p}附近道路出现大坑，下雨积水，车辆经过溅人一身水。",
        ],
    },
    Problem {
        category: "jtys.tc.wt",
        kind: "report",
        weight: 5.0,
        lead: Lead::Local,
        season: Season::Flat,
        enterprise: false,
        texts: &[
            "{p}门口长期有车辆违停，堵住消防通道和出入口。",
            "{p}周边道路两侧乱停车，早晚高峰严重拥堵，希望加强管理。",
        ],
    },
    Problem {
        category: "jtys.tc.sf",
        kind: "complaint",
        weight: 2.0,
        lead: Lead::Local,
        season: Season::Flat,
        enterprise: false,
        texts: &[
            "{p}地下停车场收费标准不公示，乱收停车费。",
            "{p}附近没有停车位，希望增设居民停车位或者错时停车。",
        ],
    },
    Problem {
        category: "jtys.tc.dc",
        kind: "complaint",
        weight: 2.0,
        lead: Lead::Local,
        season: Season::Summer,
        enterprise: false,
        texts: &["{p}地铁口共享单车乱停乱放，把盲道都堵死了。"],
    },
    Problem {
        category: "hjbh.dq.yy",
        kind: "complaint",
        weight: 3.0,
        lead: Lead::Local,
        season: Season::Flat,
        enterprise: false,
        texts: &[
            "{p}{b}号楼底商饭馆油烟直排，楼上住户不敢开窗。",
            "{p}附近烧烤店晚上油烟和噪音都很大，请相关部门处理。",
        ],
    },
    Problem {
        category: "hjbh.dq.yc",
        kind: "report",
        weight: 2.0,
        lead: Lead::Local,
        season: Season::Building,
        enterprise: false,
        texts: &["{p}旁边工地渣土没有苫盖，刮风时扬尘很大。"],
    },
    Problem {
        category: "hjbh.lh.sm",
        kind: "help",
        weight: 2.0,
        lead: Lead::Local,
        season: Season::Summer,
        enterprise: false,
        texts: &[
            "{p}{b}号楼前的大树树枝快碰到电线了，刮风很危险，请求修剪。",
            "{p}绿化带里的树生了很多虫子，希望打药。",
        ],
    },
    Problem {
        category: "ggaq.xf.td",
        kind: "report",
        weight: 2.0,
        lead: Lead::Local,
        season: Season::Flat,
        enterprise: false,
        texts: &["{p}消防通道被私家车和杂物堵死，出了事消防车进不来。"],
    },
    Problem {
        category: "ggaq.xf.yh",
        kind: "report",
        weight: 2.0,
        lead: Lead::Local,
        season: Season::Winter,
        enterprise: false,
        texts: &["{p}楼道里有人给电动车充电，飞线很多，存在火灾隐患。"],
    },
    Problem {
        category: "ggaq.dw.yq",
        kind: "complaint",
        weight: 1.5,
        lead: Lead::Local,
        season: Season::Flat,
        enterprise: false,
        texts: &["{p}有居民遛狗不拴绳，还不清理粪便，已经吓到好几个孩子。"],
    },
    Problem {
        category: "ggfw.gr.sw",
        kind: "complaint",
        weight: 6.0,
        lead: Lead::Owner,
        season: Season::Winter,
        enterprise: false,
        texts: &[
            "{p}{b}号楼暖气不热，室温只有十五六度，家里有老人孩子，请尽快解决。",
            "{p}供暖开始后家里暖气一直温乎乎的，测了室温不到十八度。",
        ],
    },
    Problem {
        category: "ggfw.gr.lp",
        kind: "help",
        weight: 2.0,
        lead: Lead::Owner,
        season: Season::Winter,
        enterprise: false,
        texts: &["{p}{b}号楼暖气管道漏水，水流到楼下，急需维修。"],
    },
    Problem {
        category: "ggfw.gs.ts",
        kind: "help",
        weight: 3.0,
        lead: Lead::Owner,
        season: Season::Summer,
        enterprise: false,
        texts: &[
            "{p}突然停水，没有任何通知，已经停了大半天了，什么时候来水？",
            "{p}{b}号楼这几天总是间歇性停水，请帮忙查一下原因。",
        ],
    },
    Problem {
        category: "ggfw.gs.sz",
        kind: "complaint",
        weight: 1.5,
        lead: Lead::Owner,
        season: Season::Flat,
        enterprise: false,
        texts: &[
            "{p}自来水发黄有异味，不敢喝，请检测水质。",
            "{p}高层水压太低，晚上用水高峰基本没水。",
        ],
    },
    Problem {
        category: "ggfw.ps.js",
        kind: "report",
        weight: 3.0,
        lead: Lead::Owner,
        season: Season::Summer,
        enterprise: false,
        texts: &[
            "{p}门口一下雨就严重积水，积水没过脚踝，雨水箅子堵了。",
            "{p}附近下穿桥积水很深，车辆无法通行，请尽快排水。",
        ],
    },
    Problem {
        category: "ggfw.ps.dd",
        kind: "help",
        weight: 2.0,
        lead: Lead::Owner,
        season: Season::Flat,
        enterprise: false,
        texts: &["{p}{b}号楼污水管道堵塞，污水从井里冒出来，味道难闻。"],
    },
    Problem {
        category: "ggfw.gd.td",
        kind: "help",
        weight: 2.5,
        lead: Lead::Owner,
        season: Season::Summer,
        enterprise: false,
        texts: &[
            "{p}{b}号楼停电了，家里有老人用制氧机，什么时候能来电？",
            "{p}最近总是跳闸停电，电压不稳，家电都烧坏了。",
        ],
    },
    Problem {
        category: "ggfw.gd.ss",
        kind: "suggestion",
        weight: 1.5,
        lead: Lead::Owner,
        season: Season::Flat,
        enterprise: false,
        texts: &["{p}新能源车越来越多，希望小区内增设充电桩。"],
    },
    Problem {
        category: "ggfw.rq.fw",
        kind: "help",
        weight: 1.0,
        lead: Lead::Owner,
        season: Season::Winter,
        enterprise: false,
        texts: &["{p}燃气表显示有余额却打不着火，燃气公司电话打不通。"],
    },
    Problem {
        category: "scjg.tzsb.dt",
        kind: "complaint",
        weight: 2.5,
        lead: Lead::Owner,
        season: Season::Flat,
        enterprise: false,
        texts: &[
            "{p}{b}号楼电梯三天两头坏，这次已经停了一周了，老人上不了楼。",
            "{p}电梯运行时异响、抖动，担心安全，请检查。",
        ],
    },
    Problem {
        category: "scjg.xfwq.fw",
        kind: "complaint",
        weight: 2.0,
        lead: Lead::Owner,
        season: Season::Flat,
        enterprise: false,
        texts: &[
            "在{p}附近一家健身房办了卡，现在突然关门，老板联系不上，要求退款。",
            "网购的家电有质量问题，商家拒绝七天无理由退货。",
        ],
    },
    Problem {
        category: "wsjs.spyp.sp",
        kind: "report",
        weight: 1.5,
        lead: Lead::Owner,
        season: Season::Summer,
        enterprise: false,
        texts: &["在{p}附近一家餐馆吃饭后拉肚子，后厨卫生很差，请检查。"],
    },
    Problem {
        category: "ldsb.ldgx.qx",
        kind: "help",
        weight: 2.0,
        lead: Lead::Owner,
        season: Season::Winter,
        enterprise: false,
        texts: &[
            "我在{p}附近的工地干活，老板拖欠三个月工资不给，请帮忙讨薪。",
            "公司拖欠工资两个月，找人事也不给答复，希望劳动部门介入。",
        ],
    },
    Problem {
        category: "jywt.jcjy.rx",
        kind: "help",
        weight: 1.5,
        lead: Lead::Owner,
        season: Season::Summer,
        enterprise: false,
        texts: &["孩子今年上小学，我们住{p}，划片学校说名额满了，请问怎么办？"],
    },
    Problem {
        category: "jtys.ggjt.gj",
        kind: "suggestion",
        weight: 1.5,
        lead: Lead::Owner,
        season: Season::Flat,
        enterprise: false,
        texts: &[
            "建议在{p}附近增设公交站，居民出行要走二十分钟才到车站。",
            "{p}附近公交车发车间隔太长，早高峰根本挤不上车。",
        ],
    },
    Problem {
        category: "qyfw.zj.qk",
        kind: "help",
        weight: 0.8,
        lead: Lead::Owner,
        season: Season::Flat,
        enterprise: true,
        texts: &["我公司为区里项目提供服务，合同款拖欠半年未付，企业资金周转困难，请求协调。"],
    },
    Problem {
        category: "qyfw.zc.dx",
        kind: "help",
        weight: 0.8,
        lead: Lead::Owner,
        season: Season::Flat,
        enterprise: true,
        texts: &["我公司符合稳岗补贴条件，申请提交两个月了还没有到账，请帮忙催办。"],
    },
    Problem {
        category: "qyfw.sp.xk",
        kind: "complaint",
        weight: 0.6,
        lead: Lead::Owner,
        season: Season::Flat,
        enterprise: true,
        texts: &["公司在{p}附近开分店，办理食品经营许可材料反复退回，要求不一致。"],
    },
    Problem {
        category: "qyfw.yshj.zf",
        kind: "complaint",
        weight: 0.4,
        lead: Lead::Owner,
        season: Season::Flat,
        enterprise: true,
        texts: &["我们是{p}附近的一家小餐饮企业，一个月内被不同部门重复检查四次，影响正常经营。"],
    },
];

/// Questions answered at intake.
pub const QUESTIONS: &[Question] = &[
    Question { category: "ldsb.sb.jn", weight: 5.0, enterprise: false,
        texts: &["请问灵活就业人员怎么缴纳社保？在哪里办理？", "换了工作以后社保怎么转移？"],
        answer: "灵活就业人员可通过北京市社会保险网上服务平台或户籍所在街道社保所办理参保缴费；转移社保关系可在新参保地申请，原参保地无需另行办理。" },
    Question { category: "ldsb.sb.yb", weight: 4.0, enterprise: false,
        texts: &["医保报销比例是多少？门诊能报销吗？", "异地就医怎么备案？"],
        answer: "在职职工门诊费用起付线以上按规定比例报销；异地就医可通过国家医保服务平台App或北京医保公共服务平台办理备案。" },
    Question { category: "ggaq.hj.hk", weight: 4.0, enterprise: false,
        texts: &["新生儿落户需要什么材料？", "集体户口怎么迁出？"],
        answer: "新生儿落户需携带出生医学证明、父母户口簿和身份证、结婚证，到户籍所在地派出所办理；集体户口迁出请联系集体户管理单位开具证明后到派出所办理。" },
    Question { category: "ggaq.hj.zj", weight: 3.0, enterprise: false,
        texts: &["居住证到期了怎么续签？", "身份证丢了在哪里补办？"],
        answer: "居住证可通过北京市居住证服务平台或居住地派出所办理签注；身份证丢失可到任一派出所户籍窗口申请补领。" },
    Question { category: "ggfw.gr.sf", weight: 4.0, enterprise: false,
        texts: &["今年供暖费什么时候交？标准是多少？", "家里长期没人住，暖气可以报停吗？"],
        answer: "居民供暖费一般在供暖季开始前缴纳，标准以供热单位通知为准；报停需在供暖季开始前向供热单位申请，并按规定缴纳基本热费。" },
    Question { category: "jywt.jcjy.rx", weight: 3.0, enterprise: false,
        texts: &["幼升小什么时候开始信息采集？", "非京籍孩子在北京上学需要什么材料？"],
        answer: "义务教育入学信息采集一般在每年5月进行，具体以所在区教委通知为准；非京籍适龄儿童需按所在区要求提供父母在京就业、居住等证明材料。" },
    Question { category: "ldsb.jy.lh", weight: 2.0, enterprise: false,
        texts: &["积分落户今年什么时候申报？", "积分落户需要满足哪些条件？"],
        answer: "积分落户申报时间以市人力社保局年度公告为准，申请人需持有本市居住证、年龄和社保缴纳年限等符合条件，可登录积分落户在线申报系统查询。" },
    Question { category: "jtys.cl.zb", weight: 2.0, enterprise: false,
        texts: &["小客车指标摇号怎么申请？", "新能源指标轮候要多久？"],
        answer: "小客车指标可在北京市小客车指标调控管理信息系统申请，每年按规定期次配置；新能源指标按积分排序配置，可在系统查询排序情况。" },
    Question { category: "cxjs.zfbz.gjj", weight: 3.0, enterprise: false,
        texts: &["公积金怎么提取用来付房租？", "公积金贷款额度怎么计算？"],
        answer: "租房提取可通过北京住房公积金网上业务系统或App办理；贷款额度与缴存年限、账户余额和还款能力有关，可使用公积金中心网站的额度试算功能。" },
    Question { category: "zwfw.bs.wb", weight: 3.0, enterprise: false,
        texts: &["在网上怎么办理营业执照变更？", "北京通App怎么实名认证？"],
        answer: "营业执照变更可登录北京市企业服务e窗通平台在线办理；北京通App可通过身份证信息和人脸识别完成实名认证。" },
    Question { category: "qyfw.sp.dj", weight: 1.5, enterprise: true,
        texts: &["公司注销需要哪些流程？", "新办企业怎么领取发票？"],
        answer: "企业注销可通过e窗通平台办理，符合条件的可适用简易注销；新办企业可在电子税务局完成税务信息确认后申领发票。" },
    Question { category: "qyfw.zc.dx", weight: 1.5, enterprise: true,
        texts: &["中小企业有哪些减税降费政策？", "稳岗返还怎么申请？"],
        answer: "中小微企业可享受增值税、所得税等优惠政策，详见市税务局政策专栏；稳岗返还一般无需申请，符合条件的由人社部门直接返还至企业账户。" },
    Question { category: "mz.yl.jj", weight: 2.0, enterprise: false,
        texts: &["老年人优待卡怎么办理？", "八十岁以上老人有高龄津贴吗？"],
        answer: "北京市老年人优待卡可通过北京通App或户籍所在社区申请；80周岁以上老人按月发放高龄津贴，一般无需重复申请。" },
];
