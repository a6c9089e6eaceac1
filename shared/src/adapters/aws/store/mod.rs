//! The store on one DynamoDB table (key design in docs/dynamodb-keys.md). Every status change is
//! a single conditional write stating its invariant; nothing reads a message to decide how to
//! write it.

mod accounts;
mod expression;
mod item;
pub(super) mod keys;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, ReturnValue, TransactWriteItem, Update,
};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use futures_util::{StreamExt as _, TryStreamExt as _, stream};

use crate::domain::apikey::{ApiKeyRecord, KeyHash};
use crate::domain::invoice::{DailyUsage, Invoice, InvoiceNumber, NewInvoice};
use crate::domain::message::{EarlyReport, Message, RETENTION, Transition};
use crate::domain::optout::OptOut;
use crate::domain::org::{Org, OrgChanges};
use crate::domain::reply::{Reply, ReplyPart};
use crate::domain::status::{EXPIRY, expires_at};
use crate::domain::{
    InvoiceId, KeyId, MessageId, Month, OptOutId, OrgId, PhoneNumber, ReplyId, Status,
};
use crate::ports::{
    IdempotencyClaim, IdempotencyRecord, InvoiceCreated, ListQuery, OptOutQuery, Page, PortError,
    PortResult, ReplyQuery, Store,
};

use super::error::{conditional, failed_conditions, request, sdk_unavailable};
use expression::{Expr, UpdateSpec, org_update, transition_update};
use item::{Item, Read, awaiting_report, history_entry, message_id_of_key, s};
use keys::{Index, stamp};

/// Conditional writes in flight at once for bulk work (a batch of up to 1000 messages, the
/// sweeps): enough to hide latency, few enough not to trip on-demand throttling.
const PARALLEL_WRITES: usize = 16;
/// BatchGetItem takes at most 100 keys per call.
const BATCH_GET_KEYS: usize = 100;
/// Attempts to fetch keys DynamoDB left unprocessed (it does so under throttling).
const BATCH_GET_ATTEMPTS: u32 = 6;
/// `list_messages` reads at most this many query pages for one answer; with a selective status
/// filter it then returns what it found and a cursor, so one request never scans 60 days.
const LIST_MAX_PAGES: usize = 10;

