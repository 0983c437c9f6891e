//! The incremental hotspot index: each request joins the most similar live problem that
//! shares its place (or, when either names no place, a much more similar one found through
//! title LSH buckets), or starts a new problem. Owns problems and buckets; ranking and
//! wording are delegated to `heat` and `describe`.

use rustc_hash::{FxHashMap, FxHasher};
use std::hash::{Hash, Hasher};

use super::describe::{description, phrase, subject};
use super::features::Features;
use super::heat::{heat, HeatInputs};
use super::places::{bucket_key, same_place};
use super::terms::{cosine, dot, lsh_keys, merge, norm, vector, weigh, DocFreq, TermVec};
use super::time::DAY_MS;
use super::{HotspotConfig, HotspotRecord, Problem};

/// Titles kept per problem for its description and subject.
const SAMPLE_TITLES: usize = 8;
/// Place names and divisions counted per problem for its label.
const LABELS: usize = 8;

/// Where an inserted request went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Joined {
    /// The problem's id in this index (stable while the index lives).
    pub problem: u32,
    /// True when the request started the problem.
    pub created: bool,
    /// Similarity to the problem it joined (1 for a new one).
    pub similarity: f32,
}

#[derive(Debug, Clone)]
struct Cluster {
    places: Vec<Box<str>>,
    /// Bucket keys of `places`, compared before the names.
    place_keys: Vec<u64>,
    /// Sum of its requests' TF-IDF vectors (IDF as of each insert), heaviest terms only.
    centroid: TermVec,
    norm: f32,
    members: Vec<u32>,
    first: i64,
    last: i64,
    requesters: Vec<u64>,
    votes: u64,
    dissatisfied: u64,
    titles: Vec<Box<str>>,
    place_counts: Vec<(Box<str>, u32)>,
    area_counts: Vec<(Box<str>, u32)>,
    category_counts: Vec<(Box<str>, u32)>,
}

/// Requests grouped into problems (热点), incrementally. Insert in time order for the
/// grouping [`super::mine`] gives; `Send + Sync`, so a service can keep one behind a lock.
#[derive(Debug, Clone)]
pub struct HotspotIndex {
    cfg: HotspotConfig,
    df: DocFreq,
    clusters: Vec<Cluster>,
    /// Per problem: itself while live, else the problem it was merged into.
    alias: Vec<u32>,
    ids: Vec<Box<str>>,
    times: Vec<i64>,
    cluster_of: Vec<u32>,
    by_id: FxHashMap<Box<str>, u32>,
    place_buckets: FxHashMap<u64, Vec<u32>>,
    lsh_buckets: FxHashMap<u64, Vec<u32>>,
    latest: i64,
}

fn hash_str(s: &str) -> u64 {
    let mut h = FxHasher::default();
    s.hash(&mut h);
    h.finish()
}

fn bump(counts: &mut Vec<(Box<str>, u32)>, key: &str) {
    if let Some(c) = counts.iter_mut().find(|c| &*c.0 == key) {
        c.1 += 1;
    } else if counts.len() < LABELS {
        counts.push((key.into(), 1));
    }
}

fn top(counts: &[(Box<str>, u32)]) -> Option<&str> {
    // the first of the most frequent, so ties go to the earliest seen
    let mut best: Option<&(Box<str>, u32)> = None;
    for c in counts {
        if best.is_none_or(|b| c.1 > b.1) {
            best = Some(c);
        }
    }
    best.map(|b| &*b.0)
}

