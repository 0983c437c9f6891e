use jiesu_text::place::Gazetteer;
use std::io::BufRead;
fn main() {
    let g = Gazetteer::from_units_csv(include_str!("../../../reference/units.csv")).unwrap();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let m = g.resolve(&line);
        let n = |u: &Option<jiesu_text::place::PlaceUnit>| {
            u.as_ref()
                .map(|u| format!("{} {}", u.code, u.name))
                .unwrap_or("-".into())
        };
        println!(
            "{line}\n  {:?} {} | {} | {} conf={:.3} matched={:?}",
            m.status,
            n(&m.district),
            n(&m.street),
            n(&m.community),
            m.confidence,
            m.matched
        );
        for a in &m.alternatives {
            println!(
                "    alt {} | {} | {} {:.3}",
                n(&a.district),
                n(&a.street),
                n(&a.community),
                a.confidence
            );
        }
    }
}
