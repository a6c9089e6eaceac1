//! The portal's persistence: accounts, sessions, one-time password links and the sign-in
//! throttle's counters. A port of its own beside [`super::Store`], implemented by both stores.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::PortResult;
use crate::domain::account::{Account, PasswordToken, Session};
use crate::domain::org::EmailAddress;
use crate::domain::{AccountId, KeyId, OrgId};

#[async_trait]
pub trait Accounts: Send + Sync {
    /// Stores a new account; false if its e-mail address (in any case) has an account already.
    async fn create_account(&self, account: &Account) -> PortResult<bool>;
    /// The account `id` of practice `org` (another practice's id is `None`).
    async fn get_account(&self, org: OrgId, id: AccountId) -> PortResult<Option<Account>>;
    async fn find_account_by_email(&self, email: &EmailAddress) -> PortResult<Option<Account>>;
    /// A practice's accounts, oldest first.
    async fn list_accounts(&self, org: OrgId) -> PortResult<Vec<Account>>;
    /// Sets the password's hash and ends every session begun before `at`; false if there is
    /// no such account.
    async fn set_password(
        &self,
        org: OrgId,
        id: AccountId,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> PortResult<bool>;
    /// Ends every session of the account begun before `at` ("überall abmelden").
    async fn end_sessions(&self, org: OrgId, id: AccountId, at: DateTime<Utc>) -> PortResult<bool>;
    /// Removes a team member (never an owner); false if there is no such team member.
    async fn delete_team_member(&self, org: OrgId, id: AccountId) -> PortResult<bool>;

    /// Stores a new session (a conditional put on its hash).
    async fn create_session(&self, session: &Session) -> PortResult<()>;
    async fn get_session(&self, token_hash: &str) -> PortResult<Option<Session>>;
    /// Marks the session seen at `now`, only while it is alive: seen within `idle` and before
    /// its absolute end. False if it is over (or gone).
    async fn touch_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> PortResult<bool>;
    async fn delete_session(&self, token_hash: &str) -> PortResult<()>;

    async fn put_password_token(&self, token: &PasswordToken) -> PortResult<()>;
    /// Uses a link: deletes it and returns it if it exists and has not expired at `now`. A
    /// conditional delete, so a link works once even when used twice at the same moment.
    async fn take_password_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> PortResult<Option<PasswordToken>>;

    /// Counts a failed sign-in under `key` (an account or a client) and returns the failures
    /// within the `window` that ends at `now`, this one included. A window starts with the
    /// first failure after the previous one ended.
    async fn note_sign_in_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> PortResult<u32>;
    /// Records that API key `key` was used at `at` (the API notes it now and then, not at every
    /// request); a time older than the one stored changes nothing.
    async fn note_api_key_used(&self, key: KeyId, at: DateTime<Utc>) -> PortResult<()>;
    /// When each of `keys` was last noted as used; keys never used are left out.
    async fn api_keys_last_used(&self, keys: &[KeyId]) -> PortResult<Vec<(KeyId, DateTime<Utc>)>>;

    /// The failures counted under `key` in the window still open at `now`.
    async fn sign_in_failures(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> PortResult<u32>;
}