/// The GSI1 sort-key range (ids) of a time window read newest first, up to and including the
/// cursor `after` (which lay on the previous page; readers skip it). `None` if it is empty.
fn id_range(
    since: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    after: Option<String>,
) -> Option<(String, String)> {
    // Ids are ULIDs of any kind, so a time window is an id range.
    let lower = MessageId::floor(since).to_string();
    let mut upper = match until {
        Some(until) => MessageId::ceil(until).to_string(),
        None => ulid::Ulid(u128::MAX).to_string(),
    };
    if let Some(after) = after {
        upper = upper.min(after);
    }
    (lower <= upper).then_some((lower, upper))
}

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: String) -> DynamoStore {
        DynamoStore { client, table }
    }

    /// One conditional status move, valid only while the history has `seen` entries. A move
    /// to `sent` is a transaction: the move, the carrier reference's lookup item (so a
    /// delivery report arriving right after finds its message) and the practice's usage of
    /// the day, which only the write that takes the message to `sent` adds to.
    async fn apply_once(
        &self,
        t: &Transition,
        current: &Message,
        from: &[Status],
    ) -> PortResult<Applied> {
        let mut spec = transition_update(t, from);
        let history = spec.expr.name("history");
        let n = spec
            .expr
            .value(AttributeValue::N(current.history.len().to_string()));
        spec.condition = format!("({}) AND size({history}) = {n}", spec.condition);
        let key = item::key(keys::message_pk(t.id), keys::SK_MESSAGE);
        if t.carrier.is_none() && t.to != Status::Sent {
            return Ok(match self.update(key, spec, ReturnValue::None).await? {
                Some(_) => Applied::Written,
                None => Applied::Refused,
            });
        }
        // Recording the carrier's reference writes the lookup item in the same transaction,
        // so a delivery report arriving right after finds its message.
        let mut items = vec![self.update_in_transaction(key, spec)?];
        if let Some((carrier, carrier_ref)) = &t.carrier {
            items.push(self.put_new_in_transaction(item::carrier_ref_item(
                t.id,
                carrier,
                carrier_ref,
            ))?);
        }
        if t.to == Status::Sent {
            items.push(self.count_usage(current.org_id, t.at, current.segments)?);
        }
        match self.transact(items).await? {
            Transacted::Written => Ok(Applied::Written),
            Transacted::Refused(flags) if flags.first() == Some(&true) => Ok(Applied::Refused),
            Transacted::Refused(_) => Err(PortError::Conflict(format!(
                "carrier reference for message {} is recorded for another message",
                t.id
            ))),
        }
    }

    /// Adds one message of `parts` parts to the practice's usage of the day of `at` (UTC).
    fn count_usage(
        &self,
        org: OrgId,
        at: DateTime<Utc>,
        parts: u32,
    ) -> PortResult<TransactWriteItem> {
        let mut e = Expr::default();
        let update = format!(
            "ADD {} {}, {} {}",
            e.name("parts"),
            e.value(item::n(parts)),
            e.name("messages"),
            e.value(item::n(1))
        );
        let (names, values) = e.into_parts();
        let add = Update::builder()
            .table_name(&self.table)
            .set_key(Some(item::key(
                keys::org_pk(org),
                &keys::usage_sk(at.date_naive()),
            )))
            .update_expression(update)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .map_err(request)?;
        Ok(TransactWriteItem::builder().update(add).build())
    }

    /// Sets the time `attr` of an existing item unless it is set already (a revocation, a
    /// delivery): true if this call set it.
    async fn stamp_once(&self, key: Item, attr: &str, at: DateTime<Utc>) -> PortResult<bool> {
        let mut e = Expr::default();
        let name = e.name(attr);
        let spec = UpdateSpec {
            update: format!("SET {name} = {}", e.value(s(stamp(at)))),
            condition: format!(
                "attribute_exists({}) AND attribute_not_exists({name})",
                e.name(keys::PK)
            ),
            expr: e,
        };
        Ok(self.update(key, spec, ReturnValue::None).await?.is_some())
    }

    /// A strongly consistent read of one item: status reads right after a write must see it.
    async fn get(&self, key: Item) -> PortResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_unavailable("DynamoDB", e))?;
        Ok(out.item)
    }

    /// Puts an item unless one with its key exists; false if one did.
    async fn put_new(&self, item: Item) -> PortResult<bool> {
        let written = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        Ok(conditional(written)?.is_some())
    }

    fn put_new_in_transaction(&self, item: Item) -> PortResult<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(request)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn update_in_transaction(&self, key: Item, u: UpdateSpec) -> PortResult<TransactWriteItem> {
        let (names, values) = u.expr.into_parts();
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(u.update)
            .condition_expression(u.condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .map_err(request)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Deletes the pointer from `number` to practice `org`, in a transaction; a pointer that
    /// is not there is fine (practices from before pointers existed have none).
    fn delete_reply_number_in_transaction(
        &self,
        org: OrgId,
        number: &PhoneNumber,
    ) -> PortResult<TransactWriteItem> {
        let mut e = Expr::default();
        let condition = format!(
            "attribute_not_exists({}) OR {} = {}",
            e.name(keys::PK),
            e.name("org_id"),
            e.value(s(org.to_string()))
        );
        let (names, values) = e.into_parts();
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(item::key(
                keys::reply_number_pk(number),
                keys::SK_REPLY_NUMBER,
            )))
            .condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .map_err(request)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> PortResult<Transacted> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(Transacted::Written),
            Err(e) => match failed_conditions(&e) {
                Some(flags) => Ok(Transacted::Refused(flags)),
                None => Err(sdk_unavailable("DynamoDB", e)),
            },
        }
    }

    /// Runs an update; `None` if its condition did not hold, else the attributes `returning`
    /// asks for.
    async fn update(
        &self,
        key: Item,
        u: UpdateSpec,
        returning: ReturnValue,
    ) -> PortResult<Option<Item>> {
        let (names, values) = u.expr.into_parts();
        let written = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(u.update)
            .condition_expression(u.condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values(returning)
            .send()
            .await;
        Ok(conditional(written)?.map(|out| out.attributes.unwrap_or_default()))
    }

    /// Every item of the table (not an index) that `condition` selects, strongly consistent,
    /// in sort-key order or (`newest_first`) the reverse.
    async fn query_table(
        &self,
        e: Expr,
        condition: String,
        newest_first: bool,
    ) -> PortResult<Vec<Item>> {
        let (names, values) = e.into_parts();
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .consistent_read(true)
            .scan_index_forward(!newest_first)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_unavailable("DynamoDB", e))
    }

    /// Every item of an index partition, in sort-key order.
    async fn query_index(
        &self,
        index: &Index,
        pk: String,
        sk_at_most: Option<String>,
    ) -> PortResult<Vec<Item>> {
        self.query_partition(Some(index), pk, sk_at_most).await
    }

    /// Every item of a partition, in sort-key order: of an index, or of the table itself
    /// (`None`), which is read consistently.
    async fn query_partition(
        &self,
        index: Option<&Index>,
        pk: String,
        sk_at_most: Option<String>,
    ) -> PortResult<Vec<Item>> {
        let (pk_name, sk_name) = match index {
            Some(i) => (i.pk, i.sk),
            None => (keys::PK, keys::SK),
        };
        let mut e = Expr::default();
        let mut condition = format!("{} = {}", e.name(pk_name), e.value(s(pk)));
        if let Some(max) = sk_at_most {
            condition.push_str(&format!(" AND {} <= {}", e.name(sk_name), e.value(s(max))));
        }
        let (names, values) = e.into_parts();
        self.client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(|i| i.name.to_owned()))
            .consistent_read(index.is_none())
            .key_condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_unavailable("DynamoDB", e))
    }

    /// Fetches up to 100 items by key, consistently, retrying the keys DynamoDB leaves
    /// unprocessed; items that do not exist are left out. `what` names them in errors.
    async fn batch_get(&self, keys: Vec<Item>, what: &str) -> PortResult<Vec<Item>> {
        let mut pending = keys;
        let mut found = Vec::with_capacity(pending.len());
        for attempt in 0..BATCH_GET_ATTEMPTS {
            if pending.is_empty() {
                return Ok(found);
            }
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(25 << attempt)).await;
            }
            let wanted = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(request)?;
            let mut out = self
                .client
                .batch_get_item()
                .request_items(&self.table, wanted)
                .send()
                .await
                .map_err(|e| sdk_unavailable("DynamoDB", e))?;
            if let Some(items) = out.responses.as_mut().and_then(|r| r.remove(&self.table)) {
                found.extend(items);
            }
            if let Some(mut left) = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                pending = std::mem::take(&mut left.keys);
            }
        }
        if pending.is_empty() {
            Ok(found)
        } else {
            Err(PortError::Unavailable(format!(
                "DynamoDB left {} {what} reads unprocessed after {BATCH_GET_ATTEMPTS} attempts",
                pending.len()
            )))
        }
    }

    async fn insert_message(&self, m: &Message) -> PortResult<bool> {
        let Some((carrier, carrier_ref)) = m.carrier.as_deref().zip(m.carrier_ref.as_deref())
        else {
            return self.put_new(item::message_item(m)).await;
        };
        // A message that arrives with its carrier reference (an import) needs the lookup item
        // too, and both or neither.
        let items = vec![
            self.put_new_in_transaction(item::message_item(m))?,
            self.put_new_in_transaction(item::carrier_ref_item(m.id, carrier, carrier_ref))?,
        ];
        match self.transact(items).await? {
            Transacted::Written => Ok(true),
            Transacted::Refused(flags) if flags.first() == Some(&true) => Ok(false),
            Transacted::Refused(_) => Err(PortError::Conflict(format!(
                "carrier reference of message {} is recorded for another message",
                m.id
            ))),
        }
    }

    /// Deletes one item found by the purge scan; true if it was a message or a reply.
    async fn purge_item(&self, key: Item, cutoff: DateTime<Utc>) -> PortResult<bool> {
        let sk = Read::new(&key, "item key").str(keys::SK)?;
        let is_message = sk == keys::SK_MESSAGE || sk == keys::SK_REPLY;
        let mut e = Expr::default();
        // Conditional, so an item written since the scan is never deleted by mistake.
        let condition = format!("{} < {}", e.name("created_at"), e.value(s(stamp(cutoff))));
        let (names, values) = e.into_parts();
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .send()
            .await;
        Ok(conditional(deleted)?.is_some() && is_message)
    }

    /// One query page of a GSI1 partition, newest first, between two sort keys; and where the
    /// next page would start.
    async fn read_newest_first(
        &self,
        r: &NewestFirst<'_>,
        start: Option<Item>,
    ) -> PortResult<(Vec<Item>, Option<Item>)> {
        let mut e = Expr::default();
        let condition = format!(
            "{} = {} AND {} BETWEEN {} AND {}",
            e.name(keys::GSI1.pk),
            e.value(s(r.pk.clone())),
            e.name(keys::GSI1.sk),
            e.value(s(r.lower)),
            e.value(s(r.upper))
        );
        let filter = r
            .status
            .map(|st| format!("{} = {}", e.name("status"), e.value(s(st.as_str()))));
        // Without a filter every item read is returned, so one more than a page, and the
        // cursor (which the range includes), suffice.
        let page_size = match r.status {
            None => i32::try_from(r.limit + 2).ok(),
            Some(_) => None,
        };
        let (names, values) = e.into_parts();
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1.name)
            .key_condition_expression(condition)
            .set_filter_expression(filter)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .scan_index_forward(false)
            .set_limit(page_size)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| sdk_unavailable("DynamoDB", e))?;
        Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
    }

    /// A page of one owner's part of GSI1, newest first, without a filter: the items with ids
    /// in the window `since..=until`, after the cursor `after` (which the range includes, so it
    /// is skipped). Without a filter one read returns a page and more, unless DynamoDB cut it
    /// short.
    async fn page_newest_first<T, C: Copy + PartialEq + ToString>(
        &self,
        pk: String,
        (since, until): (DateTime<Utc>, Option<DateTime<Utc>>),
        after: Option<C>,
        limit: usize,
        parse: impl Fn(&Item) -> PortResult<T>,
        id: impl Fn(&T) -> C,
    ) -> PortResult<Page<T, C>> {
        let Some((lower, upper)) = id_range(since, until, after.map(|a| a.to_string())) else {
            return Ok(Page::empty());
        };
        let read = NewestFirst {
            pk,
            lower: &lower,
            upper: &upper,
            status: None,
            limit,
        };
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let (page, last) = self.read_newest_first(&read, start).await?;
            for i in page {
                let v = parse(&i)?;
                if Some(id(&v)) != after {
                    items.push(v);
                }
            }
            start = last;
            if items.len() > limit || start.is_none() {
                return Ok(Page::from_overfetch(items, limit, id));
            }
        }
    }

    /// Points `LAST#<org>#<number>` at `m`, unless it already points at a newer message (sends
    /// to one number may reach the carrier out of order). Best effort: the status move it
    /// follows is written, and a missing pointer only costs a reply its `in_reply_to`.
    async fn record_latest_sent(&self, m: &Message) {
        let mut e = Expr::default();
        let (pk, id) = (e.name(keys::PK), e.name("message_id"));
        let new_id = e.value(s(m.id.to_string()));
        let update = format!(
            "SET {id} = {new_id}, {} = {}, {} = {}, {} = {}",
            e.name("created_at"),
            e.value(s(stamp(m.created_at))),
            e.name("org_id"),
            e.value(s(m.org_id.to_string())),
            e.name(keys::EXPIRES_AT),
            e.value(item::n(keys::expires_at(m.created_at))),
        );
        let spec = UpdateSpec {
            update,
            condition: format!("attribute_not_exists({pk}) OR {id} < {new_id}"),
            expr: e,
        };
        let key = item::key(keys::latest_sent_pk(m.org_id, &m.to), keys::SK_LATEST_SENT);
        if let Err(e) = self.update(key, spec, ReturnValue::None).await {
            tracing::warn!(message_id = %m.id, error = %e, "latest-sent pointer not written");
        }
    }

    /// Runs an update on a reply found by its carrier's id; true if its condition held.
    async fn update_reply(&self, reply: &Reply, spec: UpdateSpec) -> PortResult<bool> {
        Ok(self
            .update(item::reply_key(reply), spec, ReturnValue::None)
            .await?
            .is_some())
    }

    /// The items behind the keys a keys-only index answered with, read consistently (the
    /// index lags the table), in the index's order; items gone since are left out.
    async fn items_of(&self, index_keys: Vec<Item>) -> PortResult<Vec<Item>> {
        let gets: Vec<_> = index_keys
            .into_iter()
            .map(|k| {
                let key: Item = k
                    .into_iter()
                    .filter(|(name, _)| name == keys::PK || name == keys::SK)
                    .collect();
                self.get(key)
            })
            .collect();
        let found: Vec<Option<Item>> = stream::iter(gets)
            .buffered(PARALLEL_WRITES)
            .try_collect()
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn expire_one(&self, id: MessageId, sent_at: DateTime<Utc>) -> PortResult<bool> {
        let mut e = Expr::default();
        let (status, sent) = (e.name("status"), e.name("sent_at"));
        let condition = format!(
            "{status} IN ({}, {}) AND {sent} = {}",
            e.value(s(Status::Sent.as_str())),
            e.value(s(Status::Buffered.as_str())),
            e.value(s(stamp(sent_at)))
        );
        // The history carries the moment it expired (sent_at + 72 h), not the sweep's.
        let update = format!(
            "SET {status} = {}, {} = {}, {h} = list_append({h}, {}) REMOVE {}, {}, {}",
            e.value(s(Status::Undelivered.as_str())),
            e.name("reason"),
            e.value(s(crate::domain::Reason::Expired.as_str())),
            e.value(history_entry(Status::Undelivered, expires_at(sent_at))),
            e.name(keys::GSI3.pk),
            e.name(keys::GSI3.sk),
            e.name("lease_until"),
            h = e.name("history"),
        );
        let spec = UpdateSpec {
            update,
            condition,
            expr: e,
        };
        let key = item::key(keys::message_pk(id), keys::SK_MESSAGE);
        Ok(self.update(key, spec, ReturnValue::None).await?.is_some())
    }
}

