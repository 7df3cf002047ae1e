//! What Picket content looks like on the wire: reviews and incidents as `Page`s whose Picket fields sit in our own namespace, corroborations as `Note` replies, and the activities that carry them.

use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::{AnnounceType, DeleteType};
use activitypub_federation::kinds::object::{NoteType, PageType};
use activitypub_federation::protocol::verification::verify_domains_match;
use chrono::{DateTime, Utc};
use picket_core::incident::{CorroborationInput, IncidentStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::ApubError;
use crate::actors::ApubActor;

pub(crate) const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// A review or an incident. Lemmy and Mastodon read `name`, `summary`, `content` and `url`;
/// Picket instances read the `picket:` fields, which carry every field of the original.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentPage {
    #[serde(rename = "type")]
    pub(crate) kind: PageType,
    pub id: Url,
    pub attributed_to: Url,
    #[serde(default, deserialize_with = "addresses")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "addresses")]
    pub cc: Vec<Url>,
    pub name: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Where people read it: the same URL, which answers HTML to browsers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    pub published: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    #[serde(rename = "picket:platform")]
    pub platform: String,
    /// Absent only for incidents that name no requester (a platform suspension, say).
    #[serde(
        rename = "picket:requesterId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub requester_id: Option<String>,
    #[serde(
        rename = "picket:requesterName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub requester_name: Option<String>,
    #[serde(flatten)]
    pub body: PageBody,
}

/// What a page is, by `picket:kind`, with its fields in the API's own shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "picket:kind")]
pub enum PageBody {
    #[serde(rename = "review")]
    Review {
        #[serde(rename = "picket:review")]
        review: Value,
    },
    #[serde(rename = "incident")]
    Incident {
        #[serde(rename = "picket:incident")]
        incident: Value,
        #[serde(rename = "picket:status")]
        status: IncidentStatus,
    },
    /// A campaign opened from a wave: its terms, counts by instance and outcome.
    #[serde(rename = "campaign")]
    Campaign {
        #[serde(rename = "picket:campaign")]
        campaign: CampaignFields,
    },
}

/// A campaign on the wire, as its home instance keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignFields {
    pub kind: picket_core::incident::IncidentKind,
    pub since: chrono::NaiveDate,
    #[serde(flatten)]
    pub terms: picket_core::campaign::CampaignTerms,
    /// Signatures by instance, never by whom.
    pub counts: Vec<picket_core::campaign::InstanceCount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<picket_core::campaign::Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_on: Option<chrono::NaiveDate>,
}

/// A worker on another instance signs a campaign: `Join` from that instance's actor, naming the
/// worker only by a token its instance made for this signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinCampaign {
    #[serde(rename = "type")]
    pub(crate) kind: activitypub_federation::kinds::activity::JoinType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    #[serde(default, deserialize_with = "addresses")]
    pub to: Vec<Url>,
    pub object: Url,
    #[serde(rename = "picket:signer")]
    pub signer: String,
}

impl JoinCampaign {
    /// This instance's `actor` signs `campaign` for one of its workers, known by `signer`.
    pub(crate) fn new(id: Url, actor: Url, campaign: Url, signer: String) -> Self {
        JoinCampaign {
            kind: activitypub_federation::kinds::activity::JoinType::Join,
            id,
            actor: actor.into(),
            to: vec![campaign.clone()],
            object: campaign,
            signer,
        }
    }

    /// From the instance it names, with a token that is a token (no text smuggled in).
    pub(crate) fn verify(&self) -> Result<(), ApubError> {
        verify_domains_match(&self.id, self.actor.inner())?;
        let token = (8..=64).contains(&self.signer.len())
            && self
                .signer
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !token {
            return Err(ApubError::Invalid("picket:signer is no token".into()));
        }
        Ok(())
    }
}

/// "This happened to me too": a reply to the incident, which Lemmy shows as a comment and
/// Mastodon as a reply, with the figures under `picket:corroboration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CorroborationNote {
    #[serde(rename = "type")]
    pub(crate) kind: NoteType,
    pub id: Url,
    pub attributed_to: Url,
    pub in_reply_to: Url,
    #[serde(default, deserialize_with = "addresses")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "addresses")]
    pub cc: Vec<Url>,
    #[serde(default)]
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub published: DateTime<Utc>,
    #[serde(rename = "picket:corroboration")]
    pub corroboration: CorroborationInput,
}

