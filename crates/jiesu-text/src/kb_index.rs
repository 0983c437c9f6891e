//! Search over knowledge-base entries (知识库) by character bigrams: an inverted index (one
//! posting list per bigram) that entries join and leave one at a time as they are published
//! and expired, and the plain scan it replaced, kept as the benchmark's baseline and the
//! tests' oracle. Both rank by the same score; neither reads or writes anything.

use rustc_hash::{FxHashMap, FxHashSet};

/// Two consecutive letters or digits, lower-cased.
pub type Bigram = (char, char);

/// The bigrams of `text`, punctuation and spaces left out.
pub fn bigrams(text: &str) -> FxHashSet<Bigram> {
    let chars: Vec<char> = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect();
    chars.windows(2).map(|w| (w[0], w[1])).collect()
}

/// An entry as search sees it.
#[derive(Debug, Clone)]
pub struct KbDoc {
    /// The entry's id.
    pub id: String,
    /// Title and keywords: a match here weighs double.
    pub head: String,
    /// The answer.
    pub body: String,
    /// Offered from (milliseconds), if bounded.
    pub valid_from: Option<i64>,
    /// Offered until (milliseconds, exclusive), if bounded.
    pub valid_until: Option<i64>,
    /// Last change (milliseconds): the newer of two equal scores ranks first.
    pub updated_at: i64,
}

/// A hit: the entry's id and its score in 0..=1.
#[derive(Debug, Clone, PartialEq)]
pub struct KbMatch {
    /// The entry's id.
    pub id: String,
    /// The larger of two shares: of the query's bigrams found in the entry (title and
    /// keywords weigh double), and of the entry's title and keyword bigrams found in the
    /// query (a long request text covering a short question).
    pub score: f64,
}

#[derive(Debug, Clone)]
struct Slot {
    id: String,
    valid_from: Option<i64>,
    valid_until: Option<i64>,
    updated_at: i64,
    head_len: u32,
    live: bool,
    /// A fingerprint of the entry as indexed ([`fingerprint`]).
    print: u64,
}

/// What decides an entry's place in the index: its words and validity, and when it last
/// changed (two edits in one millisecond still differ by their words).
fn fingerprint(doc: &KbDoc) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    (
        &doc.head,
        &doc.body,
        doc.valid_from,
        doc.valid_until,
        doc.updated_at,
    )
        .hash(&mut h);
    h.finish()
}

impl Slot {
    fn valid_at(&self, now: i64) -> bool {
        self.live
            && self.valid_from.is_none_or(|f| f <= now)
            && self.valid_until.is_none_or(|u| u > now)
    }
}

fn score(weight: f64, head_hits: f64, head_len: u32, query_len: usize) -> f64 {
    let query_cover = weight / (2.0 * query_len as f64);
    let head_cover = head_hits / head_len.max(1) as f64;
    query_cover.max(head_cover)
}

/// The best `limit` of `(score, updated_at, id)` at or above `min_score`.
fn best(mut hits: Vec<(f64, i64, &str)>, limit: usize) -> Vec<KbMatch> {
    let order = |a: &(f64, i64, &str), b: &(f64, i64, &str)| {
        b.0.total_cmp(&a.0)
            .then_with(|| b.1.cmp(&a.1))
            .then_with(|| a.2.cmp(b.2))
    };
    if hits.len() > limit && limit > 0 {
        hits.select_nth_unstable_by(limit - 1, order);
        hits.truncate(limit);
    }
    hits.sort_by(order);
    hits.truncate(limit);
    hits.into_iter()
        .map(|(score, _, id)| KbMatch {
            id: id.to_string(),
            score,
        })
        .collect()
}

/// The inverted index. A posting is `slot << 1 | in_head`; an entry that leaves (or is
/// replaced) leaves a dead slot behind, swept out when they outnumber the live ones.
#[derive(Debug, Default)]
pub struct KbIndex {
    slots: Vec<Slot>,
    by_id: FxHashMap<String, u32>,
    postings: FxHashMap<Bigram, Vec<u32>>,
    dead: usize,
}

impl KbIndex {
    /// An index of `docs`.
    pub fn build(docs: impl IntoIterator<Item = KbDoc>) -> Self {
        let mut index = KbIndex::default();
        for d in docs {
            index.insert(d);
        }
        index
    }

