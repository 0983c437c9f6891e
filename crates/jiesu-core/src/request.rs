//! Requests (诉求) and their vocabulary: kinds, channels, statuses and callback answers.
//! The state machine that moves them lives in `workflow`.

use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable snake_case name used in the API and the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            /// Parses the stable name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    /// What the requester wants (诉求类型).
    RequestKind {
        /// 咨询: a question; often answered at intake from the knowledge base.
        Consultation = "consultation",
        /// 求助: asks for help.
        Help = "help",
        /// 投诉: complains about a unit or a situation.
        Complaint = "complaint",
        /// 举报: reports a violation.
        Report = "report",
        /// 建议: a suggestion.
        Suggestion = "suggestion",
        /// 表扬: praise.
        Praise = "praise",
    }
}

string_enum! {
    /// How the request reached the center (渠道); merged hotlines keep their origin.
    Channel {
        /// 电话: the 12345 phone line, typed by an operator.
        Phone = "phone",
        /// 网站.
        Web = "web",
        /// 手机应用.
        App = "app",
        /// 微信.
        Wechat = "wechat",
        /// 微博.
        Weibo = "weibo",
        /// 企业服务热线 (便企纾困).
        Enterprise = "enterprise",
        /// An Open311 client.
        Open311 = "open311",
        /// 归并热线: a former hotline folded into 12345 (12315, 12396, …).
        MergedLine = "merged_line",
        /// 主动治理: a task the center opened itself from a hotspot, a burst alert or the
        /// monthly topic (未诉先办); never chosen at intake.
        Proactive = "proactive",
        /// 社区就地解决 (小事不出社区): community staff recorded a request they solved on the
        /// spot; created already replied by their own unit; never chosen at intake.
        Community = "community",
    }
}

string_enum! {
    /// Where a request is in its life. A cache of its events.
    RequestStatus {
        /// 已受理: taken in, waiting for dispatch (also after a lead unit returned it).
        Received = "received",
        /// 直接答复: a consultation answered at intake; final.
        Answered = "answered",
        /// 已派单: dispatched, no unit has acknowledged yet.
        Dispatched = "dispatched",
        /// 办理中: at least one unit acknowledged.
        InProgress = "in_progress",
        /// 已反馈: every active unit of the round has replied; waiting for the callback.
        Replied = "replied",
        /// 已办结: closed after a resolved and satisfied callback, or unreachable requester.
        Closed = "closed",
        /// 已并单: merged into a primary request.
        Merged = "merged",
    }
}

string_enum! {
    /// What prompted a proactive task (主动治理任务).
    TaskOrigin {
        /// 热点: a hot problem mined from requests.
        Hotspot = "hotspot",
        /// 未诉先办: a burst alert.
        Alert = "alert",
        /// 每月一题: the monthly topic.
        Topic = "topic",
        /// 举一反三: the same problem elsewhere, found from another task or problem.
        Elsewhere = "elsewhere",
        /// 吹哨报到: a street summoned departments (opened by the street, not the center).
        Whistle = "whistle",
    }
}

string_enum! {
    /// The requester's rating at callback (满意度).
    Satisfaction {
        /// 满意.
        Satisfied = "satisfied",
        /// 基本满意.
        Basic = "basic",
        /// 不满意.
        Unsatisfied = "unsatisfied",
    }
}

impl RequestStatus {
    /// Whether no further handling happens (answered, closed, merged).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RequestStatus::Answered | RequestStatus::Closed | RequestStatus::Merged
        )
    }
}

/// What the callback agent recorded (回访): was the requester reached, and if so their answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackInput {
    /// Whether the requester answered.
    pub reached: bool,
    /// 是否解决: required when reached.
    pub resolved: Option<bool>,
    /// 满意度: required when reached.
    pub satisfaction: Option<Satisfaction>,
    /// Free note.
    pub note: Option<String>,
}
