//! The store on a SQLite file: one connection in WAL mode behind a mutex, used from a blocking
//! thread. Every status change is one `UPDATE … WHERE status IN (…)`, so it is conditional.

mod accounts;
mod row;
mod schema;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::domain::apikey::{ApiKeyRecord, KeyHash};
use crate::domain::invoice::{DailyUsage, Invoice, InvoiceNumber, NewInvoice};
use crate::domain::message::{EarlyReport, Message, RETENTION, Transition};
use crate::domain::optout::OptOut;
use crate::domain::org::{Org, OrgChanges};
use crate::domain::reply::{Reply, ReplyPart};
use crate::domain::status::EXPIRY;
use crate::domain::{
    InvoiceId, KeyId, MessageId, Month, OptOutId, OrgId, PhoneNumber, Reason, ReplyId, Status,
};
use crate::ports::{
    IdempotencyClaim, IdempotencyRecord, InvoiceCreated, ListQuery, OptOutQuery, Page, PortError,
    PortResult, ReplyQuery, Store,
};

use row::{
    INVOICE_COLUMNS, InvoiceRow, MESSAGE_COLUMNS, MessageRow, OPT_OUT_COLUMNS, OptOutRow,
    PART_COLUMNS, PartRow, REPLY_COLUMNS, ReplyRow, corrupt, from_ms, key_row, ms, number,
    parse_key, rfc3339,
};
use schema::{FORWARDING_COLUMNS, FORWARDING_INDEX, HOLD_COLUMN, SCHEMA};

#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// Requests per practice in the current minute (`count_request`): one process serves the
    /// local stack, so the counts live in its memory and never touch the file.
    requests: Arc<Mutex<RequestCounts>>,
}

/// The minute being counted and each practice's requests in it.
#[derive(Default)]
struct RequestCounts {
    minute: i64,
    by_org: std::collections::HashMap<OrgId, u32>,
}

impl SqliteStore {
    pub fn open(path: &Path) -> PortResult<SqliteStore> {
        // A new database is created owner-only (0600) before SQLite writes its first byte; its
        // journal files take the database file's permissions.
        let mut create = std::fs::OpenOptions::new();
        create.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            create.mode(0o600);
        }
        create.open(path).map_err(|e| {
            PortError::Unavailable(format!("cannot create database {}: {e}", path.display()))
        })?;
        let conn = Connection::open(path).map_err(|e| {
            PortError::Unavailable(format!("cannot open database {}: {e}", path.display()))
        })?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
        )
        .map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        conn.execute_batch(accounts::SCHEMA).map_err(db)?;
        let has_forwarding: bool = conn
            .query_row(
                "SELECT count(*) FROM pragma_table_info('replies') WHERE name = 'forwarded_at'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(db)?
            > 0;
        if !has_forwarding {
            conn.execute_batch(&format!("BEGIN; {FORWARDING_COLUMNS} COMMIT;"))
                .map_err(db)?;
        }
        conn.execute_batch(FORWARDING_INDEX).map_err(db)?;
        let has_hold: bool = conn
            .query_row(
                "SELECT count(*) FROM pragma_table_info('messages') WHERE name = 'hold_until'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(db)?
            > 0;
        if !has_hold {
            conn.execute_batch(HOLD_COLUMN).map_err(db)?;
        }
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            requests: Arc::default(),
        })
    }

    /// Sets `column` of the row `id` of `table` to `at` unless it is set: one conditional write,
    /// true if this call set it (as `DynamoStore::stamp_once`).
    async fn stamp_once(
        &self,
        table: &'static str,
        column: &'static str,
        id: String,
        at: DateTime<Utc>,
    ) -> PortResult<bool> {
        self.run(move |c| {
            let n = c
                .prepare_cached(&format!(
                    "UPDATE {table} SET {column} = ?2 WHERE id = ?1 AND {column} IS NULL"
                ))
                .map_err(db)?
                .execute(params![id, ms(at)])
                .map_err(db)?;
            Ok(n == 1)
        })
        .await
    }

    /// Runs `f` on the connection on a blocking thread, keeping SQLite's I/O off the async
    /// workers.
    async fn run<T, F>(&self, f: F) -> PortResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> PortResult<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| PortError::Unavailable("database lock poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| PortError::Unavailable(format!("database task failed: {e}")))?
    }
}

fn read_invoice(c: &Connection, id: &str) -> PortResult<Option<Invoice>> {
    c.prepare_cached(&format!(
        "SELECT {INVOICE_COLUMNS} FROM invoices WHERE id = ?1"
    ))
    .map_err(db)?
    .query_row([id], InvoiceRow::read)
    .optional()
    .map_err(db)?
    .map(InvoiceRow::parse)
    .transpose()
}

fn db(e: rusqlite::Error) -> PortError {
    PortError::Unavailable(format!("sqlite: {e}"))
}

