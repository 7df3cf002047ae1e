//! What other servers send, parsed the way the inbox and actor fetches parse it: JSON in the shapes Mastodon, Lemmy and GoToSocial produce (under `assets/`), so a change to our wire types that would refuse them fails here.

use crate::activities::InboxActivity;
use crate::actors::{ActorJson, ActorKind};

fn activity(json: &str) -> InboxActivity {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("parse: {e}\n{json}"))
}

fn actor(json: &str) -> ActorJson {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("parse: {e}\n{json}"))
}

#[test]
fn actors_of_other_servers() {
    let mastodon = actor(include_str!("../assets/mastodon/person.json"));
    assert_eq!(mastodon.kind, ActorKind::Person);
    assert_eq!(mastodon.preferred_username, "rosa");
    assert_eq!(
        mastodon.endpoints.map(|e| e.shared_inbox.to_string()),
        Some("https://mastodon.example/inbox".into())
    );
    assert_eq!(
        mastodon.public_key.owner.as_str(),
        "https://mastodon.example/users/rosa"
    );

    let lemmy_person = actor(include_str!("../assets/lemmy/person.json"));
    assert_eq!(lemmy_person.kind, ActorKind::Person);
    let lemmy_group = actor(include_str!("../assets/lemmy/group.json"));
    assert_eq!(lemmy_group.kind, ActorKind::Group);
    assert_eq!(lemmy_group.name.as_deref(), Some("Mechanical Turk workers"));

    // GoToSocial names its key `/main-key`, not `#main-key`, and asks to approve followers.
    let gts = actor(include_str!("../assets/gotosocial/person.json"));
    assert_eq!(gts.public_key.id, "https://gts.example/users/kai/main-key");
    assert!(gts.manually_approves_followers);
}

#[test]
fn follows_and_undos_of_other_servers() {
    for json in [
        include_str!("../assets/mastodon/follow.json"),
        include_str!("../assets/lemmy/follow.json"),
        include_str!("../assets/gotosocial/follow.json"),
    ] {
        let InboxActivity::Follow(follow) = activity(json) else {
            panic!("a Follow: {json}");
        };
        assert_eq!(
            follow.object.inner().as_str(),
            "https://picket.example/r/mturk/A1B2C3D4E5F6G7"
        );
    }
    for json in [
        include_str!("../assets/mastodon/undo_follow.json"),
        include_str!("../assets/lemmy/undo_follow.json"),
        include_str!("../assets/gotosocial/undo_follow.json"),
    ] {
        let InboxActivity::UndoFollow(undo) = activity(json) else {
            panic!("an Undo of a Follow: {json}");
        };
        assert_eq!(undo.actor, undo.object.actor);
    }
}

#[test]
fn deletes_name_their_object() {
    for (json, object, summary) in [
        (
            include_str!("../assets/mastodon/delete_status.json"),
            "https://mastodon.example/users/rosa/statuses/111222333",
            None,
        ),
        (
            include_str!("../assets/gotosocial/delete_status.json"),
            "https://gts.example/users/kit/statuses/01JDH3A4B5C6D7E8F9G0H1J2K3",
            None,
        ),
        // A moderator's removal: the reason in `summary`.
        (
            include_str!("../assets/lemmy/delete_removal.json"),
            "https://lemmy.example/post/9911",
            Some("Doxxing"),
        ),
    ] {
        let InboxActivity::Delete(delete) = activity(json) else {
            panic!("a Delete: {json}");
        };
        assert_eq!(delete.object.id().as_str(), object);
        assert_eq!(delete.summary.as_deref(), summary);
    }
}

#[test]
fn a_reject_names_our_follow() {
    let InboxActivity::Reject(reject) =
        activity(include_str!("../assets/mastodon/reject_follow.json"))
    else {
        panic!("a Reject");
    };
    assert_eq!(
        reject.object.id.as_str(),
        "https://picket.example/activities/k2t9XqvB7s"
    );
    assert_eq!(reject.actor, reject.object.object);
}

/// Announces are read for what they point at, which is then fetched from its origin: a
/// Mastodon boost names the object, a Lemmy community wraps the author's `Create`.
#[test]
fn announces_point_at_their_innermost_object() {
    for (json, inner) in [
        (
            include_str!("../assets/mastodon/announce_status.json"),
            "https://picket.example/reviews/Qm8tW2xYzA",
        ),
        (
            include_str!("../assets/lemmy/announce_create_page.json"),
            "https://lemmy.example/post/9911",
        ),
    ] {
        let InboxActivity::Announce(announce) = activity(json) else {
            panic!("an Announce: {json}");
        };
        assert_eq!(announce.object.innermost().as_str(), inner);
    }
}