    /// How many entries are in.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no entry is in.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Adds an entry, replacing the one with its id.
    pub fn insert(&mut self, doc: KbDoc) {
        self.remove(&doc.id);
        let print = fingerprint(&doc);
        let slot = self.slots.len() as u32;
        let head = bigrams(&doc.head);
        let body = bigrams(&doc.body);
        for b in &head {
            self.postings.entry(*b).or_default().push(slot << 1 | 1);
        }
        for b in body.difference(&head) {
            self.postings.entry(*b).or_default().push(slot << 1);
        }
        self.by_id.insert(doc.id.clone(), slot);
        self.slots.push(Slot {
            id: doc.id,
            valid_from: doc.valid_from,
            valid_until: doc.valid_until,
            updated_at: doc.updated_at,
            head_len: head.len() as u32,
            live: true,
            print,
        });
    }

    /// Whether the entry is in exactly as `doc` has it: a follower that reads an unchanged
    /// entry again leaves it where it is.
    pub fn holds(&self, doc: &KbDoc) -> bool {
        self.by_id
            .get(&doc.id)
            .is_some_and(|&s| self.slots[s as usize].print == fingerprint(doc))
    }

    /// Takes an entry out (no-op for an unknown id).
    pub fn remove(&mut self, id: &str) {
        if let Some(slot) = self.by_id.remove(id) {
            self.slots[slot as usize].live = false;
            self.dead += 1;
            if self.dead > 1024 && self.dead > self.by_id.len() {
                self.sweep();
            }
        }
    }

    /// Drops the dead slots and renumbers the live ones.
    fn sweep(&mut self) {
        let mut renumber = vec![u32::MAX; self.slots.len()];
        let mut slots = Vec::with_capacity(self.by_id.len());
        for (i, s) in self.slots.drain(..).enumerate() {
            if s.live {
                renumber[i] = slots.len() as u32;
                slots.push(s);
            }
        }
        for list in self.postings.values_mut() {
            list.retain_mut(|p| {
                let to = renumber[(*p >> 1) as usize];
                *p = to << 1 | (*p & 1);
                to != u32::MAX
            });
        }
        self.postings.retain(|_, l| !l.is_empty());
        self.by_id = slots
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i as u32))
            .collect();
        self.slots = slots;
        self.dead = 0;
    }

    /// The best `limit` entries valid at `now` (milliseconds) scoring at least `min_score`.
    pub fn search(&self, query: &str, now: i64, limit: usize, min_score: f64) -> Vec<KbMatch> {
        let q = bigrams(query);
        if q.is_empty() {
            return Vec::new();
        }
        let mut weight = vec![0u16; self.slots.len()];
        let mut heads = vec![0u16; self.slots.len()];
        let mut touched = Vec::new();
        for b in &q {
            for &p in self.postings.get(b).map(Vec::as_slice).unwrap_or(&[]) {
                let s = (p >> 1) as usize;
                if weight[s] == 0 {
                    touched.push(s);
                }
                let in_head = (p & 1) as u16;
                weight[s] += 1 + in_head;
                heads[s] += in_head;
            }
        }
        let hits = touched
            .into_iter()
            .filter(|&s| self.slots[s].valid_at(now))
            .filter_map(|s| {
                let slot = &self.slots[s];
                let sc = score(weight[s] as f64, heads[s] as f64, slot.head_len, q.len());
                (sc >= min_score).then_some((sc, slot.updated_at, slot.id.as_str()))
            })
            .collect();
        best(hits, limit)
    }
}

/// The plain scan: every entry's bigram sets, compared with the query one entry at a time.
#[derive(Debug, Default)]
pub struct KbScan {
    docs: Vec<(Slot, FxHashSet<Bigram>, FxHashSet<Bigram>)>,
}

impl KbScan {
    /// A scan over `docs`.
    pub fn build(docs: impl IntoIterator<Item = KbDoc>) -> Self {
        let docs = docs
            .into_iter()
            .map(|d| {
                let print = fingerprint(&d);
                let head = bigrams(&d.head);
                let body = bigrams(&d.body);
                let slot = Slot {
                    id: d.id,
                    valid_from: d.valid_from,
                    valid_until: d.valid_until,
                    updated_at: d.updated_at,
                    head_len: head.len() as u32,
                    live: true,
                    print,
                };
                (slot, head, body)
            })
            .collect();
        KbScan { docs }
    }

