//! The traffic simulator: a city's days lived through Jiesu's own services (intake,
//! suggestions, dispatch, unit actions, extensions, callbacks, the deadline sweeps), in
//! simulated time on a [`ManualClock`]. Requests come from [`templates`] per category and
//! place (Beijing's communities), with the kinds mix a hotline sees (most consultations
//! answered at intake), seasonal categories, peaks at 10:00 and 15:00, repeat reporters who are
//! merged, enterprise requests and multi-dispatch. Units behave by profile: quick or slow to
//! acknowledge, likely or not to resolve, some that return orders, some improving over the
//! period. Streets pass orders down to communities (下派, with returns, extensions and late
//! children), summon departments (吹哨报到, [`flow`]), communities record what they solve on
//! the spot (小事不出社区), and the center checks replies of a few categories (办结审核). A
//! given seed gives the same city (ids differ; every choice, text and time is the same).

mod flow;
pub mod templates;

use crate::clock::ManualClock;
use crate::error::AppError;
use crate::services::appeals::{AppealInput, Decision, DecisionInput, Part};
use crate::services::handling::{self, DispatchInput, DispatchTarget, UnitActionInput, UnitVerb};
use crate::services::returns::{ReturnDecision, ReviewInput};
use crate::services::{callback, intake, suggest, AppState};
use crate::store::{assignments, extensions, reference, requests, users};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use jiesu_core::access::UnitScope;
use jiesu_core::workflow::{
    AssignmentRole, AssignmentStatus, CallbackOutcome, ExtensionStatus, Outcome,
};
use jiesu_core::{
    Actor, CallbackInput, CreditCode, RequestKind, RequestStatus, Role, Satisfaction,
};
use jiesu_text::seeded::{Fnv1a, Rng, GOLDEN};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use templates::{Lead, Problem, Question, PROBLEMS, QUESTIONS};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Days to live.
    pub days: u32,
    /// Requests per day (on average; weekends are quieter).
    pub per_day: u32,
    /// The seed: the same seed gives the same city.
    pub seed: u64,
    /// The first day (local).
    pub start: NaiveDate,
}

/// What happened.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Requests taken in.
    pub requests: u64,
    /// Consultations answered at intake.
    pub answered_at_intake: u64,
    /// Repeat reports merged into an open request.
    pub merged: u64,
    /// Enterprise requests.
    pub enterprise: u64,
    /// Orders dispatched (all rounds).
    pub orders: u64,
    /// Requests dispatched to more than one unit.
    pub multi_dispatched: u64,
    /// Orders returned by their unit (the dispatcher accepted the return).
    pub returned: u64,
    /// Returns the dispatcher rejected (退单驳回): the unit kept the order.
    pub return_rejected: u64,
    /// Orders acknowledged after their limit.
    pub acknowledged_late: u64,
    /// Extensions asked for.
    pub extensions: u64,
    /// Replies written.
    pub replies: u64,
    /// Callbacks made (reached or not).
    pub callbacks: u64,
    /// Second (or later) rounds opened by a callback.
    pub reworks: u64,
    /// Requests closed.
    pub closed: u64,
    /// Actions the services refused (a simulated person acting on a stale view).
    pub refused: u64,
    /// Assessment appeals (考核申诉) filed by units.
    pub appeals_filed: u64,
    /// Appeals the center granted (申诉成立).
    pub appeals_granted: u64,
    /// Appeals the center refused (申诉不成立).
    pub appeals_refused: u64,
    /// Street orders passed down to a community (下派) before the street replied.
    pub passed_down: u64,
    /// Community replies the street sent back once before signing them off (签批).
    pub sent_back: u64,
    /// Child orders a community returned to its street (退回上级), passed to another.
    pub sub_returned: u64,
    /// Requests for more time on child orders (the street approves most).
    pub sub_extensions: u64,
    /// Child orders replied after their limit (the sweep marked them late).
    pub sub_late: u64,
    /// Child orders signed off by their street (签批同意).
    pub sub_approved: u64,
    /// Whistles blown by streets (吹哨).
    pub whistles: u64,
    /// Departments summoned by them.
    pub summoned: u64,
    /// Reports (报到) made after the report limit.
    pub reports_late: u64,
    /// Requests communities solved on the spot (小事不出社区; not in `requests`).
    pub community: u64,
    /// Replies the center checked (办结审核).
    pub reply_reviews: u64,
    /// Of them, sent back for rework.
    pub reviews_sent_back: u64,
    /// Per category code, requests taken in.
    pub by_category: std::collections::BTreeMap<String, u64>,
}

/// The shared seeded generator (SplitMix64) seeded as the simulator always was (the seed
/// mixed with the golden ratio), so a seed means the same city on every machine and
/// version of the dependencies.
fn city_rng(seed: u64) -> Rng {
    Rng::new(seed ^ GOLDEN)
}

/// A stable hash of a seed and a name, for per-unit traits that do not depend on the order
/// units are met.
fn hash_of(seed: u64, name: &str) -> u64 {
    city_rng(Fnv1a::seeded(seed).write(name.as_bytes()).finish()).next_u64()
}

/// How a unit behaves.
#[derive(Debug, Clone, Copy)]
struct Profile {
    /// Quality in [0, 1] at the start.
    quality: f64,
    /// Change of quality over the whole period (improving units > 0).
    trend: f64,
    /// Chance of returning an order (lead only).
    return_p: f64,
}

impl Profile {
    fn of(seed: u64, code: &str) -> Profile {
        let mut r = city_rng(hash_of(seed, code));
        // Most units are decent; a tail is poor.
        let quality = 0.2 + 0.8 * (1.0 - r.f64().powf(1.4));
        let trend = match r.below(10) {
            0..=1 => r.between(0.25, 0.5),
            2 => -r.between(0.15, 0.3),
            _ => 0.0,
        };
        let return_p = if r.chance(0.15) {
            r.between(0.05, 0.15)
        } else {
            0.01
        };
        Profile {
            quality,
            trend,
            return_p,
        }
    }
    fn quality_at(&self, progress: f64) -> f64 {
        (self.quality + self.trend * progress).clamp(0.02, 1.0)
    }
}