impl HotspotIndex {
    /// An empty index.
    pub fn new(cfg: HotspotConfig) -> Self {
        Self {
            cfg,
            df: DocFreq::default(),
            clusters: Vec::new(),
            alias: Vec::new(),
            ids: Vec::new(),
            times: Vec::new(),
            cluster_of: Vec::new(),
            by_id: FxHashMap::default(),
            place_buckets: FxHashMap::default(),
            lsh_buckets: FxHashMap::default(),
            latest: i64::MIN,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &HotspotConfig {
        &self.cfg
    }

    /// Number of indexed requests.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Number of problems (including single-request ones).
    pub fn problem_count(&self) -> usize {
        self.alias
            .iter()
            .enumerate()
            .filter(|(i, a)| *i as u32 == **a)
            .count()
    }

    /// The problem a request id is in now (problems that grow together are merged, so an
    /// id from [`Joined`] may later lead to the problem it was merged into).
    pub fn problem_of(&self, id: &str) -> Option<u32> {
        self.by_id
            .get(id)
            .map(|&i| self.root(self.cluster_of[i as usize]))
    }

    fn root(&self, mut c: u32) -> u32 {
        while self.alias[c as usize] != c {
            c = self.alias[c as usize];
        }
        c
    }

    /// Adds one request; a request id seen before is not added again and reports the
    /// problem it is in.
    pub fn insert(&mut self, record: &HotspotRecord) -> Joined {
        self.insert_features(Features::of(record))
    }

    pub(super) fn insert_features(&mut self, f: Features) -> Joined {
        if let Some(&i) = self.by_id.get(&f.id) {
            return Joined {
                problem: self.root(self.cluster_of[i as usize]),
                created: false,
                similarity: 1.0,
            };
        }
        self.df.add(&f.terms);
        let weighted = weigh(&f.terms, &self.df);
        let keys = lsh_keys(&f.title_terms, self.cfg.lsh_keys, &self.df);
        let place_keys: Vec<u64> = f
            .places
            .iter()
            .map(|p| hash_str(bucket_key(&p.name)))
            .collect();
        let cands = self.candidates(&keys, &place_keys);
        let best = self.best_match(&f, &place_keys, &weighted, &cands);
        let req = self.ids.len() as u32;
        let (mut problem, similarity, created) = match best {
            Some((c, sim)) => (c, sim, false),
            None => {
                self.clusters.push(self.new_cluster(&f));
                self.alias.push(self.clusters.len() as u32 - 1);
                (self.clusters.len() as u32 - 1, 1.0, true)
            }
        };
        self.join(problem, req, &f, &weighted);
        if !created {
            problem = self.absorb(problem, &cands, f.at);
        }
        for k in &place_keys {
            push_bucket(
                self.place_buckets.entry(*k).or_default(),
                problem,
                self.cfg.bucket_cap,
            );
        }
        for k in &keys {
            push_bucket(
                self.lsh_buckets.entry(*k).or_default(),
                problem,
                self.cfg.bucket_cap,
            );
        }
        self.by_id.insert(f.id.clone(), req);
        self.ids.push(f.id);
        self.times.push(f.at);
        self.cluster_of.push(problem);
        self.latest = self.latest.max(f.at);
        Joined {
            problem,
            created,
            similarity,
        }
    }

    /// Live problems in the request's place and LSH buckets, newest `bucket_cap` of each.
    fn candidates(&self, keys: &[u64], place_keys: &[u64]) -> Vec<u32> {
        let cap = self.cfg.bucket_cap;
        let mut cands: Vec<u32> = Vec::new();
        for (map, ks) in [(&self.place_buckets, place_keys), (&self.lsh_buckets, keys)] {
            for k in ks {
                if let Some(b) = map.get(k) {
                    cands.extend(b.iter().rev().take(cap).map(|&c| self.root(c)));
                }
            }
        }
        cands.sort_unstable();
        cands.dedup();
        cands
    }

    /// The similarity a request or problem needs to join `cl`, or `None` when their places
    /// differ: same place and category: `same_place_threshold`; same place but another
    /// category, or neither names a place: `loose_threshold`; only one names a place:
    /// `unplaced_threshold`.
    fn threshold(
        &self,
        places: &[&str],
        keys: &[u64],
        category: Option<&str>,
        cl: &Cluster,
    ) -> Option<f32> {
        let shared = places.iter().zip(keys).any(|(p, k)| {
            cl.places
                .iter()
                .zip(&cl.place_keys)
                .any(|(q, l)| k == l && same_place(p, q))
        });
        let other_category = match (category, top(&cl.category_counts)) {
            (Some(a), Some(b)) => a != b,
            _ => false,
        };
        if shared && !other_category {
            Some(self.cfg.same_place_threshold)
        } else if shared || (places.is_empty() && cl.places.is_empty()) {
            Some(self.cfg.loose_threshold)
        } else if places.is_empty() || cl.places.is_empty() {
            Some(self.cfg.unplaced_threshold)
        } else {
            None
        }
    }

    /// Merges live candidates that now read as the same problem as `c` into the larger of
    /// the two; returns the surviving id.
    fn absorb(&mut self, mut c: u32, cands: &[u32], at: i64) -> u32 {
        let gap = self.cfg.max_gap_days * DAY_MS;
        for &o in cands {
            let o = self.root(o);
            if o == c {
                continue;
            }
            let (a, b) = (&self.clusters[c as usize], &self.clusters[o as usize]);
            if at > b.last + gap || a.first > b.last + gap || b.first > a.last + gap {
                continue;
            }
            let places: Vec<&str> = a.places.iter().map(|p| &**p).collect();
            let category = top(&a.category_counts);
            let Some(threshold) = self.threshold(&places, &a.place_keys, category, b) else {
                continue;
            };
            if places.is_empty() != b.places.is_empty() {
                continue;
            }
            if similarity(&a.centroid, a.norm, &b.centroid, b.norm) >= threshold {
                let (keep, gone) = if (b.members.len(), c) > (a.members.len(), o) {
                    (o, c)
                } else {
                    (c, o)
                };
                self.merge_clusters(keep, gone);
                c = keep;
            }
        }
        c
    }

    fn merge_clusters(&mut self, keep: u32, gone: u32) {
        let empty = self.empty_cluster();
        let g = std::mem::replace(&mut self.clusters[gone as usize], empty);
        self.alias[gone as usize] = keep;
        let cap = self.cfg.centroid_terms;
        let k = &mut self.clusters[keep as usize];
        k.centroid = merge(&k.centroid, &g.centroid, cap);
        k.norm = norm(&k.centroid);
        k.members.extend(g.members);
        k.members.sort_unstable();
        k.first = k.first.min(g.first);
        k.last = k.last.max(g.last);
        for r in g.requesters {
            if let Err(at) = k.requesters.binary_search(&r) {
                k.requesters.insert(at, r);
            }
        }
        k.votes += g.votes;
        k.dissatisfied += g.dissatisfied;
        for t in g.titles {
            if k.titles.len() < SAMPLE_TITLES {
                k.titles.push(t);
            }
        }
        for (p, key) in g.places.into_iter().zip(g.place_keys) {
            if k.places.len() < 4 && !k.places.contains(&p) {
                k.places.push(p);
                k.place_keys.push(key);
            }
        }
        for (counts, other) in [
            (&mut k.place_counts, g.place_counts),
            (&mut k.area_counts, g.area_counts),
            (&mut k.category_counts, g.category_counts),
        ] {
            for (key, n) in other {
                for _ in 0..n {
                    bump(counts, &key);
                }
            }
        }
    }

    fn best_match(
        &self,
        f: &Features,
        keys: &[u64],
        weighted: &TermVec,
        cands: &[u32],
    ) -> Option<(u32, f32)> {
        let wn = norm(weighted);
        let gap = self.cfg.max_gap_days * DAY_MS;
        let places: Vec<&str> = f.places.iter().map(|p| p.name.as_str()).collect();
        let mut best: Option<(u32, f32)> = None;
        for &c in cands {
            let cl = &self.clusters[c as usize];
            if f.at > cl.last + gap || f.at < cl.first - gap {
                continue;
            }
            let Some(threshold) = self.threshold(&places, keys, f.category.as_deref(), cl) else {
                continue;
            };
            let sim = similarity(weighted, wn, &cl.centroid, cl.norm);
            if sim >= threshold && best.is_none_or(|b| sim > b.1) {
                best = Some((c, sim));
            }
        }
        best
    }

    fn new_cluster(&self, f: &Features) -> Cluster {
        Cluster {
            places: f.places.iter().map(|p| p.name.as_str().into()).collect(),
            place_keys: f
                .places
                .iter()
                .map(|p| hash_str(bucket_key(&p.name)))
                .collect(),
            first: f.at,
            last: f.at,
            ..self.empty_cluster()
        }
    }

    fn empty_cluster(&self) -> Cluster {
        Cluster {
            places: Vec::new(),
            place_keys: Vec::new(),
            centroid: Vec::new(),
            norm: 0.0,
            members: Vec::new(),
            first: i64::MAX,
            last: i64::MIN,
            requesters: Vec::new(),
            votes: 0,
            dissatisfied: 0,
            titles: Vec::new(),
            place_counts: Vec::new(),
            area_counts: Vec::new(),
            category_counts: Vec::new(),
        }
    }

    fn join(&mut self, c: u32, req: u32, f: &Features, weighted: &TermVec) {
        let cap = self.cfg.centroid_terms;
        let cl = &mut self.clusters[c as usize];
        cl.centroid = merge(&cl.centroid, weighted, cap);
        cl.norm = norm(&cl.centroid);
        cl.members.push(req);
        cl.first = cl.first.min(f.at);
        cl.last = cl.last.max(f.at);
        let who = f.requester.unwrap_or_else(|| hash_str(&f.id) | 1 << 63);
        if let Err(at) = cl.requesters.binary_search(&who) {
            cl.requesters.insert(at, who);
        }
        cl.votes += f.votes;
        cl.dissatisfied += f.dissatisfied as u64;
        if cl.titles.len() < SAMPLE_TITLES {
            cl.titles.push(f.title.clone());
        }
        let named = f
            .places
            .iter()
            .find(|p| cl.places.iter().any(|q| same_place(&p.name, q)));
        if let Some(p) = named {
            bump(&mut cl.place_counts, &p.name);
        }
        if let Some(a) = &f.area {
            bump(&mut cl.area_counts, a);
        }
        if let Some(k) = &f.category {
            bump(&mut cl.category_counts, k);
        }
    }

    /// The hottest problems with at least `min_requests` requests, hottest first; `as_of`
    /// (UTC ms, default: the latest request) sets what counts as recent and leaves out
    /// problems that start after it.
    pub fn problems(&self, top_n: usize, as_of: Option<i64>) -> Vec<Problem> {
        let as_of = as_of.unwrap_or(self.latest);
        let mut scored: Vec<(f64, u32)> = self
            .clusters
            .iter()
            .enumerate()
            .filter(|(i, _)| self.alias[*i] == *i as u32)
            .filter(|(_, c)| c.members.len() >= self.cfg.min_requests && c.first <= as_of)
            .map(|(i, c)| (heat(&self.heat_inputs(c, as_of), &self.cfg.heat), i as u32))
            .collect();
        scored.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(
                    self.clusters[a.1 as usize]
                        .first
                        .cmp(&self.clusters[b.1 as usize].first),
                )
                .then(a.1.cmp(&b.1))
        });
        scored
            .into_iter()
            .take(top_n)
            .enumerate()
            .map(|(rank, (h, c))| self.problem(c, rank + 1, h, as_of))
            .collect()
    }

