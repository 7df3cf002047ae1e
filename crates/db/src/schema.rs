//! The one diesel schema both backends share; migrations under `migrations/{sqlite,postgres}` must produce exactly these tables and columns.

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        password_hash -> Nullable<Text>,
        email -> Nullable<Text>,
        role -> Text,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        speaks_for -> Nullable<BigInt>,
    }
}

diesel::table! {
    instance_settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_digest -> Text,
        kind -> Text,
        label -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invites (id) {
        id -> BigInt,
        code_digest -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_by -> Nullable<BigInt>,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    requesters (id) {
        id -> BigInt,
        platform -> Text,
        requester_id -> Text,
        name -> Text,
        name_lower -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    counted_origins (origin) {
        origin -> Text,
    }
}

diesel::table! {
    remote_versions (ap_id) {
        ap_id -> Text,
        version -> Timestamp,
    }
}

diesel::table! {
    requester_name_votes (requester_pk, voter) {
        requester_pk -> BigInt,
        voter -> Text,
        name -> Text,
        seen_at -> Timestamp,
    }
}

diesel::table! {
    requester_aliases (id) {
        id -> BigInt,
        requester_pk -> BigInt,
        name -> Text,
        name_lower -> Text,
        first_seen -> Timestamp,
        last_seen -> Timestamp,
    }
}

diesel::table! {
    reviews (id) {
        id -> BigInt,
        public_id -> Text,
        author_id -> Nullable<BigInt>,
        requester_pk -> BigInt,
        state -> Text,
        task_title -> Nullable<Text>,
        batch_id -> Nullable<Text>,
        reward_minor -> BigInt,
        bonus_minor -> Nullable<BigInt>,
        currency -> Text,
        time_spent_seconds -> BigInt,
        completion -> Text,
        approval -> Text,
        time_to_decision_seconds -> Nullable<BigInt>,
        score_pay -> Nullable<SmallInt>,
        score_fairness -> Nullable<SmallInt>,
        score_promptness -> Nullable<SmallInt>,
        score_communication -> Nullable<SmallInt>,
        recommend -> Nullable<Text>,
        tos_violation -> Bool,
        tos_explanation -> Nullable<Text>,
        broken -> Bool,
        broken_explanation -> Nullable<Text>,
        unpaid_screener -> Bool,
        body -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        published_at -> Nullable<Timestamp>,
        removed_reason -> Nullable<Text>,
        ap_id -> Nullable<Text>,
        origin -> Nullable<Text>,
        remote_author -> Nullable<Text>,
    }
}

diesel::table! {
    review_edits (id) {
        id -> BigInt,
        review_pk -> BigInt,
        edited_at -> Timestamp,
        previous -> Text,
    }
}

diesel::table! {
    incidents (id) {
        id -> BigInt,
        public_id -> Text,
        author_id -> Nullable<BigInt>,
        kind -> Text,
        platform -> Text,
        requester_pk -> Nullable<BigInt>,
        batch_id -> Nullable<Text>,
        happened_from -> Date,
        happened_to -> Nullable<Date>,
        tasks_affected -> Nullable<BigInt>,
        amount_lost_minor -> Nullable<BigInt>,
        currency -> Text,
        message_received -> Nullable<Text>,
        description -> Text,
        evidence_digests -> Text,
        status -> Text,
        state -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        removed_reason -> Nullable<Text>,
        ap_id -> Nullable<Text>,
        origin -> Nullable<Text>,
        remote_author -> Nullable<Text>,
        earnings_locked -> Nullable<Bool>,
        earnings_locked_minor -> Nullable<BigInt>,
        reinstated_on -> Nullable<Date>,
        platform_answer -> Nullable<Text>,
    }
}

diesel::table! {
    incident_status_changes (id) {
        id -> BigInt,
        incident_pk -> BigInt,
        status -> Text,
        note -> Nullable<Text>,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    corroborations (id) {
        id -> BigInt,
        public_id -> Text,
        incident_pk -> BigInt,
        author_id -> Nullable<BigInt>,
        tasks_affected -> Nullable<BigInt>,
        amount_lost_minor -> Nullable<BigInt>,
        note -> Text,
        created_at -> Timestamp,
        ap_id -> Nullable<Text>,
        origin -> Nullable<Text>,
        remote_author -> Nullable<Text>,
        state -> Text,
    }
}

diesel::table! {
    comments (id) {
        id -> BigInt,
        public_id -> Text,
        review_pk -> Nullable<BigInt>,
        incident_pk -> Nullable<BigInt>,
        reply_to_pk -> Nullable<BigInt>,
        author_id -> Nullable<BigInt>,
        body -> Text,
        as_requester -> Bool,
        state -> Text,
        removed_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        ap_id -> Nullable<Text>,
        origin -> Nullable<Text>,
        remote_author -> Nullable<Text>,
    }
}

diesel::table! {
    requester_facts (id) {
        id -> BigInt,
        public_id -> Text,
        requester_pk -> BigInt,
        field -> Text,
        value -> Text,
        sources -> Text,
        author_id -> Nullable<BigInt>,
        state -> Text,
        removed_reason -> Nullable<Text>,
        created_at -> Timestamp,
        ap_id -> Nullable<Text>,
        origin -> Nullable<Text>,
        remote_author -> Nullable<Text>,
    }
}

diesel::table! {
    campaigns (id) {
        id -> BigInt,
        public_id -> Text,
        platform -> Text,
        requester_pk -> Nullable<BigInt>,
        kind -> Text,
        since -> Date,
        demand -> Text,
        letter -> Text,
        threshold -> BigInt,
        outcome -> Nullable<Text>,
        outcome_on -> Nullable<Date>,
        author_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        ap_id -> Nullable<Text>,
        origin -> Nullable<Text>,
        remote_author -> Nullable<Text>,
        remote_counts -> Nullable<Text>,
    }
}

diesel::table! {
    campaign_signatures (id) {
        id -> BigInt,
        campaign_pk -> BigInt,
        signer -> Text,
        origin -> Text,
        user_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    follows (user_id, requester_pk) {
        user_id -> BigInt,
        requester_pk -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        requester_pk -> Nullable<BigInt>,
        subject -> Text,
        message -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        platform -> Nullable<Text>,
    }
}

diesel::table! {
    platform_follows (user_id, platform) {
        user_id -> BigInt,
        platform -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    feed_tokens (user_id) {
        user_id -> BigInt,
        token_digest -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    requester_stats (requester_pk) {
        requester_pk -> BigInt,
        data -> Text,
        computed_at -> Timestamp,
        valid_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    actor_keys (actor) {
        actor -> Text,
        public_key_pem -> Text,
        private_key_pem -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    remote_actors (url) {
        url -> Text,
        kind -> Text,
        username -> Text,
        name -> Nullable<Text>,
        inbox -> Text,
        shared_inbox -> Nullable<Text>,
        outbox -> Nullable<Text>,
        public_key_pem -> Text,
        fetched_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        activity_id -> Text,
        actor -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    deliveries (id) {
        id -> BigInt,
        outbox_id -> BigInt,
        inbox -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        host -> Text,
        object_key -> Nullable<Text>,
    }
}

diesel::table! {
    peer_instances (host) {
        host -> Text,
        failures -> Integer,
        unreachable_since -> Nullable<Timestamp>,
        next_probe_at -> Nullable<Timestamp>,
        last_success_at -> Nullable<Timestamp>,
        last_failure_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    received_activities (activity_id) {
        activity_id -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    remembered_deletions (ap_id) {
        ap_id -> Text,
        deleted_at -> Timestamp,
    }
}

diesel::table! {
    federation_follows (id) {
        id -> BigInt,
        local_actor -> Text,
        remote_actor -> Text,
        direction -> Text,
        state -> Text,
        follow_activity_id -> Text,
        software -> Nullable<Text>,
        created_at -> Timestamp,
        refusal -> Nullable<Text>,
    }
}

diesel::table! {
    federation_events (id) {
        id -> BigInt,
        kind -> Text,
        object_type -> Text,
        object_id -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    reports (id) {
        id -> BigInt,
        public_id -> Text,
        target_type -> Text,
        target -> Text,
        reason -> Text,
        text -> Text,
        reporter_id -> Nullable<BigInt>,
        origin -> Nullable<Text>,
        state -> Text,
        action -> Nullable<Text>,
        resolution -> Nullable<Text>,
        resolved_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    modlog (id) {
        id -> BigInt,
        at -> Timestamp,
        action -> Text,
        target_type -> Text,
        target -> Text,
        reason -> Text,
        role -> Text,
        moderator -> Nullable<Text>,
        origin -> Nullable<Text>,
    }
}

diesel::table! {
    domain_rules (id) {
        id -> BigInt,
        domain -> Text,
        kind -> Text,
        severity -> Text,
        reject_media -> Bool,
        reject_reports -> Bool,
        public_comment -> Text,
        obfuscate -> Bool,
        source -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    hidden_origins (origin) {
        origin -> Text,
    }
}

diesel::table! {
    list_subscriptions (url) {
        url -> Text,
        kind -> Text,
        last_fetched_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    totp_secrets (user_id) {
        user_id -> BigInt,
        secret -> Text,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        last_step -> Nullable<BigInt>,
    }
}

diesel::table! {
    totp_recovery_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_digest -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(deliveries -> outbox (outbox_id));
diesel::joinable!(totp_secrets -> users (user_id));
diesel::joinable!(totp_recovery_codes -> users (user_id));
diesel::joinable!(reports -> users (reporter_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(requester_aliases -> requesters (requester_pk));
diesel::joinable!(requester_name_votes -> requesters (requester_pk));
diesel::joinable!(reviews -> requesters (requester_pk));
diesel::joinable!(reviews -> users (author_id));
diesel::joinable!(review_edits -> reviews (review_pk));
diesel::joinable!(incidents -> requesters (requester_pk));
diesel::joinable!(incidents -> users (author_id));
diesel::joinable!(incident_status_changes -> incidents (incident_pk));
diesel::joinable!(corroborations -> incidents (incident_pk));
diesel::joinable!(corroborations -> users (author_id));
diesel::joinable!(requester_facts -> requesters (requester_pk));
diesel::joinable!(requester_facts -> users (author_id));
diesel::joinable!(campaigns -> requesters (requester_pk));
diesel::joinable!(campaigns -> users (author_id));
diesel::joinable!(campaign_signatures -> campaigns (campaign_pk));
diesel::joinable!(comments -> reviews (review_pk));
diesel::joinable!(comments -> incidents (incident_pk));
diesel::joinable!(comments -> users (author_id));
diesel::joinable!(users -> requesters (speaks_for));
diesel::joinable!(follows -> requesters (requester_pk));
diesel::joinable!(follows -> users (user_id));
diesel::joinable!(notifications -> requesters (requester_pk));
diesel::joinable!(feed_tokens -> users (user_id));
diesel::joinable!(platform_follows -> users (user_id));
diesel::joinable!(requester_stats -> requesters (requester_pk));

diesel::table! {
    password_resets (digest) {
        digest -> Text,
        user_id -> BigInt,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::joinable!(password_resets -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    instance_settings,
    sessions,
    invites,
    requesters,
    requester_aliases,
    reviews,
    review_edits,
    incidents,
    incident_status_changes,
    corroborations,
    comments,
    requester_facts,
    campaigns,
    campaign_signatures,
    follows,
    notifications,
    platform_follows,
    feed_tokens,
    requester_stats,
    actor_keys,
    remote_actors,
    outbox,
    deliveries,
    peer_instances,
    received_activities,
    remembered_deletions,
    federation_follows,
    federation_events,
    requester_name_votes,
    remote_versions,
    counted_origins,
    reports,
    modlog,
    domain_rules,
    list_subscriptions,
    hidden_origins,
    totp_secrets,
    totp_recovery_codes,
    password_resets,
);