/// A write's error: a broken uniqueness rule (an API key hash stored twice, a carrier
/// reference already taken by another message) is a conflict, as DynamoDB's failed condition
/// is; anything else is the database's.
fn conflict_or_db(what: &'static str) -> impl Fn(rusqlite::Error) -> PortError {
    move |e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => {
            PortError::Conflict(format!("{what} already exists"))
        }
        _ => db(e),
    }
}

/// The id range of a time window read newest first, continuing below `after` (exclusive
/// upper bound). Ids are ULIDs of any kind, so a time window is an id range.
fn id_window(
    since: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    after: Option<String>,
) -> (String, String) {
    let lower = MessageId::floor(since).to_string();
    // `until` is inclusive but the bound is exclusive; ceil() is the max id of that
    // millisecond, which no random id reaches, so nothing is lost in practice.
    let upper = MessageId::ceil(until.unwrap_or(DateTime::<Utc>::MAX_UTC)).to_string();
    match after {
        // `after` itself was on the previous page: step just below it.
        Some(after) if after < upper => (lower, after),
        _ => (lower, upper),
    }
}

fn query_messages(
    conn: &Connection,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> PortResult<Vec<Message>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db)?;
    let rows = stmt
        .query_map(args, MessageRow::read)
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    rows.into_iter().map(MessageRow::parse).collect()
}