    /// One live problem (any size), ranked 0, as of the latest request; `None` for an id
    /// that is not a live problem (see [`HotspotIndex::problem_of`]).
    pub fn problem_by_id(&self, problem: u32) -> Option<Problem> {
        let i = problem as usize;
        if i >= self.clusters.len() || self.alias[i] != problem {
            return None;
        }
        let inputs = self.heat_inputs(&self.clusters[i], self.latest);
        Some(self.problem(problem, 0, heat(&inputs, &self.cfg.heat), self.latest))
    }

    /// Live problems whose text is like `problem`'s wherever they are (举一反三): the
    /// IDF-weighted cosine of the centroids is at least `min_similarity`; places are not
    /// compared. Most similar first, at most `limit`, `problem` itself left out.
    pub fn similar(&self, problem: u32, min_similarity: f32, limit: usize) -> Vec<(u32, f32)> {
        let Some(me) = self.clusters.get(problem as usize) else {
            return Vec::new();
        };
        let mut out: Vec<(u32, f32)> = self
            .clusters
            .iter()
            .enumerate()
            .filter(|(i, _)| self.alias[*i] == *i as u32 && *i as u32 != problem)
            .map(|(i, c)| (i as u32, cosine(&me.centroid, &c.centroid, &self.df)))
            .filter(|(_, sim)| *sim >= min_similarity)
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(limit);
        out
    }

