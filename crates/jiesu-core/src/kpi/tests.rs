//! Hand-computed fixtures and properties of the rates and the ranking.

use super::*;

fn tally(d: u64, ack: u64, cb: u64, res: u64, sat: u64, basic: u64) -> Tally {
    Tally {
        dispatched: d,
        acknowledged_on_time: ack,
        called_back: cb,
        resolved: res,
        satisfied: sat,
        basic,
        volume: d,
        ..Tally::default()
    }
}

#[test]
fn callbacks_exempt_by_a_granted_appeal_leave_that_rate_only() {
    // 4 reached callbacks: 1 resolved and satisfied, 3 unresolved and unsatisfied; one of the
    // unresolved is exempt from resolution (appeal granted), none from satisfaction.
    let t = Tally {
        resolution_exempt: 1,
        ..tally(4, 4, 4, 1, 1, 0)
    };
    let r = rates(&t, &KpiRules::default());
    assert_eq!(r.resolution_rate, Some(1.0 / 3.0));
    assert_eq!(r.satisfaction_rate, Some(0.25));
    // Every callback exempt from satisfaction: no satisfaction rate at all.
    let t = Tally {
        satisfaction_exempt: 4,
        ..tally(4, 4, 4, 1, 0, 0)
    };
    let r = rates(&t, &KpiRules::default());
    assert_eq!(r.satisfaction_rate, None);
    assert_eq!(r.resolution_rate, Some(0.25));
}

#[test]
fn co_handlers_count_callbacks_only_when_the_rules_say_so() {
    // A co-handler: 4 orders, all on time; 3 reached callbacks on its rounds, 1 resolved and
    // satisfied, 2 unresolved and unsatisfied.
    let t = Tally {
        co_called_back: 3,
        co_resolved: 1,
        co_satisfied: 1,
        ..tally(4, 4, 0, 0, 0, 0)
    };
    let lead_only = rates(&t, &KpiRules::default());
    assert_eq!(
        (
            lead_only.resolution_rate,
            lead_only.satisfaction_rate,
            lead_only.composite
        ),
        (None, None, 100.0)
    );
    let rules = KpiRules {
        callbacks_count_for: CallbackAttribution::LeadAndCo,
        ..KpiRules::default()
    };
    let shared = rates(&t, &rules);
    // 100·(0.2·1 + 0.4·1/3 + 0.4·1/3) = 46.666667
    assert_eq!(shared.resolution_rate, Some(1.0 / 3.0));
    assert_eq!(shared.composite, 46.666667);
    // Old rules without the field read as lead-only.
    let old: KpiRules = serde_json::from_str(
        r#"{"version":"v0","w_response":0.2,"w_resolution":0.4,"w_satisfaction":0.4,"basic_weight":0.8,"class_size":10}"#,
    )
    .unwrap();
    assert_eq!(old.callbacks_count_for, CallbackAttribution::Lead);
    assert!(!old.volume_per_10k);
}

#[test]
fn rates_follow_the_hand_computed_fixture() {
    // 10 orders, 9 on time; 8 callbacks: 6 resolved, 5 satisfied, 2 basic, 1 unsatisfied.
    let r = rates(&tally(10, 9, 8, 6, 5, 2), &KpiRules::default());
    assert_eq!(r.response_rate, Some(0.9));
    assert_eq!(r.resolution_rate, Some(0.75));
    assert_eq!(r.satisfaction_rate, Some((5.0 + 0.8 * 2.0) / 8.0));
    // 100 × (0.2·0.9 + 0.4·0.75 + 0.4·0.825) = 81.0
    assert_eq!(r.composite, 81.0);
}

#[test]
fn empty_denominators_are_absent_and_do_not_punish() {
    let r = rates(&Tally::default(), &KpiRules::default());
    assert_eq!(
        (r.response_rate, r.resolution_rate, r.satisfaction_rate),
        (None, None, None)
    );
    assert_eq!(r.composite, 100.0);
    let r = rates(&tally(4, 2, 0, 0, 0, 0), &KpiRules::default());
    assert_eq!(r.composite, 100.0 * (0.2 * 0.5 + 0.4 + 0.4));
}

#[test]
fn rules_are_validated() {
    assert!(KpiRules::default().validate().is_ok());
    let bad = KpiRules {
        w_response: 0.5,
        ..KpiRules::default()
    };
    assert!(bad.validate().is_err());
    let bad = KpiRules {
        basic_weight: 1.5,
        ..KpiRules::default()
    };
    assert!(bad.validate().is_err());
    let bad = KpiRules {
        class_size: 0,
        ..KpiRules::default()
    };
    assert!(bad.validate().is_err());
}

fn input(code: &str, composite: f64, volume: f64, prev: Option<usize>) -> RankInput {
    RankInput {
        code: code.into(),
        rates: Rates {
            response_rate: None,
            resolution_rate: None,
            satisfaction_rate: None,
            composite,
        },
        volume,
        previous_rank: prev,
    }
}

