//! Black-box tests of the whole stack: each test starts its own `praxis-sms serve` on a random
//! port and temp data dir, and uses only HTTP, the command line and the files serve writes.

mod aws;
mod carriers;
mod errors;
mod failover;
mod files;
mod helpers;
mod inbound;
mod invoices;
mod keys;
mod limits;
mod optout;
mod recovery;
mod reply_mail;
mod send;
mod seven;
mod status;
mod sweeper;
mod webhooks;
