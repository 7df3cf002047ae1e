//! Why this exists: the inbox checks a post's `Signature`, `Host` and `Date` headers before it fetches anything for it (crates/apub/src/signature.rs, called from routes.rs `inbox`); those headers come from anyone, so this checks that no header value panics `parse` or `precheck`.
#![no_main]

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use picket_apub::signature;
use url::Url;

/// The instance the posts are addressed to, and the clock they are checked against: fixed, so a
/// crash reproduces whenever it is run (the corpus's dates are near this time).
const LOCAL_DOMAIN: &str = "b.example";
const NOW: i64 = 1_798_761_600; // 2027-01-01T00:00:00Z
const DEFAULT_ACTOR: &str = "https://a.example/u/alice";

// Input: the whole text is first parsed as one `Signature` header; then it is read as lines
// of `name: value`, which become the request's headers, except `actor: <url>`, the activity's
// claimed actor (default above). A first line that is no `name: value` is taken as the
// `Signature` header itself.
fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = signature::parse(text);

    let mut headers = HeaderMap::new();
    let mut actor = None;
    for (index, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let (name, value) = match line.split_once(':') {
            Some((name, value)) if HeaderName::from_bytes(name.trim().as_bytes()).is_ok() => {
                (name.trim(), value.trim_start())
            }
            _ if index == 0 => ("signature", line),
            _ => continue,
        };
        match name.to_ascii_lowercase().as_str() {
            "actor" => actor = Url::parse(value).ok(),
            _ => {
                if let (Ok(name), Ok(value)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(value),
                ) {
                    headers.append(name, value);
                }
            }
        }
    }
    let actor = actor.unwrap_or_else(|| Url::parse(DEFAULT_ACTOR).expect("a URL"));
    let now = DateTime::<Utc>::from_timestamp(NOW, 0).expect("a time");
    let _ = signature::precheck(&headers, &actor, LOCAL_DOMAIN, now);
});
