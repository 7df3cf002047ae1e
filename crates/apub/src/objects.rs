//! What Picket content looks like on the wire: reviews, incidents and campaigns as `Page`s whose Picket fields sit in our own namespace, corroborations, comments and facts as `Note`s; the activities that carry them are in `activities`.

use activitypub_federation::kinds::object::{NoteType, PageType};
use activitypub_federation::protocol::verification::verify_domains_match;
use chrono::{DateTime, Utc};
use picket_core::incident::{CorroborationInput, IncidentStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::ApubError;

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

/// `to` and `cc` as servers send them: a list, or (GoToSocial) one address on its own.
pub(crate) fn addresses<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Url>, D::Error> {
    // Servers send one address, a list, `null`, or lists with entries that are no URL (a bare
    // "as:Public"): an activity is not refused for its addressing, its unusable entries are
    // dropped, and nothing is granted by an address that could not be read.
    let value = Option::<Value>::deserialize(deserializer)?;
    let one = |value: &Value| value.as_str().and_then(|s| Url::parse(s).ok());
    Ok(match value {
        Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
        Some(item) => one(&item).into_iter().collect(),
        None => Vec::new(),
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
    use super::{addresses, plain_text, without_leading_mentions};

    #[test]
    fn addressing_of_any_shape_is_read_and_never_refuses_an_activity() {
        #[derive(serde::Deserialize)]
        struct Addressed {
            #[serde(default, deserialize_with = "addresses")]
            cc: Vec<url::Url>,
        }
        let read = |json: &str| -> Vec<String> {
            serde_json::from_str::<Addressed>(json)
                .expect("read")
                .cc
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        let public = "https://www.w3.org/ns/activitystreams#Public";
        assert_eq!(read(&format!(r#"{{"cc":"{public}"}}"#)), [public]);
        assert_eq!(
            read(&format!(r#"{{"cc":["{public}","no url",7,null]}}"#)),
            [public]
        );
        assert!(read(r#"{"cc":null}"#).is_empty());
        assert!(read(r#"{"cc":{"id":"x"}}"#).is_empty());
        assert!(read("{}").is_empty());
    }

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
