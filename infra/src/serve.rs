//! `praxis-sms serve`: the whole stack in one process, on the embedded backend or (`--backend
//! aws`) on DynamoDB, SQS, SES and S3 at `AWS_ENDPOINT_URL`. HTTP requests go to the same
//! axum routers the Lambdas run (`front`); the dispatcher is fed by the in-process queue or by
//! polling SQS, and handles jobs with the Lambda's SQS handler.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use praxis_dispatch::{LOCAL_RETRY_DELAY, Outcome, dispatch_one};
use praxis_shared::adapters::embedded::{FileBlobs, JobReceiver, LocalBackend};
use praxis_shared::carriers::config::{self, CarrierKind};
use praxis_shared::carriers::failover::BreakerPolicy;
use praxis_shared::carriers::sim::SimCarrier;
use praxis_shared::domain::message::retention_cutoff;
use praxis_shared::domain::org::{EmailAddress, OrgName, PostalAddress};
use praxis_shared::domain::{Region, SenderId};
use praxis_shared::services::Services;
use praxis_shared::wiring::Wiring;
use serde_json::json;

use crate::admin::{NewOrg, create_org};
use crate::local::{LocalSecrets, load_secrets, prepare_dir};
use crate::{Backend, Common};

mod front;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Where to listen; port 0 picks a free port (printed on start).
    #[arg(long, env = "PRAXIS_SMS_ADDR", default_value = "127.0.0.1:3000")]
    addr: SocketAddr,
    /// Concurrent dispatcher workers (each holds at most one message at the carrier).
    #[arg(long, default_value_t = 16)]
    workers: usize,
    /// Who sends: the simulated carrier, seven.io (needs SEVEN_API_KEY and SEVEN_SIGNING_KEY;
    /// SEVEN_API_URL defaults to https://gateway.seven.io) or Vonage (needs VONAGE_API_KEY,
    /// VONAGE_API_SECRET and VONAGE_SIGNATURE_SECRET; VONAGE_API_URL defaults to
    /// https://rest.nexmo.com).
    /// On `--backend aws` a secret may instead be named as an SSM parameter, like in Lambda
    /// (PRAXIS_SMS_SEVEN_API_KEY_PARAMETER, ...).
    #[arg(long, value_enum, env = "PRAXIS_SMS_CARRIER", default_value = "sim")]
    carrier: CarrierKind,
    /// A second carrier that takes over while the first keeps failing (circuit breaker).
    #[arg(long, value_enum, env = "PRAXIS_SMS_FALLBACK_CARRIER")]
    fallback_carrier: Option<CarrierKind>,
    /// How long the fallback carrier takes all traffic before the first carrier gets a trial.
    #[arg(long, env = "PRAXIS_SMS_FAILOVER_COOL_DOWN_SECS", default_value_t = 30)]
    failover_cool_down_secs: u64,
    /// The base URL carriers call this stack at, as they see it (seven.io signs the full URL);
    /// default: the URL serve listens on.
    #[arg(long, env = "PRAXIS_SMS_PUBLIC_URL")]
    public_url: Option<String>,
    /// Seconds between housekeeping sweeps: messages whose job was lost are enqueued again,
    /// overdue messages expire, replies not yet e-mailed to their practice are forwarded (and
    /// long SMS whose parts stopped coming assembled), data past retention is deleted. What a
    /// deployed stack's sweeper function does on its schedule.
    #[arg(long, env = "PRAXIS_SMS_SWEEP_EVERY", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    sweep_every: u64,
    #[command(flatten)]
    common: Common,
}

/// Checks the carrier's settings as the wiring will read them; fails before anything is
/// opened or sent.
fn check_carrier(kind: CarrierKind, backend: Backend) -> anyhow::Result<()> {
    // Only on AWS is there a parameter store to name secrets in.
    let with_parameters = backend == Backend::Aws;
    config::check(kind, &|name| std::env::var(name).ok(), with_parameters)?;
    Ok(())
}

/// Where the dispatcher's jobs come from: the in-process channel or the SQS queue.
enum Jobs {
    Channel(JobReceiver),
    #[cfg(feature = "aws")]
    Sqs(Arc<praxis_shared::adapters::aws::SqsQueue>),
}

/// A backend opened for serve: its ports in a wiring that carriers are still to be added to,
/// the sim carrier of this stack, and what serve needs beyond the ports.
struct Opened {
    wiring: Wiring,
    jobs: Jobs,
    sim: Arc<SimCarrier>,
    blobs: Option<FileBlobs>,
}

/// The sim carrier of this stack: it keeps its log in the data directory and reports to this
/// stack's own webhook, on either backend.
fn sim_carrier(dir: &Path, base_url: &str, secrets: &LocalSecrets) -> anyhow::Result<SimCarrier> {
    SimCarrier::for_stack(dir, base_url, &secrets.sim_token)
        .with_context(|| format!("cannot open the sim carrier in {}", dir.display()))
}

