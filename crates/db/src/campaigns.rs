//! Campaigns and their signatures: opened from a wave here, or copies of other instances'; a signature on a campaign held here is counted at once, one on a copy is remembered here (so nobody signs twice) and sent home as an opaque token. Each write leaves its federation event in the same transaction.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use picket_core::campaign::{CampaignTerms, Demand, InstanceCount, Outcome};
use picket_core::incident::IncidentKind;

use crate::error::conflict_as;
use crate::events::{self, EventKind, ObjectType};
use crate::reviews::{RemoteOrigin, RemoteOutcome};
use crate::schema::{campaign_signatures, campaigns};
use crate::{DbConn, DbError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = campaigns)]
pub struct CampaignRow {
    pub id: i64,
    pub public_id: String,
    pub platform: String,
    /// The requester written to; absent for a letter to the platform.
    pub requester_pk: Option<i64>,
    /// The wave's incident kind and first day.
    pub kind: String,
    pub since: NaiveDate,
    pub demand: String,
    pub letter: String,
    pub threshold: i64,
    pub outcome: Option<String>,
    pub outcome_on: Option<NaiveDate>,
    pub author_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub ap_id: Option<String>,
    pub origin: Option<String>,
    pub remote_author: Option<String>,
    pub remote_counts: Option<String>,
}

impl CampaignRow {
    pub fn is_local(&self) -> bool {
        self.ap_id.is_none()
    }

    pub fn kind(&self) -> Result<IncidentKind, DbError> {
        self.kind.parse().map_err(DbError::Corrupt)
    }

    pub fn terms(&self) -> Result<CampaignTerms, DbError> {
        Ok(CampaignTerms {
            demand: self.demand.parse::<Demand>().map_err(DbError::Corrupt)?,
            letter: self.letter.clone(),
            threshold: self.threshold,
        })
    }

    pub fn outcome(&self) -> Result<Option<Outcome>, DbError> {
        self.outcome
            .as_deref()
            .map(|o| o.parse().map_err(DbError::Corrupt))
            .transpose()
    }
}

/// A campaign's target, wave and terms.
#[derive(Debug, Clone, Copy)]
pub struct NewCampaign<'a> {
    pub public_id: &'a str,
    pub platform: &'a str,
    pub requester_pk: Option<i64>,
    pub kind: IncidentKind,
    pub since: NaiveDate,
    pub terms: &'a CampaignTerms,
}

/// Opens a campaign; its author is its first signature, and it federates.
pub fn create(
    conn: &mut DbConn,
    new: NewCampaign<'_>,
    author_id: i64,
    local_instance: &str,
    at: NaiveDateTime,
) -> Result<CampaignRow, DbError> {
    let row: CampaignRow = diesel::insert_into(campaigns::table)
        .values((
            campaigns::public_id.eq(new.public_id),
            campaigns::platform.eq(new.platform),
            campaigns::requester_pk.eq(new.requester_pk),
            campaigns::kind.eq(new.kind.as_str()),
            campaigns::since.eq(new.since),
            campaigns::demand.eq(new.terms.demand.as_str()),
            campaigns::letter.eq(&new.terms.letter),
            campaigns::threshold.eq(new.terms.threshold),
            campaigns::author_id.eq(author_id),
            campaigns::created_at.eq(at),
            campaigns::updated_at.eq(at),
        ))
        .returning(campaigns::all_columns)
        .get_result(conn)
        .map_err(conflict_as("campaign"))?;
    insert_signature(
        conn,
        row.id,
        &format!("local:{author_id}"),
        local_instance,
        Some(author_id),
        at,
    )?;
    events::record(
        conn,
        ObjectType::Campaign,
        EventKind::Create,
        &row.public_id,
        at,
    )?;
    Ok(row)
}