/// A comment on a review or an incident, or an answer to one: a `Note` replying to it. Picket
/// instances put the plain text under `picket:comment`; a Mastodon or Lemmy reply to a post of a
/// requester feed has only `content` (HTML) and, from Lemmy, a Markdown `source`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentNote {
    #[serde(rename = "type")]
    pub(crate) kind: NoteType,
    pub id: Url,
    pub attributed_to: Url,
    pub in_reply_to: Url,
    #[serde(default, deserialize_with = "addresses")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "addresses")]
    pub cc: Vec<Url>,
    #[serde(default)]
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// What Lemmy's author typed (Markdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<NoteSource>,
    /// Where people read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    pub published: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    #[serde(
        rename = "picket:comment",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub comment: Option<CommentFields>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteSource {
    pub content: String,
    #[serde(default)]
    pub media_type: String,
}

/// A Picket comment's own fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommentFields {
    pub body: String,
    /// Written by an account its instance's admins found to speak for the requester.
    #[serde(rename = "asRequester", default)]
    pub as_requester: bool,
}

impl CommentNote {
    /// The words as plain text: Picket's own field, else Lemmy's Markdown source, else the
    /// HTML with its markup and the leading @-mentions Mastodon adds taken out.
    pub fn text(&self) -> String {
        if let Some(fields) = &self.comment {
            return fields.body.clone();
        }
        if let Some(source) = &self.source
            && source.media_type == "text/markdown"
        {
            return source.content.trim().to_owned();
        }
        without_leading_mentions(&plain_text(&self.content))
    }

    /// Whether a Picket instance says its author speaks for the requester.
    pub fn as_requester(&self) -> bool {
        self.comment.as_ref().is_some_and(|c| c.as_requester)
    }
}

/// HTML as plain text: tags dropped (paragraphs and line breaks become new lines), entities
/// decoded. What is stored is shown escaped, so nothing here needs to be safe HTML.
pub(crate) fn plain_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[open + 1..open + close].trim_start_matches('/');
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if matches!(name.as_str(), "br" | "p" | "li" | "div" | "blockquote")
            && !text.ends_with('\n')
            && !text.is_empty()
        {
            text.push('\n');
        }
        rest = &rest[open + close + 1..];
    }
    text.push_str(rest);
    let decoded = html_escape::decode_html_entities(&text);
    let lines: Vec<&str> = decoded.lines().map(str::trim).collect();
    lines.join("\n").trim().to_owned()
}

/// "@acme@lemmy.example @bob thanks" as "thanks": the mentions a reply starts with are the
/// server's addressing, not what its author said.
fn without_leading_mentions(text: &str) -> String {
    let mut rest = text.trim_start();
    while rest.starts_with('@') {
        rest = rest
            .split_once(char::is_whitespace)
            .map_or("", |(_, after)| after)
            .trim_start();
    }
    rest.to_owned()
}

/// One version of a fact about who is behind a requester: a `Note` about the requester feed,
/// with the fact under `picket:fact`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FactNote {
    #[serde(rename = "type")]
    pub(crate) kind: NoteType,
    pub id: Url,
    pub attributed_to: Url,
    #[serde(default, deserialize_with = "addresses")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "addresses")]
    pub cc: Vec<Url>,
    #[serde(default)]
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub published: DateTime<Utc>,
    #[serde(rename = "picket:platform")]
    pub platform: String,
    #[serde(rename = "picket:requesterId")]
    pub requester_id: String,
    #[serde(
        rename = "picket:requesterName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub requester_name: Option<String>,
    #[serde(rename = "picket:fact")]
    pub fact: picket_core::fact::ValidFact,
}

/// Any Picket object; untagged, told apart by `type` and, for notes, by
/// `picket:corroboration` or `picket:fact` (a note with neither is a comment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PicketObject {
    Page(Box<ContentPage>),
    Note(Box<CorroborationNote>),
    Fact(Box<FactNote>),
    Comment(Box<CommentNote>),
}

impl PicketObject {
    pub fn id(&self) -> &Url {
        match self {
            PicketObject::Page(page) => &page.id,
            PicketObject::Note(note) => &note.id,
            PicketObject::Fact(note) => &note.id,
            PicketObject::Comment(note) => &note.id,
        }
    }

    pub fn attributed_to(&self) -> &Url {
        match self {
            PicketObject::Page(page) => &page.attributed_to,
            PicketObject::Note(note) => &note.attributed_to,
            PicketObject::Fact(note) => &note.attributed_to,
            PicketObject::Comment(note) => &note.attributed_to,
        }
    }

