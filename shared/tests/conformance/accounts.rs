//! The conformance suite of the portal's `Accounts` port: accounts, sessions, one-time password
//! links and sign-in counters, run against each backend (`accounts_suite!` instantiates it).

use chrono::{DateTime, Duration, Utc};
use praxis_shared::domain::account::{Account, PasswordToken, Role, Secret, Session};
use praxis_shared::domain::org::EmailAddress;
use praxis_shared::domain::{AccountId, OrgId};
use praxis_shared::ports::Accounts;

use super::t0;

pub fn account(org: OrgId, email: &str, role: Role) -> Account {
    Account {
        id: AccountId::new(t0()),
        org_id: org,
        email: EmailAddress::parse(email).expect("email"),
        role,
        password_hash: None,
        sessions_valid_after: t0(),
        created_at: t0(),
    }
}

pub fn session(a: &Account, at: DateTime<Utc>) -> Session {
    Session {
        token_hash: Secret::generate().hash(),
        account_id: a.id,
        org_id: a.org_id,
        csrf: Secret::generate().expose().to_owned(),
        created_at: at,
        last_seen_at: at,
        expires_at: at + Duration::hours(12),
    }
}

pub async fn an_email_address_has_one_account_in_any_case(store: &dyn Accounts) {
    let org = OrgId::new(t0());
    let a = account(org, "Praxis@Example.de", Role::Owner);
    assert!(store.create_account(&a).await.expect("create"));
    let again = account(OrgId::new(t0()), "praxis@example.de", Role::Team);
    assert!(!store.create_account(&again).await.expect("create again"));

    let found = store
        .find_account_by_email(&EmailAddress::parse("PRAXIS@example.DE").expect("email"))
        .await
        .expect("find");
    assert_eq!(found, Some(a.clone()));
    assert_eq!(
        store.get_account(org, a.id).await.expect("get"),
        Some(a.clone())
    );
    // Another practice's id finds nothing.
    assert_eq!(
        store
            .get_account(OrgId::new(t0()), a.id)
            .await
            .expect("get"),
        None
    );
}

pub async fn accounts_are_listed_per_practice_and_team_members_removed(store: &dyn Accounts) {
    let org = OrgId::new(t0());
    let other = OrgId::new(t0());
    let owner = account(org, "chef@example.de", Role::Owner);
    let member = account(org, "empfang@example.de", Role::Team);
    let stranger = account(other, "fremd@example.de", Role::Team);
    for a in [&owner, &member, &stranger] {
        assert!(store.create_account(a).await.expect("create"));
    }
    let listed: Vec<AccountId> = store
        .list_accounts(org)
        .await
        .expect("list")
        .iter()
        .map(|a| a.id)
        .collect();
    // Oldest first: by id, which is the creation time (both made in the same millisecond here).
    let mut expected = vec![owner.id, member.id];
    expected.sort();
    assert_eq!(listed, expected);

    assert!(
        !store
            .delete_team_member(org, owner.id)
            .await
            .expect("owner stays")
    );
    assert!(
        !store
            .delete_team_member(org, stranger.id)
            .await
            .expect("not ours")
    );
    assert!(
        store
            .delete_team_member(org, member.id)
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_team_member(org, member.id)
            .await
            .expect("twice")
    );
    assert_eq!(store.list_accounts(org).await.expect("list").len(), 1);
    // The address is free again.
    assert!(
        store
            .create_account(&account(org, "empfang@example.de", Role::Team))
            .await
            .expect("again")
    );
}

pub async fn a_new_password_ends_earlier_sessions(store: &dyn Accounts) {
    let org = OrgId::new(t0());
    let a = account(org, "chef@example.de", Role::Owner);
    store.create_account(&a).await.expect("create");
    let later = t0() + Duration::minutes(5);
    assert!(
        store
            .set_password(org, a.id, "$argon2id$hash", later)
            .await
            .expect("set")
    );
    let now = store
        .get_account(org, a.id)
        .await
        .expect("get")
        .expect("there");
    assert_eq!(now.password_hash.as_deref(), Some("$argon2id$hash"));
    assert_eq!(now.sessions_valid_after, later);

    let end = later + Duration::minutes(1);
    assert!(store.end_sessions(org, a.id, end).await.expect("end"));
    let now = store
        .get_account(org, a.id)
        .await
        .expect("get")
        .expect("there");
    assert_eq!(now.sessions_valid_after, end);
    assert!(
        !store
            .set_password(OrgId::new(t0()), a.id, "x", end)
            .await
            .expect("not ours")
    );
}

