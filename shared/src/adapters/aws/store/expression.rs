//! DynamoDB expressions: placeholders for attribute names and values, the one update that
//! writes every status move, conditional on the statuses it may come from, and the update of a
//! practice's settings.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::message::Transition;
use crate::domain::org::OrgChanges;
use crate::domain::{PhoneNumber, Status};

use super::item::{history_entry, s};
use super::keys::{self, stamp};

/// Placeholders for an expression: every attribute name goes through `#name`, since DynamoDB
/// reserves hundreds of words (`status`, `name`, `to`, `text` among them), values through `:vN`.
#[derive(Default)]
pub(super) struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    pub(super) fn name(&mut self, name: &str) -> String {
        let placeholder = format!("#{name}");
        self.names
            .entry(placeholder.clone())
            .or_insert_with(|| name.to_owned());
        placeholder
    }

    pub(super) fn value(&mut self, v: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), v);
        placeholder
    }

    /// DynamoDB rejects empty maps, so an unused one is left out.
    #[allow(clippy::type_complexity)]
    pub(super) fn into_parts(
        self,
    ) -> (
        Option<HashMap<String, String>>,
        Option<HashMap<String, AttributeValue>>,
    ) {
        (
            (!self.names.is_empty()).then_some(self.names),
            (!self.values.is_empty()).then_some(self.values),
        )
    }
}

/// An update and the condition it is written on, with the placeholders both use.
pub(super) struct UpdateSpec {
    pub(super) update: String,
    pub(super) condition: String,
    pub(super) expr: Expr,
}

/// The write of a status move: the status, a history entry, the reason and carrier if given,
/// and the sparse index attributes of the new status, all conditional on `from`.
pub(super) fn transition_update(t: &Transition, from: &[Status]) -> UpdateSpec {
    let mut e = Expr::default();
    let status = e.name("status");
    let from = from
        .iter()
        .map(|st| e.value(s(st.as_str())))
        .collect::<Vec<_>>()
        .join(", ");
    // A message 72 hours past sending counts as expired from then on (readers show it so
    // before the sweep stores it), so no later report may move it.
    let sent_at = e.name("sent_at");
    let condition = format!(
        "{status} IN ({from}) AND (attribute_not_exists({sent_at}) OR {sent_at} > {})",
        e.value(s(stamp(t.at - crate::domain::status::EXPIRY)))
    );
    let history = e.name("history");
    let mut set = vec![
        format!("{status} = {}", e.value(s(t.to.as_str()))),
        format!(
            "{history} = list_append({history}, {})",
            e.value(history_entry(t.to, t.at))
        ),
    ];
    // Any move ends a dispatcher's lease, as in the embedded store.
    let mut remove = vec![e.name("lease_until")];
    if let Some(reason) = t.reason {
        set.push(format!(
            "{} = {}",
            e.name("reason"),
            e.value(s(reason.as_str()))
        ));
    }
    if let Some((carrier, carrier_ref)) = &t.carrier {
        set.push(format!("{} = {}", e.name("carrier"), e.value(s(carrier))));
        set.push(format!(
            "{} = {}",
            e.name("carrier_ref"),
            e.value(s(carrier_ref))
        ));
    }
    let leave_open = |e: &mut Expr, remove: &mut Vec<String>| {
        remove.push(e.name(keys::GSI2.pk));
        remove.push(e.name(keys::GSI2.sk));
    };
    match t.to {
        Status::Pending | Status::Queued => {}
        Status::Sent => {
            leave_open(&mut e, &mut remove);
            // The first `sent` fixes sent_at, which the awaiting-report index sorts by.
            let (sent, at) = (e.name("sent_at"), e.value(s(stamp(t.at))));
            set.push(format!("{sent} = if_not_exists({sent}, {at})"));
            set.push(format!(
                "{} = {}",
                e.name(keys::GSI3.pk),
                e.value(s(keys::AWAITING_REPORT))
            ));
            set.push(format!(
                "{} = if_not_exists({sent}, {at})",
                e.name(keys::GSI3.sk)
            ));
        }
        // From `sent` it stays in the awaiting-report index; from `pending`/`queued` it has
        // no sent_at and, as in the embedded store, never expires.
        Status::Buffered => leave_open(&mut e, &mut remove),
        Status::Delivered | Status::Undelivered => {
            leave_open(&mut e, &mut remove);
            remove.push(e.name(keys::GSI3.pk));
            remove.push(e.name(keys::GSI3.sk));
        }
    }
    UpdateSpec {
        update: format!("SET {} REMOVE {}", set.join(", "), remove.join(", ")),
        condition,
        expr: e,
    }
}

/// The write of a practice's changed settings: each given setting set (or, for the reply
/// number, removed), conditional on the practice existing. When the reply number changes,
/// `reply_number_was` is the one read, and the write holds only while the practice still has
/// it: the pointer items written in the same transaction rely on that.
pub(super) fn org_update(
    c: &OrgChanges,
    reply_number_was: Option<Option<&PhoneNumber>>,
) -> UpdateSpec {
    let mut e = Expr::default();
    let (mut set, mut remove) = (Vec::new(), Vec::new());
    // Stored as the org item stores it (item::org_item): the address as JSON.
    let address = c
        .address
        .as_ref()
        .and_then(|a| serde_json::to_string(a).ok());
    let fields: [(&str, Option<Option<&str>>); 7] = [
        ("name", c.name.as_ref().map(|v| Some(v.as_str()))),
        ("email", c.email.as_ref().map(|v| Some(v.as_str()))),
        (
            "reply_email",
            c.reply_email.as_ref().map(|v| Some(v.as_str())),
        ),
        (
            "default_sender",
            c.default_sender.as_ref().map(|v| Some(v.as_str())),
        ),
        ("region", c.region.as_ref().map(|v| Some(v.as_str()))),
        (
            "reply_number",
            c.reply_number
                .as_ref()
                .map(|v| v.as_ref().map(|n| n.as_str())),
        ),
        ("address", address.as_deref().map(Some)),
    ];
    for (name, change) in fields {
        match change {
            None => {}
            Some(Some(v)) => set.push(format!("{} = {}", e.name(name), e.value(s(v)))),
            Some(None) => remove.push(e.name(name)),
        }
    }
    if let Some(cap) = c.daily_cap {
        set.push(format!(
            "{} = {}",
            e.name("daily_cap"),
            e.value(AttributeValue::N(cap.to_string()))
        ));
    }
    let mut condition = format!("attribute_exists({})", e.name(keys::PK));
    if let Some(was) = reply_number_was {
        let number = e.name("reply_number");
        condition.push_str(&match was {
            Some(n) => format!(" AND {number} = {}", e.value(s(n.as_str()))),
            None => format!(" AND attribute_not_exists({number})"),
        });
    }
    let mut update = Vec::new();
    if !set.is_empty() {
        update.push(format!("SET {}", set.join(", ")));
    }
    if !remove.is_empty() {
        update.push(format!("REMOVE {}", remove.join(", ")));
    }
    UpdateSpec {
        update: update.join(" "),
        condition,
        expr: e,
    }
}
