//! The one HTTP client every outgoing request goes through (the federation library's fetches and deliveries, NodeInfo, WebFinger, subscribed lists): it refuses private, loopback, link-local, unspecified and IPv4-mapped addresses when it connects, caps bodies, and follows at most one redirect, checked again.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Largest body read from another server by our own fetches (the library caps its own at 1 MiB).
pub const MAX_FETCH_BYTES: usize = 1024 * 1024;
/// Time for one whole request, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an outgoing request was not made or its answer not read. Messages never carry what the
/// other server sent.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0} is not a public address")]
    Refused(String),
    #[error("only http and https URLs are fetched")]
    Scheme,
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the server answered {0}")]
    Status(reqwest::StatusCode),
    #[error("the request failed: {0}")]
    Request(String),
}

/// Whether connections to `ip` are refused: everything but public unicast addresses.
pub fn is_refused(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_refused(v4),
        IpAddr::V6(v6) => {
            // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses reach
            // IPv4 hosts: judge them as what they reach, and refuse them outright anyway.
            let segments = v6.segments();
            if matches!(
                segments,
                [0, 0, 0, 0, 0, 0xffff, ..] | [0, 0, 0, 0, 0, 0, ..]
            ) {
                return true;
            }
            // NAT64 (64:ff9b::/96) embeds an IPv4 address.
            if matches!(segments, [0x64, 0xff9b, 0, 0, 0, 0, ..]) {
                let [a, b] = segments[6].to_be_bytes();
                let [c, d] = segments[7].to_be_bytes();
                return v4_refused(Ipv4Addr::new(a, b, c, d));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                // site-local (fec0::/10), deprecated but still routed by some stacks
                || (segments[0] & 0xffc0) == 0xfec0
                // documentation
                || matches!(segments, [0x2001, 0xdb8, ..])
                // 6to4 embeds an IPv4 address
                || segments[0] == 0x2002
                // local-use NAT64
                || matches!(segments, [0x64, 0xff9b, 1, ..])
        }
    }
}

fn v4_refused(v4: Ipv4Addr) -> bool {
    let [a, b, ..] = v4.octets();
    v4.is_private()
        || v4.is_loopback()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_multicast()
        || v4.is_broadcast()
        || v4.is_documentation()
        // 0.0.0.0/8 reaches this host on Linux
        || a == 0
        // shared address space (CGNAT), often internal in clouds
        || (a == 100 && (b & 0xc0) == 64)
        // benchmarking
        || (a == 198 && (b & 0xfe) == 18)
        // IETF protocol assignments
        || (a == 192 && b == 0 && v4.octets()[2] == 0)
        // reserved
        || a >= 240
}

/// Resolves names and drops refused addresses, at the moment of connecting, so a name that
/// changes its answer between a check and the connection (DNS rebinding) gains nothing.
#[derive(Debug, Clone, Default)]
pub struct PublicResolver {
    /// Development and tests: loopback and private peers are allowed.
    allow_loopback: bool,
    /// Fixed answers for names (tests map public-looking names to chosen addresses).
    fixed: Arc<HashMap<String, Vec<IpAddr>>>,
    /// Names connected to whatever they resolve to (tests: a first hop on this machine).
    exempt: Arc<Vec<String>>,
}

impl PublicResolver {
    pub fn new(allow_loopback: bool) -> PublicResolver {
        PublicResolver {
            allow_loopback,
            fixed: Arc::default(),
            exempt: Arc::default(),
        }
    }

    /// A resolver that answers `names` with the given addresses instead of asking DNS.
    pub fn with_fixed(allow_loopback: bool, names: HashMap<String, Vec<IpAddr>>) -> PublicResolver {
        PublicResolver {
            allow_loopback,
            fixed: Arc::new(names),
            exempt: Arc::default(),
        }
    }

    /// The same resolver, connecting `name` wherever it resolves: for a test's first hop.
    pub fn exempting(mut self, name: &str) -> PublicResolver {
        let mut exempt = (*self.exempt).clone();
        exempt.push(name.to_ascii_lowercase());
        self.exempt = Arc::new(exempt);
        self
    }

    /// The addresses of `host` that may be connected to; an error when none may.
    pub async fn lookup(&self, host: &str) -> Result<Vec<SocketAddr>, FetchError> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let found: Vec<IpAddr> = match self.fixed.get(&host) {
            Some(fixed) => fixed.clone(),
            None => tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| FetchError::Request(format!("{host} does not resolve")))?
                .map(|a| a.ip())
                .collect(),
        };
        let exempt = self.allow_loopback || self.exempt.contains(&host);
        let allowed: Vec<SocketAddr> = found
            .into_iter()
            .filter(|ip| exempt || !is_refused(*ip))
            .map(|ip| SocketAddr::new(ip, 0))
            .collect();
        if allowed.is_empty() {
            return Err(FetchError::Refused(host));
        }
        Ok(allowed)
    }
}

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver = self.clone();
        Box::pin(async move {
            let addrs: Addrs = Box::new(resolver.lookup(name.as_str()).await?.into_iter());
            Ok(addrs)
        })
    }
}

