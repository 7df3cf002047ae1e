//! What the API needs from federation, without depending on it: following actors on other servers for a worker. The server plugs the federation crate in; an instance without it answers 503.

use futures_util::future::BoxFuture;

/// Follows on other servers, made on a worker's behalf.
pub trait Remote: Send + Sync {
    /// Follows `target` (a handle such as `mturk.a1b2c3@picket.example` or `alice@host`, or an
    /// actor URL) as the local worker `username`. The follow stays pending until accepted.
    fn follow<'a>(
        &'a self,
        username: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<Followed, RemoteError>>;

    /// Stops following `target`.
    fn unfollow<'a>(
        &'a self,
        username: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<(), RemoteError>>;
}

/// The actor a follow went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Followed {
    pub actor: String,
    /// For a Picket requester feed: the requester, so the worker is also told of it here.
    pub requester: Option<FollowedRequester>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowedRequester {
    pub platform: String,
    pub requester_id: String,
    pub name: String,
}

/// Why a follow could not be made, in words a worker can act on.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// No such actor, or nothing to unfollow.
    #[error("{0}")]
    NotFound(String),
    /// The target is malformed or its server refused or failed.
    #[error("{0}")]
    Refused(String),
}