fn status_list(statuses: &[Status]) -> String {
    // Statuses are a closed enum, so inlining their names cannot inject anything.
    statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_org(&self, org: &Org) -> PortResult<()> {
        let id = org.id.to_string();
        let doc = serde_json::to_string(org).map_err(corrupt("org"))?;
        self.run(move |c| {
            let tx = c.transaction().map_err(db)?;
            // Either unique constraint (id, reply number) makes this insert nothing.
            let n = tx
                .execute(
                    "INSERT INTO orgs (id, doc) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    params![id, doc],
                )
                .map_err(db)?;
            if n == 0 {
                let exists = tx
                    .query_row("SELECT 1 FROM orgs WHERE id = ?1", [&id], |_| Ok(()))
                    .optional()
                    .map_err(db)?
                    .is_some();
                return Err(PortError::Conflict(if exists {
                    format!("practice {id} exists")
                } else {
                    "another practice has this reply number".to_owned()
                }));
            }
            tx.commit().map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn find_org_by_reply_number(&self, number: &PhoneNumber) -> PortResult<Option<Org>> {
        let number = number.as_str().to_owned();
        self.run(move |c| {
            let doc: Option<String> = c
                .query_row(
                    "SELECT doc FROM orgs WHERE json_extract(doc, '$.reply_number') = ?1",
                    [number],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            doc.map(|d| serde_json::from_str(&d).map_err(corrupt("org")))
                .transpose()
        })
        .await
    }

    async fn update_org(&self, id: OrgId, changes: &OrgChanges) -> PortResult<Option<Org>> {
        let (id, changes) = (id.to_string(), changes.clone());
        self.run(move |c| {
            // Immediate: the write lock is taken before the read, so another process (an admin
            // command beside `serve`) cannot change the practice in between; the update's
            // condition on the document read says the same.
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            let old: Option<String> = tx
                .query_row("SELECT doc FROM orgs WHERE id = ?1", [&id], |r| r.get(0))
                .optional()
                .map_err(db)?;
            let Some(old) = old else {
                return Ok(None);
            };
            let org: Org = serde_json::from_str(&old).map_err(corrupt("org"))?;
            let new = changes.applied_to(&org);
            let doc = serde_json::to_string(&new).map_err(corrupt("org"))?;
            // The unique index on the reply number refuses one another practice has.
            let n = tx
                .execute(
                    "UPDATE orgs SET doc = ?2 WHERE id = ?1 AND doc = ?3",
                    params![id, doc, old],
                )
                .map_err(|e| match e.sqlite_error_code() {
                    Some(rusqlite::ErrorCode::ConstraintViolation) => {
                        PortError::Conflict("another practice has this reply number".into())
                    }
                    _ => db(e),
                })?;
            if n != 1 {
                return Err(PortError::Conflict(format!(
                    "practice {id} changed while it was updated"
                )));
            }
            tx.commit().map_err(db)?;
            Ok(Some(new))
        })
        .await
    }

    async fn get_org(&self, id: OrgId) -> PortResult<Option<Org>> {
        let id = id.to_string();
        self.run(move |c| {
            let doc: Option<String> = c
                .query_row("SELECT doc FROM orgs WHERE id = ?1", [id], |r| r.get(0))
                .optional()
                .map_err(db)?;
            doc.map(|d| serde_json::from_str(&d).map_err(corrupt("org")))
                .transpose()
        })
        .await
    }

    async fn list_orgs(&self) -> PortResult<Vec<Org>> {
        self.run(|c| {
            let mut stmt = c.prepare("SELECT doc FROM orgs ORDER BY id").map_err(db)?;
            let docs = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            docs.iter()
                .map(|d| serde_json::from_str(d).map_err(corrupt("org")))
                .collect()
        })
        .await
    }

    async fn put_api_key(&self, key: &ApiKeyRecord) -> PortResult<()> {
        let k = key.clone();
        self.run(move |c| {
            c.execute(
                "INSERT INTO api_keys (hash, id, org_id, hint, created_at, revoked_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    k.hash.as_str(),
                    k.id.to_string(),
                    k.org_id.to_string(),
                    k.hint,
                    ms(k.created_at),
                    k.revoked_at.map(ms)
                ],
            )
            .map_err(conflict_or_db("API key"))?;
            Ok(())
        })
        .await
    }

    async fn find_api_key(&self, hash: &KeyHash) -> PortResult<Option<ApiKeyRecord>> {
        let h = hash.as_str().to_owned();
        self.run(move |c| {
            c.query_row(
                "SELECT hash, id, org_id, hint, created_at, revoked_at FROM api_keys WHERE hash = ?1",
                [h],
                key_row,
            )
            .optional()
            .map_err(db)?
            .map(parse_key)
            .transpose()
        })
        .await
    }

    async fn list_api_keys(&self, org: OrgId) -> PortResult<Vec<ApiKeyRecord>> {
        let org = org.to_string();
        self.run(move |c| {
            let mut stmt = c
                .prepare(
                    "SELECT hash, id, org_id, hint, created_at, revoked_at FROM api_keys \
                     WHERE org_id = ?1 ORDER BY id",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([org], key_row)
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            rows.into_iter().map(parse_key).collect()
        })
        .await
    }

    async fn revoke_api_key(&self, id: KeyId, at: DateTime<Utc>) -> PortResult<bool> {
        self.stamp_once("api_keys", "revoked_at", id.to_string(), at)
            .await
    }

    async fn claim_idempotency_key(
        &self,
        record: &IdempotencyRecord,
    ) -> PortResult<IdempotencyClaim> {
        let r = record.clone();
        self.run(move |c| {
            let tx = c.transaction().map_err(db)?;
            let n = tx
                .execute(
                    // A record past retention counts as gone (the daily purge may not have run
                    // yet): it is claimed afresh, as on DynamoDB.
                    "INSERT INTO idempotency_keys (org_id, key, fingerprint, created_at) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (org_id, key) DO UPDATE \
                     SET fingerprint = excluded.fingerprint, created_at = excluded.created_at \
                     WHERE idempotency_keys.created_at < ?5",
                    params![
                        r.org_id.to_string(),
                        r.key,
                        r.fingerprint,
                        ms(r.created_at),
                        ms(r.created_at - RETENTION)
                    ],
                )
                .map_err(db)?;
            let claim = if n == 1 {
                IdempotencyClaim::Fresh
            } else {
                let (fingerprint, created_at): (String, i64) = tx
                    .query_row(
                        "SELECT fingerprint, created_at FROM idempotency_keys \
                         WHERE org_id = ?1 AND key = ?2",
                        params![r.org_id.to_string(), r.key],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .map_err(db)?;
                IdempotencyClaim::Seen(IdempotencyRecord {
                    org_id: r.org_id,
                    key: r.key.clone(),
                    fingerprint,
                    created_at: from_ms(created_at)?,
                })
            };
            tx.commit().map_err(db)?;
            Ok(claim)
        })
        .await
    }

    async fn insert_messages(&self, messages: &[Message]) -> PortResult<usize> {
        let msgs = messages.to_vec();
        self.run(move |c| {
            let tx = c.transaction().map_err(db)?;
            let mut inserted = 0;
            {
                let mut stmt = tx
                    .prepare_cached(
                        "INSERT INTO messages (id, org_id, to_number, sender, body, reference, \
                         encoding, segments, status, reason, created_at, sent_at, carrier, \
                         carrier_ref, history) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
                         ON CONFLICT (id) DO NOTHING",
                    )
                    .map_err(db)?;
                for m in &msgs {
                    let history = serde_json::to_string(&m.history).map_err(corrupt("history"))?;
                    inserted += stmt
                        .execute(params![
                            m.id.to_string(),
                            m.org_id.to_string(),
                            m.to.as_str(),
                            m.sender.as_str(),
                            m.text,
                            m.reference,
                            m.encoding.as_str(),
                            m.segments,
                            m.status.as_str(),
                            m.reason.map(|r| r.as_str()),
                            ms(m.created_at),
                            m.sent_at.map(ms),
                            m.carrier,
                            m.carrier_ref,
                            history,
                        ])
                        .map_err(db)?;
                }
            }
            tx.commit().map_err(db)?;
            Ok(inserted)
        })
        .await
    }

    async fn get_message(&self, id: MessageId) -> PortResult<Option<Message>> {
        let id = id.to_string();
        self.run(move |c| {
            let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1");
            Ok(query_messages(c, &sql, &[&id])?.into_iter().next())
        })
        .await
    }

    async fn get_messages(&self, ids: &[MessageId]) -> PortResult<Vec<Message>> {
        let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        self.run(move |c| {
            let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1");
            let mut out = Vec::with_capacity(ids.len());
            for id in &ids {
                out.extend(query_messages(c, &sql, &[id])?);
            }
            Ok(out)
        })
        .await
    }

    async fn list_messages(&self, org: OrgId, q: &ListQuery) -> PortResult<Page<Message>> {
        let org = org.to_string();
        let q = q.clone();
        self.run(move |c| {
            // The time window is an id range on the (org_id, id) index.
            let (lower, upper) = id_window(q.since, q.until, q.after.map(|a| a.to_string()));
            let status_clause = match q.status {
                Some(s) => format!("AND status = '{}'", s.as_str()),
                None => String::new(),
            };
            let sql = format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE org_id = ?1 AND id >= ?2 \
                 AND id < ?3 {status_clause} ORDER BY id DESC LIMIT ?4"
            );
            let fetch = (q.limit + 1) as i64;
            let items = query_messages(c, &sql, &[&org, &lower, &upper, &fetch])?;
            Ok(Page::from_overfetch(items, q.limit, |m| m.id))
        })
        .await
    }

    async fn latest_sent_to(
        &self,
        org: OrgId,
        to: &PhoneNumber,
        since: DateTime<Utc>,
    ) -> PortResult<Option<MessageId>> {
        let (org, to) = (org.to_string(), to.as_str().to_owned());
        let lower = MessageId::floor(since).to_string();
        self.run(move |c| {
            let id: Option<String> = c
                .prepare_cached(
                    "SELECT id FROM messages WHERE org_id = ?1 AND to_number = ?2 AND id >= ?3 \
                     AND sent_at IS NOT NULL ORDER BY id DESC LIMIT 1",
                )
                .map_err(db)?
                .query_row(params![org, to, lower], |r| r.get(0))
                .optional()
                .map_err(db)?;
            id.map(|i| MessageId::parse(&i).map_err(corrupt("message id")))
                .transpose()
        })
        .await
    }

    async fn insert_reply(&self, reply: &Reply) -> PortResult<bool> {
        let r = reply.clone();
        self.run(move |c| {
            let n = c
                .prepare_cached(&format!(
                    "INSERT INTO replies ({REPLY_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING"
                ))
                .map_err(db)?
                .execute(params![
                    r.id.to_string(),
                    r.org_id.to_string(),
                    r.from.as_str(),
                    r.to.as_str(),
                    r.text,
                    ms(r.received_at),
                    r.carrier,
                    r.carrier_ref,
                    r.in_reply_to.map(|i| i.to_string()),
                    r.forwarded_at.map(ms),
                ])
                .map_err(db)?;
            Ok(n == 1)
        })
        .await
    }

    async fn list_replies(&self, org: OrgId, q: &ReplyQuery) -> PortResult<Page<Reply, ReplyId>> {
        let org = org.to_string();
        let q = q.clone();
        self.run(move |c| {
            let (lower, upper) = id_window(q.since, q.until, q.after.map(|a| a.to_string()));
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {REPLY_COLUMNS} FROM replies WHERE org_id = ?1 AND id >= ?2 \
                     AND id < ?3 ORDER BY id DESC LIMIT ?4"
                ))
                .map_err(db)?;
            let rows = stmt
                .query_map(
                    params![org, lower, upper, (q.limit + 1) as i64],
                    ReplyRow::read,
                )
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            let items = rows
                .into_iter()
                .map(ReplyRow::parse)
                .collect::<PortResult<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, q.limit, |r| r.id))
        })
        .await
    }

    async fn unforwarded_replies(&self) -> PortResult<Vec<Reply>> {
        self.run(|c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {REPLY_COLUMNS} FROM replies WHERE forwarded_at IS NULL ORDER BY id"
                ))
                .map_err(db)?;
            let rows = stmt
                .query_map([], ReplyRow::read)
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            rows.into_iter().map(ReplyRow::parse).collect()
        })
        .await
    }

    async fn claim_forwarding(
        &self,
        reply: &Reply,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> PortResult<bool> {
        let (carrier, carrier_ref) = (reply.carrier.clone(), reply.carrier_ref.clone());
        self.run(move |c| {
            let n = c
                .prepare_cached(
                    "UPDATE replies SET forward_lease_until = ?4 WHERE carrier = ?1 \
                     AND carrier_ref = ?2 AND forwarded_at IS NULL AND forward_lease_until < ?3",
                )
                .map_err(db)?
                .execute(params![carrier, carrier_ref, ms(now), ms(lease_until)])
                .map_err(db)?;
            Ok(n == 1)
        })
        .await
    }

    async fn release_forwarding(&self, reply: &Reply) -> PortResult<()> {
        let (carrier, carrier_ref) = (reply.carrier.clone(), reply.carrier_ref.clone());
        self.run(move |c| {
            c.prepare_cached(
                "UPDATE replies SET forward_lease_until = 0 WHERE carrier = ?1 \
                 AND carrier_ref = ?2 AND forwarded_at IS NULL",
            )
            .map_err(db)?
            .execute(params![carrier, carrier_ref])
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn mark_forwarded(&self, reply: &Reply, at: DateTime<Utc>) -> PortResult<bool> {
        let (carrier, carrier_ref) = (reply.carrier.clone(), reply.carrier_ref.clone());
        self.run(move |c| {
            let n = c
                .prepare_cached(
                    "UPDATE replies SET forwarded_at = ?3, forward_lease_until = 0 \
                     WHERE carrier = ?1 AND carrier_ref = ?2 AND forwarded_at IS NULL",
                )
                .map_err(db)?
                .execute(params![carrier, carrier_ref, ms(at)])
                .map_err(db)?;
            Ok(n == 1)
        })
        .await
    }

    async fn insert_reply_part(&self, part: &ReplyPart) -> PortResult<bool> {
        let p = part.clone();
        self.run(move |c| {
            let n = c
                .prepare_cached(&format!(
                    "INSERT INTO reply_parts ({PART_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING"
                ))
                .map_err(db)?
                .execute(params![
                    p.carrier,
                    p.carrier_ref,
                    p.org_id.to_string(),
                    p.from.as_str(),
                    p.to.as_str(),
                    p.reference,
                    p.part,
                    p.total,
                    p.text,
                    ms(p.received_at),
                ])
                .map_err(db)?;
            Ok(n == 1)
        })
        .await
    }

    async fn open_reply_parts(&self, part: &ReplyPart) -> PortResult<Vec<ReplyPart>> {
        let p = part.clone();
        self.run(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {PART_COLUMNS} FROM reply_parts WHERE carrier = ?1 \
                     AND from_number = ?2 AND to_number = ?3 AND reference = ?4 AND closed = 0 \
                     ORDER BY part, received_at"
                ))
                .map_err(db)?;
            let rows = stmt
                .query_map(
                    params![p.carrier, p.from.as_str(), p.to.as_str(), p.reference],
                    PartRow::read,
                )
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            rows.into_iter().map(PartRow::parse).collect()
        })
        .await
    }

    async fn stale_reply_parts(&self, before: DateTime<Utc>) -> PortResult<Vec<ReplyPart>> {
        self.run(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {PART_COLUMNS} FROM reply_parts WHERE closed = 0 AND received_at < ?1 \
                     ORDER BY received_at"
                ))
                .map_err(db)?;
            let rows = stmt
                .query_map([ms(before)], PartRow::read)
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            rows.into_iter().map(PartRow::parse).collect()
        })
        .await
    }

    async fn close_reply_parts(&self, parts: &[ReplyPart]) -> PortResult<()> {
        let keys: Vec<(String, String)> = parts
            .iter()
            .map(|p| (p.carrier.clone(), p.carrier_ref.clone()))
            .collect();
        self.run(move |c| {
            let tx = c.transaction().map_err(db)?;
            {
                let mut stmt = tx
                    .prepare_cached(
                        "UPDATE reply_parts SET closed = 1 WHERE carrier = ?1 AND carrier_ref = ?2",
                    )
                    .map_err(db)?;
                for (carrier, carrier_ref) in &keys {
                    stmt.execute(params![carrier, carrier_ref]).map_err(db)?;
                }
            }
            tx.commit().map_err(db)
        })
        .await
    }

    /// History times never go backwards: an entry gets at least the time of the one before it
    /// (the stored form, fixed-width RFC 3339 in UTC, orders as text), since events written by
    /// different handlers may take their times in one order and be written in the other.
    async fn apply(&self, t: &Transition) -> PortResult<bool> {
        let t = t.clone();
        self.run(move |c| {
            let from = status_list(&t.from());
            if from.is_empty() {
                return Ok(false);
            }
            let (carrier, carrier_ref) = t.carrier.clone().unzip();
            let sent_at = (t.to == Status::Sent).then(|| ms(t.at));
            let sql = format!(
                "UPDATE messages SET status = ?2, reason = COALESCE(?3, reason), \
                 history = json_insert(history, '$[#]', json_object('status', ?2, 'at', \
                    max(?4, COALESCE(json_extract(history, '$[#-1].at'), ?4)))), \
                 sent_at = COALESCE(sent_at, ?5), \
                 carrier = COALESCE(?6, carrier), carrier_ref = COALESCE(?7, carrier_ref), \
                 lease_until = 0 \
                 WHERE id = ?1 AND status IN ({from}) AND (sent_at IS NULL OR sent_at > ?8)"
            );
            let tx = c.transaction().map_err(db)?;
            let n = tx
                .prepare_cached(&sql)
                .map_err(db)?
                .execute(params![
                    t.id.to_string(),
                    t.to.as_str(),
                    t.reason.map(|r| r.as_str()),
                    rfc3339(t.at),
                    sent_at,
                    carrier,
                    carrier_ref,
                    // 72 hours past sending it counts as expired (readers show it so before
                    // the sweep stores it): no later report may move it.
                    ms(t.at - EXPIRY),
                ])
                .map_err(conflict_or_db("carrier reference"))?;
            if n == 1 && t.to == Status::Sent {
                // Counted in the move's own transaction: only the one move that takes the
                // message to `sent` counts it.
                tx.prepare_cached(
                    "INSERT INTO usage (org_id, day, parts, messages) \
                     SELECT org_id, ?2, segments, 1 FROM messages WHERE id = ?1 \
                     ON CONFLICT (org_id, day) DO UPDATE \
                     SET parts = parts + excluded.parts, messages = messages + 1",
                )
                .map_err(db)?
                .execute(params![t.id.to_string(), t.at.date_naive().to_string()])
                .map_err(db)?;
            }
            tx.commit().map_err(db)?;
            Ok(n == 1)
        })
        .await
    }

    async fn claim_for_dispatch(
        &self,
        id: MessageId,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> PortResult<Option<Message>> {
        let id = id.to_string();
        self.run(move |c| {
            let n = c
                .prepare_cached(
                    "UPDATE messages SET lease_until = ?3, \
                     history = CASE WHEN status = 'pending' \
                        THEN json_insert(history, '$[#]', json_object('status', 'queued', 'at', ?4)) \
                        ELSE history END, \
                     status = 'queued' \
                     WHERE id = ?1 AND (status = 'pending' OR (status = 'queued' AND lease_until < ?2))",
                )
                .map_err(db)?
                .execute(params![id, ms(now), ms(lease_until), rfc3339(now)])
                .map_err(db)?;
            if n == 0 {
                return Ok(None);
            }
            let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1");
            Ok(query_messages(c, &sql, &[&id])?.into_iter().next())
        })
        .await
    }

    async fn release_claim(&self, id: MessageId) -> PortResult<()> {
        let id = id.to_string();
        self.run(move |c| {
            c.execute(
                "UPDATE messages SET lease_until = 0 WHERE id = ?1 AND status = 'queued'",
                [id],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn find_by_carrier_ref(
        &self,
        carrier: &str,
        carrier_ref: &str,
    ) -> PortResult<Option<MessageId>> {
        let (carrier, carrier_ref) = (carrier.to_owned(), carrier_ref.to_owned());
        self.run(move |c| {
            let id: Option<String> = c
                .query_row(
                    "SELECT id FROM messages WHERE carrier = ?1 AND carrier_ref = ?2",
                    params![carrier, carrier_ref],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            id.map(|i| MessageId::parse(&i).map_err(corrupt("message id")))
                .transpose()
        })
        .await
    }

    async fn count_daily(&self, org: OrgId, day: NaiveDate, n: u32, cap: u32) -> PortResult<bool> {
        if n > cap {
            return Ok(false);
        }
        let (org, day) = (org.to_string(), day.to_string());
        self.run(move |c| {
            let changed = c
                .prepare_cached(
                    "INSERT INTO daily_counts (org_id, day, sent) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (org_id, day) DO UPDATE SET sent = sent + excluded.sent \
                     WHERE sent + excluded.sent <= ?4",
                )
                .map_err(db)?
                .execute(params![org, day, n, cap])
                .map_err(db)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn count_request(&self, org: OrgId, at: DateTime<Utc>, limit: u32) -> PortResult<bool> {
        let minute = at.timestamp().div_euclid(60);
        let mut counts = self
            .requests
            .lock()
            .map_err(|_| PortError::Unavailable("request counts lock poisoned".into()))?;
        if counts.minute != minute {
            // A new minute: the old counts are of no use any more.
            *counts = RequestCounts {
                minute,
                by_org: Default::default(),
            };
        }
        let n = counts.by_org.entry(org).or_default();
        if *n >= limit {
            return Ok(false);
        }
        *n += 1;
        Ok(true)
    }

    async fn park_report(&self, r: &EarlyReport) -> PortResult<()> {
        let r = r.clone();
        self.run(move |c| {
            c.prepare_cached(
                "INSERT INTO early_reports (carrier, carrier_ref, status, reason, received_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            )
            .map_err(db)?
            .execute(params![
                r.carrier,
                r.carrier_ref,
                r.status.as_str(),
                r.reason.map(|x| x.as_str()),
                ms(r.received_at),
            ])
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn parked_reports(
        &self,
        carrier: &str,
        carrier_ref: &str,
        since: DateTime<Utc>,
    ) -> PortResult<Vec<EarlyReport>> {
        let (carrier, carrier_ref) = (carrier.to_owned(), carrier_ref.to_owned());
        self.run(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT status, reason, received_at FROM early_reports \
                     WHERE carrier = ?1 AND carrier_ref = ?2 AND received_at >= ?3",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map(params![carrier, carrier_ref, ms(since)], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            rows.into_iter()
                .map(|(status, reason, at)| {
                    Ok(EarlyReport {
                        carrier: carrier.clone(),
                        carrier_ref: carrier_ref.clone(),
                        status: status
                            .parse()
                            .map_err(|_| PortError::Corrupt("early report status".into()))?,
                        reason: reason.as_deref().and_then(Reason::parse),
                        received_at: DateTime::<Utc>::from_timestamp_millis(at)
                            .ok_or_else(|| PortError::Corrupt("early report time".into()))?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn usage(&self, org: OrgId, month: Month) -> PortResult<Vec<DailyUsage>> {
        let (org, from, to) = (
            org.to_string(),
            month.first_day().to_string(),
            month.last_day().to_string(),
        );
        self.run(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT day, parts, messages FROM usage \
                     WHERE org_id = ?1 AND day >= ?2 AND day <= ?3 ORDER BY day",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map(params![org, from, to], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            rows.into_iter()
                .map(|(day, parts, messages)| {
                    Ok(DailyUsage {
                        day: day.parse().map_err(corrupt("usage day"))?,
                        parts: u64::try_from(parts).map_err(corrupt("usage parts"))?,
                        messages: u64::try_from(messages).map_err(corrupt("usage messages"))?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn create_invoice(&self, invoice: &NewInvoice) -> PortResult<InvoiceCreated> {
        let new = invoice.clone();
        self.run(move |c| {
            // IMMEDIATE: the counter is read and raised under the write lock, so two
            // processes on one file cannot read the same last number.
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db)?;
            let existing: Option<String> = tx
                .query_row(
                    "SELECT id FROM invoices WHERE org_id = ?1 AND month = ?2",
                    params![new.org_id.to_string(), new.month.to_string()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            if let Some(id) = existing {
                let stored = read_invoice(&tx, &id)?
                    .ok_or_else(|| PortError::Corrupt(format!("invoice {id} vanished")))?;
                return Ok(InvoiceCreated::Existing(stored));
            }
            let year = new.created_at.year();
            let seq: i64 = tx
                .query_row(
                    "INSERT INTO invoice_counters (year, last) VALUES (?1, 1) \
                     ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
                    [year],
                    |r| r.get(0),
                )
                .map_err(db)?;
            let invoice = new.numbered(InvoiceNumber::new(
                year,
                u64::try_from(seq).map_err(corrupt("invoice counter"))?,
            ));
            let doc = serde_json::to_string(&invoice.doc).map_err(corrupt("invoice"))?;
            tx.execute(
                "INSERT INTO invoices (id, org_id, month, number, created_at, doc) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    invoice.id.to_string(),
                    invoice.org_id.to_string(),
                    invoice.month.to_string(),
                    invoice.number.to_string(),
                    ms(invoice.created_at),
                    doc
                ],
            )
            .map_err(conflict_or_db("invoice"))?;
            tx.commit().map_err(db)?;
            Ok(InvoiceCreated::New(invoice))
        })
        .await
    }

    async fn get_invoice(&self, id: InvoiceId) -> PortResult<Option<Invoice>> {
        let id = id.to_string();
        self.run(move |c| read_invoice(c, &id)).await
    }

    async fn list_invoices(&self, org: OrgId) -> PortResult<Vec<Invoice>> {
        let org = org.to_string();
        self.run(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {INVOICE_COLUMNS} FROM invoices WHERE org_id = ?1 ORDER BY month DESC"
                ))
                .map_err(db)?;
            let rows = stmt
                .query_map([org], InvoiceRow::read)
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            rows.into_iter().map(InvoiceRow::parse).collect()
        })
        .await
    }

    async fn record_opt_out(&self, o: &OptOut) -> PortResult<bool> {
        let o = o.clone();
        self.run(move |c| {
            // The first opt-out of a number stands; a repeat inserts nothing.
            let n = c
                .prepare_cached(&format!(
                    "INSERT INTO opt_outs ({OPT_OUT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (org_id, number) DO NOTHING"
                ))
                .map_err(db)?
                .execute(params![
                    o.id.to_string(),
                    o.org_id.to_string(),
                    o.number.as_str(),
                    ms(o.since),
                    o.source.as_str(),
                ])
                .map_err(conflict_or_db("opt-out id"))?;
            Ok(n == 1)
        })
        .await
    }

    async fn mark_invoice_delivered(&self, id: InvoiceId, at: DateTime<Utc>) -> PortResult<bool> {
        self.stamp_once("invoices", "delivered_at", id.to_string(), at)
            .await
    }

    async fn lift_opt_out(&self, org: OrgId, number: &PhoneNumber) -> PortResult<bool> {
        let (org, number) = (org.to_string(), number.as_str().to_owned());
        self.run(move |c| {
            let n = c
                .execute(
                    "DELETE FROM opt_outs WHERE org_id = ?1 AND number = ?2",
                    params![org, number],
                )
                .map_err(db)?;
            Ok(n == 1)
        })
        .await
    }

    async fn opted_out(&self, org: OrgId, numbers: &[PhoneNumber]) -> PortResult<Vec<PhoneNumber>> {
        let org = org.to_string();
        let mut asked: Vec<String> = numbers.iter().map(|n| n.as_str().to_owned()).collect();
        asked.sort();
        asked.dedup();
        self.run(move |c| {
            // One lookup on the primary key per number: a thousand take about a millisecond.
            let mut stmt = c
                .prepare_cached("SELECT number FROM opt_outs WHERE org_id = ?1 AND number = ?2")
                .map_err(db)?;
            let mut out = Vec::new();
            for n in &asked {
                let hit: Option<String> = stmt
                    .query_row(params![org, n], |r| r.get(0))
                    .optional()
                    .map_err(db)?;
                if let Some(hit) = hit {
                    out.push(number(&hit)?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn list_opt_outs(
        &self,
        org: OrgId,
        q: &OptOutQuery,
    ) -> PortResult<Page<OptOut, OptOutId>> {
        let org = org.to_string();
        let (after, limit) = (q.after.map(|a| a.to_string()), q.limit);
        self.run(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {OPT_OUT_COLUMNS} FROM opt_outs WHERE org_id = ?1 \
                     AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3"
                ))
                .map_err(db)?;
            let rows = stmt
                .query_map(params![org, after, (limit + 1) as i64], OptOutRow::read)
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            let items = rows
                .into_iter()
                .map(OptOutRow::parse)
                .collect::<PortResult<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, limit, |o| o.id))
        })
        .await
    }

    async fn unfinished(&self) -> PortResult<Vec<MessageId>> {
        self.run(|c| {
            let mut stmt = c
                .prepare(
                    "SELECT id FROM messages WHERE status IN ('pending', 'queued') ORDER BY id",
                )
                .map_err(db)?;
            let ids = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            ids.iter()
                .map(|i| MessageId::parse(i).map_err(corrupt("message id")))
                .collect()
        })
        .await
    }

    async fn stranded(
        &self,
        created_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> PortResult<Vec<MessageId>> {
        self.run(move |c| {
            // A released claim is lease 0, a fresh `pending` has none; nor has it a hold.
            let mut stmt = c
                .prepare_cached(
                    "SELECT id FROM messages WHERE created_at < ?1 \
                     AND status IN ('pending', 'queued') \
                     AND lease_until < ?2 AND hold_until < ?2 ORDER BY id",
                )
                .map_err(db)?;
            let ids = stmt
                .query_map(params![ms(created_before), ms(now)], |r| {
                    r.get::<_, String>(0)
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            ids.iter()
                .map(|i| MessageId::parse(i).map_err(corrupt("message id")))
                .collect()
        })
        .await
    }

    async fn hold_for_requeue(
        &self,
        id: MessageId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> PortResult<Option<Status>> {
        let id = id.to_string();
        self.run(move |c| {
            let status: Option<String> = c
                .prepare_cached(
                    "UPDATE messages SET hold_until = ?3 WHERE id = ?1 \
                     AND status IN ('pending', 'queued') \
                     AND lease_until < ?2 AND hold_until < ?2 RETURNING status",
                )
                .map_err(db)?
                .query_row(params![id, ms(now), ms(until)], |r| r.get(0))
                .optional()
                .map_err(db)?;
            status
                .map(|s| {
                    s.parse()
                        .map_err(|_| PortError::Corrupt("message status".into()))
                })
                .transpose()
        })
        .await
    }

    async fn expire_overdue(&self, now: DateTime<Utc>) -> PortResult<usize> {
        self.run(move |c| {
            // The history entry carries the moment it expired (sent_at + 72 h), not the sweep's.
            let n = c
                .execute(
                    "UPDATE messages SET status = 'undelivered', reason = 'expired', \
                     history = json_insert(history, '$[#]', json_object('status', 'undelivered', \
                        'at', strftime('%Y-%m-%dT%H:%M:%fZ', (sent_at + ?2) / 1000.0, 'unixepoch'))) \
                     WHERE status IN ('sent', 'buffered') AND sent_at IS NOT NULL \
                        AND sent_at + ?2 <= ?1",
                    params![ms(now), EXPIRY.num_milliseconds()],
                )
                .map_err(db)?;
            Ok(n)
        })
        .await
    }

    async fn purge_before(&self, cutoff: DateTime<Utc>) -> PortResult<usize> {
        self.run(move |c| {
            let tx = c.transaction().map_err(db)?;
            let n = tx
                .execute("DELETE FROM messages WHERE created_at < ?1", [ms(cutoff)])
                .map_err(db)?;
            let replies = tx
                .execute("DELETE FROM replies WHERE received_at < ?1", [ms(cutoff)])
                .map_err(db)?;
            tx.execute(
                "DELETE FROM reply_parts WHERE received_at < ?1",
                [ms(cutoff)],
            )
            .map_err(db)?;
            tx.execute(
                "DELETE FROM idempotency_keys WHERE created_at < ?1",
                [ms(cutoff)],
            )
            .map_err(db)?;
            tx.execute(
                "DELETE FROM early_reports WHERE received_at < ?1",
                [ms(cutoff)],
            )
            .map_err(db)?;
            tx.execute(
                "DELETE FROM daily_counts WHERE day < ?1",
                [cutoff.date_naive().to_string()],
            )
            .map_err(db)?;
            accounts::purge(&tx, cutoff)?;
            tx.commit().map_err(db)?;
            Ok(n + replies)
        })
        .await
    }
}