    /// As [`KbIndex::search`], by looking at every entry.
    pub fn search(&self, query: &str, now: i64, limit: usize, min_score: f64) -> Vec<KbMatch> {
        let q = bigrams(query);
        if q.is_empty() {
            return Vec::new();
        }
        let hits = self
            .docs
            .iter()
            .filter(|(slot, _, _)| slot.valid_at(now))
            .filter_map(|(slot, head, body)| {
                let mut weight = 0.0;
                let mut head_hits = 0.0;
                for b in &q {
                    if head.contains(b) {
                        weight += 2.0;
                        head_hits += 1.0;
                    } else if body.contains(b) {
                        weight += 1.0;
                    }
                }
                let sc = score(weight, head_hits, slot.head_len, q.len());
                (sc > 0.0 && sc >= min_score).then_some((sc, slot.updated_at, slot.id.as_str()))
            })
            .collect();
        best(hits, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, head: &str, body: &str, until: Option<i64>) -> KbDoc {
        KbDoc {
            id: id.into(),
            head: head.into(),
            body: body.into(),
            valid_from: None,
            valid_until: until,
            updated_at: id.len() as i64,
        }
    }

    fn docs() -> Vec<KbDoc> {
        vec![
            doc(
                "a",
                "居住证在哪里办理 居住证 户籍",
                "持身份证到派出所申领居住证。",
                None,
            ),
            doc(
                "bb",
                "公积金怎么提取 公积金",
                "通过网上业务系统申请提取。",
                None,
            ),
            doc(
                "ccc",
                "供暖不热找谁",
                "拨打供热公司电话报修，居住证无关。",
                Some(100),
            ),
            doc("dddd", "垃圾分类怎么投放", "厨余垃圾投放到绿色桶。", None),
        ]
    }

    #[test]
    fn an_entry_read_again_unchanged_is_held_and_an_edit_in_the_same_millisecond_is_not() {
        let mut index = KbIndex::build([doc("a", "居住证办理", "到街道办理", None)]);
        assert!(index.holds(&doc("a", "居住证办理", "到街道办理", None)));
        assert!(!index.holds(&doc("a", "居住证办理", "到社区办理", None)));
        assert!(!index.holds(&doc("b", "居住证办理", "到街道办理", None)));
        index.insert(doc("a", "居住证办理", "到社区办理", None));
        assert!(index.holds(&doc("a", "居住证办理", "到社区办理", None)));
        assert_eq!(index.search("社区办理", 0, 5, 0.1).len(), 1);
    }

    #[test]
    fn the_index_ranks_as_the_scan_does() {
        let index = KbIndex::build(docs());
        let scan = KbScan::build(docs());
        for q in [
            "请问居住证怎么办",
            "公积金提取",
            "供暖不热",
            "居住证",
            "垃圾",
            "天气",
        ] {
            for now in [0, 200] {
                assert_eq!(
                    index.search(q, now, 3, 0.0),
                    scan.search(q, now, 3, 0.0),
                    "{q} at {now}"
                );
            }
        }
        assert_eq!(index.search("请问居住证怎么办", 0, 3, 0.2)[0].id, "a");
    }

    #[test]
    fn entries_join_leave_and_expire() {
        let mut index = KbIndex::build(docs());
        assert_eq!(index.search("供暖不热", 50, 1, 0.3)[0].id, "ccc");
        assert!(
            index.search("供暖不热", 150, 1, 0.3).is_empty(),
            "past validity"
        );
        index.remove("ccc");
        assert!(index.search("供暖不热", 50, 1, 0.3).is_empty());
        index.insert(doc("ccc", "供暖不热找谁", "新的答复", None));
        assert_eq!(index.search("供暖不热", 150, 1, 0.3)[0].id, "ccc");
        assert_eq!(index.len(), 4);
        for i in 0..3000 {
            index.insert(doc(&format!("x{i}"), "临时条目", "内容", None));
            index.remove(&format!("x{i}"));
        }
        assert_eq!(index.len(), 4);
        assert!(index.slots.len() < 1100, "dead slots are swept");
        assert_eq!(index.search("公积金提取", 0, 1, 0.3)[0].id, "bb");
    }
}