    fn heat_inputs(&self, c: &Cluster, as_of: i64) -> HeatInputs {
        let since = as_of - self.cfg.recent_days * DAY_MS;
        let recent = c
            .members
            .iter()
            .filter(|&&m| (since + 1..=as_of).contains(&self.times[m as usize]))
            .count();
        HeatInputs {
            requests: c.members.len() as u64,
            requesters: c.requesters.len() as u64,
            recent: recent as u64,
            votes: c.votes,
            dissatisfied: c.dissatisfied,
        }
    }

    fn problem(&self, c: u32, rank: usize, heat: f64, as_of: i64) -> Problem {
        let cl = &self.clusters[c as usize];
        let titles: Vec<&str> = cl.titles.iter().map(|t| &**t).collect();
        let place = match top(&cl.place_counts).or(cl.places.first().map(|p| &**p)) {
            Some(p) => p.to_string(),
            None => subject(&titles).unwrap_or_default(),
        };
        let mut strip: Vec<&str> = cl.places.iter().map(|p| &**p).collect();
        strip.extend(cl.place_counts.iter().map(|p| &*p.0));
        strip.push(&place);
        let phrase = self.representative(cl, &titles, &strip);
        Problem {
            rank,
            heat,
            description: description(&place, &phrase),
            place,
            area: top(&cl.area_counts).map(str::to_string),
            category: top(&cl.category_counts).map(str::to_string),
            from: cl.first,
            to: cl.last,
            request_ids: cl
                .members
                .iter()
                .map(|&m| self.ids[m as usize].to_string())
                .collect(),
            inputs: self.heat_inputs(cl, as_of),
        }
    }

