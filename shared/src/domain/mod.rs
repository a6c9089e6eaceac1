//! The rules of the product, free of any I/O: numbers, senders, texts and their parts, the
//! status machine, messages, replies and opt-outs, practices, API keys and ids, money and
//! monthly invoices. Every value here is parsed once and trusted afterwards.

pub mod account;
pub mod apikey;
pub mod ids;
pub mod invoice;
pub mod local_time;
pub mod message;
pub mod money;
pub mod month;
pub mod optout;
pub mod org;
pub mod phone;
pub mod reply;
pub mod sender;
pub mod status;
pub mod text;

pub use ids::{AccountId, InvalidId, InvoiceId, KeyId, MessageId, OptOutId, OrgId, ReplyId};
pub use money::Cents;
pub use month::Month;
pub use phone::{PhoneError, PhoneNumber, Region};
pub use sender::{SenderError, SenderId};
pub use status::{Reason, Status};
pub use text::{Encoding, MessageText, TextError};

/// Fills `buf` from the operating system's CSPRNG. Keys and ids depend on it; a machine without
/// one cannot run the service safely, so this is the one place that may abort.
pub(crate) fn random_bytes(buf: &mut [u8]) {
    if let Err(e) = getrandom::fill(buf) {
        panic!("the operating system's random number generator failed: {e}");
    }
}