async fn open_backend(
    backend: Backend,
    dir: &Path,
    base_url: &str,
    secrets: &LocalSecrets,
) -> anyhow::Result<Opened> {
    match backend {
        Backend::Embedded => {
            let local = LocalBackend::open(
                dir,
                base_url,
                &secrets.sim_token,
                secrets.blob_key.as_bytes(),
            )
            .with_context(|| format!("cannot open the data in {}", dir.display()))?;
            Ok(Opened {
                wiring: Wiring::from_services(local.services, |name| std::env::var(name).ok()),
                jobs: Jobs::Channel(local.jobs),
                sim: local.sim,
                blobs: Some(local.blobs),
            })
        }
        #[cfg(feature = "aws")]
        Backend::Aws => {
            let sim = Arc::new(sim_carrier(dir, base_url, secrets)?);
            let (wiring, queue) = crate::serve_aws::wiring().await?;
            Ok(Opened {
                wiring,
                jobs: Jobs::Sqs(queue),
                sim,
                blobs: None,
            })
        }
        #[cfg(not(feature = "aws"))]
        Backend::Aws => {
            let _ = sim_carrier;
            anyhow::bail!(
                "this build has no aws backend (cargo feature `aws`); use --backend embedded"
            )
        }
    }
}

/// The services of this stack: its ports, and the carriers chosen on the command line, each
/// with its webhooks. The sim's webhooks stay whichever carrier sends: it keeps reporting what
/// it took before a change of carrier.
fn wire_carriers(
    wiring: Wiring,
    sim: Arc<SimCarrier>,
    args: &ServeArgs,
    token: &str,
) -> anyhow::Result<Services> {
    let wiring = wiring
        .with_sim(sim, token)
        .with_carrier_kind(args.carrier)
        .and_then(|w| w.with_webhooks_of(args.carrier))
        .context("--carrier")?;
    let wiring = match args.fallback_carrier {
        Some(fallback) => {
            let policy = BreakerPolicy {
                cool_down: Duration::from_secs(args.failover_cool_down_secs.max(1)),
                ..BreakerPolicy::default()
            };
            wiring
                .with_fallback(fallback, policy)
                .and_then(|w| w.with_webhooks_of(fallback))
                .context("--fallback-carrier")?
        }
        None => wiring,
    };
    Ok(wiring.build())
}

