//! The portal's accounts, sessions, password links and sign-in counters on the one table (key
//! shapes in docs/dynamodb-keys.md, "Portal"). Every state change is a conditional write;
//! sessions, links and counters carry the TTL attribute, accounts live as long as the practice.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, ReturnValue, TransactWriteItem};
use chrono::{DateTime, Duration, Utc};

use super::expression::{Expr, UpdateSpec};
use super::item::{Item, Read, key, n, s};
use super::keys::{self, stamp};
use super::{DynamoStore, Transacted};
use crate::adapters::aws::error::{conditional, request, sdk_unavailable};
use crate::domain::account::{Account, PasswordToken, Role, Session, login_key};
use crate::domain::org::EmailAddress;
use crate::domain::{AccountId, KeyId, OrgId};
use crate::ports::{Accounts, PortError, PortResult};

const SK_LOGIN: &str = "LOGIN";
const SK_SESSION: &str = "SESSION";
const SK_PASSWORD_TOKEN: &str = "PWLINK";
const SK_FAILURES: &str = "FAILURES";
const SK_ACCOUNT_PREFIX: &str = "ACCOUNT#";

fn account_key(org: OrgId, id: AccountId) -> Item {
    key(keys::org_pk(org), &format!("{SK_ACCOUNT_PREFIX}{id}"))
}

fn login_pk(login: &str) -> String {
    format!("LOGIN#{login}")
}

fn session_pk(hash: &str) -> String {
    format!("SESSION#{hash}")
}

fn password_token_pk(hash: &str) -> String {
    format!("PWLINK#{hash}")
}

fn key_use_pk(key: KeyId) -> String {
    format!("KEYUSE#{key}")
}

const SK_KEY_USE: &str = "KEYUSE";

fn failures_pk(key: &str) -> String {
    format!("SIGNIN#{key}")
}

