//! Administration: creating practices and changing their settings, issuing and revoking their
//! API keys, and their patients' opt-outs. Each command prints one JSON object on stdout for
//! scripts.

use anyhow::{Context, bail};
use chrono::{NaiveDate, SecondsFormat, Utc};
use clap::Subcommand;
use praxis_shared::domain::apikey::{ApiKey, ApiKeyRecord};
use praxis_shared::domain::org::{EmailAddress, Org, OrgChanges, OrgName, PostalAddress};
use praxis_shared::domain::{KeyId, OrgId, PhoneNumber, Region, SenderId};
use praxis_shared::ports::{OptOutQuery, PortError, Store};
use serde_json::json;

use crate::Common;
use crate::local::{open_store, open_stores};

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Creates a practice and prints its id and first API key.
    Create(OrgCreate),
    /// Lists practices.
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Changes a practice's settings; prints the practice as it is now.
    Update(OrgUpdate),
}

#[derive(clap::Args)]
pub struct OrgUpdate {
    #[arg(long)]
    org: String,
    #[arg(long)]
    name: Option<String>,
    /// Where invoices (and replies, unless --reply-email) are e-mailed.
    #[arg(long)]
    email: Option<String>,
    /// Where patients' replies are e-mailed, if not to --email.
    #[arg(long)]
    reply_email: Option<String>,
    /// Default sender ("Absender"): up to 16 digits or 11 letters/digits/spaces.
    #[arg(long)]
    sender: Option<String>,
    /// Region national numbers are read in from now on (DE, AT, CH, …); --reply-number too.
    #[arg(long)]
    region: Option<String>,
    /// A dedicated reply number, used as sender; no other practice may have it.
    #[arg(long, conflicts_with = "no_reply_number")]
    reply_number: Option<String>,
    /// Gives the reply number up: messages go out with the sender again.
    #[arg(long)]
    no_reply_number: bool,
    /// Most SMS the API accepts from the practice in one of its local days (over it: 429
    /// daily_limit_reached).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    daily_cap: Option<u32>,
    /// Billing address for the invoices from now on: street, then postcode and city,
    /// separated by commas (e.g. "Hauptstraße 1, 12345 Musterstadt").
    #[arg(long)]
    address: Option<String>,
    #[command(flatten)]
    common: Common,
}

impl OrgUpdate {
    /// The changes asked for; national numbers in the new region if one is given, else in
    /// the practice's.
    fn changes(&self, org: &Org) -> anyhow::Result<OrgChanges> {
        let region = optional(&self.region, Region::parse, "--region")?;
        let reply_number = match (&self.reply_number, self.no_reply_number) {
            (Some(n), _) => Some(Some(
                PhoneNumber::parse(n, region.unwrap_or(org.region)).context("--reply-number")?,
            )),
            (None, true) => Some(None),
            (None, false) => None,
        };
        Ok(OrgChanges {
            name: optional(&self.name, OrgName::parse, "--name")?,
            email: optional(&self.email, EmailAddress::parse, "--email")?,
            reply_email: optional(&self.reply_email, EmailAddress::parse, "--reply-email")?,
            default_sender: optional(&self.sender, SenderId::parse, "--sender")?,
            region,
            reply_number,
            daily_cap: self.daily_cap,
            address: optional(&self.address, PostalAddress::parse, "--address")?,
        })
    }
}

/// An optional flag's value, parsed; an error names the flag.
fn optional<T, E>(
    raw: &Option<String>,
    parse: impl FnOnce(&str) -> Result<T, E>,
    flag: &'static str,
) -> anyhow::Result<Option<T>>
where
    E: std::error::Error + Send + Sync + 'static,
{
    raw.as_deref().map(parse).transpose().context(flag)
}

