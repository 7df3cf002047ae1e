//! The aggregates cache is exact: after any sequence of creates, edits, deletions, removals and restorations, the cached aggregates equal a recomputation from an independent model of what is published, on both backends.

use chrono::{Duration, NaiveDateTime};
use picket_core::aggregate::{ReviewFacts, aggregate};
use picket_core::review::{Approval, Completion, Recommend, Scores, ValidReview};
use picket_db::models::now;
use picket_db::reviews::{self, NewReviewMeta, ReviewRow};
use picket_db::{Db, requesters, stats};
use picket_test_support::{TestBackend, TestDb};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

#[derive(Debug, Clone)]
enum Op {
    Create {
        content: ValidReview,
        age_days: i64,
        draft: bool,
    },
    Edit {
        which: usize,
        content: ValidReview,
        publish: bool,
    },
    Delete {
        which: usize,
    },
    Remove {
        which: usize,
    },
    Restore {
        which: usize,
    },
}

fn content() -> impl Strategy<Value = ValidReview> {
    let approval = prop_oneof![
        Just(Approval::Approved),
        Just(Approval::Rejected),
        Just(Approval::PartiallyRejected),
        Just(Approval::Pending),
        Just(Approval::RejectionOverturned),
    ];
    let recommend = prop_oneof![
        Just(None),
        Just(Some(Recommend::Yes)),
        Just(Some(Recommend::No)),
        Just(Some(Recommend::Unsure))
    ];
    let score = prop_oneof![Just(None), (1i16..=5).prop_map(Some)];
    (
        (
            0i64..5_000,
            prop::option::of(0i64..500),
            1i64..20_000,
            prop_oneof![Just("USD"), Just("GBP")],
        ),
        (approval, prop::option::of(0i64..2_000_000), recommend),
        (score.clone(), score.clone(), score.clone(), score),
        (any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(
                (reward, bonus, seconds, currency),
                (approval, decision, recommend),
                (pay, fairness, promptness, communication),
                (tos, broken, screener),
            )| {
                let decided = !matches!(approval, Approval::Pending);
                ValidReview {
                    task_title: None,
                    batch_id: None,
                    reward_minor: reward,
                    bonus_minor: bonus,
                    currency: currency.to_owned(),
                    time_spent_seconds: seconds,
                    completion: Completion::Completed,
                    approval,
                    time_to_decision_seconds: decision.filter(|_| decided),
                    scores: Scores {
                        pay,
                        fairness,
                        promptness,
                        communication,
                    },
                    recommend,
                    tos_violation: tos,
                    tos_explanation: tos.then(|| "explained".to_owned()),
                    broken,
                    broken_explanation: broken.then(|| "explained".to_owned()),
                    unpaid_screener: screener,
                    body: String::new(),
                }
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (content(), 0i64..200, prop::bool::weighted(0.2)).prop_map(|(content, age_days, draft)| Op::Create { content, age_days, draft }),
        2 => (any::<usize>(), content(), any::<bool>()).prop_map(|(which, content, publish)| Op::Edit { which, content, publish }),
        1 => any::<usize>().prop_map(|which| Op::Delete { which }),
        1 => any::<usize>().prop_map(|which| Op::Remove { which }),
        1 => any::<usize>().prop_map(|which| Op::Restore { which }),
    ]
}

/// The model: what each review is and whether it is public, kept without the database.
#[derive(Debug, Clone)]
struct Modelled {
    row: ReviewRow,
    content: ValidReview,
    published: bool,
    at: NaiveDateTime,
}

fn facts(model: &[Modelled]) -> Vec<ReviewFacts> {
    model
        .iter()
        .filter(|m| m.published)
        .map(|m| ReviewFacts {
            at: m.at,
            reward_minor: m.content.reward_minor,
            bonus_minor: m.content.bonus_minor.unwrap_or(0),
            currency: m.content.currency.clone(),
            time_spent_seconds: m.content.time_spent_seconds,
            approval: m.content.approval,
            time_to_decision_seconds: m.content.time_to_decision_seconds,
            scores: m.content.scores.clone(),
            recommend: m.content.recommend,
            tos_violation: m.content.tos_violation,
            broken: m.content.broken,
            unpaid_screener: m.content.unpaid_screener,
        })
        .collect()
}

fn run_case(db: &Db, case: usize, ops: &[Op], at: NaiveDateTime) -> Result<(), TestCaseError> {
    let result = db.with_conn(|conn| {
        let requester =
            requesters::mention(conn, "mturk", &format!("APROP{case:09}"), "Prop", None, at)?;
        let mut model: Vec<Modelled> = Vec::new();
        for op in ops {
            match op.clone() {
                Op::Create {
                    content,
                    age_days,
                    draft,
                } => {
                    let public_id = format!("prop-{case}-{}", model.len());
                    let published_at = at - Duration::days(age_days);
                    let meta = NewReviewMeta {
                        public_id: &public_id,
                        author_id: None,
                        requester_pk: requester.id,
                        draft,
                        published_at: Some(published_at),
                    };
                    let row = reviews::create(conn, meta, &content, at)?;
                    model.push(Modelled {
                        row,
                        content,
                        published: !draft,
                        at: published_at,
                    });
                }
                Op::Edit {
                    which,
                    content,
                    publish,
                } if !model.is_empty() => {
                    let i = which % model.len();
                    let state = model[i].row.state()?;
                    if matches!(
                        state,
                        reviews::ReviewState::Draft | reviews::ReviewState::Published
                    ) {
                        let row = reviews::update(conn, &model[i].row, &content, publish, at)?;
                        let m = &mut model[i];
                        if state == reviews::ReviewState::Draft && publish {
                            m.published = true;
                            m.at = at;
                        }
                        m.content = content;
                        m.row = row;
                    }
                }
                Op::Delete { which } if !model.is_empty() => {
                    let i = which % model.len();
                    if model[i].row.state()? != reviews::ReviewState::Deleted {
                        reviews::delete(conn, &model[i].row, at)?;
                        model[i].row = reviews::by_public_id(conn, &model[i].row.public_id)?;
                        model[i].published = false;
                    }
                }
                Op::Remove { which } if !model.is_empty() => {
                    let i = which % model.len();
                    if model[i].row.state()? == reviews::ReviewState::Published {
                        picket_db::content::set_removed(conn, &model[i].row, Some("rule 3"), at)?;
                        model[i].row = reviews::by_public_id(conn, &model[i].row.public_id)?;
                        model[i].published = false;
                    }
                }
                Op::Restore { which } if !model.is_empty() => {
                    let i = which % model.len();
                    if model[i].row.state()? == reviews::ReviewState::Removed {
                        picket_db::content::set_removed(conn, &model[i].row, None, at)?;
                        model[i].row = reviews::by_public_id(conn, &model[i].row.public_id)?;
                        model[i].published = true;
                    }
                }
                _ => {}
            }
            let cached = stats::get(conn, requester.id, at)?;
            let expected = aggregate(&facts(&model), at);
            if cached != expected {
                return Ok(Some(format!(
                    "after {op:?}:\ncached   {cached:?}\nexpected {expected:?}"
                )));
            }
        }
        // Time passes: reviews age out of the windows without any write, and the cache notices.
        let later = at + Duration::days(45);
        let cached = stats::get(conn, requester.id, later)?;
        let expected = aggregate(&facts(&model), later);
        Ok((cached != expected)
            .then(|| format!("45 days later:\ncached   {cached:?}\nexpected {expected:?}")))
    });
    match result {
        Ok(None) => Ok(()),
        Ok(Some(mismatch)) => Err(TestCaseError::fail(mismatch)),
        Err(error) => Err(TestCaseError::fail(format!("database error: {error}"))),
    }
}

fn cached_aggregates_equal_recomputation(backend: TestBackend) {
    let test_db = TestDb::new(backend);
    let db = test_db.open();
    let at = now();
    let mut runner = TestRunner::new(Config {
        cases: 32,
        failure_persistence: None,
        ..Config::default()
    });
    // Each case gets its own requester, so one database serves every case.
    let case = std::cell::Cell::new(0);
    runner
        .run(&prop::collection::vec(op(), 1..30), |ops| {
            case.set(case.get() + 1);
            run_case(&db, case.get(), &ops, at)
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}

/// Writers of one requester racing each other (and a reader refreshing an expired entry) must
/// still leave the cache equal to a recomputation: each refresh takes the requester's lock.
async fn concurrent_writers_leave_exact_aggregates(backend: TestBackend) {
    let test_db = TestDb::new(backend);
    let db = test_db.open();
    let at = now();
    let requester = db
        .tx(move |conn| requesters::mention(conn, "mturk", "ARACE00000001", "Race", None, at))
        .await
        .expect("requester");
    let sample = content()
        .new_tree(&mut TestRunner::deterministic())
        .expect("a review")
        .current();
    let writers = (0..8).map(|i| {
        let (db, content) = (db.clone(), sample.clone());
        tokio::spawn(async move {
            for j in 0..5 {
                let content = ValidReview {
                    reward_minor: 100 * i + j,
                    ..content.clone()
                };
                let row = db
                    .tx(move |conn| {
                        let public_id = format!("race-{i}-{j}");
                        let meta = NewReviewMeta {
                            public_id: &public_id,
                            author_id: None,
                            requester_pk: requester.id,
                            draft: false,
                            // An hour from leaving the 30-day window: the readers below, a day
                            // on, find the entry expired and refresh it while writers write.
                            published_at: Some(at - Duration::days(30) + Duration::hours(1)),
                        };
                        reviews::create(conn, meta, &content, at)
                    })
                    .await
                    .expect("create");
                if j % 2 == 0 {
                    db.tx(move |conn| reviews::delete(conn, &row, at))
                        .await
                        .expect("delete");
                }
                db.run(move |conn| stats::get(conn, requester.id, at + Duration::days(1)))
                    .await
                    .expect("read");
            }
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.expect("writer");
    }
    let (cached, expected) = db
        .run(move |conn| {
            let later = at + Duration::days(1);
            let cached = stats::get(conn, requester.id, later)?;
            let facts = reviews::published_facts(conn, requester.id)?;
            Ok((cached, aggregate(&facts, later)))
        })
        .await
        .expect("compare");
    assert_eq!(
        cached.all.n,
        8 * 2,
        "two of five reviews per writer stay published"
    );
    assert_eq!(cached, expected);
}

picket_test_support::both_backends!(concurrent_writers_leave_exact_aggregates);

#[test]
fn cached_aggregates_equal_recomputation_sqlite() {
    cached_aggregates_equal_recomputation(TestBackend::Sqlite);
}

#[test]
fn cached_aggregates_equal_recomputation_postgres() {
    cached_aggregates_equal_recomputation(TestBackend::Postgres);
}