/// Minutes of the hour-of-day weights: peaks at 10:00 and 15:00, quiet at night.
const HOURLY: [f64; 24] = [
    0.8, 0.5, 0.3, 0.3, 0.3, 0.5, 1.2, 2.5, 4.5, 6.5, 7.5, 7.0, 5.0, 5.0, 6.5, 7.2, 6.5, 5.5, 4.5,
    4.0, 3.5, 2.8, 2.0, 1.2,
];

/// The share of consultations among requests.
const CONSULTATION_SHARE: f64 = 0.58;
/// The share of consultations answered at intake.
const ANSWERED_AT_INTAKE: f64 = 0.85;
/// The share of enterprise requests.
const ENTERPRISE_SHARE: f64 = 0.04;
/// The chance a problem report repeats a recent one at the same place (and is merged).
const REPEAT_SHARE: f64 = 0.08;

#[derive(Debug, Clone)]
struct Place {
    street: String,
    community: Option<String>,
    spoken: String,
    district_name: String,
    street_name: String,
}

#[derive(Debug)]
enum Ev {
    DayStart(u32),
    Arrive,
    Dispatch {
        request: String,
        category: String,
        place: usize,
        lead: Lead,
        retry: bool,
    },
    Ack {
        order: String,
        unit: String,
        request: String,
        category: String,
        place: usize,
        lead: Lead,
    },
    Reply {
        order: String,
        unit: String,
        request: String,
    },
    Decide {
        request: String,
    },
    /// The dispatcher reviews a unit's return (退单审核).
    ReviewReturn {
        order: String,
        unit: String,
        request: String,
        category: String,
        place: usize,
        lead: Lead,
    },
    Callback {
        request: String,
    },
    /// A unit's manager appeals one part of an order's assessment (考核申诉).
    FileAppeal {
        order: String,
        unit: String,
        part: Part,
    },
    /// The center decides an appeal.
    DecideAppeal {
        appeal: String,
    },
    /// A street blows the whistle on departments (吹哨).
    Whistle,
    /// A summoned department reports (报到).
    WhistleReport {
        order: String,
        unit: String,
    },
    /// A summoned department replies to the whistle task.
    WhistleReply {
        order: String,
        unit: String,
    },
    /// A community records a request it solved on the spot (小事不出社区).
    Community,
    /// The center checks the replies waiting on a request (办结审核).
    ReviewReply {
        request: String,
    },
    /// A community replies to the child order its street passed down.
    SubReply {
        child: String,
        street: String,
        community: String,
        request: String,
        outcome: Outcome,
    },
    Sweep,
}

struct Sim<'a> {
    state: &'a AppState,
    clock: &'a ManualClock,
    opts: Options,
    rng: Rng,
    queue: BinaryHeap<Reverse<(i64, u64)>>,
    events: HashMap<u64, Ev>,
    seq: u64,
    end: DateTime<Utc>,
    start: DateTime<Utc>,
    places: Vec<Place>,
    /// Weight of each place (busy streets get more).
    place_weights: Vec<f64>,
    default_unit: HashMap<String, String>,
    class_minutes: HashMap<String, (i64, i64)>,
    operator: Actor,
    dispatcher: Actor,
    agent: Actor,
    unit_actors: HashMap<String, Actor>,
    /// Recent problem reports (id, place, problem, when): what repeat reporters repeat.
    recent: std::collections::VecDeque<(String, usize, usize, DateTime<Utc>)>,
    place_of: HashMap<String, usize>,
    /// The appeals' own generator, so that appeals leave the rest of the city as it was.
    appeal_rng: Rng,
    /// 下派's own generator, for the same reason.
    sub_rng: Rng,
    /// 吹哨报到's, 小事不出社区's and 办结审核's own generators, for the same reason.
    whistle_rng: Rng,
    community_rng: Rng,
    review_rng: Rng,
    summary: Summary,
    /// The city served (its streets and departments come from the database; its name
    /// replaces Beijing's in the templates' wording).
    city: crate::store::city::City,
}

/// A fixed hash that no password verifies: simulated users cannot log in.
const NO_LOGIN: &str = "!simulated";

async fn sim_user(
    state: &AppState,
    username: &str,
    role: Role,
    unit: Option<&reference::Unit>,
) -> Result<Actor, AppError> {
    let id = match users::by_username(state.store.reader(), username).await? {
        Some(u) => u.id,
        None => {
            let mut tx = state.store.begin().await?;
            let id = users::insert(
                &mut tx,
                &users::NewUser {
                    username,
                    display_name: username,
                    password_hash: NO_LOGIN,
                    role,
                    unit_code: unit.map(|u| u.code.as_str()),
                },
                state.clock.now(),
            )
            .await?;
            let payload = serde_json::json!({ "user_id": id, "username": username, "role": role.as_str(), "unit": unit.map(|u| &u.code), "simulated": true });
            tx.event(state.audit_event("system", "system", "user.created", payload));
            tx.commit().await?;
            id
        }
    };
    Ok(Actor {
        user_id: id,
        username: username.to_string(),
        role,
        unit: unit.map(|u| UnitScope {
            code: u.code.clone(),
            path: u.path.clone(),
        }),
    })
}

/// The spoken form of a community name: "花家地西里社区" → "花家地西里".
fn spoken(name: &str) -> String {
    for suffix in ["社区居委会", "村民委员会", "居委会", "村委会", "社区", "村"]
    {
        if let Some(s) = name.strip_suffix(suffix) {
            if s.chars().count() >= 2 {
                return s.to_string();
            }
        }
    }
    name.to_string()
}