/// Refuses a URL before any request: a scheme other than http(s), or a literal address that is
/// not public (names are checked by the resolver, when connecting).
pub fn check_url(url: &Url, allow_loopback: bool) -> Result<(), FetchError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FetchError::Scheme);
    }
    if allow_loopback {
        return Ok(());
    }
    let literal = match url.host() {
        Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        Some(Host::Domain(_)) => None,
        None => return Err(FetchError::Refused(String::new())),
    };
    match literal {
        Some(ip) if is_refused(ip) => Err(FetchError::Refused(ip.to_string())),
        _ => Ok(()),
    }
}

/// Every outgoing request passes here before it is sent, including the library's.
#[derive(Debug, Clone, Copy)]
struct CheckUrls {
    allow_loopback: bool,
}

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for CheckUrls {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        check_url(request.url(), self.allow_loopback)
            .map_err(|e| reqwest_middleware::Error::Middleware(e.into()))?;
        next.run(request, extensions).await
    }
}

/// What a peer answered when it refused a delivery for good (a 4xx other than 408 and 429).
/// The federation library reports such an answer as delivered; [`RecordRefusal`] keeps it for
/// the delivery worker, which waits for it inside [`capture_refusal`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    /// The status and the start of the body, as text.
    pub answer: String,
}

tokio::task_local! {
    static REFUSAL: std::cell::RefCell<Option<Refusal>>;
}

/// Runs `work` (one delivery) and returns what it gave with the refusal, if the peer refused.
pub async fn capture_refusal<F: std::future::Future>(work: F) -> (F::Output, Option<Refusal>) {
    REFUSAL
        .scope(std::cell::RefCell::new(None), async move {
            let output = work.await;
            let refusal = REFUSAL.with(|cell| cell.borrow_mut().take());
            (output, refusal)
        })
        .await
}

/// Bytes of a refusal's body kept: an error message, not a page.
const REFUSAL_BYTES: usize = 2048;

/// Keeps a final 4xx answer to a POST made inside [`capture_refusal`], and passes the answer on
/// unchanged otherwise.
#[derive(Debug, Clone, Copy)]
struct RecordRefusal;

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for RecordRefusal {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let is_post = request.method() == reqwest::Method::POST;
        let mut response = next.run(request, extensions).await?;
        let status = response.status();
        let refused = status.is_client_error()
            && status != reqwest::StatusCode::REQUEST_TIMEOUT
            && status != reqwest::StatusCode::TOO_MANY_REQUESTS;
        if !is_post || !refused || REFUSAL.try_with(|_| ()).is_err() {
            return Ok(response);
        }
        let mut body = Vec::new();
        while body.len() < REFUSAL_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                _ => break,
            }
        }
        body.truncate(REFUSAL_BYTES);
        let text = String::from_utf8_lossy(&body);
        let answer = format!("{status} {}", text.trim());
        let _ = REFUSAL.try_with(|cell| {
            *cell.borrow_mut() = Some(Refusal {
                status: status.as_u16(),
                answer,
            });
        });
        let rebuilt = http::Response::builder()
            .status(status)
            .body(body)
            .map_err(|e| reqwest_middleware::Error::Middleware(e.into()))?;
        Ok(reqwest::Response::from(rebuilt))
    }
}

/// The instance's outgoing client: built once per instance and shared by everything that
/// talks to other servers.
#[derive(Debug, Clone)]
pub struct Outgoing {
    client: reqwest_middleware::ClientWithMiddleware,
    allow_loopback: bool,
}

impl Outgoing {
    /// A client that refuses non-public addresses unless `allow_loopback`.
    pub fn new(allow_loopback: bool) -> Result<Outgoing, FetchError> {
        Outgoing::with_resolver(PublicResolver::new(allow_loopback))
    }

    pub fn with_resolver(resolver: PublicResolver) -> Result<Outgoing, FetchError> {
        crate::install_tls();
        let allow_loopback = resolver.allow_loopback;
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > 1 {
                return attempt.stop();
            }
            match check_url(attempt.url(), allow_loopback) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(e),
            }
        });
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(redirects)
            .dns_resolver(Arc::new(resolver))
            .user_agent(concat!("picket/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Request(e.to_string()))?;
        Ok(Outgoing {
            client: reqwest_middleware::ClientBuilder::new(client)
                .with(CheckUrls { allow_loopback })
                .with(RecordRefusal)
                .build(),
            allow_loopback,
        })
    }

    /// Whether this is a development client, which reaches loopback and plain-HTTP peers.
    pub fn allows_loopback(&self) -> bool {
        self.allow_loopback
    }

    /// The client, for the federation library.
    pub fn client(&self) -> reqwest_middleware::ClientWithMiddleware {
        self.client.clone()
    }

    /// GETs `url` with `accept` and reads at most `max` bytes of a 2xx answer.
    pub async fn get(&self, url: &Url, accept: &str, max: usize) -> Result<Vec<u8>, FetchError> {
        let response = self
            .client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .await
            .map_err(describe)?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status()));
        }
        read_capped(response, max).await
    }
}

