//! `praxis-sms`, the operator's command line: the local stack (`serve`), administration of
//! practices, keys and opt-outs, and (feature `aws`) creating the AWS resources. Script output
//! is JSON on stdout; logs go to stderr.

mod admin;
#[cfg(feature = "aws")]
mod aws;
mod invoices;
mod local;
mod serve;
#[cfg(feature = "aws")]
mod serve_aws;
mod sim;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "praxis-sms",
    version,
    about = "SMS gateway for dental practices"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// SQLite file, in-process queue, files for mail and blobs.
    Embedded,
    /// DynamoDB, SQS, SES and S3 through the AWS SDK (honours AWS_ENDPOINT_URL).
    Aws,
}

#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Where the embedded backend keeps its data.
    #[arg(
        long,
        global = true,
        env = "PRAXIS_SMS_DATA_DIR",
        default_value = "data"
    )]
    data_dir: PathBuf,
    #[arg(
        long,
        global = true,
        value_enum,
        env = "PRAXIS_SMS_BACKEND",
        default_value = "embedded"
    )]
    backend: Backend,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the whole stack on this machine: API, webhooks, dispatcher and the sim carrier.
    Serve(serve::ServeArgs),
    /// Practices.
    #[command(subcommand)]
    Org(admin::OrgCommand),
    /// API keys: create one for a practice, list or revoke.
    #[command(subcommand)]
    Key(admin::KeyCommand),
    /// Monthly invoices: `invoices run --month YYYY-MM`.
    #[command(subcommand)]
    Invoices(invoices::InvoicesCommand),
    /// Numbers that opted out of a practice's SMS: list them, or lift one.
    #[command(subcommand)]
    OptOut(admin::OptOutCommand),
    /// The simulated carrier: `sim inbound` sends a patient's SMS to a running stack.
    #[command(subcommand)]
    Sim(sim::SimCommand),
    /// AWS resources: `aws bootstrap` creates what praxis-sms runs on.
    #[cfg(feature = "aws")]
    #[command(subcommand)]
    Aws(aws::AwsCommand),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    praxis_shared::telemetry::init_terminal();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Org(cmd) => admin::org(cmd).await,
        Command::Key(cmd) => admin::key(cmd).await,
        Command::Invoices(cmd) => invoices::run(cmd).await,
        Command::OptOut(cmd) => admin::opt_out(cmd).await,
        Command::Sim(cmd) => sim::run(cmd).await,
        #[cfg(feature = "aws")]
        Command::Aws(cmd) => aws::run(cmd).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