fn insert_signature(
    conn: &mut DbConn,
    campaign_pk: i64,
    signer: &str,
    origin: &str,
    user_id: Option<i64>,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    let inserted = crate::savepoint(conn, |conn| {
        diesel::insert_into(campaign_signatures::table)
            .values((
                campaign_signatures::campaign_pk.eq(campaign_pk),
                campaign_signatures::signer.eq(signer),
                campaign_signatures::origin.eq(origin),
                campaign_signatures::user_id.eq(user_id),
                campaign_signatures::created_at.eq(at),
            ))
            .execute(conn)
            .map_err(conflict_as("signature"))
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(DbError::Conflict(_)) => Ok(false),
        Err(other) => Err(other),
    }
}

/// The campaign changed (a signature, an outcome): its home tells the copies.
fn touch(conn: &mut DbConn, row: &CampaignRow, at: NaiveDateTime) -> Result<(), DbError> {
    diesel::update(campaigns::table.find(row.id))
        .set(campaigns::updated_at.eq(at))
        .execute(conn)?;
    events::record(
        conn,
        ObjectType::Campaign,
        EventKind::Update,
        &row.public_id,
        at,
    )
}

/// A local worker signs. On a campaign of this instance's the signature counts at once; on a
/// copy it is remembered here under a random token, which goes to the campaign's home (so that
/// instance learns how many signed here, never who). `false` when the worker had signed.
pub fn sign(
    conn: &mut DbConn,
    row: &CampaignRow,
    user_id: i64,
    token: &str,
    local_instance: &str,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    if signed_by(conn, row.id, user_id)? {
        return Ok(false);
    }
    let signer = if row.is_local() {
        format!("local:{user_id}")
    } else {
        token.to_owned()
    };
    if !insert_signature(conn, row.id, &signer, local_instance, Some(user_id), at)? {
        return Ok(false);
    }
    if row.is_local() {
        touch(conn, row, at)?;
    } else {
        events::record(conn, ObjectType::Signature, EventKind::Create, &signer, at)?;
    }
    Ok(true)
}

/// A signature another instance sent for one of its workers; `false` when that token had signed.
pub fn record_remote_signature(
    conn: &mut DbConn,
    row: &CampaignRow,
    signer: &str,
    origin: &str,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    let fresh = insert_signature(
        conn,
        row.id,
        &format!("{origin} {signer}"),
        origin,
        None,
        at,
    )?;
    if fresh {
        touch(conn, row, at)?;
    }
    Ok(fresh)
}

/// A local signature of a copy, by its token, with the campaign: what the worker sends home.
pub fn signature_by_token(
    conn: &mut DbConn,
    token: &str,
) -> Result<(String, CampaignRow), DbError> {
    let (signer, campaign_pk): (String, i64) = campaign_signatures::table
        .filter(campaign_signatures::signer.eq(token))
        .filter(campaign_signatures::user_id.is_not_null())
        .select((
            campaign_signatures::signer,
            campaign_signatures::campaign_pk,
        ))
        .first(conn)?;
    Ok((signer, by_pk(conn, campaign_pk)?))
}

pub fn signed_by(conn: &mut DbConn, campaign_pk: i64, user_id: i64) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        campaign_signatures::table
            .filter(campaign_signatures::campaign_pk.eq(campaign_pk))
            .filter(campaign_signatures::user_id.eq(user_id)),
    ))
    .get_result(conn)?)
}

/// Signatures by instance: counted here for a campaign of this instance's, as its home last
/// said for a copy. Largest first.
pub fn counts(conn: &mut DbConn, row: &CampaignRow) -> Result<Vec<InstanceCount>, DbError> {
    if !row.is_local() {
        return Ok(row
            .remote_counts
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default());
    }
    // Local workers' signatures, and other instances' while they count here (a block or an
    // unfollow takes theirs out of the count, as of their content from aggregates).
    let rows: Vec<(String, i64)> = campaign_signatures::table
        .filter(campaign_signatures::campaign_pk.eq(row.id))
        .filter(
            campaign_signatures::user_id
                .is_not_null()
                .or(campaign_signatures::origin.eq_any(
                    crate::schema::counted_origins::table
                        .select(crate::schema::counted_origins::origin),
                )),
        )
        .group_by(campaign_signatures::origin)
        .select((campaign_signatures::origin, diesel::dsl::count_star()))
        .load(conn)?;
    let mut counts: Vec<InstanceCount> = rows
        .into_iter()
        .map(|(instance, signatures)| InstanceCount {
            instance,
            signatures,
        })
        .collect();
    counts.sort_by(|a, b| {
        b.signatures
            .cmp(&a.signatures)
            .then(a.instance.cmp(&b.instance))
    });
    Ok(counts)
}

/// The outcome of a campaign of this instance's, recorded by its admins; it federates.
pub fn set_outcome(
    conn: &mut DbConn,
    row: &CampaignRow,
    outcome: Outcome,
    on: NaiveDate,
    at: NaiveDateTime,
) -> Result<CampaignRow, DbError> {
    diesel::update(campaigns::table.find(row.id))
        .set((
            campaigns::outcome.eq(outcome.as_str()),
            campaigns::outcome_on.eq(on),
        ))
        .execute(conn)?;
    touch(conn, row, at)?;
    by_pk(conn, row.id)
}

/// What a copy of another instance's campaign holds, as its home last sent it.
#[derive(Debug, Clone, Copy)]
pub struct RemoteCampaign<'a> {
    pub platform: &'a str,
    pub requester_pk: Option<i64>,
    pub kind: IncidentKind,
    pub since: NaiveDate,
    pub terms: &'a CampaignTerms,
    pub counts: &'a [InstanceCount],
    pub outcome: Option<(Outcome, NaiveDate)>,
    pub published_at: NaiveDateTime,
}

