//! The pages' strings in Chinese (the first language) and English: one table, so no UI text
//! is written into the templates. Templates ask `ctx.tr.s("key")`; values from the domain
//! (statuses, kinds, roles, …) are translated with `tr.of("status", value)`. A test checks that
//! every key the templates and page modules use is in the table.

use std::collections::HashMap;
use std::sync::LazyLock;

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 中文, the default.
    Zh,
    /// English.
    En,
}

impl Lang {
    /// `zh` or `en` (also `zh-CN`, `en-US`, …).
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::Zh)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The code stored in the language cookie.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// One of two texts.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// Translations in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr(pub Lang);

impl Tr {
    /// Whether the language is English.
    pub fn is_en(self) -> bool {
        self.0 == Lang::En
    }

    /// The text of a key; the key itself when missing (a test keeps that from happening).
    pub fn s(&self, key: &'static str) -> &'static str {
        self.known(key).unwrap_or(key)
    }

    /// The text of a key, if the table has it.
    pub fn known(&self, key: &str) -> Option<&'static str> {
        TABLE.get(key).map(|(zh, en)| self.0.pick(zh, en))
    }

    /// The name of a domain value (`of("status", "received")`), or the value itself.
    pub fn of(&self, prefix: &str, value: &str) -> String {
        self.known(&format!("{prefix}.{value}"))
            .map(str::to_string)
            .unwrap_or_else(|| value.to_string())
    }
}

static TABLE: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> =
    LazyLock::new(|| STRINGS.iter().map(|(k, zh, en)| (*k, (*zh, *en))).collect());