impl<'a> Sim<'a> {
    async fn new(
        state: &'a AppState,
        clock: &'a ManualClock,
        opts: Options,
    ) -> Result<Sim<'a>, AppError> {
        let pool = state.store.reader();
        let all = reference::units(pool, None, None).await?;
        let by_code: HashMap<&str, &reference::Unit> =
            all.iter().map(|u| (u.code.as_str(), u)).collect();
        let rng = city_rng(opts.seed);
        let mut places = Vec::new();
        let mut place_weights = Vec::new();
        let streets: Vec<&reference::Unit> = all
            .iter()
            .filter(|u| matches!(u.level.as_str(), "subdistrict" | "township"))
            .collect();
        let mut communities: HashMap<&str, Vec<&reference::Unit>> = HashMap::new();
        for u in &all {
            if matches!(u.level.as_str(), "community" | "village") {
                if let Some(p) = &u.parent_code {
                    communities.entry(p.as_str()).or_default().push(u);
                }
            }
        }
        for s in &streets {
            // Burden: a few busy streets bring many more requests (城乡结合部, big estates).
            let burden = {
                let mut r = city_rng(hash_of(opts.seed, &format!("burden:{}", s.code)));
                if r.chance(0.06) {
                    r.between(3.0, 6.0)
                } else {
                    r.between(0.5, 1.5)
                }
            };
            let district_name = s
                .parent_code
                .as_deref()
                .and_then(|p| by_code.get(p))
                .map(|d| d.name.clone())
                .unwrap_or_default();
            let list = communities
                .get(s.code.as_str())
                .cloned()
                .unwrap_or_default();
            let picks: Vec<Option<&reference::Unit>> = if list.is_empty() {
                vec![None]
            } else {
                list.iter().map(|c| Some(*c)).collect()
            };
            let each = burden / picks.len() as f64;
            for c in picks {
                places.push(Place {
                    street: s.code.clone(),
                    community: c.map(|c| c.code.clone()),
                    spoken: c.map_or_else(|| spoken(&s.name), |c| spoken(&c.name)),
                    district_name: district_name.clone(),
                    street_name: s.name.clone(),
                });
                place_weights.push(each);
            }
        }
        let default_unit = reference::categories(pool)
            .await?
            .into_iter()
            .filter_map(|c| c.default_unit_code.map(|u| (c.code, u)))
            .collect();
        let mut class_minutes = HashMap::new();
        for class in ["emergency", "utilities", "general", "complex"] {
            if let Some(l) = reference::time_limit(pool, class, state.clock.now()).await? {
                class_minutes.insert(class.to_string(), (l.acknowledge_minutes, l.reply_minutes));
            }
        }
        let operator = sim_user(state, "sim.operator", Role::Operator, None).await?;
        let dispatcher = sim_user(state, "sim.dispatcher", Role::Dispatcher, None).await?;
        let agent = sim_user(state, "sim.callback", Role::CallbackAgent, None).await?;
        let opts_seed = opts.seed;
        let start = local_time(state, opts.start, 0, 0);
        let end = start + Duration::days(i64::from(opts.days));
        Ok(Sim {
            state,
            clock,
            opts,
            rng,
            queue: BinaryHeap::new(),
            events: HashMap::new(),
            seq: 0,
            end,
            start,
            places,
            place_weights,
            default_unit,
            class_minutes,
            operator,
            dispatcher,
            agent,
            unit_actors: HashMap::new(),
            recent: std::collections::VecDeque::new(),
            place_of: HashMap::new(),
            appeal_rng: city_rng(hash_of(opts_seed, "appeals")),
            sub_rng: city_rng(hash_of(opts_seed, "subwork")),
            whistle_rng: city_rng(hash_of(opts_seed, "whistles")),
            community_rng: city_rng(hash_of(opts_seed, "community")),
            review_rng: city_rng(hash_of(opts_seed, "reply_reviews")),
            summary: Summary::default(),
            city: crate::store::city::served(pool).await?,
        })
    }

    fn at(&mut self, t: DateTime<Utc>, ev: Ev) {
        self.seq += 1;
        self.events.insert(self.seq, ev);
        self.queue.push(Reverse((t.timestamp_millis(), self.seq)));
    }

    fn progress(&self) -> f64 {
        let now = self.clock_now();
        ((now - self.start).num_seconds() as f64 / (self.end - self.start).num_seconds() as f64)
            .clamp(0.0, 1.0)
    }

    fn clock_now(&self) -> DateTime<Utc> {
        crate::clock::Clock::now(self.clock)
    }

    async fn unit_actor(&mut self, code: &str) -> Result<Actor, AppError> {
        if let Some(a) = self.unit_actors.get(code) {
            return Ok(a.clone());
        }
        let unit = reference::unit(self.state.store.reader(), code)
            .await?
            .ok_or(AppError::NotFound("unit"))?;
        let a = sim_user(
            self.state,
            &format!("sim.{code}"),
            Role::UnitManager,
            Some(&unit),
        )
        .await?;
        self.unit_actors.insert(code.to_string(), a.clone());
        Ok(a)
    }

    fn profile(&self, code: &str) -> Profile {
        Profile::of(self.opts.seed, code)
    }

    /// Pushes a unit's action into working hours (8:00–20:00 local) most of the time.
    fn working(&mut self, t: DateTime<Utc>) -> DateTime<Utc> {
        let local = t + Duration::hours(i64::from(self.state.config.utc_offset_hours));
        let h = local.hour();
        if (8..20).contains(&h) || self.rng.chance(0.25) {
            return t;
        }
        let days = if h >= 20 { 1 } else { 0 };
        let day = local.date_naive() + Duration::days(days);
        local_time(self.state, day, 8, self.rng.below(90) as u32)
    }

    async fn run(&mut self, report: &mut dyn FnMut(u32, &Summary)) -> Result<(), AppError> {
        self.flag_reply_reviews().await?;
        self.at(self.start, Ev::DayStart(0));
        self.at(self.start, Ev::Sweep);
        while let Some(Reverse((t, seq))) = self.queue.pop() {
            if t >= self.end.timestamp_millis() {
                break;
            }
            let ev = self.events.remove(&seq).expect("queued event");
            let t = DateTime::from_timestamp_millis(t).expect("time");
            let now = self.clock_now();
            if t > now {
                self.clock.advance(t - now);
            }
            if let Ev::DayStart(d) = ev {
                if d > 0 {
                    report(d, &self.summary);
                }
            }
            match self.handle(ev, t).await {
                Ok(()) => {}
                // The simulated people act on what they last saw; a refusal (another round
                // started, say) is what the real service would answer them too.
                Err(AppError::Conflict(_)) | Err(AppError::Invalid(_)) => self.summary.refused += 1,
                Err(e) => return Err(e),
            }
        }
        let now = self.clock_now();
        if self.end > now {
            self.clock.advance(self.end - now);
        }
        crate::services::kpi::refresh_rollups(self.state).await?;
        report(self.opts.days, &self.summary);
        Ok(())
    }

    async fn handle(&mut self, ev: Ev, t: DateTime<Utc>) -> Result<(), AppError> {
        match ev {
            Ev::DayStart(d) => self.day_start(d, t).await,
            Ev::Arrive => self.arrive().await,
            Ev::Dispatch {
                request,
                category,
                place,
                lead,
                retry,
            } => self.dispatch(&request, &category, place, lead, retry).await,
            Ev::Ack {
                order,
                unit,
                request,
                category,
                place,
                lead,
            } => {
                self.acknowledge(&order, &unit, &request, &category, place, lead)
                    .await
            }
            Ev::Reply {
                order,
                unit,
                request,
            } => self.reply(&order, &unit, &request).await,
            Ev::Decide { request } => self.decide(&request).await,
            Ev::ReviewReturn {
                order,
                unit,
                request,
                category,
                place,
                lead,
            } => {
                self.review_return(&order, &unit, &request, &category, place, lead)
                    .await
            }
            Ev::Callback { request } => self.callback(&request).await,
            Ev::FileAppeal { order, unit, part } => self.file_appeal(&order, &unit, part).await,
            Ev::DecideAppeal { appeal } => self.decide_appeal(&appeal).await,
            Ev::Whistle => self.whistle().await,
            Ev::WhistleReport { order, unit } => self.whistle_report(&order, &unit).await,
            Ev::WhistleReply { order, unit } => self.whistle_reply(&order, &unit).await,
            Ev::Community => self.community().await,
            Ev::ReviewReply { request } => self.review_reply(&request).await,
            Ev::SubReply {
                child,
                street,
                community,
                request,
                outcome,
            } => {
                self.sub_reply(&child, &street, &community, &request, outcome)
                    .await
            }
            Ev::Sweep => {
                crate::jobs::sweep_deadlines(self.state)
                    .await
                    .map_err(AppError::Internal)?;
                crate::jobs::sweep_whistle_reports(self.state)
                    .await
                    .map_err(AppError::Internal)?;
                crate::jobs::deliver_outbox(self.state)
                    .await
                    .map_err(AppError::Internal)?;
                self.at(t + Duration::minutes(30), Ev::Sweep);
                Ok(())
            }
        }
    }

    async fn day_start(&mut self, d: u32, t: DateTime<Utc>) -> Result<(), AppError> {
        if d > 0 {
            crate::services::kpi::refresh_rollups(self.state).await?;
        }
        let day = self.opts.start + Duration::days(i64::from(d));
        let weekend = day.weekday().number_from_monday() >= 6;
        let n = (f64::from(self.opts.per_day)
            * if weekend { 0.75 } else { 1.0 }
            * self.rng.between(0.9, 1.1))
        .round() as usize;
        let mut times: Vec<i64> = (0..n)
            .map(|_| {
                let h = self.rng.weighted(&HOURLY) as i64;
                t.timestamp_millis() + h * 3_600_000 + (self.rng.f64() * 3_600_000.0) as i64
            })
            .collect();
        times.sort_unstable();
        for &at in &times {
            self.at(
                DateTime::from_timestamp_millis(at).expect("time"),
                Ev::Arrive,
            );
        }
        self.schedule_day_extras(t);
        if d + 1 < self.opts.days {
            self.at(t + Duration::days(1), Ev::DayStart(d + 1));
        }
        Ok(())
    }

    fn pick_place(&mut self) -> usize {
        self.rng.weighted(&self.place_weights)
    }

    fn phone(&mut self) -> String {
        let prefixes = [
            "138", "139", "135", "136", "186", "185", "150", "151", "177", "199",
        ];
        format!(
            "{}{:08}",
            prefixes[self.rng.below(prefixes.len())],
            self.rng.below(100_000_000)
        )
    }

    fn name(&mut self) -> String {
        let surnames = [
            "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱",
            "胡", "郭",
        ];
        let title = if self.rng.chance(0.5) {
            "女士"
        } else {
            "先生"
        };
        format!("{}{}", surnames[self.rng.below(surnames.len())], title)
    }

    fn enterprise(&mut self, place: &Place) -> intake::NewEnterprise {
        let kinds = [
            "科技有限公司",
            "餐饮管理有限公司",
            "商贸有限公司",
            "建筑工程有限公司",
            "文化传媒有限公司",
        ];
        let name = format!(
            "{}{}{}",
            self.city.short_name,
            place.spoken,
            kinds[self.rng.below(kinds.len())]
        );
        let alphabet: Vec<char> = "0123456789ABCDEFGHJKLMNPQRTUWXY".chars().collect();
        let body: String = "91"
            .chars()
            .chain(place.street.chars().take(6))
            .chain((0..9).map(|_| alphabet[self.rng.below(alphabet.len())]))
            .collect();
        let code = CreditCode::with_check(&body).expect("17 characters of the alphabet");
        intake::NewEnterprise {
            name,
            credit_code: code.as_str().to_string(),
        }
    }

    /// The templates' Beijing wording in the city served (北京市 → 广州市, 北京 → 广州).
    fn local(&self, text: &str) -> String {
        if self.city.code == crate::store::city::BEIJING {
            return text.to_string();
        }
        text.replace("北京市", &self.city.name)
            .replace("北京", &self.city.short_name)
            .replace("京籍", "本市户籍")
    }

    fn fill(&mut self, text: &str, place: &Place) -> String {
        text.replace("{p}", &place.spoken)
            .replace("{b}", &(1 + self.rng.below(24)).to_string())
            .replace("{h}", ["十一", "十二", "一", "两", "三"][self.rng.below(5)])
    }

    async fn arrive(&mut self) -> Result<(), AppError> {
        let month = (self.clock_now()
            + Duration::hours(i64::from(self.state.config.utc_offset_hours)))
        .month();
        let enterprise = self.rng.chance(ENTERPRISE_SHARE);
        let place_i = self.pick_place();
        let place = self.places[place_i].clone();
        let address = format!(
            "{}{}{}",
            place.district_name, place.street_name, place.spoken
        );
        let requester = |sim: &mut Sim, enterprise: bool, place: &Place| intake::NewRequester {
            name: sim.name(),
            phone: sim.phone(),
            enterprise: enterprise.then(|| sim.enterprise(place)),
            confidential: sim.rng.chance(0.03),
        };
        let channel = if enterprise {
            "enterprise"
        } else {
            [
                "phone", "phone", "phone", "phone", "phone", "phone", "phone", "web", "app",
                "wechat",
            ][self.rng.below(10)]
        };
        if self.rng.chance(CONSULTATION_SHARE) {
            let qs: Vec<&Question> = QUESTIONS
                .iter()
                .filter(|q| q.enterprise == enterprise || !enterprise)
                .collect();
            let weights: Vec<f64> = qs.iter().map(|q| q.weight).collect();
            let q = qs[self.rng.weighted(&weights)];
            let phrasing = q.texts[self.rng.below(q.texts.len())];
            let text = self.local(phrasing);
            let input = intake::NewRequest {
                kind: RequestKind::Consultation,
                channel: jiesu_core::Channel::parse(channel).unwrap_or(jiesu_core::Channel::Phone),
                merged_line: None,
                title: None,
                text,
                address: String::new(),
                category_code: Some(q.category.to_string()),
                requester: requester(self, enterprise, &place),
                suggestion_id: None,
                location: None,
                idempotency_key: None,
            };
            let id = intake::create(self.state, &self.operator, input).await?;
            self.count_in(q.category, enterprise);
            if self.rng.chance(ANSWERED_AT_INTAKE) {
                let answer = self.local(q.answer);
                intake::answer(self.state, &self.operator, &id, &answer, None).await?;
                self.summary.answered_at_intake += 1;
            } else {
                let t = self.clock_now() + Duration::minutes(5 + self.rng.below(40) as i64);
                self.place_of.insert(id.clone(), place_i);
                self.at(
                    t,
                    Ev::Dispatch {
                        request: id,
                        category: q.category.to_string(),
                        place: place_i,
                        lead: Lead::Owner,
                        retry: false,
                    },
                );
            }
            return Ok(());
        }
        let ps: Vec<&Problem> = PROBLEMS
            .iter()
            .filter(|p| !enterprise || p.enterprise)
            .collect();
        let weights: Vec<f64> = ps
            .iter()
            .map(|p| p.weight * p.season.factor(month))
            .collect();
        let mut p = ps[self.rng.weighted(&weights)];
        let (mut place_i, mut place, mut address) = (place_i, place, address);
        // A repeat reporter: the same problem at the same place as a recent open request, in
        // their own words; the operator merges it (并单).
        let now = self.clock_now();
        while self
            .recent
            .front()
            .is_some_and(|r| now - r.3 > Duration::days(3))
        {
            self.recent.pop_front();
        }
        let repeat_of = if !enterprise && !self.recent.is_empty() && self.rng.chance(REPEAT_SHARE) {
            let (id, pi, problem, _) = self.recent[self.rng.below(self.recent.len())].clone();
            p = &PROBLEMS[problem];
            place_i = pi;
            place = self.places[pi].clone();
            address = format!(
                "{}{}{}",
                place.district_name, place.street_name, place.spoken
            );
            Some(id)
        } else {
            None
        };
        let phrasing = p.texts[self.rng.below(p.texts.len())];
        let text = self.fill(phrasing, &place);
        let suggestion = suggest::suggest(
            self.state,
            suggest::SuggestInput {
                text: text.clone(),
                address: address.clone(),
                location: None,
            },
        )
        .await?;
        let input = intake::NewRequest {
            kind: RequestKind::parse(p.kind).unwrap_or(RequestKind::Complaint),
            channel: jiesu_core::Channel::parse(channel).unwrap_or(jiesu_core::Channel::Phone),
            merged_line: None,
            title: None,
            text,
            address,
            category_code: Some(p.category.to_string()),
            requester: requester(self, enterprise, &place),
            suggestion_id: Some(suggestion.suggestion_id),
            location: None,
            idempotency_key: None,
        };
        let id = intake::create(self.state, &self.operator, input).await?;
        self.count_in(p.category, enterprise);
        self.place_of.insert(id.clone(), place_i);
        if let Some(primary) = repeat_of {
            // The primary may have closed meanwhile: then this one is handled on its own.
            match intake::merge(self.state, &self.operator, &id, &primary).await {
                Ok(()) => {
                    self.summary.merged += 1;
                    return Ok(());
                }
                Err(AppError::Conflict(_)) | Err(AppError::Invalid(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let problem = PROBLEMS
            .iter()
            .position(|q| std::ptr::eq(q, p))
            .expect("a listed problem");
        self.recent.push_back((id.clone(), place_i, problem, now));
        if self.recent.len() > 5000 {
            self.recent.pop_front();
        }
        let t = now + Duration::minutes(5 + self.rng.below(40) as i64);
        self.at(
            t,
            Ev::Dispatch {
                request: id,
                category: p.category.to_string(),
                place: place_i,
                lead: p.lead,
                retry: false,
            },
        );
        Ok(())
    }

    fn count_in(&mut self, category: &str, enterprise: bool) {
        self.summary.requests += 1;
        if enterprise {
            self.summary.enterprise += 1;
        }
        *self
            .summary
            .by_category
            .entry(category.to_string())
            .or_default() += 1;
    }

    /// The lead unit and co-handlers for a request.
    fn targets(&mut self, category: &str, place: &Place, lead: Lead) -> Vec<DispatchTarget> {
        let owner = self.default_unit.get(category).cloned();
        let mut out = Vec::new();
        let lead_unit = match (lead, &owner) {
            (Lead::Owner, Some(o)) => o.clone(),
            _ => place.street.clone(),
        };
        out.push(DispatchTarget {
            unit_code: lead_unit.clone(),
            role: AssignmentRole::Lead,
        });
        match lead {
            Lead::Local => {
                if let Some(c) = place.community.clone().filter(|_| self.rng.chance(0.3)) {
                    out.push(DispatchTarget {
                        unit_code: c,
                        role: AssignmentRole::Co,
                    });
                }
                if let Some(o) = owner.filter(|o| *o != lead_unit && self.rng.chance(0.1)) {
                    out.push(DispatchTarget {
                        unit_code: o,
                        role: AssignmentRole::Co,
                    });
                }
            }
            Lead::Owner => {
                if lead_unit != place.street && self.rng.chance(0.2) {
                    out.push(DispatchTarget {
                        unit_code: place.street.clone(),
                        role: AssignmentRole::Co,
                    });
                }
            }
        }
        out
    }

    async fn dispatch(
        &mut self,
        request: &str,
        category: &str,
        place_i: usize,
        lead: Lead,
        retry: bool,
    ) -> Result<(), AppError> {
        let place = self.places[place_i].clone();
        // A re-dispatch after a return goes to the other side: the owner if the street
        // returned it, the street if the owner did.
        let lead = match (retry, lead) {
            (true, Lead::Local) => Lead::Owner,
            (true, Lead::Owner) => Lead::Local,
            (false, l) => l,
        };
        let targets = self.targets(category, &place, lead);
        if targets.len() > 1 {
            self.summary.multi_dispatched += 1;
        }
        handling::dispatch(
            self.state,
            &self.dispatcher,
            request,
            DispatchInput {
                assignments: targets,
                time_limit_class: None,
            },
        )
        .await?;
        self.schedule_acks(request, category, place_i, lead).await
    }

    /// Schedules an acknowledgement (or a return) for each new order of the request's round.
    async fn schedule_acks(
        &mut self,
        request: &str,
        category: &str,
        place_i: usize,
        lead: Lead,
    ) -> Result<(), AppError> {
        let orders = assignments::assignments_of(self.state.store.reader(), request).await?;
        let round = orders.iter().map(|o| o.round).max().unwrap_or(1);
        let progress = self.progress();
        for o in orders
            .iter()
            .filter(|o| o.round == round && o.status == AssignmentStatus::Dispatched)
        {
            self.summary.orders += 1;
            let q = self.profile(&o.unit_code).quality_at(progress);
            let (ack_limit, _) = self
                .class_minutes
                .get(&o.time_limit_class)
                .copied()
                .unwrap_or((120, 10080));
            let minutes = if self.rng.chance(0.55 + 0.44 * q) {
                self.rng.between(0.05, 0.95) * ack_limit as f64
            } else {
                self.rng.between(1.1, 6.0) * ack_limit as f64
            };
            let t = o.dispatched_at + Duration::seconds((minutes * 60.0) as i64);
            self.at(
                t,
                Ev::Ack {
                    order: o.id.clone(),
                    unit: o.unit_code.clone(),
                    request: request.to_string(),
                    category: category.to_string(),
                    place: place_i,
                    lead,
                },
            );
        }
        Ok(())
    }

    async fn acknowledge(
        &mut self,
        order: &str,
        unit: &str,
        request: &str,
        category: &str,
        place_i: usize,
        lead: Lead,
    ) -> Result<(), AppError> {
        let actor = self.unit_actor(unit).await?;
        let rows = assignments::assignments_of(self.state.store.reader(), request).await?;
        let Some(o) = rows.into_iter().find(|o| o.id == order) else {
            return Ok(());
        };
        if o.status != AssignmentStatus::Dispatched {
            return Ok(());
        }
        let profile = self.profile(unit);
        // A unit returns an order once; after a rejected return it gets on with it.
        let reviewed = crate::store::returns::reviews_of(self.state.store.reader(), request)
            .await?
            .iter()
            .any(|r| r.assignment_id == order);
        if o.role == AssignmentRole::Lead
            && o.round == 1
            && !reviewed
            && self.rng.chance(profile.return_p)
        {
            handling::unit_act(
                self.state,
                &actor,
                order,
                UnitVerb::Return,
                UnitActionInput {
                    reason: Some("经核实不属于本单位职责范围，建议改派。".into()),
                    ..Default::default()
                },
            )
            .await?;
            let t = self.clock_now() + Duration::minutes(20 + self.rng.below(100) as i64);
            self.at(
                t,
                Ev::ReviewReturn {
                    order: order.to_string(),
                    unit: unit.to_string(),
                    request: request.to_string(),
                    category: category.to_string(),
                    place: place_i,
                    lead,
                },
            );
            return Ok(());
        }
        handling::unit_act(
            self.state,
            &actor,
            order,
            UnitVerb::Acknowledge,
            UnitActionInput::default(),
        )
        .await?;
        if self.clock_now() > o.acknowledge_by {
            self.summary.acknowledged_late += 1;
            self.maybe_appeal(order, unit, Part::Response);
        }
        let q = profile.quality_at(self.progress());
        let (_, reply_limit) = self
            .class_minutes
            .get(&o.time_limit_class)
            .copied()
            .unwrap_or((120, 10080));
        // Working-day limits are longer in calendar time; aim within the nominal minutes.
        let share = if self.rng.chance(0.75 + 0.24 * q) {
            self.rng.between(0.05, 0.8)
        } else {
            self.rng.between(1.05, 1.6)
        };
        if o.time_limit_class != "emergency"
            && o.time_limit_class != "utilities"
            && self.rng.chance(0.03)
        {
            handling::unit_act(
                self.state,
                &actor,
                order,
                UnitVerb::Extension,
                UnitActionInput {
                    reason: Some("需协调多个部门联合处置，申请延期。".into()),
                    hours: Some(72),
                    ..Default::default()
                },
            )
            .await?;
            self.summary.extensions += 1;
            let t = self.clock_now() + Duration::minutes(60 + self.rng.below(180) as i64);
            self.at(
                t,
                Ev::Decide {
                    request: request.to_string(),
                },
            );
        }
        let t = self.working(
            self.clock_now() + Duration::seconds((share * reply_limit as f64 * 60.0) as i64),
        );
        self.at(
            t,
            Ev::Reply {
                order: order.to_string(),
                unit: unit.to_string(),
                request: request.to_string(),
            },
        );
        Ok(())
    }

    /// The dispatcher accepts most returns (the request is dispatched again) and rejects about
    /// one in five with a reason (the unit acknowledges and handles it after all).
    async fn review_return(
        &mut self,
        order: &str,
        unit: &str,
        request: &str,
        category: &str,
        place: usize,
        lead: Lead,
    ) -> Result<(), AppError> {
        let accept = !self.rng.chance(0.2);
        let input = ReviewInput {
            decision: if accept {
                ReturnDecision::Accept
            } else {
                ReturnDecision::Reject
            },
            reason: (!accept).then(|| "经核实该问题属于本单位职责范围，请继续办理。".to_string()),
        };
        crate::services::returns::review(self.state, &self.dispatcher, order, input).await?;
        let t = self.clock_now() + Duration::minutes(10 + self.rng.below(50) as i64);
        let (request, category) = (request.to_string(), category.to_string());
        if accept {
            self.summary.returned += 1;
            self.at(
                t,
                Ev::Dispatch {
                    request,
                    category,
                    place,
                    lead,
                    retry: true,
                },
            );
        } else {
            self.summary.return_rejected += 1;
            let (order, unit) = (order.to_string(), unit.to_string());
            self.at(
                t,
                Ev::Ack {
                    order,
                    unit,
                    request,
                    category,
                    place,
                    lead,
                },
            );
        }
        Ok(())
    }

    async fn decide(&mut self, request: &str) -> Result<(), AppError> {
        let pending: Vec<String> = extensions::extensions_of(self.state.store.reader(), request)
            .await?
            .into_iter()
            .filter(|e| e.status == ExtensionStatus::Pending)
            .map(|e| e.id)
            .collect();
        for id in pending {
            let approve = self.rng.chance(0.8);
            handling::decide_extension(self.state, &self.dispatcher, &id, approve).await?;
        }
        Ok(())
    }

    async fn reply(&mut self, order: &str, unit: &str, request: &str) -> Result<(), AppError> {
        let actor = self.unit_actor(unit).await?;
        let q = self.profile(unit).quality_at(self.progress());
        let outcome = if self.rng.chance(0.5 + 0.45 * q) {
            Outcome::Resolved
        } else if self.rng.chance(0.5) {
            Outcome::Partly
        } else {
            Outcome::Explained
        };
        let (to_requester, to_center) = reply_texts(outcome);
        if self
            .pass_down(order, unit, request, &actor, outcome)
            .await?
        {
            // The community replies later (Ev::SubReply); the callback follows its sign-off.
            return Ok(());
        } else {
            handling::unit_act(
                self.state,
                &actor,
                order,
                UnitVerb::Reply,
                UnitActionInput {
                    to_requester: Some(to_requester.into()),
                    to_center: Some(to_center.into()),
                    outcome: Some(outcome),
                    ..Default::default()
                },
            )
            .await?;
            self.summary.replies += 1;
        }
        self.after_reply(request).await
    }

    /// After a reply: a reply held for the center's check (办结审核) is checked a few hours
    /// later; a request replied by all its units is called back a day or two later.
    async fn after_reply(&mut self, request: &str) -> Result<(), AppError> {
        if self.review_pending(request).await? {
            let t = self.clock_now() + Duration::minutes(60 + self.review_rng.below(420) as i64);
            self.at(
                t,
                Ev::ReviewReply {
                    request: request.to_string(),
                },
            );
            return Ok(());
        }
        let req = requests::get(self.state.store.reader(), request)
            .await?
            .ok_or(AppError::NotFound("request"))?;
        if req.status == RequestStatus::Replied {
            let day = (self.clock_now()
                + Duration::hours(i64::from(self.state.config.utc_offset_hours)))
            .date_naive()
                + Duration::days(1 + self.rng.below(2) as i64);
            let t = local_time(
                self.state,
                day,
                9 + self.rng.below(9) as u32,
                self.rng.below(60) as u32,
            );
            self.at(
                t,
                Ev::Callback {
                    request: request.to_string(),
                },
            );
            for merged in requests::merged_into(self.state.store.reader(), request).await? {
                let t2 = t + Duration::minutes(10 + self.rng.below(120) as i64);
                self.at(t2, Ev::Callback { request: merged });
            }
        }
        Ok(())
    }

    /// After an order went badly for its unit, its manager sometimes appeals (about 3 % of
    /// such orders, more for the units that care about their ranking), within a day or so.
    fn maybe_appeal(&mut self, order: &str, unit: &str, part: Part) {
        let p = if self.profile(unit).quality >= 0.8 {
            0.08
        } else {
            0.03
        };
        if !self.appeal_rng.chance(p) {
            return;
        }
        let t = self.clock_now() + Duration::minutes(120 + self.appeal_rng.below(24 * 60) as i64);
        self.at(
            t,
            Ev::FileAppeal {
                order: order.to_string(),
                unit: unit.to_string(),
                part,
            },
        );
    }

    /// Files the appeal and schedules the center's decision 1–3 days later. The service
    /// refuses (409) an appeal of a frozen month or a part already appealed: the run loop
    /// counts that as a refused action and goes on.
    async fn file_appeal(&mut self, order: &str, unit: &str, part: Part) -> Result<(), AppError> {
        let reasons: &[&str] = match part {
            Part::Response => &[
                "派单时值班电话故障，已报修，附通话记录截图。",
                "工单派至本单位时已过下班时间，次日一早即签收，请求核减。",
            ],
            Part::Resolution => &[
                "诉求人要求超出政策规定，已依法依规答复解释，请求不计入解决率。",
                "该问题涉及历史遗留产权纠纷，非本单位职权可以解决，已向诉求人说明。",
                "已现场处置完毕，诉求人回访时表述有误，附处置前后照片。",
            ],
            Part::Satisfaction => &[
                "诉求人对政策本身不满，并非对办理过程不满，请求核减满意率。",
                "已按诉求人要求整改到位，诉求人因其他事项情绪激动给出不满意，附现场记录。",
            ],
        };
        let reason = reasons[self.appeal_rng.below(reasons.len())].to_string();
        let actor = self.unit_actor(unit).await?;
        let input = AppealInput {
            part,
            reason,
            evidence: Some("现场照片及处置记录已上传至本单位工作台。".into()),
        };
        let appeal = crate::services::appeals::file(self.state, &actor, order, input).await?;
        self.summary.appeals_filed += 1;
        let t = self.clock_now()
            + Duration::hours(24 + self.appeal_rng.below(48) as i64)
            + Duration::minutes(self.appeal_rng.below(60) as i64);
        self.at(t, Ev::DecideAppeal { appeal: appeal.id });
        Ok(())
    }

    /// The center grants about a third of the appeals and refuses the rest with a reason.
    async fn decide_appeal(&mut self, appeal: &str) -> Result<(), AppError> {
        let grant = self.appeal_rng.chance(1.0 / 3.0);
        let refusals = [
            "经核查，诉求属于本单位职责范围，申诉理由不成立。",
            "所附材料不足以证明诉求已解决，申诉不予支持。",
            "回访录音显示诉求人对办理结果不满意，维持原考核结果。",
        ];
        let input = if grant {
            DecisionInput {
                decision: Decision::Grant,
                reason: Some("经核实，申诉理由成立，予以核减。".into()),
            }
        } else {
            DecisionInput {
                decision: Decision::Refuse,
                reason: Some(refusals[self.appeal_rng.below(refusals.len())].into()),
            }
        };
        // Supervisors decide appeals, not the dispatchers whose dispatch they may contest.
        let supervisor = sim_user(self.state, "sim.supervisor", Role::Supervisor, None).await?;
        crate::services::appeals::decide(self.state, &supervisor, appeal, input).await?;
        if grant {
            self.summary.appeals_granted += 1;
        } else {
            self.summary.appeals_refused += 1;
        }
        Ok(())
    }

    async fn callback(&mut self, request: &str) -> Result<(), AppError> {
        let orders = assignments::assignments_of(self.state.store.reader(), request).await?;
        let req = requests::get(self.state.store.reader(), request)
            .await?
            .ok_or(AppError::NotFound("request"))?;
        let lead = orders
            .iter()
            .filter(|o| o.role == AssignmentRole::Lead && o.status != AssignmentStatus::Returned)
            .max_by_key(|o| o.round);
        let q = lead.map_or(0.7, |o| {
            self.profile(&o.unit_code).quality_at(self.progress())
        });
        let outcome_resolved = lead.and_then(|o| o.outcome) == Some(Outcome::Resolved);
        self.summary.callbacks += 1;
        let input = if !self.rng.chance(0.93) {
            CallbackInput {
                reached: false,
                resolved: None,
                satisfaction: None,
                note: Some("电话无人接听".into()),
            }
        } else {
            // Later rounds are more often settled.
            let boost = 0.15 * (req.round - 1) as f64;
            let resolved = self.rng.chance(
                if outcome_resolved {
                    0.6 + 0.38 * q
                } else {
                    0.2 + 0.3 * q
                } + boost,
            );
            let satisfaction = if resolved {
                if self.rng.chance(0.55 + 0.43 * q) {
                    Satisfaction::Satisfied
                } else {
                    Satisfaction::Basic
                }
            } else if self.rng.chance(0.8 - boost) {
                Satisfaction::Unsatisfied
            } else {
                Satisfaction::Basic
            };
            CallbackInput {
                reached: true,
                resolved: Some(resolved),
                satisfaction: Some(satisfaction),
                note: None,
            }
        };
        if let (Some(o), Some(resolved)) = (lead, input.resolved) {
            if !resolved {
                self.maybe_appeal(&o.id, &o.unit_code, Part::Resolution);
            } else if input.satisfaction == Some(Satisfaction::Unsatisfied) {
                self.maybe_appeal(&o.id, &o.unit_code, Part::Satisfaction);
            }
        }
        match callback::record(self.state, &self.agent, request, input).await? {
            CallbackOutcome::Close | CallbackOutcome::CloseUnreachable => self.summary.closed += 1,
            CallbackOutcome::Retry => {
                let t = self.clock_now() + Duration::hours(20 + self.rng.below(8) as i64);
                self.at(
                    t,
                    Ev::Callback {
                        request: request.to_string(),
                    },
                );
            }
            CallbackOutcome::Rework => {
                self.summary.reworks += 1;
                let (category, lead) = match req.category_code.as_deref() {
                    Some(c) => (
                        c.to_string(),
                        PROBLEMS
                            .iter()
                            .find(|p| p.category == c)
                            .map_or(Lead::Owner, |p| p.lead),
                    ),
                    None => (String::new(), Lead::Owner),
                };
                let place = self.place_of.get(request).copied().unwrap_or(0);
                self.schedule_acks(request, &category, place, lead).await?;
            }
            CallbackOutcome::Recorded => {}
        }
        Ok(())
    }
}

/// Lives `opts.days` days on `state`, whose clock must be `clock` (standing at or before the
/// start). `report` is called at the start of each day with the running totals, and at the end.
pub async fn run(
    state: &AppState,
    clock: &ManualClock,
    opts: Options,
    report: &mut dyn FnMut(u32, &Summary),
) -> Result<Summary, AppError> {
    let mut sim = Sim::new(state, clock, opts).await?;
    let now = sim.clock_now();
    if sim.start > now {
        clock.advance(sim.start - now);
    }
    sim.run(report).await?;
    Ok(sim.summary)
}

fn local_time(state: &AppState, day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let offset = state.config.offset();
    offset
        .from_local_datetime(
            &day.and_hms_opt(hour, minute.min(59), 0)
                .expect("valid time"),
        )
        .single()
        .expect("a fixed offset is unambiguous")
        .with_timezone(&Utc)
}

/// One order by id.
async fn handling_order(
    state: &AppState,
    id: &str,
) -> Result<crate::store::assignments::AssignmentRow, AppError> {
    let pool = state.store.reader();
    let request = crate::store::assignments::request_of_assignment(pool, id)
        .await?
        .ok_or(AppError::NotFound("assignment"))?;
    crate::store::assignments::assignments_of(pool, &request)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or(AppError::NotFound("assignment"))
}

/// What a unit writes back for an outcome: to the requester, and to the center.
fn reply_texts(outcome: Outcome) -> (&'static str, &'static str) {
    match outcome {
        Outcome::Resolved => (
            "您反映的问题我们已到现场核实并处理完毕，感谢您的监督。",
            "已现场核实，问题已处理，附整改前后照片。",
        ),
        Outcome::Partly => (
            "您反映的问题已部分处理，剩余部分正在协调，会尽快解决。",
            "已部分处理，剩余事项需协调相关单位，已制定计划。",
        ),
        _ => (
            "经核实，该问题涉及规划和权属，暂不具备处理条件，已向您解释说明。",
            "经核实暂不具备处理条件，已向诉求人解释。",
        ),
    }
}
