//! The incremental hotspot index: each request joins the most similar live problem that
//! shares its place (or, when either names no place, a much more similar one found through
//! title LSH buckets), or starts a new problem. Owns problems and buckets; ranking and
//! wording are delegated to `heat` and `describe`.

use super::describe::{description, phrase, subject};
use super::docfreq::{cosine, lsh_keys, DocFreq};
use super::features::Features;
use super::growth::{Chunked, Sharded};
use super::heat::{heat, HeatInputs};
use super::place_ids::{hash_str, PlaceIds};
use super::terms::{dot, merge_into, norm, vector, Lookup, TermVec};
use super::time::DAY_MS;
use super::{HotspotConfig, HotspotRecord, Problem};

/// Titles kept per problem for its description and subject.
const SAMPLE_TITLES: usize = 8;
/// Place names and divisions counted per problem for its label.
const LABELS: usize = 8;
/// Places kept per problem: its first request's, then a merged problem's.
const PLACES: usize = 4;

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

/// What choosing candidates reads of a problem: whether it is live, its time range and its
/// places, kept apart from the [`Cluster`] in one cache line, so that a candidate which
/// fails here costs one miss (at 1 M requests most candidates do, and reading whole
/// clusters for them was most of the time of an insert).
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
struct Head {
    first: i64,
    last: i64,
    /// Itself while live, else the problem it was merged into.
    alias: u32,
    /// Its places' ids ([`PlaceIds`]), then [`NO_PLACE`].
    places: [u32; PLACES],
    /// The low bits of their bucket keys, compared before the keys themselves.
    keys: [u32; PLACES],
}

const NO_PLACE: u32 = u32::MAX;

/// A place id with the low bits of its bucket key.
type Keyed = (u32, u32);

impl Head {
    fn new(alias: u32) -> Head {
        Head {
            first: i64::MAX,
            last: i64::MIN,
            alias,
            places: [NO_PLACE; PLACES],
            keys: [0; PLACES],
        }
    }

    fn len(&self) -> usize {
        self.places.iter().take_while(|&&p| p != NO_PLACE).count()
    }

    fn places(&self) -> &[u32] {
        &self.places[..self.len()]
    }

    /// Its places with their keys' low bits, in a buffer of `PLACES`.
    fn keyed(&self) -> ([Keyed; PLACES], usize) {
        let mut out = [(NO_PLACE, 0); PLACES];
        for (o, (p, k)) in out.iter_mut().zip(self.places.iter().zip(self.keys)) {
            *o = (*p, k);
        }
        (out, self.len())
    }

    fn push_place(&mut self, (p, key): Keyed) {
        let n = self.len();
        if n < PLACES {
            self.places[n] = p;
            self.keys[n] = key;
        }
    }
}

