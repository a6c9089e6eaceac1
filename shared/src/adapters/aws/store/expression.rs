//! DynamoDB expressions: placeholders for attribute names and values, and the one update that
//! writes every status move, conditional on the statuses it may come from.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::Status;
use crate::domain::message::Transition;

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
    let condition = format!("{status} IN ({from})");
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
