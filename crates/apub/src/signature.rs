//! What an inbox post's HTTP signature must cover before anything is fetched for it: the library verifies the cryptography, but accepts a signature over `digest` alone, any `Host` and any date, and fetches the claimed actor before it looks.

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use url::Url;

/// How far a signature's `Date` or `(created)` may be from our clock, either way.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 3600;
/// How far in the future a signature's `expires` may lie.
pub const MAX_EXPIRES_SECONDS: i64 = 12 * 3600;

/// Why a signature was refused before its key was fetched. The messages are fixed: they say
/// what to fix and never repeat what was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request has no HTTP Signature header")]
    Missing,
    #[error("the Signature header cannot be parsed (keyId, headers and signature are required)")]
    Unparseable,
    #[error("the signature must cover (request-target), host, digest and date or (created)")]
    HeadersNotCovered,
    #[error("the signature's keyId is not on the activity actor's host")]
    KeyNotOnActorHost,
    #[error("the Host header does not name this instance")]
    WrongHost,
    #[error("the signed request has no Date header")]
    NoDate,
    #[error("the signature's date is more than an hour away from this instance's clock")]
    Skewed,
    #[error("the signature's expiry is more than 12 hours away, or has passed")]
    BadExpiry,
}

/// The parts of a `Signature` header (draft-cavage-http-signatures) these checks need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureParams {
    pub key_id: Url,
    /// The signed headers, lower-cased, in order; `date` when the header does not say.
    pub headers: Vec<String>,
    pub created: Option<i64>,
    pub expires: Option<i64>,
}

/// Parses `keyId="…",headers="…",signature="…"` (parameters in any order, quoted or bare
/// numbers for `created` and `expires`).
pub fn parse(header: &str) -> Result<SignatureParams, SignatureError> {
    let mut key_id = None;
    let mut headers = None;
    let mut signature = false;
    let mut created = None;
    let mut expires = None;
    for part in split_params(header) {
        let (name, value) = part.split_once('=').ok_or(SignatureError::Unparseable)?;
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        match name.trim() {
            "keyId" => key_id = Some(Url::parse(value).map_err(|_| SignatureError::Unparseable)?),
            "headers" => {
                headers = Some(
                    value
                        .split_ascii_whitespace()
                        .map(str::to_ascii_lowercase)
                        .collect::<Vec<_>>(),
                )
            }
            "signature" => signature = !value.is_empty(),
            "created" => created = Some(value.parse().map_err(|_| SignatureError::Unparseable)?),
            "expires" => expires = Some(value.parse().map_err(|_| SignatureError::Unparseable)?),
            _ => {}
        }
    }
    match (key_id, signature) {
        (Some(key_id), true) => Ok(SignatureParams {
            key_id,
            // The draft's default when `headers` is absent.
            headers: headers.unwrap_or_else(|| vec!["date".to_owned()]),
            created,
            expires,
        }),
        _ => Err(SignatureError::Unparseable),
    }
}

