//! How sure the classifier is of texts that name no problem ("请有关部门处理", "您好"): trains
//! the default on classify_train.csv with NB scaling off and on, and prints each vague text's
//! top label and calibrated probability, and their mean. A model whose confidence means
//! something is unsure of them (below `JIESU_TEXT_CONFIDENT`, 0.6 by default).
//!
//! ```text
//! cargo run --release -p jiesu-text --example vague -- [../shared/data/tipdm2020/classify_train.csv]
//! ```

use jiesu_text::classify::{read_csv, train, TrainOptions};

/// Openings and closings of real messages, with no problem in them.
const VAGUE: &[&str] = &[
    "请有关部门处理",
    "您好",
    "我要反映一个问题",
    "请尽快解决",
    "谢谢",
    "投诉",
    "关于某某的问题 请领导重视",
    "市长您好，我想咨询一下",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "../shared/data/tipdm2020/classify_train.csv".into());
    let examples = read_csv(std::path::Path::new(&data))?;
    for nb in [false, true] {
        let mut opts = TrainOptions::default();
        opts.svm.nb_scale = nb;
        let model = train(&examples, &opts)?;
        println!(
            "NB scaling {}: temperature {:.3}",
            if nb { "on" } else { "off" },
            model.metrics().temperature
        );
        let mut sum = 0.0;
        for text in VAGUE {
            let (label, p) = model.predict_top(text).unwrap_or_default();
            sum += p;
            println!("  {text:<16} {label:<8} {p:.3}");
        }
        println!("  mean top probability {:.3}", sum / VAGUE.len() as f64);
    }
    Ok(())
}