/// A newest-first read of one owner's part of GSI1 (`read_newest_first`).
struct NewestFirst<'a> {
    pk: String,
    lower: &'a str,
    upper: &'a str,
    /// A filter on messages' status: pages then hold only the matches.
    status: Option<Status>,
    /// Items a page of the answer holds.
    limit: usize,
}

/// How a transaction ended when DynamoDB answered.
enum Transacted {
    Written,
    /// Cancelled by conditions: which of its items failed theirs.
    Refused(Vec<bool>),
}

/// Tries of storing an invoice while other workers raise the year's counter.
const INVOICE_TRIES: u32 = 40;

/// Tries of a status move that loses to concurrent moves of the same message.
const APPLY_TRIES: usize = 5;

enum Applied {
    Written,
    Refused,
}

#[async_trait]
impl Store for DynamoStore {
    async fn create_org(&self, org: &Org) -> PortResult<()> {
        let exists = || PortError::Conflict(format!("practice {} exists", org.id));
        let Some(number) = &org.reply_number else {
            return match self.put_new(item::org_item(org)).await? {
                true => Ok(()),
                false => Err(exists()),
            };
        };
        // The practice and the pointer from its reply number, both or neither: the pointer's
        // condition keeps a reply number to one practice.
        let items = vec![
            self.put_new_in_transaction(item::org_item(org))?,
            self.put_new_in_transaction(item::reply_number_item(org.id, number))?,
        ];
        match self.transact(items).await? {
            Transacted::Written => Ok(()),
            Transacted::Refused(flags) if flags.first() == Some(&true) => Err(exists()),
            Transacted::Refused(_) => Err(PortError::Conflict(
                "another practice has this reply number".into(),
            )),
        }
    }