    /// Whom the object is addressed to (`to`) and copied to (`cc`): what its `Create` carries.
    pub fn audience(&self) -> (&[Url], &[Url]) {
        match self {
            PicketObject::Page(page) => (&page.to, &page.cc),
            PicketObject::Note(note) => (&note.to, &note.cc),
            PicketObject::Fact(note) => (&note.to, &note.cc),
            PicketObject::Comment(note) => (&note.to, &note.cc),
        }
    }

    /// The author's time of this version: when it was last changed, else when it was published.
    pub fn version(&self) -> DateTime<Utc> {
        match self {
            PicketObject::Page(page) => page.updated.unwrap_or(page.published),
            PicketObject::Note(note) => note.published,
            PicketObject::Fact(note) => note.published,
            PicketObject::Comment(note) => note.updated.unwrap_or(note.published),
        }
    }

    /// An object must live on its author's instance: anything else is someone speaking for
    /// another server.
    pub(crate) fn verify_origin(&self) -> Result<(), ApubError> {
        verify_domains_match(self.id(), self.attributed_to())?;
        Ok(())
    }
}

/// `Create` and `Update` carry the whole object; receiving either stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CreateOrUpdateType {
    Create,
    Update,
}

/// The one type of a `Create` or `Update` of Picket content, sent and received: what goes out
/// is built here, what comes in is parsed here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrUpdate {
    #[serde(rename = "type")]
    pub kind: CreateOrUpdateType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    #[serde(default, deserialize_with = "addresses")]
    pub to: Vec<Url>,
    /// Always sent, empty or not: Lemmy refuses activities without it.
    #[serde(default, deserialize_with = "addresses")]
    pub cc: Vec<Url>,
    pub object: PicketObject,
}

impl CreateOrUpdate {
    /// `kind` of `object` by `actor`, addressed as the object is.
    pub(crate) fn new(kind: CreateOrUpdateType, id: Url, actor: Url, object: PicketObject) -> Self {
        let (to, cc) = object.audience();
        CreateOrUpdate {
            kind,
            id,
            actor: actor.into(),
            to: to.to_vec(),
            cc: cc.to_vec(),
            object,
        }
    }

    /// The object must come from its author, on its author's instance.
    pub(crate) fn verify(&self) -> Result<(), ApubError> {
        self.object.verify_origin()?;
        if self.object.attributed_to() != self.actor.inner() {
            return Err(ApubError::Invalid(
                "content can only be sent by its author".into(),
            ));
        }
        Ok(())
    }
}

/// An object given by id alone, or as an object (a `Tombstone`, an activity) with one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IdOrObject {
    Id(Url),
    Object {
        /// `Tombstone` for what is gone, or an activity's type.
        #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
        kind: Option<String>,
        id: Url,
        /// An activity's own object: what an `Announce{Create{Page}}` is really about.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        object: Option<Box<IdOrObject>>,
    },
}

impl IdOrObject {
    /// The tombstone of what was at `id`.
    pub(crate) fn tombstone(id: Url) -> IdOrObject {
        IdOrObject::Object {
            kind: Some("Tombstone".to_owned()),
            id,
            object: None,
        }
    }

    pub fn id(&self) -> &Url {
        match self {
            IdOrObject::Id(id) | IdOrObject::Object { id, .. } => id,
        }
    }