#[derive(Debug, Clone)]
struct Cluster {
    /// Sum of its requests' TF-IDF vectors (IDF as of each insert), heaviest terms only.
    centroid: TermVec,
    norm: f32,
    members: Vec<u32>,
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
    clusters: Chunked<Cluster>,
    /// Per cluster, what candidate filtering reads.
    heads: Chunked<Head>,
    ids: Chunked<Box<str>>,
    times: Chunked<i64>,
    cluster_of: Chunked<u32>,
    by_id: Sharded<Box<str>, u32>,
    place_buckets: Sharded<u64, Vec<u32>>,
    lsh_buckets: Sharded<u64, Vec<u32>>,
    places: PlaceIds,
    latest: i64,
    /// Buffers reused between inserts.
    cands: Vec<u32>,
    merged: TermVec,
    query: Lookup,
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
            clusters: Chunked::default(),
            heads: Chunked::default(),
            ids: Chunked::default(),
            times: Chunked::default(),
            cluster_of: Chunked::default(),
            by_id: Sharded::default(),
            place_buckets: Sharded::default(),
            lsh_buckets: Sharded::default(),
            places: PlaceIds::default(),
            latest: i64::MIN,
            cands: Vec::new(),
            merged: Vec::new(),
            query: Lookup::default(),
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
        self.heads
            .iter()
            .enumerate()
            .filter(|(i, h)| *i as u32 == h.alias)
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
        while self.heads[c as usize].alias != c {
            c = self.heads[c as usize].alias;
        }
        c
    }

    /// Adds one request; a request id seen before is not added again and reports the
    /// problem it is in.
    pub fn insert(&mut self, record: &HotspotRecord) -> Joined {
        self.insert_features(&Features::of(record))
    }

    /// [`HotspotIndex::insert`] with the features computed.
    pub(super) fn insert_features(&mut self, f: &Features) -> Joined {
        if let Some(&i) = self.by_id.get(&f.id) {
            return Joined {
                problem: self.root(self.cluster_of[i as usize]),
                created: false,
                similarity: 1.0,
            };
        }
        let weighted = self.df.add_weighed(&f.terms);
        let keys = lsh_keys(&f.title_terms, self.cfg.lsh_keys, &self.df);
        let ids: Vec<u32> = f
            .places
            .iter()
            .map(|p| self.places.intern(&p.name))
            .collect();
        let place_keys: Vec<u64> = ids.iter().map(|&p| self.places.key(p)).collect();
        let places: Vec<Keyed> = ids
            .iter()
            .zip(&place_keys)
            .map(|(&p, &k)| (p, k as u32))
            .collect();
        let mut cands = std::mem::take(&mut self.cands);
        self.candidates(&keys, &place_keys, f.at, &mut cands);
        let best = self.best_match(f, &places, &weighted, &cands);
        let req = self.ids.len() as u32;
        let (mut problem, similarity, created) = match best {
            Some((c, sim)) => (c, sim, false),
            None => {
                self.new_cluster(&places);
                (self.clusters.len() as u32 - 1, 1.0, true)
            }
        };
        self.join(problem, req, f, &places, &weighted);
        if !created {
            problem = self.absorb(problem, &cands, f.at);
        }
        self.cands = cands;
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
        self.ids.push(f.id.clone());
        self.times.push(f.at);
        self.cluster_of.push(problem);
        self.latest = self.latest.max(f.at);
        Joined {
            problem,
            created,
            similarity,
        }
    }

    /// Live problems in the request's place and LSH buckets, newest `bucket_cap` of each,
    /// into `cands`, leaving out those whose last request is too long before `at` to take
    /// the request or to be merged.
    fn candidates(&self, keys: &[u64], place_keys: &[u64], at: i64, cands: &mut Vec<u32>) {
        let cap = self.cfg.bucket_cap;
        let gap = self.cfg.max_gap_days * DAY_MS;
        cands.clear();
        for (map, ks) in [(&self.place_buckets, place_keys), (&self.lsh_buckets, keys)] {
            for k in ks {
                if let Some(b) = map.get(k) {
                    for &c in b.iter().rev().take(cap) {
                        let c = self.root(c);
                        if at <= self.heads[c as usize].last + gap {
                            cands.push(c);
                        }
                    }
                }
            }
        }
        cands.sort_unstable();
        cands.dedup();
    }

    /// The similarity a request or problem needs to join `cl`, or `None` when their places
    /// differ: same place and category: `same_place_threshold`; same place but another
    /// category, or neither names a place: `loose_threshold`; only one names a place:
    /// `unplaced_threshold`.
    fn threshold(&self, places: &[Keyed], category: Option<&str>, c: u32) -> Option<f32> {
        let head = &self.heads[c as usize];
        let (theirs, n) = head.keyed();
        // ids and key bits decide most candidates without reading names or the cluster
        let shared = places.iter().any(|&(p, k)| {
            theirs[..n]
                .iter()
                .any(|&(q, l)| p == q || (k == l && self.places.same_keyed(p, q)))
        });
        let other_category = category.is_some_and(|a| {
            top(&self.clusters[c as usize].category_counts).is_some_and(|b| a != b)
        });
        if shared && !other_category {
            Some(self.cfg.same_place_threshold)
        } else if shared || (places.is_empty() && n == 0) {
            Some(self.cfg.loose_threshold)
        } else if places.is_empty() || n == 0 {
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
            let (a, b) = (self.heads[c as usize], &self.heads[o as usize]);
            if at > b.last + gap || a.first > b.last + gap || b.first > a.last + gap {
                continue;
            }
            if (a.len() == 0) != (b.len() == 0) {
                continue;
            }
            let ca = &self.clusters[c as usize];
            let category = top(&ca.category_counts);
            let (places, n) = a.keyed();
            let Some(threshold) = self.threshold(&places[..n], category, o) else {
                continue;
            };
            let cb = &self.clusters[o as usize];
            if similarity(&ca.centroid, ca.norm, &cb.centroid, cb.norm) >= threshold {
                let (keep, gone) = if (cb.members.len(), c) > (ca.members.len(), o) {
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
        let gh = std::mem::replace(&mut self.heads[gone as usize], Head::new(keep));
        let cap = self.cfg.centroid_terms;
        let k = &mut self.clusters[keep as usize];
        let kh = &mut self.heads[keep as usize];
        merge_into(&mut k.centroid, &g.centroid, cap, &mut self.merged);
        k.norm = norm(&k.centroid);
        k.members.extend(g.members);
        k.members.sort_unstable();
        kh.first = kh.first.min(gh.first);
        kh.last = kh.last.max(gh.last);
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
        let (gone_places, n) = gh.keyed();
        for &(p, key) in &gone_places[..n] {
            if kh.len() < PLACES && !kh.places().contains(&p) {
                kh.push_place((p, key));
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
        &mut self,
        f: &Features,
        places: &[Keyed],
        weighted: &TermVec,
        cands: &[u32],
    ) -> Option<(u32, f32)> {
        let wn = norm(weighted);
        let gap = self.cfg.max_gap_days * DAY_MS;
        let mut query = std::mem::take(&mut self.query);
        query.fill(weighted);
        let mut best: Option<(u32, f32)> = None;
        for &c in cands {
            let head = &self.heads[c as usize];
            if f.at > head.last + gap || f.at < head.first - gap {
                continue;
            }
            let Some(threshold) = self.threshold(places, f.category.as_deref(), c) else {
                continue;
            };
            let cl = &self.clusters[c as usize];
            // `similarity`, with the request's terms in a table
            let sim = if wn == 0.0 || cl.norm == 0.0 {
                0.0
            } else {
                query.dot(&cl.centroid) / (wn * cl.norm)
            };
            if sim >= threshold && best.is_none_or(|b| sim > b.1) {
                best = Some((c, sim));
            }
        }
        self.query = query;
        best
    }

    /// Appends an empty cluster at `places`.
    fn new_cluster(&mut self, places: &[Keyed]) {
        let mut head = Head::new(self.clusters.len() as u32);
        for &p in places {
            head.push_place(p);
        }
        self.clusters.push(self.empty_cluster());
        self.heads.push(head);
    }

    fn empty_cluster(&self) -> Cluster {
        Cluster {
            centroid: Vec::new(),
            norm: 0.0,
            members: Vec::new(),
            requesters: Vec::new(),
            votes: 0,
            dissatisfied: 0,
            titles: Vec::new(),
            place_counts: Vec::new(),
            area_counts: Vec::new(),
            category_counts: Vec::new(),
        }
    }

    fn join(&mut self, c: u32, req: u32, f: &Features, places: &[Keyed], w: &TermVec) {
        let cap = self.cfg.centroid_terms;
        let cl = &mut self.clusters[c as usize];
        merge_into(&mut cl.centroid, w, cap, &mut self.merged);
        cl.norm = norm(&cl.centroid);
        cl.members.push(req);
        let head = &mut self.heads[c as usize];
        head.first = head.first.min(f.at);
        head.last = head.last.max(f.at);
        let who = f.requester.unwrap_or_else(|| hash_str(&f.id) | 1 << 63);
        if let Err(at) = cl.requesters.binary_search(&who) {
            cl.requesters.insert(at, who);
        }
        cl.votes += f.votes;
        cl.dissatisfied += f.dissatisfied as u64;
        if cl.titles.len() < SAMPLE_TITLES {
            cl.titles.push(f.title.clone());
        }
        let named = places
            .iter()
            .find(|&&(p, _)| head.places().iter().any(|&q| self.places.same(p, q)));
        if let Some(&(p, _)) = named {
            bump(&mut cl.place_counts, self.places.name(p));
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
            .filter(|(i, _)| self.heads[*i].alias == *i as u32)
            .filter(|(i, c)| {
                c.members.len() >= self.cfg.min_requests && self.heads[*i].first <= as_of
            })
            .map(|(i, c)| (heat(&self.heat_inputs(c, as_of), &self.cfg.heat), i as u32))
            .collect();
        scored.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(
                    self.heads[a.1 as usize]
                        .first
                        .cmp(&self.heads[b.1 as usize].first),
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
        if i >= self.clusters.len() || self.heads[i].alias != problem {
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
            .filter(|(i, _)| self.heads[*i].alias == *i as u32 && *i as u32 != problem)
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
        let head = &self.heads[c as usize];
        let titles: Vec<&str> = cl.titles.iter().map(|t| &**t).collect();
        let first_place = head.places().first().map(|&p| self.places.name(p));
        let place = match top(&cl.place_counts).or(first_place) {
            Some(p) => p.to_string(),
            None => subject(&titles).unwrap_or_default(),
        };
        let mut strip: Vec<&str> = head.places().iter().map(|&p| self.places.name(p)).collect();
        strip.extend(cl.place_counts.iter().map(|p| &*p.0));
        strip.push(&place);
        let phrase = self.representative(cl, &titles, &strip);
        Problem {
            rank,
            heat,
            description: description(&place, &phrase),
            place,
            keys: head
                .places()
                .iter()
                .map(|&p| self.places.name(p).to_string())
                .collect(),
            area: top(&cl.area_counts).map(str::to_string),
            category: top(&cl.category_counts).map(str::to_string),
            from: head.first,
            to: head.last,
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
