//! A practice's main account, as the operator's commands create it: `org create` makes it with
//! a one-time set-password link, `serve`'s demo practice gets a fresh password at every start.

use chrono::{DateTime, Utc};
use praxis_shared::domain::AccountId;
use praxis_shared::domain::account::{Account, Role, Secret};
use praxis_shared::domain::org::Org;
use praxis_shared::ports::{Accounts, PortError, PortResult};

use crate::pages::auth::{WELCOME_TTL, password_link};
use crate::password;

fn main_account(org: &Org, now: DateTime<Utc>) -> Account {
    Account {
        id: AccountId::new(now),
        org_id: org.id,
        email: org.email.clone(),
        role: Role::Owner,
        password_hash: None,
        sessions_valid_after: now,
        created_at: now,
    }
}

/// Creates the practice's main account (its e-mail address) and returns a link that sets its
/// password (7 days, once); `None` if that address has an account already.
pub async fn create_main_account(
    accounts: &dyn Accounts,
    org: &Org,
    portal_url: &str,
    now: DateTime<Utc>,
) -> PortResult<Option<String>> {
    let account = main_account(org, now);
    if !accounts.create_account(&account).await? {
        return Ok(None);
    }
    password_link(accounts, now, portal_url, &account, WELCOME_TTL)
        .await
        .map(Some)
}

/// The demo practice's main account with a new random password: (e-mail, password).
pub async fn demo_credentials(
    accounts: &dyn Accounts,
    org: &Org,
    now: DateTime<Utc>,
) -> PortResult<(String, String)> {
    let account = match accounts.find_account_by_email(&org.email).await? {
        Some(a) if a.org_id == org.id => a,
        Some(_) => {
            return Err(PortError::Conflict(
                "the demo address belongs to another practice".into(),
            ));
        }
        None => {
            let a = main_account(org, now);
            accounts.create_account(&a).await?;
            a
        }
    };
    // 20 characters of a fresh secret: easy to paste, never the same twice.
    let pw: String = Secret::generate().expose().chars().take(20).collect();
    let hashed =
        password::hash(&pw).map_err(|e| PortError::Unavailable(format!("password: {e}")))?;
    accounts
        .set_password(org.id, account.id, &hashed, now)
        .await?;
    Ok((org.email.as_str().to_owned(), pw))
}