    /// The innermost object's id: the page of an `Announce{Create{Page}}`, the object itself otherwise.
    pub fn innermost(&self) -> &Url {
        match self {
            IdOrObject::Object {
                object: Some(inner),
                ..
            } => inner.innermost(),
            other => other.id(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteObject {
    #[serde(rename = "type")]
    pub(crate) kind: DeleteType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    #[serde(default, deserialize_with = "addresses")]
    pub to: Vec<Url>,
    pub object: IdOrObject,
    /// Present on a moderator's removal: the reason (Lemmy's shape); absent on an author's deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

impl DeleteObject {
    /// A public `Delete` of `object` by `actor`; with a `reason`, a moderator's removal.
    pub(crate) fn new(id: Url, actor: Url, object: IdOrObject, reason: Option<String>) -> Self {
        DeleteObject {
            kind: DeleteType::Delete,
            id,
            actor: actor.into(),
            to: vec![public()],
            object,
            summary: reason,
        }
    }

    /// Only the object's own instance may delete it.
    pub(crate) fn verify(&self) -> Result<(), ApubError> {
        verify_domains_match(self.object.id(), self.actor.inner())?;
        Ok(())
    }
}

/// A moderator's removal taken back: `Undo` of a `Delete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UndoDelete {
    #[serde(rename = "type")]
    pub(crate) kind: activitypub_federation::kinds::activity::UndoType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    #[serde(default, deserialize_with = "addresses")]
    pub to: Vec<Url>,
    pub object: DeleteObject,
}

impl UndoDelete {
    /// The instance takes back its removal.
    pub(crate) fn new(id: Url, actor: Url, removal: DeleteObject) -> Self {
        UndoDelete {
            kind: activitypub_federation::kinds::activity::UndoType::Undo,
            id,
            actor: actor.into(),
            to: vec![public()],
            object: removal,
        }
    }

    /// Only the instance that removed something may restore it.
    pub(crate) fn verify(&self) -> Result<(), ApubError> {
        verify_domains_match(self.actor.inner(), self.object.actor.inner())?;
        self.object.verify()
    }
}

/// One id or several: `Flag`s name a single object (Lemmy) or an array (Mastodon).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(Url),
    Many(Vec<Url>),
}

impl OneOrMany {
    pub fn ids(&self) -> &[Url] {
        match self {
            OneOrMany::One(id) => std::slice::from_ref(id),
            OneOrMany::Many(ids) => ids,
        }
    }
}

/// A report from another server's moderators or users, about content or accounts here. The
/// reason is in `summary` (Lemmy) or `content` (Mastodon, GoToSocial).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flag {
    #[serde(rename = "type")]
    pub(crate) kind: activitypub_federation::kinds::activity::FlagType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    #[serde(default, deserialize_with = "addresses")]
    pub to: Vec<Url>,
    pub object: OneOrMany,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
}

impl Flag {
    /// A report from this instance's `actor` to `to`, about `objects`, with the reason in both
    /// `content` (Mastodon, GoToSocial) and `summary` (Lemmy).
    pub(crate) fn new(id: Url, actor: Url, to: Url, objects: Vec<Url>, words: String) -> Self {
        Flag {
            kind: activitypub_federation::kinds::activity::FlagType::Flag,
            id,
            actor: actor.into(),
            to: vec![to],
            object: OneOrMany::Many(objects),
            content: Some(words.clone()),
            summary: Some(words),
        }
    }

    /// The reason as given, whichever field carries it.
    pub fn reason(&self) -> String {
        [&self.summary, &self.content]
            .into_iter()
            .flatten()
            .map(|text| text.trim())
            .find(|text| !text.is_empty())
            .unwrap_or_default()
            .to_owned()
    }
}

/// A requester feed or an instance passing something on. The wrapper is not trusted: what it
/// points at is fetched from its origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Announce {
    #[serde(rename = "type")]
    pub(crate) kind: AnnounceType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    pub object: IdOrObject,
}

/// `to` and `cc` as servers send them: a list, or (GoToSocial) one address on its own.
fn addresses<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<Url>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Addresses {
        One(Url),
        Many(Vec<Url>),
    }
    Ok(match Addresses::deserialize(deserializer)? {
        Addresses::One(url) => vec![url],
        Addresses::Many(urls) => urls,
    })
}

/// The Public collection, as addresses name it.
pub(crate) fn public() -> Url {
    Url::parse(PUBLIC).expect("the Public collection is a URL")
}

/// An activity as JSON, for the outbox and delivery queue.
pub(crate) fn wire<T: Serialize>(activity: &T) -> Result<Value, ApubError> {
    serde_json::to_value(activity).map_err(|e| ApubError::Invalid(e.to_string()))
}

/// The host a remote object comes from: what it is shown with and counted under.
pub(crate) fn origin(url: &Url) -> String {
    picket_core::wave::instance_name(url.host_str().unwrap_or_default(), url.port())
}

#[cfg(test)]
mod tests {
    use super::{plain_text, without_leading_mentions};

    #[test]
    fn html_becomes_plain_text() {
        assert_eq!(plain_text("<p>one</p><p>two</p>"), "one\ntwo");
        assert_eq!(plain_text("a<br>b<br/>c"), "a\nb\nc");
        assert_eq!(
            plain_text("<p>&lt;b&gt; &amp; &quot;x&quot;</p>"),
            "<b> & \"x\""
        );
        assert_eq!(plain_text("an <a href=\"x\">open tag"), "an open tag");
        assert_eq!(plain_text("cut <span"), "cut");
        assert_eq!(plain_text("  "), "");
    }

    #[test]
    fn leading_mentions_are_addressing() {
        assert_eq!(
            without_leading_mentions("@acme@lemmy.example @bob thanks @carol"),
            "thanks @carol"
        );
        assert_eq!(without_leading_mentions("@only"), "");
        assert_eq!(without_leading_mentions("no mention"), "no mention");
    }
}
