//! Requests for measuring hotspot mining: the real TipDM 附件3 messages read from their CSV,
//! and seeded synthetic requests of any number built from them. Shared by the evaluation
//! tests, `crates/jiesu/benches/hotspots.rs` and `examples/hotspots_profile.rs`, so they
//! mine the same requests for a seed. Not used by mining itself.

use std::path::Path;

use super::places::extract;
use super::time::{parse_timestamp, DAY_MS};
use super::HotspotRecord;
use crate::seeded::Rng;

/// Why the messages could not be read.
pub type ReadError = Box<dyn std::error::Error + Send + Sync>;

/// The 附件3 messages (`fujian3_messages_with_votes.csv`) with their user, votes and
/// China-time timestamps.
pub fn read_messages(path: &Path) -> Result<Vec<HotspotRecord>, ReadError> {
    let mut reader = csv::Reader::from_path(path)?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("{}: no column {name}", path.display()))
    };
    let (id, user, title, at, text, down, up) = (
        col("留言编号")?,
        col("留言用户")?,
        col("留言主题")?,
        col("留言时间")?,
        col("留言详情")?,
        col("反对数")?,
        col("点赞数")?,
    );
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row?;
        out.push(HotspotRecord {
            id: row[id].to_string(),
            submitted_at: parse_timestamp(&row[at], 480)?,
            title: row[title].to_string(),
            text: row[text].to_string(),
            upvotes: row[up].trim().parse().unwrap_or(0),
            downvotes: row[down].trim().parse().unwrap_or(0),
            requester: Some(row[user].to_string()),
            ..Default::default()
        });
    }
    Ok(out)
}

/// `n` generated estate names: three characters from a pool, then an estate ending.
pub fn place_pool(rng: &mut Rng, n: usize) -> Vec<String> {
    let chars: Vec<char> =
        "金银华盛兴隆安康泰和平阳光新明春秋景瑞祥福德嘉丽锦绣翠湖江山河海星月松竹梅兰"
            .chars()
            .collect();
    let ends = ["小区", "花园", "苑", "新城", "家园", "公寓"];
    (0..n)
        .map(|_| {
            let a = chars[rng.below(chars.len())];
            let b = chars[rng.below(chars.len())];
            let c = chars[rng.below(chars.len())];
            format!("{a}{b}{c}{}", ends[rng.below(ends.len())])
        })
        .collect()
}

/// `n` requests from the `real` ones: each takes a real message with its places replaced by
/// one of 50,000 generated places and a time in 2025; 30 % repeat one of 5,000 hot
/// (message, place, month) triples with a filler phrase added, so hot problems exist at
/// every size. The same `real`, `n` and `seed` give the same requests.
pub fn synthetic(real: &[HotspotRecord], n: usize, seed: u64) -> Vec<HotspotRecord> {
    let mut rng = Rng::new(seed);
    let places = place_pool(&mut rng, 50_000);
    let t0 = parse_timestamp("2025-01-01 00:00:00", 480).expect("a fixed valid time");
    let hot: Vec<(usize, usize, i64)> = (0..5_000)
        .map(|_| {
            (
                rng.below(real.len()),
                rng.below(places.len()),
                rng.below(330) as i64,
            )
        })
        .collect();
    let fillers = ["请尽快处理", "再次反映", "投诉", "希望解决", ""];
    (0..n)
        .map(|i| {
            let (m, p, day) = if rng.f64() < 0.3 {
                let (m, p, d) = hot[rng.below(hot.len())];
                (m, p, d + rng.below(30) as i64)
            } else {
                (
                    rng.below(real.len()),
                    rng.below(places.len()),
                    rng.below(365) as i64,
                )
            };
            let src = &real[m];
            let mut title = src.title.clone();
            let mut text: String = src.text.chars().take(400).collect();
            for old in extract(&format!("{}。{}", src.title, text)) {
                title = title.replace(&old.name, &places[p]);
                text = text.replace(&old.name, &places[p]);
            }
            if extract(&title).is_empty() {
                title = format!("{}{}", places[p], title);
            }
            title.push_str(fillers[rng.below(fillers.len())]);
            HotspotRecord {
                id: format!("s{i}"),
                submitted_at: t0 + day * DAY_MS + rng.below(86_400_000) as i64,
                title,
                text,
                upvotes: if rng.below(10) == 0 {
                    rng.below(50) as u32
                } else {
                    0
                },
                requester: Some(format!("u{}", rng.below(n / 2 + 1))),
                ..Default::default()
            }
        })
        .collect()
}