#[derive(Subcommand)]
pub enum OptOutCommand {
    /// Lists the numbers that opted out of a practice's SMS, newest first.
    List {
        #[arg(long)]
        org: String,
        #[command(flatten)]
        common: Common,
    },
    /// Lifts a number's opt-out, so the practice may send to it again.
    Remove {
        #[arg(long)]
        org: String,
        /// The number, national (in the practice's region) or international.
        number: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(clap::Args)]
pub struct OrgCreate {
    #[arg(long)]
    name: String,
    /// Where replies and invoices are e-mailed.
    #[arg(long)]
    email: String,
    /// Default sender ("Absender"): up to 16 digits or 11 letters/digits/spaces.
    #[arg(long)]
    sender: Option<String>,
    /// Default region for national numbers (DE, AT, CH, …).
    #[arg(long, default_value = "DE")]
    region: String,
    /// The practice's dedicated reply number, used as sender.
    #[arg(long)]
    reply_number: Option<String>,
    /// First day of service (YYYY-MM-DD), for practices moved over from elsewhere; default today.
    #[arg(long)]
    activated: Option<String>,
    /// Most SMS the API accepts from the practice in one of its local days (over it: 429
    /// daily_limit_reached); default PRAXIS_SMS_DAILY_CAP, else 10000.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    daily_cap: Option<u32>,
    /// Billing address for invoices: street, then postcode and city, separated by commas
    /// ("Hauptstraße 1, 12345 Musterstadt").
    #[arg(long)]
    address: Option<String>,
    /// The stack's public URL, where the portal is: the printed set-password link starts with it.
    #[arg(
        long,
        env = "PRAXIS_SMS_PUBLIC_URL",
        default_value = "http://127.0.0.1:3000"
    )]
    public_url: String,
    #[command(flatten)]
    common: Common,
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Issues another API key for a practice (for rotation); prints it once.
    Create {
        #[arg(long)]
        org: String,
        #[command(flatten)]
        common: Common,
    },
    /// Lists a practice's keys (hints only, never the keys).
    List {
        #[arg(long)]
        org: String,
        #[command(flatten)]
        common: Common,
    },
    /// Revokes a key by its id; requests with it get 401 from then on.
    Revoke {
        #[arg(long)]
        key_id: String,
        #[command(flatten)]
        common: Common,
    },
}

pub struct NewOrg {
    pub name: OrgName,
    pub email: EmailAddress,
    pub sender: Option<SenderId>,
    pub region: Region,
    pub reply_number: Option<PhoneNumber>,
    pub activated_on: NaiveDate,
    pub daily_cap: Option<u32>,
    pub address: Option<PostalAddress>,
}

impl NewOrg {
    fn parse(a: &OrgCreate) -> anyhow::Result<NewOrg> {
        let region = Region::parse(&a.region).context("--region")?;
        Ok(NewOrg {
            name: OrgName::parse(&a.name).context("--name")?,
            email: EmailAddress::parse(&a.email).context("--email")?,
            sender: optional(&a.sender, SenderId::parse, "--sender")?,
            region,
            reply_number: a
                .reply_number
                .as_deref()
                .map(|n| PhoneNumber::parse(n, region))
                .transpose()
                .context("--reply-number")?,
            activated_on: match &a.activated {
                Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .context("--activated must be a date like 2026-11-01")?,
                None => Utc::now().date_naive(),
            },
            daily_cap: a.daily_cap,
            address: a
                .address
                .as_deref()
                .map(PostalAddress::parse)
                .transpose()
                .context("--address")?,
        })
    }
}

/// Creates the practice and its first key; returns it and what `org create` prints.
pub async fn create_org(
    store: &dyn Store,
    new: NewOrg,
) -> anyhow::Result<(Org, serde_json::Value)> {
    let now = Utc::now();
    let org = Org {
        id: OrgId::new(now),
        name: new.name,
        email: new.email,
        reply_email: None,
        default_sender: new.sender,
        region: new.region,
        reply_number: new.reply_number,
        activated_on: new.activated_on,
        address: new.address,
        created_at: now,
        daily_cap: new.daily_cap,
    };
    store
        .create_org(&org)
        .await
        .context("storing the practice")?;
    let (key, record) = issue_key(store, org.id).await?;
    let printed = json!({
        "id": org.id.to_string(),
        "name": org.name.as_str(),
        "email": org.email.as_str(),
        "sender": org.default_sender.as_ref().map(|s| s.as_str()),
        "region": org.region.as_str(),
        "reply_number": org.reply_number.as_ref().map(|n| n.as_str()),
        "activated_on": org.activated_on.to_string(),
        "daily_cap": org.daily_cap,
        "address": org.address.as_ref().map(PostalAddress::one_line),
        "api_key": key.expose(),
        "api_key_id": record.id.to_string(),
    });
    Ok((org, printed))
}

async fn issue_key(store: &dyn Store, org: OrgId) -> anyhow::Result<(ApiKey, ApiKeyRecord)> {
    let (key, record) = ApiKeyRecord::issue(org, Utc::now());
    store
        .put_api_key(&record)
        .await
        .context("storing the key")?;
    Ok((key, record))
}

fn print(v: &serde_json::Value) {
    println!("{v}");
}

