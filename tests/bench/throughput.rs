//! Throughput of the whole local stack on the embedded backend (a benchmark, not a test).
//!
//! Starts the real `praxis-sms serve` on a free port with a fresh data dir, sends 10,000
//! reminders as 10 batches of 1000 through the HTTP API (numbers the sim carrier delivers),
//! and measures from the first request until every message is `delivered`:
//!
//! - messages accepted per second (the API alone: first request to last `202`),
//! - delivered messages per second end to end (first request to the moment the API shows no
//!   message in a non-final status any more; then the `delivered` count is verified),
//! - the peak RSS of the server process (`VmHWM`).
//!
//! Run it with `cargo bench -p praxis-infra --bench throughput` (release build).
//! `BENCH_MESSAGES` (a multiple of 1000, default 10000) and `BENCH_WORKERS` (the server's
//! `--workers`, default: its own default) change the run.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BATCH: usize = 1000;
const DEADLINE: Duration = Duration::from_secs(300);
const POLL: Duration = Duration::from_millis(100);
const NON_FINAL: [&str; 4] = ["pending", "queued", "sent", "buffered"];

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The server child; killed (and its data dir removed) however the benchmark ends.
struct Server {
    child: Child,
    url: String,
    key: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start() -> Res<Server> {
        let dir = tempfile::tempdir()?;
        let log = std::fs::File::create(dir.path().join("serve.log"))?;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_praxis-sms"));
        cmd.args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .env("PRAXIS_SMS_LOG", "warn")
            // The benchmark is one practice sending as fast as it can.
            .env("PRAXIS_SMS_RATE_LIMIT", "1000000")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        if let Ok(w) = std::env::var("BENCH_WORKERS") {
            cmd.args(["--workers", &w]);
        }
        let mut child = cmd.spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let (mut url, mut key) = (None, None);
        while url.is_none() || key.is_none() {
            let Some(line) = lines.next() else {
                let _ = child.kill();
                let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
                return Err(format!("praxis-sms serve ended before listening:\n{log}").into());
            };
            let v: Value = serde_json::from_str(&line?)?;
            match v["event"].as_str() {
                Some("demo_practice") => key = v["practice"]["api_key"].as_str().map(String::from),
                Some("listening") => url = v["url"].as_str().map(String::from),
                _ => {}
            }
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Ok(Server {
            child,
            url: url.unwrap_or_default(),
            key: key.unwrap_or_default(),
            _dir: dir,
        })
    }

    /// CPU time (user + system) the server has used so far, from /proc (Linux; USER_HZ = 100).
    fn cpu_seconds(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // Fields after the command name (which is in parentheses and may contain spaces).
        let rest = stat.rsplit_once(')')?.1;
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
        Some(ticks as f64 / 100.0)
    }

    /// Peak resident set size in KiB, from /proc (Linux).
    fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

const FIRST_NAMES: [&str; 12] = [
    "Silvana", "Jonas", "Marie", "Lukas", "Sophie", "Felix", "Hannah", "Paul", "Emilia", "Karl",
    "Leonie", "Jürgen",
];
const LAST_NAMES: [&str; 12] = [
    "Müller",
    "Weber",
    "Schäfer",
    "Becker",
    "Hoffmann",
    "Schröder",
    "Krüger",
    "Wagner",
    "Böhm",
    "Fischer",
    "Neumann",
    "Köhler",
];

/// Message `i`: a ~120-character German reminder to a number the sim delivers.
fn message(i: usize) -> Value {
    // 0176 2xxxxxxx; the last four digits never 0000/1111/2222/3333 (the sim's special cases).
    let mut n = 20_000_000 + i as u64 * 7;
    while matches!(n % 10_000, 0 | 1111 | 2222 | 3333) {
        n += 1;
    }
    let name = format!(
        "{} {}",
        FIRST_NAMES[i % FIRST_NAMES.len()],
        LAST_NAMES[(i / FIRST_NAMES.len()) % LAST_NAMES.len()]
    );
    let text = format!(
        "Terminerinnerung {name}: {:02}.{:02}. um {:02}:{:02} Uhr, Praxis Dr. Berger. Bei Verhinderung absagen unter 01234-567890",
        1 + i % 28,
        1 + (i / 28) % 12,
        8 + i % 10,
        (i % 4) * 15,
    );
    json!({ "to": format!("0176 {n}"), "text": text, "reference": format!("termin-{i}") })
}

async fn count_with_status(
    http: &reqwest::Client,
    s: &Server,
    status: &str,
    limit: usize,
) -> Res<(usize, Option<String>)> {
    let mut n = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{}/v1/messages?status={status}&limit={limit}", s.url);
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let res = http.get(&url).bearer_auth(&s.key).send().await?;
        if !res.status().is_success() {
            return Err(format!("GET {url}: {}", res.status()).into());
        }
        let page: Value = res.json().await?;
        n += page["messages"].as_array().map_or(0, Vec::len);
        cursor = page["next_cursor"].as_str().map(String::from);
        // With a small limit we only want to know whether there is anything at all.
        if cursor.is_none() || limit < 500 {
            return Ok((n, cursor));
        }
    }
}

async fn run() -> Res<()> {
    let total: usize = std::env::var("BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let batches = total.div_ceil(BATCH);
    let server = Server::start()?;
    let http = praxis_shared::http::client_builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let bodies: Vec<Vec<u8>> = (0..batches)
        .map(|b| {
            let items: Vec<Value> = (b * BATCH..((b + 1) * BATCH).min(total))
                .map(message)
                .collect();
            serde_json::to_vec(&json!({ "messages": items }))
        })
        .collect::<Result<_, _>>()?;
    let sample = message(0);
    println!(
        "throughput: {total} messages as {batches} batches of {BATCH} to {} (e.g. {:?}, {} chars)",
        server.url,
        sample["text"].as_str().unwrap_or_default(),
        sample["text"].as_str().unwrap_or_default().chars().count(),
    );

    // Send: one client, one batch after the other, as Dentport would.
    let start = Instant::now();
    let mut latencies = Vec::with_capacity(batches);
    let mut accepted = 0usize;
    for body in bodies {
        let t = Instant::now();
        let res = http
            .post(format!("{}/v1/messages", server.url))
            .bearer_auth(&server.key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        let status = res.status();
        let answer: Value = res.json().await?;
        latencies.push(t.elapsed());
        if status.as_u16() != 202 {
            return Err(format!("batch answered {status}: {answer}").into());
        }
        accepted += answer["messages"]
            .as_array()
            .map_or(0, |m| m.iter().filter(|x| x.get("id").is_some()).count());
    }
    let accept_time = start.elapsed();
    if accepted != total {
        return Err(format!("only {accepted} of {total} messages accepted").into());
    }

    // Wait until no message is in a non-final status: four cheap `limit=1` listings per poll.
    let done_at = loop {
        let mut open = false;
        for s in NON_FINAL {
            if count_with_status(&http, &server, s, 1).await?.0 > 0 {
                open = true;
                break;
            }
        }
        if !open {
            break start.elapsed();
        }
        if start.elapsed() > DEADLINE {
            return Err(format!("not all messages final after {DEADLINE:?}").into());
        }
        tokio::time::sleep(POLL).await;
    };
    let cpu = server.cpu_seconds();
    let delivered = count_with_status(&http, &server, "delivered", 500).await?.0;
    let rss = server.peak_rss_kib();

    let secs = |d: Duration| d.as_secs_f64();
    let (min, max) = (
        latencies.iter().min().copied().unwrap_or_default(),
        latencies.iter().max().copied().unwrap_or_default(),
    );
    let avg = latencies.iter().sum::<Duration>() / latencies.len().max(1) as u32;
    println!(
        "  accepted   {accepted:>6} in {:>7.3} s = {:>8.0} msg/s  (API only; per batch of {BATCH}: min {:.0} / avg {:.0} / max {:.0} ms)",
        secs(accept_time),
        accepted as f64 / secs(accept_time),
        min.as_secs_f64() * 1e3,
        avg.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
    );
    println!(
        "  delivered  {delivered:>6} in {:>7.3} s = {:>8.0} msg/s  (end to end: first request until all final)",
        secs(done_at),
        delivered as f64 / secs(done_at),
    );
    if let Some(cpu) = cpu {
        println!(
            "  server CPU {cpu:.2} s (user + system) = {:.0} µs per message, {:.2} cores busy on average",
            cpu * 1e6 / total as f64,
            cpu / secs(done_at),
        );
    }
    match rss {
        Some(kib) => println!("  server peak RSS (VmHWM): {:.1} MiB", kib as f64 / 1024.0),
        None => println!("  server peak RSS: unavailable (no /proc)"),
    }
    println!(
        "{}",
        json!({
            "bench": "throughput",
            "messages": total,
            "accepted_per_s": (accepted as f64 / secs(accept_time)).round(),
            "delivered": delivered,
            "delivered_per_s": (delivered as f64 / secs(done_at)).round(),
            "accept_s": secs(accept_time),
            "end_to_end_s": secs(done_at),
            "peak_rss_kib": rss,
            "server_cpu_s": cpu,
        })
    );
    if delivered != total {
        return Err(format!("{delivered} of {total} messages delivered").into());
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    // `cargo bench` passes `--bench`; there is nothing to configure from the command line.
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("throughput benchmark failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