/// A Lemmy post carries no Picket fields: a `Create` of it is acknowledged, not stored.
#[test]
fn pages_without_picket_fields_are_not_content() {
    let wrapped: serde_json::Value =
        serde_json::from_str(include_str!("../assets/lemmy/announce_create_page.json"))
            .expect("json");
    let create = serde_json::to_string(&wrapped["object"]).expect("json");
    assert!(matches!(activity(&create), InboxActivity::Other(_)));
}

/// Likes are not content Picket stores; they must still parse, so the inbox acknowledges them
/// instead of refusing them and the sender does not retry for days.
#[test]
fn what_is_not_handled_yet_is_acknowledged() {
    let json = include_str!("../assets/lemmy/like_page.json");
    let InboxActivity::Other(other) = activity(json) else {
        panic!("not a handled activity: {json}");
    };
    assert_eq!(other.kind, "Like");
}

/// The comment a `Create{Note}` of another server carries, with its words as stored.
fn comment_of(json: &str) -> crate::objects::CommentNote {
    let InboxActivity::CreateOrUpdate(create) = activity(json) else {
        panic!("a Create: {json}");
    };
    create
        .verify()
        .expect("from its author, on its author's host");
    match create.object {
        crate::objects::PicketObject::Comment(note) => *note,
        other => panic!("a comment, not {other:?}"),
    }
}

/// A Lemmy user's comment under a requester feed's post, and a Mastodon user's reply to it,
/// are comments on what they reply to: Lemmy's words from its Markdown source, Mastodon's from
/// its HTML without the mention it starts with.
#[test]
fn lemmy_and_mastodon_replies_are_comments() {
    let lemmy = comment_of(include_str!("../assets/lemmy/create_note.json"));
    assert_eq!(
        lemmy.in_reply_to.as_str(),
        "https://picket.example/reviews/r1b2c3"
    );
    assert_eq!(lemmy.text(), "Same batch rejected for me.");
    assert!(!lemmy.as_requester());

    let mastodon = comment_of(include_str!("../assets/mastodon/create_reply.json"));
    assert_eq!(
        mastodon.in_reply_to.as_str(),
        "https://picket.example/incidents/i1b2c3"
    );
    assert_eq!(
        mastodon.text(),
        "Same here: locked out since Monday & no answer.\nSupport says \"under review\"."
    );
    assert_eq!(
        mastodon.attributed_to.as_str(),
        "https://mastodon.example/users/rosa"
    );
}

/// A corroboration is a `Note` too: `picket:corroboration` keeps it from being read as a comment.
#[test]
fn corroborations_are_not_comments() {
    let note = serde_json::json!({
        "type": "Note",
        "id": "https://b.example/corroborations/c1",
        "attributedTo": "https://b.example/u/bob",
        "inReplyTo": "https://picket.example/incidents/i1",
        "content": "<p>This happened to me too.</p>",
        "published": "2026-11-30T11:00:00Z",
        "picket:corroboration": {"tasks_affected": 3, "amount_lost_minor": null, "note": ""}
    });
    let object: crate::objects::PicketObject = serde_json::from_value(note).expect("parse");
    assert!(
        matches!(object, crate::objects::PicketObject::Note(_)),
        "{object:?}"
    );
}

/// Reports: Lemmy names one object and gives the reason in `summary`; Mastodon names the
/// account and its content in an array and gives the reason in `content`.
#[test]
fn flags_of_both_shapes_name_their_objects_and_reason() {
    let InboxActivity::Flag(lemmy) = activity(include_str!("../assets/lemmy/flag.json")) else {
        panic!("a Lemmy Flag");
    };
    assert_eq!(lemmy.object.ids().len(), 1);
    assert_eq!(lemmy.reason(), "Discloses a completion code");
    let InboxActivity::Flag(mastodon) = activity(include_str!("../assets/mastodon/flag.json"))
    else {
        panic!("a Mastodon Flag");
    };
    assert_eq!(
        mastodon.object.ids()[1].as_str(),
        "https://picket.example/reviews/r1b2c3"
    );
    assert_eq!(mastodon.reason(), "Names a worker by their ID");
    let InboxActivity::Flag(gts) = activity(include_str!("../assets/gotosocial/flag.json")) else {
        panic!("a GoToSocial Flag");
    };
    assert_eq!(gts.object.ids().len(), 2);
    assert_eq!(gts.reason(), "Posts a screener code in every review");
}