/// Stores another instance's campaign, or brings the copy held up to date (its counts and
/// outcome), only from its author and only forward.
pub fn upsert_remote(
    conn: &mut DbConn,
    public_id: &str,
    remote: RemoteOrigin<'_>,
    arrived: RemoteCampaign<'_>,
    at: NaiveDateTime,
) -> Result<(CampaignRow, RemoteOutcome), DbError> {
    crate::policy::note_origin(conn, remote.origin)?;
    let counts = serde_json::to_string(arrived.counts).unwrap_or_else(|_| "[]".into());
    let (outcome, outcome_on) = match arrived.outcome {
        Some((outcome, on)) => (Some(outcome.as_str()), Some(on)),
        None => (None, None),
    };
    if let Some(existing) = by_ap_id(conn, remote.ap_id)? {
        if !crate::reviews::take_version(conn, existing.remote_author.as_deref(), &remote)? {
            return Ok((existing, RemoteOutcome::Outdated));
        }
        diesel::update(campaigns::table.find(existing.id))
            .set((
                campaigns::letter.eq(&arrived.terms.letter),
                campaigns::threshold.eq(arrived.terms.threshold),
                campaigns::remote_counts.eq(&counts),
                campaigns::outcome.eq(outcome),
                campaigns::outcome_on.eq(outcome_on),
                campaigns::updated_at.eq(at),
            ))
            .execute(conn)?;
        return Ok((by_pk(conn, existing.id)?, RemoteOutcome::Updated));
    }
    let inserted = crate::savepoint(conn, |conn| {
        diesel::insert_into(campaigns::table)
            .values((
                campaigns::public_id.eq(public_id),
                campaigns::platform.eq(arrived.platform),
                campaigns::requester_pk.eq(arrived.requester_pk),
                campaigns::kind.eq(arrived.kind.as_str()),
                campaigns::since.eq(arrived.since),
                campaigns::demand.eq(arrived.terms.demand.as_str()),
                campaigns::letter.eq(&arrived.terms.letter),
                campaigns::threshold.eq(arrived.terms.threshold),
                campaigns::outcome.eq(outcome),
                campaigns::outcome_on.eq(outcome_on),
                campaigns::created_at.eq(arrived.published_at),
                campaigns::updated_at.eq(at),
                campaigns::ap_id.eq(remote.ap_id),
                campaigns::origin.eq(remote.origin),
                campaigns::remote_author.eq(remote.author),
                campaigns::remote_counts.eq(&counts),
            ))
            .returning(campaigns::all_columns)
            .get_result(conn)
            .map_err(conflict_as("campaign"))
    });
    match inserted {
        Ok(row) => {
            crate::reviews::record_version(conn, &remote)?;
            Ok((row, RemoteOutcome::Created))
        }
        Err(DbError::Conflict(_)) => {
            let row = by_ap_id(conn, remote.ap_id)?.ok_or(DbError::Conflict("campaign"))?;
            Ok((row, RemoteOutcome::Updated))
        }
        Err(other) => Err(other),
    }
}

pub fn by_public_id(conn: &mut DbConn, public_id: &str) -> Result<CampaignRow, DbError> {
    Ok(campaigns::table
        .filter(campaigns::public_id.eq(public_id))
        .select(CampaignRow::as_select())
        .first(conn)?)
}

pub fn by_pk(conn: &mut DbConn, pk: i64) -> Result<CampaignRow, DbError> {
    Ok(campaigns::table
        .find(pk)
        .select(CampaignRow::as_select())
        .first(conn)?)
}

pub fn by_ap_id(conn: &mut DbConn, ap_id: &str) -> Result<Option<CampaignRow>, DbError> {
    Ok(campaigns::table
        .filter(campaigns::ap_id.eq(ap_id))
        .select(CampaignRow::as_select())
        .first(conn)
        .optional()?)
}

/// Which campaigns a list shows.
#[derive(Debug, Clone, Copy)]
pub enum CampaignScope<'a> {
    All,
    Requester(i64),
    /// Letters to the platform itself.
    Platform(&'a str),
}

/// Campaigns whose origin is not hidden, newest first.
pub fn list(
    conn: &mut DbConn,
    scope: CampaignScope<'_>,
    limit: i64,
) -> Result<Vec<CampaignRow>, DbError> {
    let mut query = campaigns::table
        .filter(visible!(campaigns::origin))
        .order(campaigns::id.desc())
        .limit(limit)
        .select(CampaignRow::as_select())
        .into_boxed();
    query = match scope {
        CampaignScope::All => query,
        CampaignScope::Requester(pk) => query.filter(campaigns::requester_pk.eq(pk)),
        CampaignScope::Platform(platform) => query
            .filter(campaigns::requester_pk.is_null())
            .filter(campaigns::platform.eq(platform.to_owned())),
    };
    Ok(query.load(conn)?)
}

/// The public ids of the campaigns a local worker signed: what the worker's own export lists.
pub fn signed_campaigns(conn: &mut DbConn, user_id: i64) -> Result<Vec<String>, DbError> {
    Ok(campaign_signatures::table
        .inner_join(campaigns::table)
        .filter(campaign_signatures::user_id.eq(user_id))
        .order(campaign_signatures::id)
        .select(campaigns::public_id)
        .load(conn)?)
}

/// A deleted account's signatures go; the counts drop with them.
pub fn forget_signer(conn: &mut DbConn, user_id: i64) -> Result<(), DbError> {
    diesel::delete(campaign_signatures::table.filter(campaign_signatures::user_id.eq(user_id)))
        .execute(conn)?;
    Ok(())
}