    /// The phrase of the sample title closest to the problem's centroid.
    fn representative(&self, cl: &Cluster, titles: &[&str], strip: &[&str]) -> String {
        let mut best: Option<(f32, String)> = None;
        for t in titles {
            let p = phrase(t, strip);
            if p.chars().count() < 2 {
                continue;
            }
            let (_, title_vec) = vector(t, "", strip);
            // a phrase in one piece reads better than pieces around a cut-out place
            let pieces = p.matches('，').count() as f32;
            let sim = cosine(&title_vec, &cl.centroid, &self.df) / (1.0 + 0.5 * pieces);
            if best.as_ref().is_none_or(|b| sim > b.0) {
                best = Some((sim, p));
            }
        }
        best.map(|b| b.1).unwrap_or_default()
    }
}

/// Cosine of two weighted vectors with known norms (0 when either is empty).
fn similarity(a: &TermVec, na: f32, b: &TermVec, nb: f32) -> f32 {
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot(a, b) / (na * nb)
    }
}

/// Appends `c` unless it is already the newest entry; keeps at most `2 · cap` entries.
fn push_bucket(bucket: &mut Vec<u32>, c: u32, cap: usize) {
    if bucket.last() != Some(&c) {
        bucket.push(c);
    }
    if bucket.len() > 2 * cap.max(1) {
        bucket.drain(..bucket.len() - cap.max(1));
    }
}