/// What Picket sends, built by the same types the inbox parses: each activity is snapshotted as
/// it goes on the wire, and parses back as the activity it is.
#[test]
fn our_activities_are_what_our_inbox_reads() {
    use crate::activities::{
        Announce, CreateOrUpdate, CreateOrUpdateType, DeleteObject, Flag, IdOrObject, JoinCampaign,
        UndoDelete,
    };
    use crate::objects::{CommentFields, CommentNote, PicketObject, wire};
    use activitypub_federation::kinds::object::NoteType;
    let url = |path: &str| url::Url::parse(&format!("https://picket.example/{path}")).unwrap();
    let comment = PicketObject::Comment(Box::new(CommentNote {
        kind: NoteType::Note,
        id: url("comments/c1"),
        attributed_to: url("u/alice"),
        in_reply_to: url("reviews/r1"),
        to: vec![crate::objects::public()],
        cc: vec![url("r/mturk/A1B2C3D4E5F6G7")],
        content: "<p>Paid the next day.</p>".into(),
        media_type: Some("text/html".into()),
        source: None,
        url: Some(url("comments/c1")),
        published: "2026-12-01T10:00:00Z".parse().unwrap(),
        updated: None,
        comment: Some(CommentFields {
            body: "Paid the next day.".into(),
            as_requester: false,
        }),
    }));
    let create = CreateOrUpdate::new(
        CreateOrUpdateType::Create,
        url("activities/1"),
        url("u/alice"),
        comment,
    );
    let removal = DeleteObject::new(
        url("activities/3"),
        url("actor"),
        IdOrObject::Id(url("comments/c1")),
        Some("Off topic".into()),
    );
    let feed = url("r/mturk/A1B2C3D4E5F6G7");
    let sent = [
        ("create_comment", wire(&create).unwrap()),
        (
            "announce_create",
            wire(&Announce::new(url("activities/7"), feed.clone(), &create)).unwrap(),
        ),
        (
            "announce_id",
            wire(&Announce::new(
                url("activities/8"),
                feed.clone(),
                url("comments/c1"),
            ))
            .unwrap(),
        ),
        (
            "delete_tombstone",
            wire(&DeleteObject::new(
                url("activities/2"),
                url("u/alice"),
                IdOrObject::tombstone(url("comments/c1")),
                None,
            ))
            .unwrap(),
        ),
        ("removal", wire(&removal).unwrap()),
        (
            "undo_removal",
            wire(&UndoDelete::new(
                url("activities/4"),
                url("actor"),
                removal.clone(),
            ))
            .unwrap(),
        ),
        (
            "flag",
            wire(&Flag::new(
                url("activities/5"),
                url("actor"),
                url("u/bob"),
                vec![url("u/bob"), url("reviews/r2")],
                "Insults: called names".into(),
            ))
            .unwrap(),
        ),
        (
            "join_campaign",
            wire(&JoinCampaign::new(
                url("activities/6"),
                url("actor"),
                url("campaigns/k1"),
                "tok_en-12345678".into(),
            ))
            .unwrap(),
        ),
    ];
    for (name, json) in sent {
        insta::assert_json_snapshot!(name, json);
        let parsed = activity(&json.to_string());
        let expected = match name {
            "create_comment" => matches!(parsed, InboxActivity::CreateOrUpdate(_)),
            "delete_tombstone" | "removal" => matches!(parsed, InboxActivity::Delete(_)),
            "undo_removal" => matches!(parsed, InboxActivity::UndoDelete(_)),
            "flag" => matches!(parsed, InboxActivity::Flag(_)),
            // An announce is about what it finally names, however it is wrapped.
            "announce_create" | "announce_id" => matches!(
                &parsed,
                InboxActivity::Announce(announce)
                    if announce.object.innermost() == &url("comments/c1")
                        && announce.cc.is_empty()
                        && announce.to == [crate::objects::public()]
            ),
            _ => matches!(parsed, InboxActivity::Join(_)),
        };
        assert!(expected, "{name} parses as {parsed:?}");
    }
}