#[test]
fn four_classes_are_disjoint_and_follow_the_documented_order() {
    let rules = KpiRules {
        class_size: 2,
        ..KpiRules::default()
    };
    let units = vec![
        input("a", 95.0, 10.0, Some(1)),
        input("b", 94.0, 500.0, Some(2)), // highest volume: governance, not leading
        input("c", 93.0, 10.0, Some(9)),  // leading (2nd free best)
        input("d", 90.0, 10.0, Some(10)), // gained 6: improving
        input("e", 89.0, 400.0, Some(3)), // governance
        input("f", 88.0, 10.0, Some(8)),  // gained 2: improving
        input("g", 87.0, 10.0, Some(4)),  // lost: no class
        input("h", 80.0, 10.0, Some(5)),  // rectify
        input("i", 70.0, 10.0, None),     // rectify
    ];
    let got: Vec<(String, usize, Option<RankClass>)> = rank(&units, &rules)
        .into_iter()
        .map(|r| (r.code, r.rank, r.class))
        .collect();
    use RankClass::*;
    let want = vec![
        ("a", 1, Some(Leading)),
        ("b", 2, Some(PriorityGovernance)),
        ("c", 3, Some(Leading)),
        ("d", 4, Some(Improving)),
        ("e", 5, Some(PriorityGovernance)),
        ("f", 6, Some(Improving)),
        ("g", 7, None),
        ("h", 8, Some(Rectify)),
        ("i", 9, Some(Rectify)),
    ];
    let want: Vec<(String, usize, Option<RankClass>)> = want
        .into_iter()
        .map(|(c, r, k)| (c.to_string(), r, k))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn ties_break_by_volume_then_code_so_the_ranking_is_a_total_order() {
    let units = vec![
        input("b", 90.0, 5.0, None),
        input("a", 90.0, 5.0, None),
        input("c", 90.0, 7.0, None),
    ];
    let got: Vec<String> = rank(&units, &KpiRules::default())
        .into_iter()
        .map(|r| r.code)
        .collect();
    assert_eq!(got, ["c", "a", "b"]);
}

/// Small deterministic generator for property checks.
fn lcg(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

#[test]
fn properties_rates_in_range_composite_monotone_ranking_total() {
    let rules = KpiRules::default();
    let mut seed = 7u64;
    for _ in 0..2000 {
        let d = lcg(&mut seed) % 50;
        let ack = lcg(&mut seed) % (d + 1);
        let cb = lcg(&mut seed) % 40;
        let res = lcg(&mut seed) % (cb + 1);
        let sat = lcg(&mut seed) % (cb + 1);
        let basic = lcg(&mut seed) % (cb - sat + 1);
        let t = tally(d, ack, cb, res, sat, basic);
        let r = rates(&t, &rules);
        for v in [r.response_rate, r.resolution_rate, r.satisfaction_rate]
            .into_iter()
            .flatten()
        {
            assert!((0.0..=1.0).contains(&v), "{t:?}");
        }
        assert!((0.0..=100.0).contains(&r.composite));
        // One more on-time acknowledgement, resolution or satisfied answer never lowers it.
        if ack < d {
            assert!(
                rates(
                    &Tally {
                        acknowledged_on_time: ack + 1,
                        ..t
                    },
                    &rules
                )
                .composite
                    >= r.composite
            );
        }
        if res < cb {
            assert!(
                rates(
                    &Tally {
                        resolved: res + 1,
                        ..t
                    },
                    &rules
                )
                .composite
                    >= r.composite
            );
        }
        if basic > 0 {
            assert!(
                rates(
                    &Tally {
                        satisfied: sat + 1,
                        basic: basic - 1,
                        ..t
                    },
                    &rules
                )
                .composite
                    >= r.composite
            );
        }
    }
    let units: Vec<RankInput> = (0..300)
        .map(|i| {
            input(
                &format!("u{i:03}"),
                (lcg(&mut seed) % 20) as f64,
                (lcg(&mut seed) % 5) as f64,
                (i % 3 == 0).then(|| (lcg(&mut seed) % 300) as usize + 1),
            )
        })
        .collect();
    let ranked = rank(&units, &KpiRules::default());
    let mut ranks: Vec<usize> = ranked.iter().map(|r| r.rank).collect();
    ranks.sort();
    assert_eq!(
        ranks,
        (1..=300).collect::<Vec<_>>(),
        "ranks are 1..n without gaps or ties"
    );
    for class in [
        RankClass::Leading,
        RankClass::Rectify,
        RankClass::PriorityGovernance,
    ] {
        assert_eq!(
            ranked.iter().filter(|r| r.class == Some(class)).count(),
            10,
            "{class:?}"
        );
    }
    // The same input in another order gives the same ranking.
    let mut shuffled = units.clone();
    shuffled.reverse();
    assert_eq!(rank(&shuffled, &KpiRules::default()), ranked);
}
