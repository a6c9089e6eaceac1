//! The portal's accounts, sessions, password links and sign-in counters on SQLite: tables of
//! their own, created beside the store's. Each state change is one conditional statement.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::row::{corrupt, from_ms, ms};
use super::{SqliteStore, conflict_or_db, db};
use crate::domain::account::{Account, PasswordToken, Role, Session, login_key};
use crate::domain::org::EmailAddress;
use crate::domain::{AccountId, KeyId, OrgId};
use crate::ports::{Accounts, PortError, PortResult};

pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    login TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT,
    sessions_valid_after INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS accounts_by_org ON accounts (org_id, id);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS password_tokens (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS api_key_usage (
    key_id TEXT PRIMARY KEY,
    last_used_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sign_in_failures (
    key TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    failures INTEGER NOT NULL
);
"#;

const ACCOUNT_COLUMNS: &str =
    "id, org_id, email, role, password_hash, sessions_valid_after, created_at";
const SESSION_COLUMNS: &str =
    "token_hash, account_id, org_id, csrf, created_at, last_seen_at, expires_at";

type AccountRow = (String, String, String, String, Option<String>, i64, i64);

fn account_row(r: &Row<'_>) -> rusqlite::Result<AccountRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn account_from(row: AccountRow) -> PortResult<Account> {
    let (id, org_id, email, role, password_hash, valid_after, created_at) = row;
    Ok(Account {
        id: AccountId::parse(&id).map_err(corrupt("account id"))?,
        org_id: OrgId::parse(&org_id).map_err(corrupt("account org"))?,
        email: EmailAddress::parse(&email).map_err(corrupt("account e-mail"))?,
        role: Role::parse(&role).ok_or_else(|| PortError::Corrupt("account role".into()))?,
        password_hash,
        sessions_valid_after: from_ms(valid_after)?,
        created_at: from_ms(created_at)?,
    })
}

type SessionRow = (String, String, String, String, i64, i64, i64);

fn session_row(r: &Row<'_>) -> rusqlite::Result<SessionRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn session_from(row: SessionRow) -> PortResult<Session> {
    let (token_hash, account_id, org_id, csrf, created, seen, expires) = row;
    Ok(Session {
        token_hash,
        account_id: AccountId::parse(&account_id).map_err(corrupt("session account"))?,
        org_id: OrgId::parse(&org_id).map_err(corrupt("session org"))?,
        csrf,
        created_at: from_ms(created)?,
        last_seen_at: from_ms(seen)?,
        expires_at: from_ms(expires)?,
    })
}

/// What DynamoDB's TTL removes of the portal's items: sessions and links long over, counters
/// of windows long closed (accounts stay).
pub(super) fn purge(c: &rusqlite::Connection, cutoff: DateTime<Utc>) -> PortResult<()> {
    for sql in [
        "DELETE FROM sessions WHERE expires_at < ?1",
        "DELETE FROM password_tokens WHERE expires_at < ?1",
        "DELETE FROM sign_in_failures WHERE window_start < ?1",
    ] {
        c.execute(sql, [ms(cutoff)]).map_err(db)?;
    }
    Ok(())
}

#[async_trait]
impl Accounts for SqliteStore {
    async fn create_account(&self, account: &Account) -> PortResult<bool> {
        let a = account.clone();
        self.run(move |c| {
            let n = c
                .execute(
                    "INSERT INTO accounts (id, org_id, login, email, role, password_hash, \
                     sessions_valid_after, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                     ON CONFLICT (login) DO NOTHING",
                    params![
                        a.id.to_string(),
                        a.org_id.to_string(),
                        login_key(&a.email),
                        a.email.as_str(),
                        a.role.as_str(),
                        a.password_hash,
                        ms(a.sessions_valid_after),
                        ms(a.created_at)
                    ],
                )
                .map_err(conflict_or_db("account"))?;
            Ok(n == 1)
        })
        .await
    }

    async fn get_account(&self, org: OrgId, id: AccountId) -> PortResult<Option<Account>> {
        self.run(move |c| {
            c.query_row(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1 AND org_id = ?2"),
                params![id.to_string(), org.to_string()],
                account_row,
            )
            .optional()
            .map_err(db)?
            .map(account_from)
            .transpose()
        })
        .await
    }

    async fn find_account_by_email(&self, email: &EmailAddress) -> PortResult<Option<Account>> {
        let login = login_key(email);
        self.run(move |c| {
            c.query_row(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE login = ?1"),
                params![login],
                account_row,
            )
            .optional()
            .map_err(db)?
            .map(account_from)
            .transpose()
        })
        .await
    }

    async fn list_accounts(&self, org: OrgId) -> PortResult<Vec<Account>> {
        self.run(move |c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE org_id = ?1 ORDER BY id"
                ))
                .map_err(db)?;
            let rows = stmt
                .query_map(params![org.to_string()], account_row)
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            rows.into_iter().map(account_from).collect()
        })
        .await
    }

    async fn set_password(
        &self,
        org: OrgId,
        id: AccountId,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> PortResult<bool> {
        let hash = password_hash.to_owned();
        self.run(move |c| {
            let n = c
                .execute(
                    "UPDATE accounts SET password_hash = ?3, sessions_valid_after = ?4 \
                     WHERE id = ?1 AND org_id = ?2",
                    params![id.to_string(), org.to_string(), hash, ms(at)],
                )
                .map_err(db)?;
            Ok(n == 1)
        })
        .await
    }

    async fn end_sessions(&self, org: OrgId, id: AccountId, at: DateTime<Utc>) -> PortResult<bool> {
        self.run(move |c| {
            let n = c
                .execute(
                    "UPDATE accounts SET sessions_valid_after = ?3 WHERE id = ?1 AND org_id = ?2",
                    params![id.to_string(), org.to_string(), ms(at)],
                )
                .map_err(db)?;
            Ok(n == 1)
        })
        .await
    }

    async fn delete_team_member(&self, org: OrgId, id: AccountId) -> PortResult<bool> {
        self.run(move |c| {
            let n = c
                .execute(
                    "DELETE FROM accounts WHERE id = ?1 AND org_id = ?2 AND role = 'team'",
                    params![id.to_string(), org.to_string()],
                )
                .map_err(db)?;
            Ok(n == 1)
        })
        .await
    }

    async fn create_session(&self, session: &Session) -> PortResult<()> {
        let s = session.clone();
        self.run(move |c| {
            c.execute(
                &format!(
                    "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                ),
                params![
                    s.token_hash,
                    s.account_id.to_string(),
                    s.org_id.to_string(),
                    s.csrf,
                    ms(s.created_at),
                    ms(s.last_seen_at),
                    ms(s.expires_at)
                ],
            )
            .map_err(conflict_or_db("session"))?;
            Ok(())
        })
        .await
    }

    async fn get_session(&self, token_hash: &str) -> PortResult<Option<Session>> {
        let h = token_hash.to_owned();
        self.run(move |c| {
            c.query_row(
                &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = ?1"),
                params![h],
                session_row,
            )
            .optional()
            .map_err(db)?
            .map(session_from)
            .transpose()
        })
        .await
    }

    async fn touch_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> PortResult<bool> {
        let h = token_hash.to_owned();
        self.run(move |c| {
            let n = c
                .execute(
                    "UPDATE sessions SET last_seen_at = ?2 \
                     WHERE token_hash = ?1 AND last_seen_at >= ?3 AND expires_at > ?2",
                    params![h, ms(now), ms(now - idle)],
                )
                .map_err(db)?;
            Ok(n == 1)
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> PortResult<()> {
        let h = token_hash.to_owned();
        self.run(move |c| {
            c.execute("DELETE FROM sessions WHERE token_hash = ?1", params![h])
                .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn put_password_token(&self, token: &PasswordToken) -> PortResult<()> {
        let t = token.clone();
        self.run(move |c| {
            c.execute(
                "INSERT INTO password_tokens (token_hash, account_id, org_id, expires_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    t.token_hash,
                    t.account_id.to_string(),
                    t.org_id.to_string(),
                    ms(t.expires_at)
                ],
            )
            .map_err(conflict_or_db("password link"))?;
            Ok(())
        })
        .await
    }

    async fn take_password_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> PortResult<Option<PasswordToken>> {
        let h = token_hash.to_owned();
        self.run(move |c| {
            let row: Option<(String, String, String, i64)> = c
                .query_row(
                    "DELETE FROM password_tokens WHERE token_hash = ?1 AND expires_at > ?2 \
                     RETURNING token_hash, account_id, org_id, expires_at",
                    params![h, ms(now)],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()
                .map_err(db)?;
            row.map(|(token_hash, account, org, expires)| {
                Ok(PasswordToken {
                    token_hash,
                    account_id: AccountId::parse(&account).map_err(corrupt("link account"))?,
                    org_id: OrgId::parse(&org).map_err(corrupt("link org"))?,
                    expires_at: from_ms(expires)?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn note_sign_in_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> PortResult<u32> {
        let k = key.to_owned();
        self.run(move |c| {
            // One statement: a window still open counts on, a closed one starts again at 1.
            let n: i64 = c
                .query_row(
                    "INSERT INTO sign_in_failures (key, window_start, failures) VALUES (?1, ?2, 1) \
                     ON CONFLICT (key) DO UPDATE SET \
                       failures = CASE WHEN window_start > ?3 THEN failures + 1 ELSE 1 END, \
                       window_start = CASE WHEN window_start > ?3 THEN window_start ELSE ?2 END \
                     RETURNING failures",
                    params![k, ms(now), ms(now - window)],
                    |r| r.get(0),
                )
                .map_err(db)?;
            Ok(u32::try_from(n).unwrap_or(u32::MAX))
        })
        .await
    }

    async fn note_api_key_used(&self, key: KeyId, at: DateTime<Utc>) -> PortResult<()> {
        self.run(move |c| {
            c.execute(
                "INSERT INTO api_key_usage (key_id, last_used_at) VALUES (?1, ?2) \
                 ON CONFLICT (key_id) DO UPDATE SET last_used_at = ?2 WHERE last_used_at < ?2",
                params![key.to_string(), ms(at)],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn api_keys_last_used(&self, keys: &[KeyId]) -> PortResult<Vec<(KeyId, DateTime<Utc>)>> {
        let keys = keys.to_vec();
        self.run(move |c| {
            let mut out = Vec::new();
            for key in keys {
                let at: Option<i64> = c
                    .query_row(
                        "SELECT last_used_at FROM api_key_usage WHERE key_id = ?1",
                        params![key.to_string()],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(db)?;
                if let Some(at) = at {
                    out.push((key, from_ms(at)?));
                }
            }
            Ok(out)
        })
        .await
    }

    async fn sign_in_failures(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> PortResult<u32> {
        let k = key.to_owned();
        self.run(move |c| {
            let n: Option<i64> = c
                .query_row(
                    "SELECT failures FROM sign_in_failures WHERE key = ?1 AND window_start > ?2",
                    params![k, ms(now - window)],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            Ok(n.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
        })
        .await
    }
}