/// (key, 中文, English).
const STRINGS: &[(&str, &str, &str)] = &[
    ("html.lang", "zh-CN", "en"),
    ("app.name", "接诉 · 12345 接诉即办平台", "Jiesu · 12345 hotline platform"),
    ("nav.home", "首页", "Home"),
    ("nav.intake", "受理", "Intake"),
    ("nav.dispatch", "派单", "Dispatch"),
    ("nav.unit", "工作台", "Workbench"),
    ("nav.callback", "回访", "Callbacks"),
    ("nav.dashboard", "督办看板", "Dashboard"),
    ("nav.governance", "主动治理", "Governance"),
    ("nav.admin", "系统管理", "Admin"),
    ("nav.logout", "退出", "Log out"),
    ("error.title", "操作未完成", "Not done"),
    ("error.forbidden", "无权访问", "Not allowed"),
    ("error.not_found", "未找到", "Not found"),
    ("error.internal", "服务器出错，已记录", "Server error, logged"),
    ("error.back", "返回上一页", "Go back"),
    ("login.title", "登录", "Log in"),
    ("login.username", "用户名", "Username"),
    ("login.password", "密码", "Password"),
    ("login.submit", "登录", "Log in"),
    ("login.public", "市民与企业无需登录：", "Citizens and enterprises need no login:"),
    ("home.title", "我的工作", "My work"),
    ("home.intake", "接听来电，记录诉求，直接答复或并单", "Take calls, record requests, answer or merge"),
    ("home.dispatch", "待派单与退单诉求、延期审批", "Requests to dispatch, returns, extension requests"),
    ("home.unit", "本单位工单：签收、退单、延期、办结反馈", "Your unit's orders: acknowledge, return, extend, reply"),
    ("home.callback", "待回访诉求：三问回访，办结或二次办理", "Callbacks due: three questions, close or rework"),
    ("home.dashboard", "三率排名、趋势、超期与预警", "Rates, ranking, trends, overdue and warnings"),
    ("home.governance", "热点、未诉先办预警、主动治理任务与每月一题", "Hotspots, early alerts, proactive tasks and monthly topics"),
    ("home.admin", "用户与配置（单位、分类、派单目录、时限、考核规则）", "Users and configuration"),
    ("common.none", "暂无", "None"),
    ("common.yes", "是", "Yes"),
    ("common.no", "否", "No"),
    ("common.show", "查看", "Show"),
    ("field.name", "姓名", "Name"),
    ("field.phone", "电话", "Phone"),
    ("field.confidential", "保密（对承办单位隐藏诉求人）", "Confidential (hide the requester from units)"),
    ("field.kind", "诉求类型", "Kind"),
    ("field.channel", "渠道", "Channel"),
    ("field.title", "标题", "Title"),
    ("field.text", "诉求内容", "What happened"),
    ("field.address", "地址", "Address"),
    ("field.place", "地点", "Place"),
    ("field.number", "编号", "Number"),
    ("field.created_at", "受理时间", "Recorded"),
    ("field.closed_at", "办结时间", "Closed"),
    ("field.requested_at", "申请时间", "Requested"),
    ("field.unit", "单位", "Unit"),
    ("field.unit_code", "单位编码", "Unit code"),
    ("field.role", "角色", "Role"),
    ("field.status", "状态", "Status"),
    ("field.hours", "延期小时", "Hours"),
    ("field.reason", "理由", "Reason"),
    ("field.outcome", "办理结果", "Outcome"),
    ("field.category", "分类", "Category"),
    ("field.time_limit_class", "办理时限", "Time limit"),
    ("field.requester", "诉求人", "Requester"),
    ("field.round", "办理轮次", "Round"),
    ("field.note", "备注", "Note"),
    ("field.month", "月份", "Month"),
    ("field.level", "层级", "Level"),
    ("field.enterprise_name", "企业名称", "Enterprise name"),
    ("field.credit_code", "统一社会信用代码", "Unified social credit code"),
    ("field.date", "日期", "Date"),
    ("field.description", "任务要求", "What the units are to do"),
    ("intake.title", "来电受理", "Call intake"),
    ("intake.keys", "Tab 逐项填写 · Ctrl+Enter 受理 · Alt+1 直接答复 · Alt+2 并单 · Alt+3 派单", "Tab through · Ctrl+Enter record · Alt+1 answer · Alt+2 merge · Alt+3 dispatch"),
    ("intake.requester", "诉求人", "Requester"),
    ("intake.request", "诉求", "Request"),
    ("intake.title_hint", "可不填，自动取内容首句", "optional: the first sentence is used"),
    ("intake.create", "受理", "Record"),
    ("intake.create_dispatch", "受理并派单", "Record and dispatch"),
    ("intake.suggestions", "智能辅助", "Suggestions"),
    ("intake.suggest_hint", "输入诉求内容后，这里显示分类、地点、承办单位、疑似重复和知识库答复。", "Type the request: category, place, units, possible duplicates and knowledge-base answers appear here."),
    ("suggest.category", "分类", "Category"),
    ("suggest.no_category", "暂不分类", "No category"),
    ("suggest.place", "地点", "Place"),
    ("suggest.no_place", "未识别出地点", "No place recognised"),
    ("suggest.units", "建议承办单位", "Suggested units"),
    ("suggest.duplicates", "疑似重复诉求", "Possible duplicates"),
    ("suggest.merge", "受理并并单", "Record and merge"),
    ("suggest.answers", "知识库答复", "Knowledge-base answers"),
    ("suggest.answer", "直接答复并办结", "Answer and close"),
    ("dispatch.title", "派单", "Dispatch"),
    ("dispatch.waiting", "待派单（含退单）", "Waiting for dispatch (incl. returned)"),
    ("dispatch.returned_by", "退单", "Returned"),
    ("dispatch.do", "派单", "Dispatch"),
    ("dispatch.extensions", "延期申请", "Extension requests"),
    ("dispatch.approve", "批准", "Approve"),
    ("dispatch.refuse", "不批准", "Refuse"),
    ("dispatch.lead", "主办单位编码", "Lead unit code"),
    ("dispatch.co", "协办单位编码", "Co-handler unit codes"),
    ("dispatch.co_hint", "多个以逗号分隔", "comma-separated"),
    ("dispatch.submit", "派单", "Dispatch"),
    ("unit.title", "承办工作台", "Unit workbench"),
    ("unit.deadline", "时限", "Deadline"),
    ("unit.left", "剩余", "Left"),
    ("unit.actions", "操作", "Actions"),
    ("unit.ack_by", "签收时限", "Acknowledge by"),
    ("unit.reply_by", "办结时限", "Reply by"),
    ("unit.acknowledge", "签收", "Acknowledge"),
    ("unit.reply", "办结反馈", "Reply"),
    ("unit.to_requester", "答复诉求人", "To the requester"),
    ("unit.to_center", "反馈中心（办理过程与佐证）", "To the center (what was done, evidence)"),
    ("unit.evidence_hint", "现场核查情况、处理措施、照片或文书编号", "site check, measures taken, photo or document numbers"),
    ("unit.reply_submit", "提交双反馈", "Send both replies"),
    ("unit.return", "退单", "Return"),
    ("unit.return_submit", "确认退单", "Return it"),
    ("unit.extension", "申请延期", "Ask for more time"),
    ("unit.extension_submit", "提交延期申请", "Ask"),
    ("unit.rework", "二次办理", "Rework"),
    ("unit.empty", "本单位暂无待办工单。", "No open orders for your unit."),
    ("callback.title", "回访工作台", "Callback workstation"),
    ("callback.script", "您好，这里是 12345 市民服务热线。您反映的问题承办单位已答复，想了解一下：问题是否已解决？您对办理结果是否满意？", "Hello, this is the 12345 hotline. The unit has replied to your request: is the problem resolved, and are you satisfied with the result?"),
    ("callback.attempts", "已尝试", "attempts"),
    ("callback.close_satisfied", "已解决·满意 → 办结", "Resolved, satisfied → close"),
    ("callback.close_basic", "已解决·基本满意 → 办结", "Resolved, basically satisfied → close"),
    ("callback.rework", "未解决·不满意 → 二次办理", "Unresolved, unsatisfied → rework"),
    ("callback.unreached", "未接通", "Not reached"),
    ("callback.questions", "逐项回访", "Ask question by question"),
    ("callback.q_reached", "是否联系上诉求人？", "Was the requester reached?"),
    ("callback.q_resolved", "问题是否解决？", "Is the problem resolved?"),
    ("callback.q_satisfied", "对办理结果是否满意？", "How satisfied are they?"),
    ("callback.record", "记录回访", "Record"),
    ("callback.empty", "暂无待回访诉求。", "No callbacks due."),
    ("detail.answer", "直接答复", "Answer at intake"),
    ("detail.merged_into", "已并入", "Merged into"),
    ("detail.orders", "工单", "Orders"),
    ("detail.overdue", "超期", "overdue"),
    ("detail.return_reason", "退单理由", "Return reason"),
    ("detail.callbacks", "回访记录", "Callbacks"),
    ("detail.timeline", "全流程记录", "Timeline"),
    ("detail.confidential", "保密诉求，诉求人信息不对承办单位显示", "Confidential: the requester is hidden from units"),
    ("detail.refused", "此诉求未派给您的单位，您无权查看。", "This request was not dispatched to your unit; you may not see it."),
    ("dashboard.title", "督办看板", "Supervision dashboard"),
    ("dashboard.report", "下载月度通报 (xlsx)", "Monthly report (xlsx)"),
    ("dashboard.ranking", "三率排名与四类", "Ranking and the four classes"),
    ("dashboard.rules", "规则版本", "rules"),
    ("dashboard.frozen", "已冻结", "frozen"),
    ("dashboard.rank", "名次", "Rank"),
    ("dashboard.class", "类别", "Class"),
    ("dashboard.composite", "综合成绩", "Composite"),
    ("dashboard.volume", "诉求量", "Volume"),
    ("dashboard.unranked", "本月无工单、不参与排名的单位：", "Units with no orders this month, not ranked:"),
    ("dashboard.trend", "三率趋势", "Three-rate trend"),
    ("dashboard.hotspots", "热点问题（近30天）", "Hot problems (last 30 days)"),
    ("dashboard.heat", "热度", "Heat"),
    ("dashboard.problem", "问题", "Problem"),
    ("dashboard.size", "诉求数", "Requests"),
    ("dashboard.span", "时间范围", "From – to"),
    ("dashboard.categories", "诉求分类", "By category"),
    ("dashboard.districts", "各区诉求量", "By district"),
    ("dashboard.overdue", "已超期", "Overdue"),
    ("dashboard.breach", "即将超期", "About to breach"),
    ("gov.title", "主动治理", "Proactive governance"),
    ("gov.intro", "从热点和预警立案，举一反三，每月一题跟踪到底。", "Open tasks from hotspots and alerts, find the same problem elsewhere, and track a monthly topic to the end."),
    ("gov.place", "地点", "Place"),
    ("gov.actions", "操作", "Actions"),
    ("gov.open_task", "立案", "Open a task"),
    ("gov.task_exists", "已立案", "Task opened"),
    ("gov.alerts", "未诉先办预警", "Burst alerts (act before asked)"),
    ("gov.alerts_note", "按街道×分类的每日诉求量与其自身季节基线比较（泊松尾概率）", "Daily requests per street × category against their own seasonal baseline (Poisson tail)"),
    ("gov.count", "当日件数", "That day"),
    ("gov.expected", "预期", "Expected"),
    ("gov.score", "显著性", "Significance"),
    ("gov.why", "原因", "Why"),
    ("gov.tasks", "进行中的主动治理任务", "Open proactive tasks"),
    ("gov.source", "来源", "Source"),
    ("gov.units", "承办单位", "Units"),
    ("gov.progress", "进度", "Progress"),
    ("gov.topics", "每月一题", "Monthly topics"),
    ("gov.proposals", "每月一题候选", "Topic proposals"),
    ("source.hotspot", "热点", "Hotspot"),
    ("source.alert", "未诉先办预警", "Burst alert"),
    ("source.topic", "每月一题", "Monthly topic"),
    ("source.elsewhere", "举一反三", "Same problem elsewhere"),
    ("task.new", "主动治理立案", "Open a proactive task"),
    ("task.linked", "关联诉求", "Linked requests"),
    ("task.linked_hint", "取消勾选可不关联该诉求", "untick to leave a request out"),
    ("task.units", "承办单位（主办 + 协办）", "Units (lead + co-handlers)"),
    ("task.unit_hint", "输入单位名称或编码", "type a unit's name or code"),
    ("task.address_hint", "不填则取第一件关联诉求的地址", "blank: the first linked request's address"),
    ("task.submit", "立案并派单", "Open and dispatch"),
    ("task.title", "主动治理任务", "Proactive task"),
    ("task.request_link", "诉求详情与全流程记录", "Request detail and timeline"),
    ("task.topic", "所属每月一题", "Monthly topic"),
    ("task.elsewhere", "举一反三：其他地方的同类问题", "The same problem elsewhere"),
    ("task.similarity", "相似度", "Similarity"),
    ("task.open_here", "在此立案", "Open a task here"),
    ("topic.proposals", "每月一题候选（按数据排序）", "Monthly topic proposals, ranked from the data"),
    ("topic.proposals_note", "得分 = ln(1+诉求量) × 区域分布 × 持续月数/3 × (1+不满意占比)，统计本月及前两个月", "score = ln(1+volume) × spread over districts × months present/3 × (1+dissatisfied share), over this month and the two before"),
    ("topic.rank", "排名", "Rank"),
    ("topic.score", "得分", "Score"),
    ("topic.districts", "涉及区数", "Districts"),
    ("topic.months", "持续月数", "Months present"),
    ("topic.unhappy", "不满意占比", "Dissatisfied"),
    ("topic.problems", "具体问题", "Concrete problems"),
    ("topic.choose", "选为每月一题", "Make it the monthly topic"),
    ("topic.new", "设立每月一题", "Set up a monthly topic"),
    ("topic.lead", "牵头单位", "Lead department"),
    ("topic.problems_hint", "列出 2–3 个具体问题，每个问题按其分类统计进展；空行不计", "Name 2–3 concrete problems; progress is counted by each one's category; blank rows are skipped"),
    ("topic.problem", "问题", "Problem"),
    ("topic.tasks", "纳入的主动治理任务", "Proactive tasks in the topic"),
    ("topic.submit", "设立", "Set it up"),
    ("topic.progress", "进展", "Progress"),
    ("topic.tasks_done", "任务完成", "Tasks done"),
    ("topic.by_month", "各问题诉求量（按月）", "Requests per problem, month by month"),
    ("topic.satisfaction", "回访满意度（本题分类，自设立月起）", "Callback satisfaction (its categories, since its month)"),
    ("topic.add_task", "为本题立案", "Open a task for this topic"),
    ("topic.none", "尚未设立每月一题", "No monthly topic yet"),
    ("rate.response", "响应率", "Response"),
    ("rate.resolution", "解决率", "Resolution"),
    ("rate.satisfaction", "满意率", "Satisfaction"),
    ("portal.citizen", "市民诉求", "Citizen request"),
    ("portal.enterprise", "企业诉求", "Enterprise request"),
    ("portal.track", "诉求查询", "Track a request"),
    ("portal.intro", "反映问题请写清时间、地点和经过，我们会转给承办单位并回访您。", "Say what, where and when: we pass it to the unit that must act and call you back."),
    ("portal.place_hint", "区、街道、小区或道路", "district, street, estate or road"),
    ("portal.submit", "提交诉求", "Submit"),
    ("portal.submitted", "诉求已受理", "Request recorded"),
    ("portal.your_number", "您的诉求编号：", "Your request number:"),
    ("portal.keep_number", "请保存编号，凭编号和手机号可查询办理进展。", "Keep the number: with it and your phone you can track the request."),
    ("portal.track_submit", "查询", "Track"),
    ("portal.not_found", "没有找到与该编号和电话匹配的诉求。", "No request matches this number and phone."),
    ("portal.replies", "办理答复", "Replies"),
    ("portal.no_reply", "尚无答复", "No reply yet"),
    ("admin.title", "系统管理", "Administration"),
    ("admin.users", "用户", "Users"),
    ("admin.units", "承办单位", "Units"),
    ("admin.categories", "诉求分类", "Categories"),
    ("admin.catalogue", "派单目录", "Dispatch catalogue"),
    ("admin.limits", "办理时限", "Time limits"),
    ("admin.rules", "考核规则", "KPI rules"),
    ("admin.add_user", "新增用户", "Add user"),
    ("admin.active", "启用", "Active"),
    ("admin.parent", "上级", "Parent"),
    ("admin.name", "名称", "Name"),
    ("admin.default_unit", "默认承办", "Default unit"),
    ("admin.area", "区域", "Area"),
    ("admin.since", "生效时间", "In force since"),
    ("admin.in_force", "现行", "In force"),
    ("admin.catalogue_note", "现行规则；规则只停用不修改，历史见 API /api/v1/catalogue。", "Rules in force; rules are retired, never edited (history: /api/v1/catalogue)."),
    ("admin.class", "类别", "Class"),
    ("admin.ack_minutes", "签收（分钟）", "Acknowledge (min)"),
    ("admin.reply_minutes", "办结（分钟）", "Reply (min)"),
    ("admin.day_kind", "计时方式", "Days"),
    ("admin.version", "版本", "Version"),
    ("admin.weights", "权重 响应/解决/满意", "Weights response/resolution/satisfaction"),
    ("admin.basic_weight", "基本满意折算", "Basic-satisfied weight"),
    ("admin.class_size", "每类单位数", "Units per class"),
    ("done.created", "诉求已受理。", "Request recorded."),
    ("done.answered", "已直接答复并办结。", "Answered at intake and closed."),
    ("done.merged", "已并单。", "Merged."),
    ("done.dispatched", "已派单。", "Dispatched."),
    ("done.approved", "已批准延期。", "Extension approved."),
    ("done.refused", "已驳回延期申请。", "Extension refused."),
    ("done.acknowledged", "已签收。", "Acknowledged."),
    ("done.returned", "已退单。", "Returned."),
    ("done.extension", "已提交延期申请。", "Extension requested."),
    ("done.replied", "已提交办结反馈。", "Reply sent."),
    ("done.closed", "回访完成，诉求已办结。", "Callback recorded; the request is closed."),
    ("done.closed_unreachable", "多次未接通，已按无法联系办结。", "Unreachable too often; closed as unreachable."),
    ("done.retry", "未接通，稍后再次回访。", "Not reached; try again later."),
    ("done.rework", "不满意，已转二次办理。", "Unsatisfied; sent back for rework."),
    ("done.recorded", "回访已记录。", "Callback recorded."),
    ("done.user_added", "用户已创建。", "User added."),
    ("done.task_opened", "主动治理任务已立案并派单。", "Proactive task opened and dispatched."),
    ("done.topic_created", "每月一题已设立。", "Monthly topic set up."),
    ("kind.consultation", "咨询", "Consultation"),
    ("kind.help", "求助", "Help"),
    ("kind.complaint", "投诉", "Complaint"),
    ("kind.report", "举报", "Report"),
    ("kind.suggestion", "建议", "Suggestion"),
    ("kind.praise", "表扬", "Praise"),
    ("channel.phone", "电话", "Phone"),
    ("channel.web", "网站", "Web"),
    ("channel.app", "手机应用", "App"),
    ("channel.wechat", "微信", "WeChat"),
    ("channel.weibo", "微博", "Weibo"),
    ("channel.enterprise", "企业服务", "Enterprise"),
    ("channel.open311", "Open311", "Open311"),
    ("channel.merged_line", "归并热线", "Merged line"),
    ("channel.proactive", "主动治理", "Proactive"),
    ("status.received", "已受理", "Received"),
    ("status.answered", "直接答复", "Answered"),
    ("status.dispatched", "已派单", "Dispatched"),
    ("status.in_progress", "办理中", "In progress"),
    ("status.replied", "已反馈", "Replied"),
    ("status.closed", "已办结", "Closed"),
    ("status.merged", "已并单", "Merged"),
    ("role.admin", "系统管理员", "Administrator"),
    ("role.operator", "话务员", "Operator"),
    ("role.dispatcher", "派单员", "Dispatcher"),
    ("role.callback_agent", "回访员", "Callback agent"),
    ("role.supervisor", "督办", "Supervisor"),
    ("role.unit_handler", "承办人", "Unit handler"),
    ("role.unit_manager", "单位负责人", "Unit manager"),
    ("role.system", "系统", "System"),
    ("order_role.lead", "主办", "Lead"),
    ("order_role.co", "协办", "Co-handler"),
    ("order_status.dispatched", "待签收", "To acknowledge"),
    ("order_status.acknowledged", "办理中", "In hand"),
    ("order_status.replied", "已反馈", "Replied"),
    ("order_status.returned", "已退单", "Returned"),
    ("outcome.resolved", "已解决", "Resolved"),
    ("outcome.partly", "部分解决", "Partly resolved"),
    ("outcome.explained", "已解释说明", "Explained"),
    ("satisfaction.satisfied", "满意", "Satisfied"),
    ("satisfaction.basic", "基本满意", "Basically satisfied"),
    ("satisfaction.unsatisfied", "不满意", "Unsatisfied"),
    ("ext_status.pending", "待审批", "Pending"),
    ("ext_status.approved", "已批准", "Approved"),
    ("ext_status.refused", "未批准", "Refused"),
    ("cb_outcome.closed", "办结", "Closed"),
    ("cb_outcome.closed_unreachable", "无法联系办结", "Closed, unreachable"),
    ("cb_outcome.retry", "未接通", "Not reached"),
    ("cb_outcome.rework", "二次办理", "Rework"),
    ("cb_outcome.recorded", "已记录", "Recorded"),
    ("class.leading", "先进类", "Leading"),
    ("class.improving", "进步类", "Improving"),
    ("class.rectify", "整改类", "Rectify"),
    ("class.priority_governance", "治理类", "Priority governance"),
    ("level.subdistrict", "街道乡镇", "Streets and townships"),
    ("level.district", "区", "Districts"),
    ("level.department", "委办局", "Departments"),
    ("level.company", "公共服务企业", "Public-service companies"),
    ("unit_level.center", "中心", "Center"),
    ("unit_level.district", "区", "District"),
    ("unit_level.subdistrict", "街道", "Subdistrict"),
    ("unit_level.township", "乡镇", "Township"),
    ("unit_level.zone", "特殊区域", "Zone"),
    ("unit_level.community", "社区", "Community"),
    ("unit_level.village", "村", "Village"),
    ("unit_level.department", "委办局", "Department"),
    ("unit_level.company", "公共服务企业", "Company"),
    ("event.request.created", "受理", "Recorded"),
    ("event.request.answered", "直接答复", "Answered at intake"),
    ("event.request.merged", "并单", "Merged"),
    ("event.request.duplicate_merged", "并入重复诉求", "Duplicate merged in"),
    ("event.request.status", "状态变更", "Status changed"),
    ("event.request.task_opened", "据此立案主动治理任务", "Proactive task opened on it"),
    ("event.task.topic_linked", "纳入每月一题", "Added to the monthly topic"),
    ("event.assignment.dispatched", "派单", "Dispatched"),
    ("event.assignment.acknowledged", "签收", "Acknowledged"),
    ("event.assignment.returned", "退单", "Returned"),
    ("event.assignment.replied", "办结反馈", "Replied"),
    ("event.assignment.ack_overdue", "签收超时", "Acknowledgement overdue"),
    ("event.assignment.reply_warning", "临期预警", "About to breach"),
    ("event.assignment.reply_overdue", "办理超期", "Reply overdue"),
    ("event.assignment.exempted", "不纳入考核", "Exempted"),
    ("event.extension.requested", "申请延期", "Extension requested"),
    ("event.extension.approved", "批准延期", "Extension approved"),
    ("event.extension.refused", "驳回延期", "Extension refused"),
    ("event.callback.closed", "回访办结", "Callback: closed"),
    ("event.callback.rework", "回访不满意，二次办理", "Callback: rework"),
    ("event.callback.unreachable", "回访未接通", "Callback: not reached"),
    ("event.callback.recorded", "回访已记录", "Callback recorded"),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `tr.s("…")` in the templates and page modules names a key of the table.
    #[test]
    fn every_key_the_pages_use_is_translated() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = Vec::new();
        for dir in ["templates", "src/web/ui"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                // This file names keys only in its documentation.
                if !path.ends_with("i18n.rs") {
                    sources.push(std::fs::read_to_string(path).unwrap());
                }
            }
        }
        let mut missing = Vec::new();
        for src in &sources {
            for part in src.split("tr.s(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                if !TABLE.contains_key(key) {
                    missing.push(key.to_string());
                }
            }
        }
        for key in [
            "nav.intake",
            "nav.dispatch",
            "nav.unit",
            "nav.callback",
            "nav.dashboard",
            "nav.admin",
            "dashboard.overdue",
            "dashboard.breach",
        ] {
            assert!(TABLE.contains_key(key), "{key}");
        }
        assert!(missing.is_empty(), "untranslated keys: {missing:?}");
    }

    #[test]
    fn the_table_has_no_duplicate_keys_and_both_languages() {
        let mut seen = std::collections::HashSet::new();
        for (k, zh, en) in STRINGS {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
        assert_eq!(Tr(Lang::En).of("status", "closed"), "Closed");
        assert_eq!(Tr(Lang::Zh).of("status", "closed"), "已办结");
        assert_eq!(Tr(Lang::Zh).of("status", "strange"), "strange");
    }
}