fn with(mut item: Item, attrs: impl IntoIterator<Item = (&'static str, AttributeValue)>) -> Item {
    item.extend(attrs.into_iter().map(|(k, v)| (k.to_owned(), v)));
    item
}

fn account_item(a: &Account) -> Item {
    let mut item = with(
        account_key(a.org_id, a.id),
        [
            ("account_id", s(a.id.to_string())),
            ("org_id", s(a.org_id.to_string())),
            ("email", s(a.email.as_str())),
            ("role", s(a.role.as_str())),
            ("sessions_valid_after", s(stamp(a.sessions_valid_after))),
            ("created_at", s(stamp(a.created_at))),
        ],
    );
    if let Some(h) = &a.password_hash {
        item.insert("password_hash".into(), s(h.clone()));
    }
    item
}

fn account_from(item: &Item) -> PortResult<Account> {
    let r = Read::new(item, "account");
    let bad = |what: &str| PortError::Corrupt(format!("account attribute {what} does not parse"));
    Ok(Account {
        id: AccountId::parse(r.str("account_id")?).map_err(|_| bad("account_id"))?,
        org_id: OrgId::parse(r.str("org_id")?).map_err(|_| bad("org_id"))?,
        email: EmailAddress::parse(r.str("email")?).map_err(|_| bad("email"))?,
        role: Role::parse(r.str("role")?).ok_or_else(|| bad("role"))?,
        password_hash: r.opt_str("password_hash")?.map(str::to_owned),
        sessions_valid_after: r.time("sessions_valid_after")?,
        created_at: r.time("created_at")?,
    })
}

fn session_from(item: &Item) -> PortResult<Session> {
    let r = Read::new(item, "session");
    let bad = |what: &str| PortError::Corrupt(format!("session attribute {what} does not parse"));
    Ok(Session {
        token_hash: r.str("token_hash")?.to_owned(),
        account_id: AccountId::parse(r.str("account_id")?).map_err(|_| bad("account_id"))?,
        org_id: OrgId::parse(r.str("org_id")?).map_err(|_| bad("org_id"))?,
        csrf: r.str("csrf")?.to_owned(),
        created_at: r.time("created_at")?,
        last_seen_at: r.time("last_seen_at")?,
        expires_at: r.time("ends_at")?,
    })
}

impl DynamoStore {
    /// An update of an account that exists.
    async fn update_account(
        &self,
        org: OrgId,
        id: AccountId,
        sets: &[(&str, AttributeValue)],
    ) -> PortResult<bool> {
        let mut e = Expr::default();
        let assignments: Vec<String> = sets
            .iter()
            .map(|(name, v)| format!("{} = {}", e.name(name), e.value(v.clone())))
            .collect();
        let spec = UpdateSpec {
            update: format!("SET {}", assignments.join(", ")),
            condition: format!("attribute_exists({})", e.name(keys::PK)),
            expr: e,
        };
        Ok(self
            .update(account_key(org, id), spec, ReturnValue::None)
            .await?
            .is_some())
    }
}

#[async_trait]
impl Accounts for DynamoStore {
    async fn create_account(&self, account: &Account) -> PortResult<bool> {
        // The login pointer makes the address unique; both are written or neither.
        let pointer = with(
            key(login_pk(&login_key(&account.email)), SK_LOGIN),
            [
                ("account_id", s(account.id.to_string())),
                ("org_id", s(account.org_id.to_string())),
            ],
        );
        let items = vec![
            self.put_new_in_transaction(pointer)?,
            self.put_new_in_transaction(account_item(account))?,
        ];
        match self.transact(items).await? {
            Transacted::Written => Ok(true),
            Transacted::Refused(flags) if flags.first() == Some(&true) => Ok(false),
            Transacted::Refused(_) => Err(PortError::Conflict(format!(
                "account {} exists",
                account.id
            ))),
        }
    }

    async fn get_account(&self, org: OrgId, id: AccountId) -> PortResult<Option<Account>> {
        self.get(account_key(org, id))
            .await?
            .map(|i| account_from(&i))
            .transpose()
    }

    async fn find_account_by_email(&self, email: &EmailAddress) -> PortResult<Option<Account>> {
        let Some(pointer) = self.get(key(login_pk(&login_key(email)), SK_LOGIN)).await? else {
            return Ok(None);
        };
        let r = Read::new(&pointer, "login");
        let bad = || PortError::Corrupt("login pointer does not parse".into());
        let org = OrgId::parse(r.str("org_id")?).map_err(|_| bad())?;
        let id = AccountId::parse(r.str("account_id")?).map_err(|_| bad())?;
        self.get_account(org, id).await
    }

    async fn list_accounts(&self, org: OrgId) -> PortResult<Vec<Account>> {
        let mut e = Expr::default();
        let condition = format!(
            "{} = {} AND begins_with({}, {})",
            e.name(keys::PK),
            e.value(s(keys::org_pk(org))),
            e.name(keys::SK),
            e.value(s(SK_ACCOUNT_PREFIX))
        );
        let items = self.query_table(e, condition, false).await?;
        items.iter().map(account_from).collect()
    }

    async fn set_password(
        &self,
        org: OrgId,
        id: AccountId,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> PortResult<bool> {
        self.update_account(
            org,
            id,
            &[
                ("password_hash", s(password_hash)),
                ("sessions_valid_after", s(stamp(at))),
            ],
        )
        .await
    }

    async fn end_sessions(&self, org: OrgId, id: AccountId, at: DateTime<Utc>) -> PortResult<bool> {
        self.update_account(org, id, &[("sessions_valid_after", s(stamp(at)))])
            .await
    }

    async fn delete_team_member(&self, org: OrgId, id: AccountId) -> PortResult<bool> {
        let Some(account) = self.get_account(org, id).await? else {
            return Ok(false);
        };
        if account.role != Role::Team {
            return Ok(false);
        }
        let mut e = Expr::default();
        let condition = format!("{} = {}", e.name("role"), e.value(s(Role::Team.as_str())));
        let (names, values) = e.into_parts();
        let member = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(account_key(org, id)))
            .condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .map_err(request)?;
        let pointer = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(login_pk(&login_key(&account.email)), SK_LOGIN)))
            .build()
            .map_err(request)?;
        let items = vec![
            TransactWriteItem::builder().delete(member).build(),
            TransactWriteItem::builder().delete(pointer).build(),
        ];
        Ok(matches!(self.transact(items).await?, Transacted::Written))
    }

    async fn create_session(&self, session: &Session) -> PortResult<()> {
        let item = with(
            key(session_pk(&session.token_hash), SK_SESSION),
            [
                ("token_hash", s(session.token_hash.clone())),
                ("account_id", s(session.account_id.to_string())),
                ("org_id", s(session.org_id.to_string())),
                ("csrf", s(session.csrf.clone())),
                ("created_at", s(stamp(session.created_at))),
                ("last_seen_at", s(stamp(session.last_seen_at))),
                ("ends_at", s(stamp(session.expires_at))),
                (keys::EXPIRES_AT, n(session.expires_at.timestamp())),
            ],
        );
        if self.put_new(item).await? {
            Ok(())
        } else {
            Err(PortError::Conflict("session exists".into()))
        }
    }

    async fn get_session(&self, token_hash: &str) -> PortResult<Option<Session>> {
        self.get(key(session_pk(token_hash), SK_SESSION))
            .await?
            .map(|i| session_from(&i))
            .transpose()
    }

    async fn touch_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> PortResult<bool> {
        let mut e = Expr::default();
        let seen = e.name("last_seen_at");
        let now_v = e.value(s(stamp(now)));
        let spec = UpdateSpec {
            update: format!("SET {seen} = {now_v}"),
            condition: format!(
                "attribute_exists({}) AND {seen} >= {} AND {} > {now_v}",
                e.name(keys::PK),
                e.value(s(stamp(now - idle))),
                e.name("ends_at"),
            ),
            expr: e,
        };
        Ok(self
            .update(
                key(session_pk(token_hash), SK_SESSION),
                spec,
                ReturnValue::None,
            )
            .await?
            .is_some())
    }

    async fn delete_session(&self, token_hash: &str) -> PortResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(session_pk(token_hash), SK_SESSION)))
            .send()
            .await
            .map_err(|e| sdk_unavailable("DynamoDB", e))?;
        Ok(())
    }

    async fn put_password_token(&self, token: &PasswordToken) -> PortResult<()> {
        let item = with(
            key(password_token_pk(&token.token_hash), SK_PASSWORD_TOKEN),
            [
                ("token_hash", s(token.token_hash.clone())),
                ("account_id", s(token.account_id.to_string())),
                ("org_id", s(token.org_id.to_string())),
                ("ends_at", s(stamp(token.expires_at))),
                (keys::EXPIRES_AT, n(token.expires_at.timestamp())),
            ],
        );
        if self.put_new(item).await? {
            Ok(())
        } else {
            Err(PortError::Conflict("password link exists".into()))
        }
    }

    async fn take_password_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> PortResult<Option<PasswordToken>> {
        let mut e = Expr::default();
        let condition = format!("{} > {}", e.name("ends_at"), e.value(s(stamp(now))));
        let (names, values) = e.into_parts();
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(password_token_pk(token_hash), SK_PASSWORD_TOKEN)))
            .condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        let Some(item) = conditional(deleted)?.and_then(|out| out.attributes) else {
            return Ok(None);
        };
        let r = Read::new(&item, "password link");
        let bad = || PortError::Corrupt("password link does not parse".into());
        Ok(Some(PasswordToken {
            token_hash: r.str("token_hash")?.to_owned(),
            account_id: AccountId::parse(r.str("account_id")?).map_err(|_| bad())?,
            org_id: OrgId::parse(r.str("org_id")?).map_err(|_| bad())?,
            expires_at: r.time("ends_at")?,
        }))
    }

    async fn note_sign_in_failure(
        &self,
        key_name: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> PortResult<u32> {
        let k = key(failures_pk(key_name), SK_FAILURES);
        let cutoff = stamp(now - window);
        // Two conditional writes: count on in an open window, or start one; a lost race
        // between them is tried again.
        for _ in 0..4 {
            let mut e = Expr::default();
            let count = e.name("failures");
            let spec = UpdateSpec {
                update: format!("SET {count} = {count} + {}", e.value(n(1))),
                condition: format!(
                    "{} > {}",
                    e.name("window_start"),
                    e.value(s(cutoff.clone()))
                ),
                expr: e,
            };
            if let Some(item) = self.update(k.clone(), spec, ReturnValue::AllNew).await? {
                return Read::new(&item, "sign-in failures").u32("failures");
            }
            let mut e = Expr::default();
            let condition = format!(
                "attribute_not_exists({}) OR {} <= {}",
                e.name(keys::PK),
                e.name("window_start"),
                e.value(s(cutoff.clone()))
            );
            let (names, values) = e.into_parts();
            let item = with(
                k.clone(),
                [
                    ("window_start", s(stamp(now))),
                    ("failures", n(1)),
                    (keys::EXPIRES_AT, n((now + window).timestamp())),
                ],
            );
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(condition)
                .set_expression_attribute_names(names)
                .set_expression_attribute_values(values)
                .send()
                .await;
            if conditional(put)?.is_some() {
                return Ok(1);
            }
        }
        Err(PortError::Conflict(
            "sign-in failure counter contended".into(),
        ))
    }

    async fn note_api_key_used(&self, key_id: KeyId, at: DateTime<Utc>) -> PortResult<()> {
        let mut e = Expr::default();
        let used = e.name("last_used_at");
        let at_v = e.value(s(stamp(at)));
        let spec = UpdateSpec {
            update: format!("SET {used} = {at_v}"),
            condition: format!("attribute_not_exists({used}) OR {used} < {at_v}"),
            expr: e,
        };
        // A time older than the stored one fails the condition: nothing to do.
        self.update(key(key_use_pk(key_id), SK_KEY_USE), spec, ReturnValue::None)
            .await?;
        Ok(())
    }

    async fn api_keys_last_used(&self, keys: &[KeyId]) -> PortResult<Vec<(KeyId, DateTime<Utc>)>> {
        let mut out = Vec::new();
        for &k in keys {
            if let Some(item) = self.get(key(key_use_pk(k), SK_KEY_USE)).await? {
                out.push((k, Read::new(&item, "key use").time("last_used_at")?));
            }
        }
        Ok(out)
    }

    async fn sign_in_failures(
        &self,
        key_name: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> PortResult<u32> {
        let Some(item) = self.get(key(failures_pk(key_name), SK_FAILURES)).await? else {
            return Ok(0);
        };
        let r = Read::new(&item, "sign-in failures");
        if r.str("window_start")? <= stamp(now - window).as_str() {
            return Ok(0);
        }
        r.u32("failures")
    }
}