    async fn find_org_by_reply_number(&self, number: &PhoneNumber) -> PortResult<Option<Org>> {
        let key = item::key(keys::reply_number_pk(number), keys::SK_REPLY_NUMBER);
        let Some(pointer) = self.get(key).await? else {
            return Ok(None);
        };
        let org = Read::new(&pointer, "reply number").str("org_id")?;
        let org = OrgId::parse(org).map_err(|_| {
            PortError::Corrupt("reply number attribute org_id: does not parse".into())
        })?;
        self.get_org(org).await
    }

    /// Settings are set attribute by attribute, so two updates of different settings do not
    /// undo each other. A new reply number moves its pointer in one transaction with the
    /// practice: the old pointer goes, the new one is put only if no practice has the number,
    /// and the practice's write holds only while it still has the number read.
    async fn update_org(&self, id: OrgId, changes: &OrgChanges) -> PortResult<Option<Org>> {
        let key = || item::key(keys::org_pk(id), keys::SK_ORG);
        for _ in 0..APPLY_TRIES {
            let Some(current) = self.get_org(id).await? else {
                return Ok(None);
            };
            if changes.is_empty() {
                return Ok(Some(current));
            }
            let moved = changes
                .reply_number
                .as_ref()
                .filter(|n| **n != current.reply_number);
            let Some(new_number) = moved else {
                let spec = org_update(changes, None);
                match self.update(key(), spec, ReturnValue::AllNew).await? {
                    Some(i) => return item::org_from(&i).map(Some),
                    // Deleted meanwhile: the next read says so.
                    None => continue,
                }
            };
            let spec = org_update(changes, Some(current.reply_number.as_ref()));
            let mut items = vec![self.update_in_transaction(key(), spec)?];
            if let Some(old) = &current.reply_number {
                items.push(self.delete_reply_number_in_transaction(id, old)?);
            }
            if let Some(new) = new_number {
                items.push(self.put_new_in_transaction(item::reply_number_item(id, new))?);
            }
            match self.transact(items).await? {
                Transacted::Written => return self.get_org(id).await,
                // The practice changed since it was read: read it again.
                Transacted::Refused(flags) if flags.first() == Some(&true) => continue,
                Transacted::Refused(flags)
                    if new_number.is_some() && flags.last() == Some(&true) =>
                {
                    return Err(PortError::Conflict(
                        "another practice has this reply number".into(),
                    ));
                }
                Transacted::Refused(_) => {
                    return Err(PortError::Corrupt(format!(
                        "the pointer of practice {id}'s reply number leads to another practice"
                    )));
                }
            }
        }
        Err(PortError::Unavailable(format!(
            "practice {id} kept changing while it was updated"
        )))
    }

    async fn get_org(&self, id: OrgId) -> PortResult<Option<Org>> {
        self.get(item::key(keys::org_pk(id), keys::SK_ORG))
            .await?
            .map(|i| item::org_from(&i))
            .transpose()
    }

    async fn list_orgs(&self) -> PortResult<Vec<Org>> {
        let items = self
            .query_index(&keys::GSI1, keys::ALL_ORGS.to_owned(), None)
            .await?;
        items.iter().map(item::org_from).collect()
    }

    async fn put_api_key(&self, key: &ApiKeyRecord) -> PortResult<()> {
        // The key and its id pointer are written together, so revoking by id always finds
        // the key (a GSI would be eventually consistent).
        let items = vec![
            self.put_new_in_transaction(item::api_key_item(key))?,
            self.put_new_in_transaction(item::api_key_id_item(key))?,
        ];
        match self.transact(items).await? {
            Transacted::Written => Ok(()),
            Transacted::Refused(_) => {
                Err(PortError::Conflict(format!("API key {} exists", key.id)))
            }
        }
    }

    async fn find_api_key(&self, hash: &KeyHash) -> PortResult<Option<ApiKeyRecord>> {
        self.get(item::key(keys::key_pk(hash), keys::SK_KEY))
            .await?
            .map(|i| item::api_key_from(&i))
            .transpose()
    }

    async fn list_api_keys(&self, org: OrgId) -> PortResult<Vec<ApiKeyRecord>> {
        let items = self
            .query_index(&keys::GSI1, keys::org_keys(org), None)
            .await?;
        items.iter().map(item::api_key_from).collect()
    }

    async fn revoke_api_key(&self, id: KeyId, at: DateTime<Utc>) -> PortResult<bool> {
        let Some(pointer) = self
            .get(item::key(keys::key_id_pk(id), keys::SK_KEY_ID))
            .await?
        else {
            return Ok(false);
        };
        let hash = KeyHash::from_stored(Read::new(&pointer, "API key id").str("hash")?.to_owned());
        let key = item::key(keys::key_pk(&hash), keys::SK_KEY);
        self.stamp_once(key, "revoked_at", at).await
    }

