//! `praxis-sms sim inbound`: a patient's SMS through the simulated carrier, posted to a running
//! local stack's inbound webhook the way a carrier would (with the sim's bearer token).

use anyhow::{Context, bail};
use clap::Subcommand;
use praxis_shared::carriers::sim::{SimConcat, SimInbound};
use praxis_shared::domain::{PhoneNumber, Region};
use serde_json::{Value, json};

use crate::Common;
use crate::local::read_secrets;

#[derive(Subcommand)]
pub enum SimCommand {
    /// Posts an inbound SMS to a running `serve` through the sim carrier's webhook.
    Inbound(InboundArgs),
}

#[derive(clap::Args)]
pub struct InboundArgs {
    /// The number the patient writes to: a practice's reply number.
    #[arg(long)]
    to: String,
    /// The patient's number.
    #[arg(long)]
    from: String,
    #[arg(long)]
    text: String,
    /// The sim's id of the SMS; the same id again is the carrier resending its webhook.
    /// Default: a new SMS each time.
    #[arg(long)]
    id: Option<String>,
    /// Part N of a long SMS, as `N/TOTAL/REFERENCE` (the parts of one SMS share the
    /// reference), for carriers that forward the parts one by one.
    #[arg(long, value_name = "N/TOTAL/REFERENCE")]
    part: Option<String>,
    /// Where `serve` listens.
    #[arg(long, env = "PRAXIS_SMS_ADDR", default_value = "127.0.0.1:3000")]
    addr: String,
    #[command(flatten)]
    common: Common,
}

pub async fn run(cmd: SimCommand) -> anyhow::Result<()> {
    let SimCommand::Inbound(a) = cmd;
    // National numbers are read as German, as `org create` reads them by default.
    let number = |raw: &str, what: &str| {
        PhoneNumber::parse(raw, Region::DE)
            .map(|n| n.as_str().to_owned())
            .with_context(|| format!("--{what}"))
    };
    let sms = SimInbound {
        from: number(&a.from, "from")?,
        to: number(&a.to, "to")?,
        text: a.text,
        id: a.id,
        concat: a.part.as_deref().map(part).transpose()?,
    };
    let token = read_secrets(&a.common.data_dir)?.sim_token;
    let base = if a.addr.starts_with("http://") || a.addr.starts_with("https://") {
        a.addr.trim_end_matches('/').to_owned()
    } else {
        format!("http://{}", a.addr)
    };
    let url = format!("{base}/webhooks/sim/inbound");
    let res = praxis_shared::http::client_builder()
        .build()?
        .post(&url)
        .bearer_auth(token)
        .json(&sms)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}; is `praxis-sms serve` running?"))?;
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    let answer: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    println!("{}", json!({ "status": status.as_u16(), "answer": answer }));
    if !status.is_success() {
        bail!("the inbound webhook answered {status}");
    }
    Ok(())
}

/// `--part N/TOTAL/REFERENCE`.
fn part(raw: &str) -> anyhow::Result<SimConcat> {
    let mut it = raw.splitn(3, '/');
    let (Some(part), Some(total), Some(reference)) = (it.next(), it.next(), it.next()) else {
        bail!("--part must be N/TOTAL/REFERENCE, e.g. 1/3/A7");
    };
    let number = |s: &str| s.trim().parse::<u32>().ok().filter(|n| *n > 0);
    match (number(part), number(total)) {
        (Some(part), Some(total)) if part <= total && !reference.trim().is_empty() => {
            Ok(SimConcat {
                reference: reference.trim().to_owned(),
                total,
                part,
            })
        }
        _ => bail!("--part must be N/TOTAL/REFERENCE with 1 <= N <= TOTAL, e.g. 1/3/A7"),
    }
}
