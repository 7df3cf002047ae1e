//! Why this exists: objects and actors are fetched from other servers (crates/apub/src/objects.rs, actors.rs) and parsed into `PicketObject` and `ActorJson`; this checks that no response body panics the parser and that what we parsed re-serialises into JSON we read back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picket_apub::{ActorJson, PicketObject};

fn object(data: &[u8]) {
    let Ok(object) = serde_json::from_slice::<PicketObject>(data) else {
        return;
    };
    let _ = (object.id(), object.attributed_to(), object.version());
    let json = serde_json::to_vec(&object).expect("a parsed object serialises");
    let again = serde_json::from_slice::<PicketObject>(&json).unwrap_or_else(|e| {
        panic!(
            "re-serialised object no longer parses ({e}): {}",
            String::from_utf8_lossy(&json)
        )
    });
    assert_eq!(
        std::mem::discriminant(&object),
        std::mem::discriminant(&again),
        "re-serialised object parses as another kind: {}",
        String::from_utf8_lossy(&json)
    );
    assert_eq!(object.id(), again.id());
    assert_eq!(object.version(), again.version());
}

fn actor(data: &[u8]) {
    let Ok(actor) = serde_json::from_slice::<ActorJson>(data) else {
        return;
    };
    let _ = actor.kind.as_str();
    let json = serde_json::to_vec(&actor).expect("a parsed actor serialises");
    let again = serde_json::from_slice::<ActorJson>(&json).unwrap_or_else(|e| {
        panic!(
            "re-serialised actor no longer parses ({e}): {}",
            String::from_utf8_lossy(&json)
        )
    });
    assert_eq!(actor.id, again.id);
    assert_eq!(actor.inbox, again.inbox);
}

fuzz_target!(|data: &[u8]| {
    object(data);
    actor(data);
});