    async fn claim_idempotency_key(
        &self,
        record: &IdempotencyRecord,
    ) -> PortResult<IdempotencyClaim> {
        // A record past retention is as good as gone (TTL deletes it within days); it may be
        // replaced. Between a failed put and the read, TTL may delete the old record: retry.
        for _ in 0..3 {
            let mut e = Expr::default();
            let condition = format!(
                "attribute_not_exists({}) OR {} < {}",
                e.name(keys::PK),
                e.name("created_at"),
                e.value(s(stamp(record.created_at - RETENTION)))
            );
            let (names, values) = e.into_parts();
            let written = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item::idempotency_item(record)))
                .condition_expression(condition)
                .set_expression_attribute_names(names)
                .set_expression_attribute_values(values)
                .send()
                .await;
            if conditional(written)?.is_some() {
                return Ok(IdempotencyClaim::Fresh);
            }
            let key = item::key(
                keys::idempotency_pk(record.org_id, &record.key),
                keys::SK_IDEMPOTENCY,
            );
            if let Some(first) = self.get(key).await? {
                return Ok(IdempotencyClaim::Seen(item::idempotency_from(&first)?));
            }
        }
        Err(PortError::Unavailable(
            "idempotency key kept changing while it was claimed".into(),
        ))
    }

    async fn insert_messages(&self, messages: &[Message]) -> PortResult<usize> {
        // BatchWriteItem cannot be conditional, so each message is its own conditional put.
        // (The futures are made up front: a closure over borrowed messages inside the stream
        // would not satisfy the `Send` bound async_trait puts on this future.)
        let puts: Vec<_> = messages.iter().map(|m| self.insert_message(m)).collect();
        stream::iter(puts)
            .buffer_unordered(PARALLEL_WRITES)
            .try_fold(0, |n, new| async move { Ok(n + usize::from(new)) })
            .await
    }

    async fn get_message(&self, id: MessageId) -> PortResult<Option<Message>> {
        self.get(item::key(keys::message_pk(id), keys::SK_MESSAGE))
            .await?
            .map(|i| item::message_from(&i))
            .transpose()
    }

    async fn get_messages(&self, ids: &[MessageId]) -> PortResult<Vec<Message>> {
        // BatchGetItem refuses duplicate keys and answers in any order: ask for each id once,
        // then answer in the caller's order, as the embedded store does.
        let mut unique = ids.to_vec();
        unique.sort();
        unique.dedup();
        let mut found = HashMap::with_capacity(unique.len());
        for chunk in unique.chunks(BATCH_GET_KEYS) {
            let keys = chunk
                .iter()
                .map(|id| item::key(keys::message_pk(*id), keys::SK_MESSAGE))
                .collect();
            for i in self.batch_get(keys, "message").await? {
                let m = item::message_from(&i)?;
                found.insert(m.id, m);
            }
        }
        Ok(ids.iter().filter_map(|id| found.get(id).cloned()).collect())
    }

    async fn list_messages(&self, org: OrgId, q: &ListQuery) -> PortResult<Page<Message>> {
        // The time window is a sort-key range on GSI1; the loop skips the cursor itself.
        let Some((lower, upper)) = id_range(q.since, q.until, q.after.map(|a| a.to_string()))
        else {
            return Ok(Page::empty());
        };
        let read = NewestFirst {
            pk: keys::org_messages(org),
            lower: &lower,
            upper: &upper,
            status: q.status,
            limit: q.limit,
        };
        let mut items = Vec::new();
        let mut start = None;
        for _ in 0..LIST_MAX_PAGES {
            let (page, last) = self.read_newest_first(&read, start).await?;
            for i in page {
                let m = item::message_from(&i)?;
                if Some(m.id) == q.after {
                    continue;
                }
                items.push(m);
                if items.len() > q.limit {
                    return Ok(Page::from_overfetch(items, q.limit, |m| m.id));
                }
            }
            start = last;
            if start.is_none() {
                return Ok(Page { items, next: None });
            }
        }
        // Out of pages before the page filled: continue where the reading stopped.
        let next = match &start {
            Some(k) => Some(Read::new(k, "list cursor").message_id(keys::GSI1.sk)?),
            None => None,
        };
        Ok(Page { items, next })
    }

    async fn latest_sent_to(
        &self,
        org: OrgId,
        to: &PhoneNumber,
        since: DateTime<Utc>,
    ) -> PortResult<Option<MessageId>> {
        let key = item::key(keys::latest_sent_pk(org, to), keys::SK_LATEST_SENT);
        let Some(pointer) = self.get(key).await? else {
            return Ok(None);
        };
        let id = Read::new(&pointer, "latest-sent pointer").message_id("message_id")?;
        // TTL deletes the pointer days late; a message past the window is no answer.
        Ok((id.created_at() >= since).then_some(id))
    }

    async fn insert_reply(&self, reply: &Reply) -> PortResult<bool> {
        self.put_new(item::reply_item(reply)).await
    }

    async fn list_replies(&self, org: OrgId, q: &ReplyQuery) -> PortResult<Page<Reply, ReplyId>> {
        let window = (q.since, q.until);
        let pk = keys::org_replies(org);
        self.page_newest_first(pk, window, q.after, q.limit, item::reply_from, |r| r.id)
            .await
    }

    async fn record_opt_out(&self, o: &OptOut) -> PortResult<bool> {
        self.put_new(item::opt_out_item(o)).await
    }

    async fn lift_opt_out(&self, org: OrgId, number: &PhoneNumber) -> PortResult<bool> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item::key(keys::opt_outs_pk(org), number.as_str())))
            .condition_expression("attribute_exists(PK)")
            .send()
            .await;
        Ok(conditional(deleted)?.is_some())
    }

    /// Up to 100 numbers are read by key (one `BatchGetItem`, a read unit each); more are
    /// answered from one consistent `Query` of the practice's opt-outs, whose cost grows with
    /// how many there are (about 16 to a read unit), not with the batch: a batch of 1000 to a
    /// practice with a few hundred opt-outs costs some twenty read units instead of a thousand.
    async fn opted_out(&self, org: OrgId, numbers: &[PhoneNumber]) -> PortResult<Vec<PhoneNumber>> {
        let mut asked: Vec<&str> = numbers.iter().map(PhoneNumber::as_str).collect();
        asked.sort_unstable();
        asked.dedup();
        if asked.is_empty() {
            return Ok(Vec::new());
        }
        let pk = keys::opt_outs_pk(org);
        if asked.len() <= BATCH_GET_KEYS {
            let keys = asked.iter().map(|n| item::key(pk.clone(), n)).collect();
            let found = self.batch_get(keys, "opt-out").await?;
            return found.iter().map(item::opted_out_number).collect();
        }
        let asked: HashSet<&str> = asked.into_iter().collect();
        let mut out = Vec::new();
        for i in self.query_partition(None, pk, None).await? {
            let n = item::opted_out_number(&i)?;
            if asked.contains(n.as_str()) {
                out.push(n);
            }
        }
        Ok(out)
    }

    async fn list_opt_outs(
        &self,
        org: OrgId,
        q: &OptOutQuery,
    ) -> PortResult<Page<OptOut, OptOutId>> {
        // Opt-outs do not expire: the window is all time.
        let window = (DateTime::<Utc>::UNIX_EPOCH, None);
        let pk = keys::org_opt_outs(org);
        self.page_newest_first(pk, window, q.after, q.limit, item::opt_out_from, |o| o.id)
            .await
    }

    async fn unforwarded_replies(&self) -> PortResult<Vec<Reply>> {
        let index_keys = self
            .query_index(&keys::GSI2, keys::UNFORWARDED.to_owned(), None)
            .await?;
        let mut replies = Vec::with_capacity(index_keys.len());
        for i in self.items_of(index_keys).await? {
            let r = item::reply_from(&i)?;
            if r.forwarded_at.is_none() {
                replies.push(r);
            }
        }
        Ok(replies)
    }

    async fn claim_forwarding(
        &self,
        reply: &Reply,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> PortResult<bool> {
        let mut e = Expr::default();
        let (pk, forwarded) = (e.name(keys::PK), e.name("forwarded_at"));
        let lease = e.name("forward_lease_until");
        let spec = UpdateSpec {
            update: format!("SET {lease} = {}", e.value(s(stamp(lease_until)))),
            condition: format!(
                "attribute_exists({pk}) AND attribute_not_exists({forwarded}) AND \
                 (attribute_not_exists({lease}) OR {lease} < {})",
                e.value(s(stamp(now)))
            ),
            expr: e,
        };
        self.update_reply(reply, spec).await
    }

    async fn release_forwarding(&self, reply: &Reply) -> PortResult<()> {
        let mut e = Expr::default();
        let (pk, forwarded) = (e.name(keys::PK), e.name("forwarded_at"));
        let spec = UpdateSpec {
            update: format!("REMOVE {}", e.name("forward_lease_until")),
            condition: format!("attribute_exists({pk}) AND attribute_not_exists({forwarded})"),
            expr: e,
        };
        // Forwarded or gone meanwhile: nothing to give back.
        self.update_reply(reply, spec).await?;
        Ok(())
    }

    async fn mark_forwarded(&self, reply: &Reply, at: DateTime<Utc>) -> PortResult<bool> {
        let mut e = Expr::default();
        let (pk, forwarded) = (e.name(keys::PK), e.name("forwarded_at"));
        let spec = UpdateSpec {
            update: format!(
                "SET {forwarded} = {} REMOVE {}, {}, {}",
                e.value(s(stamp(at))),
                e.name("forward_lease_until"),
                e.name(keys::GSI2.pk),
                e.name(keys::GSI2.sk)
            ),
            condition: format!("attribute_exists({pk}) AND attribute_not_exists({forwarded})"),
            expr: e,
        };
        self.update_reply(reply, spec).await
    }

    async fn insert_reply_part(&self, part: &ReplyPart) -> PortResult<bool> {
        self.put_new(item::reply_part_item(part)).await
    }

    async fn open_reply_parts(&self, part: &ReplyPart) -> PortResult<Vec<ReplyPart>> {
        let mut e = Expr::default();
        let condition = format!(
            "{} = {} AND begins_with({}, {})",
            e.name(keys::PK),
            e.value(s(keys::reply_parts_pk(
                &part.carrier,
                &part.from,
                &part.to,
                &part.reference
            ))),
            e.name(keys::SK),
            e.value(s(keys::SK_PART_PREFIX))
        );
        // Closed parts have left GSI2.
        let filter = format!("attribute_exists({})", e.name(keys::GSI2.pk));
        let (names, values) = e.into_parts();
        let items: Vec<Item> = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(condition)
            .filter_expression(filter)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_unavailable("DynamoDB", e))?;
        let mut parts = items
            .iter()
            .map(item::reply_part_from)
            .collect::<PortResult<Vec<_>>>()?;
        parts.sort_by_key(|p| (p.part, p.received_at));
        Ok(parts)
    }

    async fn stale_reply_parts(&self, before: DateTime<Utc>) -> PortResult<Vec<ReplyPart>> {
        let index_keys = self
            .query_index(
                &keys::GSI2,
                keys::OPEN_PARTS.to_owned(),
                Some(stamp(before)),
            )
            .await?;
        let mut parts = Vec::with_capacity(index_keys.len());
        for i in self.items_of(index_keys).await? {
            let still_open = i.contains_key(keys::GSI2.pk);
            let p = item::reply_part_from(&i)?;
            if still_open && p.received_at < before {
                parts.push(p);
            }
        }
        Ok(parts)
    }

    async fn close_reply_parts(&self, parts: &[ReplyPart]) -> PortResult<()> {
        let closes: Vec<_> = parts
            .iter()
            .map(|p| {
                let mut e = Expr::default();
                let spec = UpdateSpec {
                    update: format!(
                        "REMOVE {}, {}",
                        e.name(keys::GSI2.pk),
                        e.name(keys::GSI2.sk)
                    ),
                    condition: format!("attribute_exists({})", e.name(keys::PK)),
                    expr: e,
                };
                self.update(item::reply_part_key(p), spec, ReturnValue::None)
            })
            .collect();
        stream::iter(closes)
            .buffer_unordered(PARALLEL_WRITES)
            .try_collect::<Vec<_>>()
            .await?;
        Ok(())
    }

    /// History times never go backwards (as in the embedded store): an update expression
    /// cannot take the larger of two times, so the move reads the history first and writes on
    /// the condition that it is still the one read (its length); a concurrent move means a
    /// fresh read and another try.
    async fn apply(&self, t: &Transition) -> PortResult<bool> {
        let from = t.from();
        if from.is_empty() {
            return Ok(false);
        }
        for _ in 0..APPLY_TRIES {
            let Some(current) = self.get_message(t.id).await? else {
                return Ok(false);
            };
            if !from.contains(&current.status) {
                return Ok(false);
            }
            let mut moved = t.clone();
            if let Some(last) = current.history.last() {
                moved.at = moved.at.max(last.at);
            }
            // Past its 72 hours it counts as expired; the write's condition says the same.
            if current
                .sent_at
                .is_some_and(|sent| sent <= moved.at - EXPIRY)
            {
                return Ok(false);
            }
            match self.apply_once(&moved, &current, &from).await? {
                Applied::Written => {
                    if moved.to == Status::Sent {
                        self.record_latest_sent(&current).await;
                    }
                    return Ok(true);
                }
                Applied::Refused => continue,
            }
        }
        Err(PortError::Unavailable(format!(
            "message {} kept changing under concurrent status moves",
            t.id
        )))
    }

    async fn claim_for_dispatch(
        &self,
        id: MessageId,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> PortResult<Option<Message>> {
        let key = || item::key(keys::message_pk(id), keys::SK_MESSAGE);
        // An update expression cannot branch, so the two ways to take a message are two
        // conditional writes: a fresh one (history gets `queued`), then a takeover of an
        // expired lease (history unchanged). Each alone is atomic.
        let mut e = Expr::default();
        let (status, lease, history) = (e.name("status"), e.name("lease_until"), e.name("history"));
        let fresh = UpdateSpec {
            update: format!(
                "SET {status} = {}, {lease} = {}, {history} = list_append({history}, {})",
                e.value(s(Status::Queued.as_str())),
                e.value(s(stamp(lease_until))),
                e.value(history_entry(Status::Queued, now))
            ),
            condition: format!("{status} = {}", e.value(s(Status::Pending.as_str()))),
            expr: e,
        };
        if let Some(item) = self.update(key(), fresh, ReturnValue::AllNew).await? {
            return item::message_from(&item).map(Some);
        }
        let mut e = Expr::default();
        let (status, lease) = (e.name("status"), e.name("lease_until"));
        let takeover = UpdateSpec {
            update: format!("SET {lease} = {}", e.value(s(stamp(lease_until)))),
            condition: format!(
                "{status} = {} AND (attribute_not_exists({lease}) OR {lease} < {})",
                e.value(s(Status::Queued.as_str())),
                e.value(s(stamp(now)))
            ),
            expr: e,
        };
        self.update(key(), takeover, ReturnValue::AllNew)
            .await?
            .map(|item| item::message_from(&item))
            .transpose()
    }

    async fn release_claim(&self, id: MessageId) -> PortResult<()> {
        let mut e = Expr::default();
        let status = e.name("status");
        let spec = UpdateSpec {
            update: format!("REMOVE {}", e.name("lease_until")),
            condition: format!("{status} = {}", e.value(s(Status::Queued.as_str()))),
            expr: e,
        };
        // Not queued any more: nothing to give back.
        self.update(
            item::key(keys::message_pk(id), keys::SK_MESSAGE),
            spec,
            ReturnValue::None,
        )
        .await?;
        Ok(())
    }

    async fn find_by_carrier_ref(
        &self,
        carrier: &str,
        carrier_ref: &str,
    ) -> PortResult<Option<MessageId>> {
        let key = item::key(
            keys::carrier_ref_pk(carrier, carrier_ref),
            keys::SK_CARRIER_REF,
        );
        let Some(found) = self.get(key).await? else {
            return Ok(None);
        };
        let r = Read::new(&found, "carrier reference");
        if r.str("carrier")? != carrier || r.str("carrier_ref")? != carrier_ref {
            return Ok(None);
        }
        r.message_id("id").map(Some)
    }

    async fn count_daily(&self, org: OrgId, day: NaiveDate, n: u32, cap: u32) -> PortResult<bool> {
        if n > cap {
            return Ok(false);
        }
        let mut e = Expr::default();
        let sent = e.name("sent");
        // Kept two days past its day (the TTL), then DynamoDB deletes it.
        let expires = day
            .succ_opt()
            .and_then(|d| d.succ_opt())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(0, |t| t.and_utc().timestamp());
        let spec = UpdateSpec {
            update: format!(
                "ADD {sent} {} SET {} = {}",
                e.value(AttributeValue::N(n.to_string())),
                e.name(keys::EXPIRES_AT),
                e.value(AttributeValue::N(expires.to_string()))
            ),
            condition: format!(
                "attribute_not_exists({sent}) OR {sent} <= {}",
                e.value(AttributeValue::N((cap - n).to_string()))
            ),
            expr: e,
        };
        let key = item::key(keys::daily_count_pk(org, day), keys::SK_DAILY_COUNT);
        Ok(self.update(key, spec, ReturnValue::None).await?.is_some())
    }

    async fn count_request(&self, org: OrgId, at: DateTime<Utc>, limit: u32) -> PortResult<bool> {
        if limit == 0 {
            return Ok(false);
        }
        let minute = at.timestamp().div_euclid(60);
        let mut e = Expr::default();
        let n = e.name("n");
        let spec = UpdateSpec {
            update: format!(
                "ADD {n} {} SET {} = {}",
                e.value(item::n(1u32)),
                e.name(keys::EXPIRES_AT),
                // TTL deletes it some time after its minute; nothing reads it then.
                e.value(item::n((minute + 2) * 60))
            ),
            condition: format!(
                "attribute_not_exists({n}) OR {n} < {}",
                e.value(item::n(limit))
            ),
            expr: e,
        };
        let key = item::key(keys::request_count_pk(org, minute), keys::SK_REQUEST_COUNT);
        Ok(self.update(key, spec, ReturnValue::None).await?.is_some())
    }

    async fn park_report(&self, r: &EarlyReport) -> PortResult<()> {
        // A failed condition is the same report parked before: nothing to add.
        self.put_new(item::early_report_item(r)).await?;
        Ok(())
    }

    async fn parked_reports(
        &self,
        carrier: &str,
        carrier_ref: &str,
        since: DateTime<Utc>,
    ) -> PortResult<Vec<EarlyReport>> {
        let items = self
            .query_partition(None, keys::early_report_pk(carrier, carrier_ref), None)
            .await?;
        let reports = items
            .iter()
            .map(item::early_report_from)
            .collect::<PortResult<Vec<_>>>()?;
        // TTL deletes late; what is past it counts as gone.
        Ok(reports
            .into_iter()
            .filter(|r| r.received_at >= since)
            .collect())
    }

    async fn usage(&self, org: OrgId, month: Month) -> PortResult<Vec<DailyUsage>> {
        let mut e = Expr::default();
        let condition = format!(
            "{} = {} AND {} BETWEEN {} AND {}",
            e.name(keys::PK),
            e.value(s(keys::org_pk(org))),
            e.name(keys::SK),
            e.value(s(keys::usage_sk(month.first_day()))),
            e.value(s(keys::usage_sk(month.last_day())))
        );
        let items = self.query_table(e, condition, false).await?;
        items.iter().map(item::usage_from).collect()
    }

    /// The counter is read, then raised on the condition that it still holds what was read,
    /// in the transaction that puts the invoice (on the condition that its practice and month
    /// are free) and its id pointer: a number is used exactly when an invoice is stored. A
    /// concurrent run that raised the counter first makes this try again.
    async fn create_invoice(&self, new: &NewInvoice) -> PortResult<InvoiceCreated> {
        let slot = || item::key(keys::org_pk(new.org_id), &keys::invoice_sk(new.month));
        let year = new.created_at.year();
        let counter_key = || item::key(keys::invoice_counter_pk(year), keys::SK_COUNTER);
        for attempt in 0..INVOICE_TRIES {
            if attempt > 0 {
                // Concurrent workers race for the counter; spread their next tries.
                let mut jitter = [0u8; 1];
                crate::domain::random_bytes(&mut jitter);
                let ms = 10 * u64::from(attempt.min(10)) + u64::from(jitter[0] % 50);
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            if let Some(existing) = self.get(slot()).await? {
                return Ok(InvoiceCreated::Existing(item::invoice_from(&existing)?));
            }
            let last = match self.get(counter_key()).await? {
                Some(c) => Some(Read::new(&c, "invoice counter").u64("last")?),
                None => None,
            };
            let invoice = new
                .clone()
                .numbered(InvoiceNumber::new(year, last.unwrap_or(0) + 1));
            let mut e = Expr::default();
            let last_name = e.name("last");
            let update = format!(
                "SET {last_name} = {}",
                e.value(item::n(invoice.number.seq()))
            );
            let condition = match last {
                Some(last) => format!("{last_name} = {}", e.value(item::n(last))),
                None => format!("attribute_not_exists({})", e.name(keys::PK)),
            };
            let (names, values) = e.into_parts();
            let raise = Update::builder()
                .table_name(&self.table)
                .set_key(Some(counter_key()))
                .update_expression(update)
                .condition_expression(condition)
                .set_expression_attribute_names(names)
                .set_expression_attribute_values(values)
                .build()
                .map_err(request)?;
            let items = vec![
                TransactWriteItem::builder().update(raise).build(),
                self.put_new_in_transaction(item::invoice_item(&invoice)?)?,
                self.put_new_in_transaction(item::invoice_pointer_item(&invoice))?,
            ];
            match self.transact(items).await {
                Ok(Transacted::Written) => return Ok(InvoiceCreated::New(invoice)),
                // The counter moved or the month was taken meanwhile: look again.
                Ok(Transacted::Refused(_)) => continue,
                // A conflicting transaction on the counter (another worker's); try again.
                Err(PortError::Unavailable(_)) if attempt + 1 < INVOICE_TRIES => continue,
                Err(e) => return Err(e),
            }
        }
        Err(PortError::Unavailable(format!(
            "invoice counter of {year} kept changing under concurrent runs"
        )))
    }

    async fn get_invoice(&self, id: InvoiceId) -> PortResult<Option<Invoice>> {
        let Some(pointer) = self
            .get(item::key(keys::invoice_pk(id), keys::SK_INVOICE))
            .await?
        else {
            return Ok(None);
        };
        let r = Read::new(&pointer, "invoice pointer");
        let org = OrgId::parse(r.str("org_id")?)
            .map_err(|_| PortError::Corrupt(format!("invoice pointer {id}: org_id")))?;
        let month = Month::parse(r.str("month")?)
            .map_err(|_| PortError::Corrupt(format!("invoice pointer {id}: month")))?;
        self.get(item::key(keys::org_pk(org), &keys::invoice_sk(month)))
            .await?
            .map(|i| item::invoice_from(&i))
            .transpose()
    }

    async fn list_invoices(&self, org: OrgId) -> PortResult<Vec<Invoice>> {
        let mut e = Expr::default();
        let condition = format!(
            "{} = {} AND begins_with({}, {})",
            e.name(keys::PK),
            e.value(s(keys::org_pk(org))),
            e.name(keys::SK),
            e.value(s(keys::SK_INVOICE_PREFIX))
        );
        let items = self.query_table(e, condition, true).await?;
        items.iter().map(item::invoice_from).collect()
    }

    async fn mark_invoice_delivered(&self, id: InvoiceId, at: DateTime<Utc>) -> PortResult<bool> {
        let Some(invoice) = self.get_invoice(id).await? else {
            return Ok(false);
        };
        let key = item::key(
            keys::org_pk(invoice.org_id),
            &keys::invoice_sk(invoice.month),
        );
        self.stamp_once(key, "delivered_at", at).await
    }

    async fn unfinished(&self) -> PortResult<Vec<MessageId>> {
        let items = self
            .query_index(&keys::GSI2, keys::OPEN.to_owned(), None)
            .await?;
        items.iter().map(message_id_of_key).collect()
    }

    async fn stranded(
        &self,
        created_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> PortResult<Vec<MessageId>> {
        // GSI2's OPEN partition holds exactly the pending/queued messages, by id, and ids sort
        // by creation time: the old ones are a key range. The index lags and holds no lease,
        // so the items themselves are read (consistently) to see who holds them.
        let open = self
            .query_index(
                &keys::GSI2,
                keys::OPEN.to_owned(),
                Some(MessageId::floor(created_before).to_string()),
            )
            .await?;
        let ids = open
            .iter()
            .map(message_id_of_key)
            .collect::<PortResult<Vec<_>>>()?;
        let mut stranded = Vec::new();
        for chunk in ids.chunks(BATCH_GET_KEYS) {
            let wanted = chunk
                .iter()
                .map(|id| item::key(keys::message_pk(*id), keys::SK_MESSAGE))
                .collect();
            for found in self.batch_get(wanted, "message").await? {
                let m = item::message_from(&found)?;
                let read = Read::new(&found, "message");
                let lease = read.opt_time("lease_until")?;
                let hold = read.opt_time("hold_until")?;
                let free = matches!(m.status, Status::Pending | Status::Queued)
                    && lease.is_none_or(|l| l < now)
                    && hold.is_none_or(|h| h < now);
                if free && m.created_at < created_before {
                    stranded.push(m.id);
                }
            }
        }
        stranded.sort();
        Ok(stranded)
    }

    async fn hold_for_requeue(
        &self,
        id: MessageId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> PortResult<Option<Status>> {
        let mut e = Expr::default();
        let (status, lease, hold) = (
            e.name("status"),
            e.name("lease_until"),
            e.name("hold_until"),
        );
        let now = e.value(s(stamp(now)));
        let spec = UpdateSpec {
            update: format!("SET {hold} = {}", e.value(s(stamp(until)))),
            condition: format!(
                "{status} IN ({}, {}) AND (attribute_not_exists({lease}) OR {lease} < {now}) \
                 AND (attribute_not_exists({hold}) OR {hold} < {now})",
                e.value(s(Status::Pending.as_str())),
                e.value(s(Status::Queued.as_str())),
            ),
            expr: e,
        };
        let key = item::key(keys::message_pk(id), keys::SK_MESSAGE);
        self.update(key, spec, ReturnValue::AllNew)
            .await?
            .map(|item| item::message_from(&item).map(|m| m.status))
            .transpose()
    }

    async fn expire_overdue(&self, now: DateTime<Utc>) -> PortResult<usize> {
        // GSI3 holds exactly the sent/buffered messages, sorted by sent_at: the overdue ones
        // are a key range. The index lags the table slightly; the next sweep catches up, and
        // readers apply the 72 h rule themselves (`Message::as_seen_at`).
        let overdue = self
            .query_index(
                &keys::GSI3,
                keys::AWAITING_REPORT.to_owned(),
                Some(stamp(now - EXPIRY)),
            )
            .await?;
        let overdue = overdue
            .iter()
            .map(awaiting_report)
            .collect::<PortResult<Vec<_>>>()?;
        stream::iter(overdue)
            .map(|(id, sent_at)| self.expire_one(id, sent_at))
            .buffer_unordered(PARALLEL_WRITES)
            .try_fold(0, |n, expired| async move { Ok(n + usize::from(expired)) })
            .await
    }

    async fn purge_before(&self, cutoff: DateTime<Utc>) -> PortResult<usize> {
        // In production DynamoDB's TTL deletes these (expires_at); this is the maintenance
        // path for emulators and tests, so a filtered Scan over the table is acceptable.
        let mut e = Expr::default();
        let created = e.name("created_at");
        let filter = format!(
            "attribute_exists({}) AND {created} < {}",
            e.name(keys::EXPIRES_AT),
            e.value(s(stamp(cutoff)))
        );
        let projection = format!("{}, {}", e.name(keys::PK), e.name(keys::SK));
        let (names, values) = e.into_parts();
        let old: Vec<Item> = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression(filter)
            .projection_expression(projection)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_unavailable("DynamoDB", e))?;
        let deletes: Vec<_> = old
            .into_iter()
            .map(|key| self.purge_item(key, cutoff))
            .collect();
        stream::iter(deletes)
            .buffer_unordered(PARALLEL_WRITES)
            .try_fold(0, |n, deleted| async move { Ok(n + usize::from(deleted)) })
            .await
    }
}
