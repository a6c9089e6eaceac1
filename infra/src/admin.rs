//! Administration: creating practices, issuing and revoking their API keys. Each command
//! prints one JSON object on stdout for scripts.

use anyhow::{Context, bail};
use chrono::{NaiveDate, Utc};
use clap::Subcommand;
use praxis_shared::domain::apikey::{ApiKey, ApiKeyRecord};
use praxis_shared::domain::org::{EmailAddress, Org, OrgName};
use praxis_shared::domain::{KeyId, OrgId, PhoneNumber, Region, SenderId};
use praxis_shared::ports::Store;
use serde_json::json;

use crate::Common;
use crate::local::open_store;

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Creates a practice and prints its id and first API key.
    Create(OrgCreate),
    /// Lists practices.
    List {
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
}

impl NewOrg {
    fn parse(a: &OrgCreate) -> anyhow::Result<NewOrg> {
        let region = Region::parse(&a.region).context("--region")?;
        Ok(NewOrg {
            name: OrgName::parse(&a.name).context("--name")?,
            email: EmailAddress::parse(&a.email).context("--email")?,
            sender: a
                .sender
                .as_deref()
                .map(SenderId::parse)
                .transpose()
                .context("--sender")?,
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
        })
    }
}

/// Creates the practice and its first key; returns what `org create` prints.
pub async fn create_org(store: &dyn Store, new: NewOrg) -> anyhow::Result<serde_json::Value> {
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
        created_at: now,
    };
    store
        .create_org(&org)
        .await
        .context("storing the practice")?;
    let (key, record) = issue_key(store, org.id).await?;
    Ok(json!({
        "id": org.id.to_string(),
        "name": org.name.as_str(),
        "email": org.email.as_str(),
        "sender": org.default_sender.as_ref().map(|s| s.as_str()),
        "region": org.region.as_str(),
        "reply_number": org.reply_number.as_ref().map(|n| n.as_str()),
        "activated_on": org.activated_on.to_string(),
        "api_key": key.expose(),
        "api_key_id": record.id.to_string(),
    }))
}

async fn issue_key(store: &dyn Store, org: OrgId) -> anyhow::Result<(ApiKey, ApiKeyRecord)> {
    let key = ApiKey::generate();
    let now = Utc::now();
    let record = ApiKeyRecord {
        id: KeyId::new(now),
        org_id: org,
        hash: key.hash(),
        hint: key.hint(),
        created_at: now,
        revoked_at: None,
    };
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
            let store = open_store(&a.common).await?;
            print(&create_org(store.as_ref(), new).await?);
        }
        OrgCommand::List { common } => {
            let store = open_store(&common).await?;
            let orgs = store.list_orgs().await?;
            print(&json!({ "practices": orgs }));
        }
    }
    Ok(())
}

async fn existing_org(store: &dyn Store, id: &str) -> anyhow::Result<OrgId> {
    let id = OrgId::parse(id).context("--org is not a practice id")?;
    if store.get_org(id).await?.is_none() {
        bail!("there is no practice {id}");
    }
    Ok(id)
}

pub async fn key(cmd: KeyCommand) -> anyhow::Result<()> {
    match cmd {
        KeyCommand::Create { org, common } => {
            let store = open_store(&common).await?;
            let org = existing_org(store.as_ref(), &org).await?;
            let (key, record) = issue_key(store.as_ref(), org).await?;
            print(&json!({
                "org_id": org.to_string(),
                "api_key": key.expose(),
                "api_key_id": record.id.to_string(),
            }));
        }
        KeyCommand::List { org, common } => {
            let store = open_store(&common).await?;
            let org = existing_org(store.as_ref(), &org).await?;
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