/// The demo practice's sign-in for the portal, a new password at every start (a local stack's
/// demo only: a practice of its own gets a set-password link from `org create`).
async fn demo_credentials(svc: &Services) -> anyhow::Result<()> {
    let demo = svc
        .store
        .list_orgs()
        .await?
        .into_iter()
        .find(|o| o.name.as_str() == "Demo-Praxis" && o.email.as_str() == "praxis@example.com");
    if let Some(org) = demo {
        let (email, password) =
            praxis_portal::accounts::demo_credentials(svc.accounts.as_ref(), &org, Utc::now())
                .await
                .context("the demo practice's portal account")?;
        println!(
            "{}",
            json!({ "event": "demo_portal", "email": email, "password": password })
        );
    }
    Ok(())
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    // A carrier that cannot be configured stops serve before anything is opened or sent.
    if args.fallback_carrier == Some(args.carrier) {
        anyhow::bail!("--fallback-carrier must differ from --carrier");
    }
    check_carrier(args.carrier, args.common.backend).context("--carrier")?;
    if let Some(fallback) = args.fallback_carrier {
        check_carrier(fallback, args.common.backend).context("--fallback-carrier")?;
    }
    let dir = prepare_dir(&args.common.data_dir)?;
    let secrets = load_secrets(&dir)?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let addr = listener.local_addr()?;
    let base_url = format!("http://{addr}");
    let public_url = match &args.public_url {
        Some(u) => u.trim().trim_end_matches('/').to_owned(),
        None => base_url.clone(),
    };

    let Opened {
        wiring,
        jobs,
        sim,
        blobs,
    } = open_backend(args.common.backend, &dir, &base_url, &secrets).await?;
    let mut svc = wire_carriers(wiring, sim.clone(), &args, &secrets.sim_token)?;
    // The e-mails' invoice links are checked with this data directory's key on either
    // backend, the key `invoices run` signs them with.
    svc.invoice_links = crate::invoices::invoice_links(&secrets);

    if svc.store.list_orgs().await?.is_empty() {
        let (_, demo) = create_org(
            svc.store.as_ref(),
            NewOrg {
                name: OrgName::parse("Demo-Praxis")?,
                email: EmailAddress::parse("praxis@example.com")?,
                sender: Some(SenderId::parse("DemoPraxis")?),
                region: Region::DE,
                reply_number: None,
                activated_on: Utc::now().date_naive(),
                daily_cap: None,
                address: PostalAddress::parse("Musterweg 1, 10115 Berlin").ok(),
            },
        )
        .await?;
        println!("{}", json!({ "event": "demo_practice", "practice": demo }));
    }
    demo_credentials(&svc).await?;

    tokio::spawn(resume(svc.clone()));
    match jobs {
        Jobs::Channel(jobs) => {
            for _ in 0..args.workers.max(1) {
                tokio::spawn(worker(svc.clone(), jobs.clone()));
            }
        }
        #[cfg(feature = "aws")]
        Jobs::Sqs(queue) => {
            // Each poller takes up to 10 jobs at a time, like one Lambda invocation.
            for _ in 0..args.workers.max(1).div_ceil(10) {
                tokio::spawn(crate::serve_aws::poller(svc.clone(), queue.clone()));
            }
        }
    }
    tokio::spawn(housekeeping(
        svc.clone(),
        Duration::from_secs(args.sweep_every),
    ));
    // Reports the simulated network still owes us from before a restart; they are posted once
    // the server below is accepting, like a real carrier retrying its webhook.
    match sim.resume() {
        Ok(0) => {}
        Ok(n) => tracing::info!(count = n, "sim carrier resends unacknowledged reports"),
        Err(e) => tracing::warn!(error = %e, "sim carrier could not read its submissions"),
    }

    let carrier_name = svc.carrier.name().to_owned();
    let router = front::router(svc, public_url.clone(), blobs);
    println!(
        "{}",
        json!({
            "event": "listening",
            "addr": addr.to_string(),
            "url": base_url,
            "public_url": public_url,
            "backend": format!("{:?}", args.common.backend).to_ascii_lowercase(),
            "carrier": carrier_name,
            "fallback_carrier": args.fallback_carrier.map(|c| format!("{c:?}").to_ascii_lowercase()),
            "data_dir": dir,
        })
    );
    tracing::info!(%addr, carrier = %carrier_name, data_dir = %dir.display(), "praxis-sms is listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown())
        .await
        .context("server failed")?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// One dispatcher worker: the local stand-in for the Lambda that SQS would invoke.
async fn worker(svc: Services, jobs: JobReceiver) {
    while let Some(id) = jobs.next().await {
        match dispatch_one(&svc, id).await {
            Ok(Outcome::RetryLater) => {
                let _ = svc.queue.enqueue_later(id, LOCAL_RETRY_DELAY).await;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(message_id = %id, error = %e, "dispatch failed; retrying later");
                let _ = svc.queue.enqueue_later(id, LOCAL_RETRY_DELAY).await;
            }
        }
    }
}

/// Work accepted before a restart and not yet with the carrier: its dispatcher is gone, so its
/// claims are void and it is dispatched again. Runs beside the server (a job queued twice is
/// harmless: the claim lets one through). On AWS this assumes serve is the only dispatcher of
/// its table, as it is with an emulator; a deployed stack has its Lambdas instead.
async fn resume(svc: Services) {
    use futures_util::{StreamExt, TryStreamExt};
    let result = async {
        let open = svc.store.unfinished().await?;
        if open.is_empty() {
            return Ok(0);
        }
        tracing::info!(count = open.len(), "resuming unfinished messages");
        // Made up front: a closure over borrowed ids inside the stream is not `Send` enough
        // for tokio::spawn.
        let releases: Vec<_> = open.iter().map(|id| svc.store.release_claim(*id)).collect();
        futures_util::stream::iter(releases)
            .buffer_unordered(16)
            .try_collect::<Vec<()>>()
            .await?;
        svc.queue.enqueue(&open).await?;
        Ok::<_, praxis_shared::ports::PortError>(open.len())
    }
    .await;
    match result {
        Ok(0) => {}
        Ok(n) => tracing::info!(count = n, "unfinished messages queued again"),
        // Nothing is lost: the messages stay unfinished and the next start resumes them.
        Err(e) => tracing::error!(error = %e, "cannot resume unfinished messages"),
    }
}

/// What the sweeper function (on its EventBridge schedule) and DynamoDB's TTL do on AWS:
/// enqueue stranded messages again, store the 72-hour expiry, forward replies not yet e-mailed,
/// and purge personal data past retention.
async fn housekeeping(svc: Services, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = svc.clock.now();
        // Failures are logged by the sweep itself; the next tick tries again.
        let _ = praxis_sweeper::sweep(&svc, now).await;
        match svc.store.purge_before(retention_cutoff(now)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(count = n, "messages and replies past retention deleted"),
            Err(e) => tracing::warn!(error = %e, "retention purge failed"),
        }
    }
}