/// A request error in our words: the library's and reqwest's texts can carry a URL's query,
/// which is ours, but never the body, which is theirs.
fn describe(error: reqwest_middleware::Error) -> FetchError {
    match error {
        reqwest_middleware::Error::Middleware(e) => match e.downcast::<FetchError>() {
            Ok(ours) => ours,
            Err(other) => FetchError::Request(other.to_string()),
        },
        reqwest_middleware::Error::Reqwest(e) => {
            // A refusal by the resolver or the redirect policy comes back wrapped.
            let mut source: Option<&dyn std::error::Error> = Some(&e);
            while let Some(inner) = source {
                if let Some(ours) = inner.downcast_ref::<FetchError>() {
                    return match ours {
                        FetchError::Refused(host) => FetchError::Refused(host.clone()),
                        FetchError::Scheme => FetchError::Scheme,
                        other => FetchError::Request(other.to_string()),
                    };
                }
                source = inner.source();
            }
            if e.is_timeout() {
                FetchError::Request("the server did not answer in time".into())
            } else if e.is_redirect() {
                FetchError::Request("too many redirects".into())
            } else {
                FetchError::Request("the server could not be reached".into())
            }
        }
    }
}

/// Reads a body chunk by chunk, giving up as soon as it passes `max`: a server cannot make us
/// hold more, however it sends it.
async fn read_capped(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, FetchError> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(FetchError::TooLarge(max));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| FetchError::Request("the answer was cut off".into()))?
    {
        if body.len() + chunk.len() > max {
            return Err(FetchError::TooLarge(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every range that must never be connected to, and some public neighbours that must be.
    #[test]
    fn refused_ranges() {
        for refused in [
            "127.0.0.1",
            "127.255.255.254",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "198.18.0.1",
            "192.0.0.8",
            "192.0.2.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:8.8.8.8",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "2001:db8::1",
        ] {
            let ip: IpAddr = refused.parse().expect(refused);
            assert!(is_refused(ip), "{refused} must be refused");
        }
        for allowed in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "64:ff9b::808:808",
        ] {
            let ip: IpAddr = allowed.parse().expect(allowed);
            assert!(!is_refused(ip), "{allowed} must be allowed");
        }
    }

    #[test]
    fn literal_addresses_and_schemes_are_checked_before_sending() {
        for refused in [
            "http://127.0.0.1/",
            "http://[::1]:8080/",
            "https://10.1.2.3/x",
            "http://[::ffff:7f00:1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://0.0.0.0:80/",
        ] {
            let url = Url::parse(refused).expect(refused);
            assert!(
                matches!(check_url(&url, false), Err(FetchError::Refused(_))),
                "{refused}"
            );
            assert!(check_url(&url, true).is_ok(), "{refused} in development");
        }
        let file = Url::parse("file:///etc/passwd").expect("url");
        assert!(matches!(check_url(&file, true), Err(FetchError::Scheme)));
        assert!(check_url(&Url::parse("https://example.com/").expect("url"), false).is_ok());
    }

    /// The resolver drops refused answers, so a name mapped to any private range resolves to
    /// nothing connectable; no connection to those ranges is ever attempted here.
    #[tokio::test]
    async fn names_resolving_to_private_addresses_are_refused() {
        let ranges = [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::",
        ];
        let names = ranges
            .iter()
            .enumerate()
            .map(|(i, ip)| {
                (
                    format!("host{i}.public.example"),
                    vec![ip.parse().expect("ip")],
                )
            })
            .collect::<HashMap<_, _>>();
        let production = PublicResolver::with_fixed(false, names.clone());
        let development = PublicResolver::with_fixed(true, names);
        for (i, ip) in ranges.iter().enumerate() {
            let name = format!("host{i}.public.example");
            assert!(
                matches!(production.lookup(&name).await, Err(FetchError::Refused(_))),
                "{name} -> {ip}"
            );
            assert!(development.lookup(&name).await.is_ok());
        }
        // A name with one public and one private answer keeps only the public one.
        let mixed = PublicResolver::with_fixed(
            false,
            HashMap::from([(
                "mixed.example".to_owned(),
                vec![
                    "10.0.0.1".parse().expect("ip"),
                    "8.8.8.8".parse().expect("ip"),
                ],
            )]),
        );
        let kept = mixed
            .lookup("mixed.example")
            .await
            .expect("one public address");
        assert_eq!(
            kept,
            vec![SocketAddr::new("8.8.8.8".parse().expect("ip"), 0)]
        );
    }
}
