//! Why this exists: every inbox post is untrusted JSON parsed into `InboxActivity` (crates/apub/src/activities.rs, objects.rs); this checks that no body panics the parser, and that what we parsed re-serialises into JSON we read back as the same kind of activity.
#![no_main]

use activitypub_federation::protocol::context::WithContext;
use libfuzzer_sys::fuzz_target;
use picket_apub::InboxActivity;

/// The inbox's first look at a body (crates/apub/src/routes.rs, `inbox`): its claimed actor.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Claimed {
    actor: url::Url,
}

fn kind(activity: &InboxActivity) -> std::mem::Discriminant<InboxActivity> {
    std::mem::discriminant(activity)
}

/// The pure helpers the receive path calls on a parsed activity.
fn touch(activity: &InboxActivity) {
    match activity {
        InboxActivity::Delete(delete) => {
            let _ = delete.object.innermost();
        }
        InboxActivity::Announce(announce) => {
            let _ = announce.object.innermost();
        }
        InboxActivity::Flag(flag) => {
            let _ = flag.reason();
            let _ = flag.object.ids().len();
        }
        InboxActivity::CreateOrUpdate(create) => {
            let _ = (create.object.id(), create.object.attributed_to());
            let _ = create.object.version();
        }
        InboxActivity::UndoDelete(undo) => {
            let _ = undo.object.object.innermost();
        }
        _ => {}
    }
}

fn round_trip(activity: &InboxActivity) {
    touch(activity);
    let json = serde_json::to_vec(activity).expect("a parsed activity serialises");
    let again = serde_json::from_slice::<InboxActivity>(&json).unwrap_or_else(|e| {
        panic!(
            "re-serialised activity no longer parses ({e}): {}",
            String::from_utf8_lossy(&json)
        )
    });
    assert_eq!(
        kind(activity),
        kind(&again),
        "re-serialised activity parses as another kind: {}",
        String::from_utf8_lossy(&json)
    );
    touch(&again);
}

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<Claimed>(data);
    // What the library hands our handlers (routes.rs, `receive`), `@context` and all.
    if let Ok(wrapped) = serde_json::from_slice::<WithContext<InboxActivity>>(data) {
        round_trip(wrapped.inner());
    }
    if let Ok(activity) = serde_json::from_slice::<InboxActivity>(data) {
        round_trip(&activity);
    }
});