/// Splits on commas outside quotes: a quoted value may itself hold commas.
fn split_params(header: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in header.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&header[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// The host and port a URL's instance is known by, as the library compares domains.
fn host_and_port(url: &Url) -> Option<String> {
    let host = url.host_str()?.to_ascii_lowercase();
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// Checks an inbox post's signature header against the claimed `actor` before any key is
/// fetched: it must be parseable, cover the request target, host, digest and a time, name a key
/// on the actor's own host, be addressed to `local_domain` (host, and port when there is one),
/// and be fresh.
pub fn precheck(
    headers: &HeaderMap,
    actor: &Url,
    local_domain: &str,
    now: DateTime<Utc>,
) -> Result<SignatureParams, SignatureError> {
    let header = headers
        .get("signature")
        .ok_or(SignatureError::Missing)?
        .to_str()
        .map_err(|_| SignatureError::Unparseable)?;
    let params = parse(header)?;
    let covers = |name: &str| params.headers.iter().any(|h| h == name);
    if !(covers("(request-target)")
        && covers("host")
        && covers("digest")
        && (covers("date") || covers("(created)")))
    {
        return Err(SignatureError::HeadersNotCovered);
    }
    if host_and_port(&params.key_id) != host_and_port(actor) {
        return Err(SignatureError::KeyNotOnActorHost);
    }
    if let Some(host) = headers.get(axum::http::header::HOST) {
        let host = host.to_str().map_err(|_| SignatureError::WrongHost)?;
        if !host.eq_ignore_ascii_case(local_domain) {
            return Err(SignatureError::WrongHost);
        }
    }
    let now_s = now.timestamp();
    // `abs_diff`: a `created` of i64::MIN must not overflow (found by the fuzzer).
    let fresh = |t: i64| t.abs_diff(now_s) <= MAX_CLOCK_SKEW_SECONDS.unsigned_abs();
    if covers("date") {
        let date = headers
            .get(axum::http::header::DATE)
            .and_then(|d| d.to_str().ok())
            .ok_or(SignatureError::NoDate)?;
        let date = DateTime::parse_from_rfc2822(date).map_err(|_| SignatureError::NoDate)?;
        if !fresh(date.timestamp()) {
            return Err(SignatureError::Skewed);
        }
    }
    if covers("(created)") {
        match params.created {
            Some(created) if fresh(created) => {}
            Some(_) => return Err(SignatureError::Skewed),
            None => return Err(SignatureError::Unparseable),
        }
    }
    if let Some(expires) = params.expires
        && (expires < now_s.saturating_sub(MAX_CLOCK_SKEW_SECONDS)
            || expires > now_s.saturating_add(MAX_EXPIRES_SECONDS))
    {
        return Err(SignatureError::BadExpiry);
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const ACTOR: &str = "https://a.example/u/alice";

    fn request(signature: &str, host: &str, date: DateTime<Utc>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "signature",
            HeaderValue::from_str(signature).expect("header"),
        );
        headers.insert("host", HeaderValue::from_str(host).expect("header"));
        headers.insert(
            "date",
            HeaderValue::from_str(&date.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
                .expect("header"),
        );
        headers
    }

    fn mastodon_style(key: &str) -> String {
        format!(
            "keyId=\"{key}#main-key\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest\",signature=\"c2ln\""
        )
    }

    fn check(signature: &str, host: &str, date: DateTime<Utc>) -> Result<(), SignatureError> {
        let actor = Url::parse(ACTOR).expect("url");
        precheck(
            &request(signature, host, date),
            &actor,
            "b.example",
            Utc::now(),
        )
        .map(drop)
    }

    #[test]
    fn accepts_what_mastodon_and_picket_sign() {
        assert_eq!(
            check(&mastodon_style(ACTOR), "b.example", Utc::now()),
            Ok(())
        );
        // The library's default: (created) and expires instead of a date.
        let now = Utc::now().timestamp();
        let created = format!(
            "keyId=\"{ACTOR}#main-key\",headers=\"(request-target) (created) (expires) host digest\",created={now},expires={},signature=\"c2ln\"",
            now + 3600
        );
        assert_eq!(check(&created, "B.example", Utc::now()), Ok(()));
    }

    #[test]
    fn refuses_weak_or_misdirected_signatures() {
        let cases = [
            (String::new(), SignatureError::Unparseable),
            (
                format!("keyId=\"{ACTOR}#main-key\",headers=\"digest\",signature=\"c2ln\""),
                SignatureError::HeadersNotCovered,
            ),
            (
                format!(
                    "keyId=\"{ACTOR}#main-key\",headers=\"(request-target) host digest\",signature=\"c2ln\""
                ),
                SignatureError::HeadersNotCovered,
            ),
            (
                format!("keyId=\"{ACTOR}#main-key\",signature=\"c2ln\""),
                SignatureError::HeadersNotCovered,
            ),
            (
                mastodon_style("https://evil.example/u/alice"),
                SignatureError::KeyNotOnActorHost,
            ),
            (
                mastodon_style("https://a.example:8443/u/alice"),
                SignatureError::KeyNotOnActorHost,
            ),
            (
                "headers=\"(request-target) host date digest\",signature=\"c2ln\"".to_owned(),
                SignatureError::Unparseable,
            ),
        ];
        for (signature, expected) in cases {
            assert_eq!(
                check(&signature, "b.example", Utc::now()),
                Err(expected),
                "{signature}"
            );
        }
        assert_eq!(
            check(&mastodon_style(ACTOR), "other.example", Utc::now()),
            Err(SignatureError::WrongHost)
        );
        for days in [30, -30] {
            assert_eq!(
                check(
                    &mastodon_style(ACTOR),
                    "b.example",
                    Utc::now() + chrono::Duration::days(days)
                ),
                Err(SignatureError::Skewed)
            );
        }
        let far = Utc::now().timestamp() + 13 * 3600;
        let expiring = format!(
            "keyId=\"{ACTOR}#main-key\",headers=\"(request-target) host date digest\",expires={far},signature=\"c2ln\""
        );
        assert_eq!(
            check(&expiring, "b.example", Utc::now()),
            Err(SignatureError::BadExpiry)
        );
    }

    #[test]
    fn no_signature_is_refused_before_anything_else() {
        let actor = Url::parse(ACTOR).expect("url");
        assert_eq!(
            precheck(&HeaderMap::new(), &actor, "b.example", Utc::now()),
            Err(SignatureError::Missing)
        );
    }

    /// Found by the fuzzer: extreme times are refused, not an arithmetic overflow.
    #[test]
    fn extreme_times_do_not_overflow() {
        let actor = Url::parse(ACTOR).expect("url");
        for created in [i64::MIN, i64::MAX] {
            let header = format!(
                "keyId=\"{ACTOR}#main-key\",headers=\"(request-target) (created) host digest\",created={created},signature=\"c2ln\""
            );
            let mut headers = HeaderMap::new();
            headers.insert("signature", HeaderValue::from_str(&header).expect("header"));
            headers.insert("host", HeaderValue::from_static("b.example"));
            assert_eq!(
                precheck(&headers, &actor, "b.example", Utc::now()),
                Err(SignatureError::Skewed)
            );
        }
        for expires in [i64::MIN, i64::MAX] {
            let header = format!(
                "keyId=\"{ACTOR}#main-key\",headers=\"(request-target) host date digest\",expires={expires},signature=\"c2ln\""
            );
            assert_eq!(
                check(&header, "b.example", Utc::now()),
                Err(SignatureError::BadExpiry)
            );
        }
    }

    #[test]
    fn an_hour_either_way_is_tolerated() {
        let skew = chrono::Duration::minutes(59);
        assert_eq!(
            check(&mastodon_style(ACTOR), "b.example", Utc::now() + skew),
            Ok(())
        );
        assert_eq!(
            check(&mastodon_style(ACTOR), "b.example", Utc::now() - skew),
            Ok(())
        );
    }
}