pub async fn org(cmd: OrgCommand) -> anyhow::Result<()> {
    match cmd {
        OrgCommand::Create(a) => {
            let new = NewOrg::parse(&a)?;
            let (store, accounts) = open_stores(&a.common).await?;
            let (org, mut printed) = create_org(store.as_ref(), new).await?;
            // The main account of the portal, with a one-time link to set its password.
            let link = praxis_portal::accounts::create_main_account(
                accounts.as_ref(),
                &org,
                &a.public_url,
                Utc::now(),
            )
            .await
            .context("creating the portal's main account")?;
            printed["portal_set_password_link"] = json!(link);
            print(&printed);
        }
        OrgCommand::List { common } => {
            let store = open_store(&common).await?;
            let orgs = store.list_orgs().await?;
            print(&json!({ "practices": orgs }));
        }
        OrgCommand::Update(a) => {
            let store = open_store(&a.common).await?;
            let org = existing_org(store.as_ref(), &a.org).await?;
            let changes = a.changes(&org)?;
            if changes.is_empty() {
                bail!(
                    "nothing to change: give --name, --email, --reply-email, --sender, --region, \
                     --reply-number, --no-reply-number or --daily-cap"
                );
            }
            let updated = match store.update_org(org.id, &changes).await {
                Ok(Some(updated)) => updated,
                Ok(None) => bail!("there is no practice {}", org.id),
                Err(PortError::Conflict(_)) if a.reply_number.is_some() => {
                    bail!("another practice has this reply number; nothing was changed")
                }
                Err(e) => return Err(e).context("storing the practice"),
            };
            print(&serde_json::to_value(&updated)?);
        }
    }
    Ok(())
}

async fn existing_org(store: &dyn Store, id: &str) -> anyhow::Result<Org> {
    let id = OrgId::parse(id).context("--org is not a practice id")?;
    match store.get_org(id).await? {
        Some(org) => Ok(org),
        None => bail!("there is no practice {id}"),
    }
}

pub async fn opt_out(cmd: OptOutCommand) -> anyhow::Result<()> {
    match cmd {
        OptOutCommand::List { org, common } => {
            let store = open_store(&common).await?;
            let org = existing_org(store.as_ref(), &org).await?;
            let mut q = OptOutQuery {
                after: None,
                limit: 500,
            };
            let mut all = Vec::new();
            loop {
                let page = store.list_opt_outs(org.id, &q).await?;
                all.extend(page.items.iter().map(|o| {
                    json!({
                        "number": o.number.as_str(),
                        "opted_out_at": o.since.to_rfc3339_opts(SecondsFormat::Millis, true),
                        "source": o.source.as_str(),
                    })
                }));
                match page.next {
                    Some(next) => q.after = Some(next),
                    None => break,
                }
            }
            print(&json!({ "org_id": org.id.to_string(), "opt_outs": all }));
        }
        OptOutCommand::Remove {
            org,
            number,
            common,
        } => {
            let store = open_store(&common).await?;
            let org = existing_org(store.as_ref(), &org).await?;
            let number = PhoneNumber::parse(&number, org.region).context("NUMBER")?;
            if !store.lift_opt_out(org.id, &number).await? {
                bail!(
                    "{} has not opted out of practice {}; nothing was changed",
                    number.as_str(),
                    org.id
                );
            }
            print(&json!({ "org_id": org.id.to_string(), "removed": number.as_str() }));
        }
    }
    Ok(())
}

pub async fn key(cmd: KeyCommand) -> anyhow::Result<()> {
    match cmd {
        KeyCommand::Create { org, common } => {
            let store = open_store(&common).await?;
            let org = existing_org(store.as_ref(), &org).await?.id;
            let (key, record) = issue_key(store.as_ref(), org).await?;
            print(&json!({
                "org_id": org.to_string(),
                "api_key": key.expose(),
                "api_key_id": record.id.to_string(),
            }));
        }
        KeyCommand::List { org, common } => {
            let store = open_store(&common).await?;
            let org = existing_org(store.as_ref(), &org).await?.id;
            let keys: Vec<_> = store
                .list_api_keys(org)
                .await?
                .into_iter()
                .map(|k| {
                    json!({
                        "id": k.id.to_string(),
                        "hint": k.hint,
                        "created_at": k.created_at,
                        "revoked_at": k.revoked_at,
                    })
                })
                .collect();
            print(&json!({ "keys": keys }));
        }
        KeyCommand::Revoke { key_id, common } => {
            let store = open_store(&common).await?;
            let id = KeyId::parse(&key_id).context("--key-id is not a key id")?;
            if !store.revoke_api_key(id, Utc::now()).await? {
                bail!("there is no active key {id}");
            }
            print(&json!({ "revoked": id.to_string() }));
        }
    }
    Ok(())
}