pub async fn a_session_lives_while_used_and_until_its_absolute_end(store: &dyn Accounts) {
    let org = OrgId::new(t0());
    let a = account(org, "chef@example.de", Role::Owner);
    let s = session(&a, t0());
    store.create_session(&s).await.expect("create");
    assert_eq!(
        store.get_session(&s.token_hash).await.expect("get"),
        Some(s.clone())
    );
    assert!(
        store.create_session(&s).await.is_err(),
        "a hash is stored once"
    );

    let idle = Duration::minutes(30);
    let mut now = t0();
    // Used every 20 minutes it stays alive until its absolute end (12 h).
    while now + Duration::minutes(20) < s.expires_at {
        now += Duration::minutes(20);
        assert!(
            store
                .touch_session(&s.token_hash, now, idle)
                .await
                .expect("touch"),
            "at {now}"
        );
    }
    assert!(
        !store
            .touch_session(&s.token_hash, s.expires_at, idle)
            .await
            .expect("end")
    );

    // Left alone longer than the idle time, it is over.
    let t = session(&a, t0());
    store.create_session(&t).await.expect("create");
    let late = t0() + idle + Duration::seconds(1);
    assert!(
        !store
            .touch_session(&t.token_hash, late, idle)
            .await
            .expect("idle")
    );

    store.delete_session(&s.token_hash).await.expect("delete");
    assert_eq!(store.get_session(&s.token_hash).await.expect("get"), None);
    assert!(
        !store
            .touch_session(&s.token_hash, t0(), idle)
            .await
            .expect("gone")
    );
}

pub async fn a_password_link_works_once_and_not_after_it_expires(store: &dyn Accounts) {
    let org = OrgId::new(t0());
    let a = account(org, "chef@example.de", Role::Owner);
    let link = PasswordToken {
        token_hash: Secret::generate().hash(),
        account_id: a.id,
        org_id: org,
        expires_at: t0() + Duration::minutes(30),
    };
    store.put_password_token(&link).await.expect("put");
    let taken = store
        .take_password_token(&link.token_hash, t0())
        .await
        .expect("take");
    assert_eq!(taken, Some(link.clone()));
    assert_eq!(
        store
            .take_password_token(&link.token_hash, t0())
            .await
            .expect("twice"),
        None
    );

    let old = PasswordToken {
        token_hash: Secret::generate().hash(),
        ..link
    };
    store.put_password_token(&old).await.expect("put");
    let late = t0() + Duration::minutes(30);
    assert_eq!(
        store
            .take_password_token(&old.token_hash, late)
            .await
            .expect("late"),
        None
    );
}

pub async fn sign_in_failures_are_counted_per_key_within_a_window(store: &dyn Accounts) {
    let window = Duration::minutes(15);
    let key = "account:abc";
    assert_eq!(
        store
            .sign_in_failures(key, t0(), window)
            .await
            .expect("none"),
        0
    );
    for i in 1..=3u32 {
        let at = t0() + Duration::minutes(i64::from(i));
        assert_eq!(
            store
                .note_sign_in_failure(key, at, window)
                .await
                .expect("note"),
            i
        );
    }
    assert_eq!(
        store
            .sign_in_failures(key, t0() + Duration::minutes(4), window)
            .await
            .expect("count"),
        3
    );
    assert_eq!(
        store
            .sign_in_failures("client:1.2.3.4", t0(), window)
            .await
            .expect("other"),
        0
    );
    // The window opened at the first failure; after it, counting starts again.
    let after = t0() + Duration::minutes(16);
    assert_eq!(
        store
            .sign_in_failures(key, after, window)
            .await
            .expect("closed"),
        0
    );
    assert_eq!(
        store
            .note_sign_in_failure(key, after, window)
            .await
            .expect("anew"),
        1
    );
}

pub async fn an_api_key_remembers_when_it_was_last_used(store: &dyn Accounts) {
    use praxis_shared::domain::KeyId;
    let used = KeyId::new(t0());
    let never = KeyId::new(t0());
    store
        .note_api_key_used(used, t0() + Duration::hours(2))
        .await
        .expect("note");
    // An older time (a slow instance noting late) does not move it back.
    store
        .note_api_key_used(used, t0() + Duration::hours(1))
        .await
        .expect("older");
    let seen = store
        .api_keys_last_used(&[used, never])
        .await
        .expect("read");
    assert_eq!(seen, vec![(used, t0() + Duration::hours(2))]);
}

#[macro_export]
macro_rules! accounts_suite {
    ($make:expr) => {
        $crate::accounts_suite!(@tests $make;
            an_email_address_has_one_account_in_any_case,
            accounts_are_listed_per_practice_and_team_members_removed,
            a_new_password_ends_earlier_sessions,
            a_session_lives_while_used_and_until_its_absolute_end,
            a_password_link_works_once_and_not_after_it_expires,
            sign_in_failures_are_counted_per_key_within_a_window,
            an_api_key_remembers_when_it_was_last_used,
        );
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        mod accounts_conformance {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let store = $make;
                    conformance::accounts::$name(store.as_ref()).await;
                }
            )*
        }
    };
}
