// Oracle test for phone-number normalization: compares `PhoneNumber::parse` on a
// deterministic corpus against libphonenumber itself (Python `phonenumbers` 9.0.33).
//
// Needs a Python with phonenumbers==9.0.33 (see tests/oracle/numbers.py); point
// PRAXIS_ORACLE_PYTHON at it, or set PRAXIS_SKIP_ORACLES=1 to skip on purpose.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use praxis_shared::domain::phone::{PhoneError, PhoneNumber, Region};

const CORPUS_SIZE: usize = 24_000;
const SEED: u64 = 0x005e_ed0f_d0c7_0125;

const INSTALL_HINT: &str = "install the oracle with: \
    python3 -m venv tests/oracle/.venv && tests/oracle/.venv/bin/pip install phonenumbers==9.0.33 \
    (in the crate directory), then run with PRAXIS_ORACLE_PYTHON=tests/oracle/.venv/bin/python; \
    or set PRAXIS_SKIP_ORACLES=1 to skip this test";

/// SplitMix64: tiny, seedable, and good enough to spread a test corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn range(&mut self, lo: usize, hi_inclusive: usize) -> usize {
        lo + self.below(hi_inclusive - lo + 1)
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn pick_ref<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

/// A numbering plan sketch: real-looking leading digits and how many digits follow.
struct Plan {
    region: Option<&'static str>,
    cc: &'static str,
    /// National (trunk) prefix written before national formats; "" where there is none.
    trunk: &'static str,
    prefixes: &'static [(&'static str, usize, usize)],
}

const DEFAULT_REGIONS: &[&str] = &[
    "DE", "AT", "CH", "FR", "IT", "NL", "PL", "TR", "US", "GB", "AR", "BR",
];

const PLANS: &[Plan] = &[
    Plan {
        region: Some("DE"),
        cc: "49",
        trunk: "0",
        prefixes: &[
            ("151", 7, 8),
            ("152", 7, 8),
            ("155", 7, 8),
            ("157", 7, 8),
            ("159", 7, 8),
            ("160", 7, 8),
            ("162", 7, 8),
            ("163", 7, 8),
            ("170", 7, 8),
            ("171", 7, 8),
            ("172", 7, 8),
            ("173", 7, 8),
            ("174", 7, 8),
            ("175", 7, 8),
            ("176", 7, 8),
            ("177", 7, 8),
            ("178", 7, 8),
            ("179", 7, 8),
            ("1521", 6, 7),
            ("30", 5, 9),
            ("89", 5, 9),
            ("40", 5, 9),
            ("221", 4, 8),
            ("69", 5, 9),
            ("711", 4, 8),
            ("3581", 4, 7),
            ("33203", 3, 6),
            ("7031", 4, 7),
            ("900", 6, 8),
            ("9001", 6, 7),
            ("9003", 6, 7),
            ("9005", 6, 7),
            ("137", 5, 8),
            ("800", 6, 8),
            ("180", 5, 8),
            ("700", 7, 9),
            ("32", 8, 10),
            ("1", 6, 11),
        ],
    },
    Plan {
        region: Some("AT"),
        cc: "43",
        trunk: "0",
        prefixes: &[
            ("650", 4, 9),
            ("660", 4, 9),
            ("664", 4, 9),
            ("676", 4, 9),
            ("677", 4, 9),
            ("680", 4, 9),
            ("681", 4, 9),
            ("688", 4, 9),
            ("699", 4, 9),
            ("1", 4, 10),
            ("316", 4, 9),
            ("512", 4, 9),
            ("662", 4, 9),
            ("732", 4, 9),
            ("5574", 3, 8),
            ("900", 5, 8),
            ("901", 5, 8),
            ("930", 5, 8),
            ("939", 5, 8),
            ("800", 5, 8),
            ("810", 5, 8),
            ("820", 5, 8),
            ("720", 5, 8),
            ("780", 5, 8),
        ],
    },
    Plan {
        region: Some("CH"),
        cc: "41",
        trunk: "0",
        prefixes: &[
            ("75", 6, 8),
            ("76", 6, 8),
            ("77", 6, 8),
            ("78", 6, 8),
            ("79", 6, 8),
            ("21", 6, 8),
            ("22", 6, 8),
            ("31", 6, 8),
            ("43", 6, 8),
            ("44", 6, 8),
            ("61", 6, 8),
            ("71", 6, 8),
            ("91", 6, 8),
            ("800", 5, 7),
            ("900", 5, 7),
            ("901", 5, 7),
            ("906", 5, 7),
            ("840", 5, 7),
            ("842", 5, 7),
            ("844", 5, 7),
            ("848", 5, 7),
            ("878", 5, 7),
            ("860", 6, 10),
        ],
    },
    Plan {
        region: Some("FR"),
        cc: "33",
        trunk: "0",
        prefixes: &[
            ("6", 7, 9),
            ("7", 7, 9),
            ("1", 7, 9),
            ("2", 7, 9),
            ("3", 7, 9),
            ("4", 7, 9),
            ("5", 7, 9),
            ("9", 7, 9),
            ("800", 5, 7),
            ("805", 5, 7),
            ("89", 6, 8),
            ("81", 6, 8),
            ("82", 6, 8),
        ],
    },
    Plan {
        region: Some("IT"),
        cc: "39",
        trunk: "",
        prefixes: &[
            ("02", 4, 9),
            ("06", 4, 9),
            ("011", 4, 8),
            ("089", 4, 8),
            ("0461", 4, 7),
            ("06698", 4, 6),
            ("31", 6, 9),
            ("32", 6, 9),
            ("33", 6, 9),
            ("34", 6, 9),
            ("35", 6, 9),
            ("36", 6, 9),
            ("37", 6, 9),
            ("38", 6, 9),
            ("39", 6, 9),
            ("800", 3, 7),
            ("803", 3, 7),
            ("89", 3, 8),
            ("892", 3, 7),
            ("895", 3, 7),
            ("899", 3, 7),
            ("178", 5, 8),
            ("55", 6, 9),
        ],
    },
    Plan {
        region: Some("NL"),
        cc: "31",
        trunk: "0",
        prefixes: &[
            ("6", 7, 9),
            ("20", 6, 8),
            ("10", 6, 8),
            ("70", 6, 8),
            ("30", 6, 8),
            ("50", 6, 8),
            ("800", 3, 8),
            ("900", 3, 8),
            ("906", 3, 8),
            ("909", 3, 8),
            ("85", 6, 8),
            ("88", 6, 8),
            ("97", 7, 10),
        ],
    },
    Plan {
        region: Some("PL"),
        cc: "48",
        trunk: "",
        prefixes: &[
            ("50", 6, 8),
            ("51", 6, 8),
            ("53", 6, 8),
            ("57", 6, 8),
            ("60", 6, 8),
            ("66", 6, 8),
            ("69", 6, 8),
            ("72", 6, 8),
            ("73", 6, 8),
            ("78", 6, 8),
            ("79", 6, 8),
            ("88", 6, 8),
            ("12", 6, 8),
            ("22", 6, 8),
            ("58", 6, 8),
            ("800", 5, 7),
            ("70", 6, 8),
            ("801", 5, 7),
            ("39", 6, 8),
        ],
    },
    Plan {
        region: Some("TR"),
        cc: "90",
        trunk: "0",
        prefixes: &[
            ("50", 7, 9),
            ("53", 7, 9),
            ("54", 7, 9),
            ("55", 7, 9),
            ("212", 6, 8),
            ("216", 6, 8),
            ("312", 6, 8),
            ("232", 6, 8),
            ("800", 6, 8),
            ("900", 6, 8),
            ("444", 3, 5),
            ("850", 6, 8),
        ],
    },
    Plan {
        region: Some("US"),
        cc: "1",
        trunk: "1",
        prefixes: &[
            ("201", 6, 8),
            ("212", 6, 8),
            ("305", 6, 8),
            ("415", 6, 8),
            ("617", 6, 8),
            ("650", 6, 8),
            ("702", 6, 8),
            ("818", 6, 8),
            ("917", 6, 8),
            ("989", 6, 8),
            ("416", 6, 8),
            ("604", 6, 8),
            ("264", 6, 8),
            ("876", 6, 8),
            ("800", 6, 8),
            ("833", 6, 8),
            ("844", 6, 8),
            ("855", 6, 8),
            ("866", 6, 8),
            ("877", 6, 8),
            ("888", 6, 8),
            ("900", 6, 8),
            ("555", 6, 8),
            ("1", 8, 10),
        ],
    },
    Plan {
        region: Some("GB"),
        cc: "44",
        trunk: "0",
        prefixes: &[
            ("71", 7, 9),
            ("73", 7, 9),
            ("74", 7, 9),
            ("75", 7, 9),
            ("77", 7, 9),
            ("78", 7, 9),
            ("79", 7, 9),
            ("20", 7, 9),
            ("121", 6, 8),
            ("161", 6, 8),
            ("131", 6, 8),
            ("1632", 5, 7),
            ("28", 7, 9),
            ("800", 5, 8),
            ("808", 6, 8),
            ("90", 7, 9),
            ("91", 7, 9),
            ("98", 7, 9),
            ("87", 7, 9),
            ("84", 7, 9),
            ("70", 7, 9),
            ("76", 7, 9),
            ("55", 7, 9),
            ("56", 7, 9),
        ],
    },
    // National prefix rules that rewrite the number (AR mobile "15", BR carrier codes).
    Plan {
        region: Some("AR"),
        cc: "54",
        trunk: "0",
        prefixes: &[
            ("11", 7, 9),
            ("1115", 7, 9),
            ("351", 6, 8),
            ("35115", 6, 8),
            ("911", 7, 9),
            ("800", 6, 8),
        ],
    },
    Plan {
        region: Some("BR"),
        cc: "55",
        trunk: "0",
        prefixes: &[
            ("119", 7, 9),
            ("21", 7, 9),
            ("15119", 7, 9),
            ("21219", 7, 9),
            ("800", 6, 8),
            ("900", 6, 8),
        ],
    },
    // Reached only in international format: "numbers from any country are accepted".
    Plan {
        region: None,
        cc: "7",
        trunk: "8",
        prefixes: &[("9", 8, 10), ("495", 6, 8), ("7", 8, 10)],
    },
    Plan {
        region: None,
        cc: "34",
        trunk: "",
        prefixes: &[("6", 7, 9), ("9", 7, 9), ("900", 5, 7), ("803", 5, 7)],
    },
    Plan {
        region: None,
        cc: "32",
        trunk: "0",
        prefixes: &[("4", 7, 9), ("2", 6, 8), ("800", 4, 6), ("90", 5, 7)],
    },
    Plan {
        region: None,
        cc: "352",
        trunk: "",
        prefixes: &[("621", 5, 7), ("2", 4, 9), ("800", 4, 6), ("900", 4, 6)],
    },
    Plan {
        region: None,
        cc: "423",
        trunk: "",
        prefixes: &[("6", 7, 9), ("2", 5, 7), ("90", 4, 6), ("80", 4, 6)],
    },
    Plan {
        region: None,
        cc: "420",
        trunk: "",
        prefixes: &[("6", 7, 9), ("7", 7, 9), ("2", 7, 9), ("90", 6, 8)],
    },
    Plan {
        region: None,
        cc: "36",
        trunk: "06",
        prefixes: &[("20", 6, 8), ("1", 6, 8), ("90", 5, 7), ("80", 5, 7)],
    },
    Plan {
        region: None,
        cc: "385",
        trunk: "0",
        prefixes: &[("9", 6, 9), ("1", 5, 8), ("60", 5, 7), ("80", 5, 7)],
    },
    Plan {
        region: None,
        cc: "86",
        trunk: "0",
        prefixes: &[("13", 8, 10), ("10", 6, 9), ("400", 6, 8)],
    },
    Plan {
        region: None,
        cc: "61",
        trunk: "0",
        prefixes: &[("4", 7, 9), ("2", 7, 9), ("1800", 5, 7), ("190", 5, 8)],
    },
    Plan {
        region: None,
        cc: "972",
        trunk: "0",
        prefixes: &[("5", 7, 9), ("2", 6, 8), ("1800", 5, 7)],
    },
    Plan {
        region: None,
        cc: "971",
        trunk: "0",
        prefixes: &[("5", 7, 9), ("4", 6, 8), ("800", 3, 8)],
    },
    Plan {
        region: None,
        cc: "800",
        trunk: "",
        prefixes: &[("", 6, 10)],
    },
    Plan {
        region: None,
        cc: "882",
        trunk: "",
        prefixes: &[("", 6, 12)],
    },
    Plan {
        region: None,
        cc: "870",
        trunk: "",
        prefixes: &[("", 7, 10)],
    },
    Plan {
        region: None,
        cc: "998",
        trunk: "",
        prefixes: &[("9", 6, 9)],
    },
    Plan {
        region: None,
        cc: "999",
        trunk: "",
        prefixes: &[("", 6, 10)],
    },
];

/// Groups the digits like people type them: blocks of 2 to 5, separators mixed or
/// consistent, the first block sometimes in parentheses.
fn punctuate(rng: &mut Rng, digits: &str) -> String {
    const SEPARATORS: &[&str] = &[" ", " ", "-", "/", ".", "", " - ", " / "];
    if digits.is_empty() || rng.chance(20) {
        return digits.to_owned();
    }
    let consistent = rng.chance(60);
    let fixed = rng.pick(SEPARATORS);
    let mut out = String::new();
    let mut rest = digits;
    let mut first = true;
    while !rest.is_empty() {
        let take = rng.range(2, 5).min(rest.len());
        let (group, tail) = rest.split_at(take);
        if !first {
            out.push_str(if consistent {
                fixed
            } else {
                rng.pick(SEPARATORS)
            });
        }
        if first && rng.chance(15) {
            out.push('(');
            out.push_str(group);
            out.push(')');
        } else {
            out.push_str(group);
        }
        first = false;
        rest = tail;
    }
    out
}

fn joiner(rng: &mut Rng) -> &'static str {
    rng.pick(&[" ", " ", "", "-", " / "])
}

fn planned_number(rng: &mut Rng) -> (String, &'static str) {
    // DE, AT and CH (the first three plans) are where the practices are.
    let plan = if rng.chance(45) {
        rng.pick_ref(&PLANS[..3])
    } else {
        rng.pick_ref(PLANS)
    };
    let (prefix, lo, hi) = rng.pick(plan.prefixes);
    // Lengths slightly outside the plan keep "too short"/"too long" in the mix.
    let rest_len = match rng.below(10) {
        0 => lo.saturating_sub(rng.range(1, 3)),
        1 => hi + rng.range(1, 3),
        _ => rng.range(lo, hi),
    };
    let national = format!("{prefix}{}", rng.digits(rest_len));
    let mut region = match plan.region {
        Some(home) if rng.chance(70) => home,
        _ => rng.pick(DEFAULT_REGIONS),
    };
    let home = plan.region == Some(region);
    let text = match rng.below(9) {
        0..=2 if home => format!("{}{}", plan.trunk, punctuate(rng, &national)),
        0..=2 => {
            // Home region unknown or not the default: dial it as if it were.
            if let Some(home) = plan.region {
                region = home;
            }
            format!("{}{}", plan.trunk, punctuate(rng, &national))
        }
        3 | 4 => format!("+{}{}{}", plan.cc, joiner(rng), punctuate(rng, &national)),
        5 => {
            let idd = if region == "US" { "011" } else { "00" };
            format!(
                "{idd}{}{}{}",
                plan.cc,
                joiner(rng),
                punctuate(rng, &national)
            )
        }
        6 if !plan.trunk.is_empty() => format!(
            "+{} ({}) {}",
            plan.cc,
            plan.trunk,
            punctuate(rng, &national)
        ),
        6 => format!("00{} {}", plan.cc, punctuate(rng, &national)),
        7 => format!("00{}{}{}", plan.cc, plan.trunk, punctuate(rng, &national)),
        // Country code without "+" or IDD: libphonenumber may or may not read it
        // as one, depending on the default region's patterns.
        _ => format!("{}{}", plan.cc, punctuate(rng, &national)),
    };
    let text = if rng.chance(3) {
        format!(" {text}\t")
    } else {
        text
    };
    (text, region)
}

fn random_digits_input(rng: &mut Rng) -> String {
    let lead = rng.pick(&["", "", "+", "00", "0", "+0", "011", "(0)"]);
    let len = rng.range(0, 18);
    let digits = rng.digits(len);
    format!("{lead}{}", punctuate(rng, &digits))
}

fn junk_input(rng: &mut Rng) -> String {
    const ALPHABET: &[&str] = &[
        "0", "1", "2", "4", "7", "9", " ", "+", "-", "(", ")", "/", ".", "#", "*", ";", ",", "x",
        "ext", "a", "Z", "ä", "\u{a0}", "\t", "٣", "０", "~", "_", ":", "tel:", "e",
    ];
    let len = rng.range(0, 24);
    (0..len).map(|_| rng.pick(ALPHABET)).collect()
}

fn corpus() -> Vec<(String, &'static str)> {
    let mut rng = Rng(SEED);
    let mut out: Vec<(String, &'static str)> = [
        ("0176 12345678", "DE"),
        ("+49 (0) 176 12345678", "DE"),
        ("0049 176 12345678", "DE"),
        ("004367612345678", "DE"),
        ("0676 1234567", "AT"),
        ("079 123 45 67", "CH"),
        ("0900 3 123456", "DE"),
        ("0800 1234567", "DE"),
        ("0176 1234", "DE"),
        ("+39 06 698 12345", "DE"),
        ("+39 089 123456", "IT"),
        // Paths through libphonenumber that random inputs reach only rarely.
        ("+0049 176 12345678", "DE"),
        ("+00 43 676 1234567", "CH"),
        ("(+49) 176 12345678", "AT"),
        ("0049 (0) 176 12345678", "DE"),
        ("49 176 12345678", "DE"),
        ("4917612345678", "DE"),
        ("43 676 1234567", "AT"),
        ("41 79 123 45 67", "CH"),
        ("1 (212) 555-1234", "US"),
        ("011 49 176 12345678", "US"),
        ("00 1 212 555 1234", "DE"),
        ("12", "DE"),
        ("110", "DE"),
        ("1 2", "DE"),
        ("+49", "DE"),
        ("+49 1", "DE"),
        ("00", "DE"),
        ("0000000", "IT"),
        ("+39 0000", "DE"),
        ("011 15 1234-5678", "AR"),
        ("0 15 11 91234 5678", "BR"),
        ("+800 1234 5678", "DE"),
        ("+882 3456 7890", "DE"),
        ("+44 1481 123456", "DE"),
        ("+1 416 555 0123", "DE"),
        ("+7 727 123 4567", "DE"),
    ]
    .into_iter()
    .map(|(raw, region)| (raw.to_owned(), region))
    .collect();
    while out.len() < CORPUS_SIZE {
        let roll = rng.below(100);
        let entry = if roll < 85 {
            planned_number(&mut rng)
        } else if roll < 95 {
            (random_digits_input(&mut rng), rng.pick(DEFAULT_REGIONS))
        } else {
            (junk_input(&mut rng), rng.pick(DEFAULT_REGIONS))
        };
        out.push(entry);
    }
    out
}

#[derive(serde::Deserialize, Debug)]
struct Oracle {
    e164: Option<String>,
    valid: bool,
    #[serde(rename = "type")]
    kind: String,
}

fn run_oracle(python: &str, corpus: &[(String, &'static str)]) -> Result<Vec<Oracle>, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/numbers.py");
    let mut child = Command::new(python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start python {python:?}: {e}"))?;

    let mut input = String::new();
    for (raw, region) in corpus {
        let line = serde_json::json!({ "raw": raw, "region": region });
        input.push_str(&line.to_string());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().ok_or("no stdin for the oracle")?;
    // Written from a thread so a full stdout pipe cannot deadlock us.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));

    let stdout = child.stdout.take().ok_or("no stdout from the oracle")?;
    let mut answers = Vec::with_capacity(corpus.len());
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading oracle output: {e}"))?;
        let answer: Oracle =
            serde_json::from_str(&line).map_err(|e| format!("bad oracle line {line:?}: {e}"))?;
        answers.push(answer);
    }
    let output = child
        .wait_with_output()
        .map_err(|e| format!("waiting for the oracle: {e}"))?;
    let _ = writer.join();
    if !output.status.success() {
        return Err(format!(
            "oracle exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    if answers.len() != corpus.len() {
        return Err(format!(
            "oracle answered {} of {} inputs",
            answers.len(),
            corpus.len()
        ));
    }
    Ok(answers)
}

#[derive(Default, Debug)]
struct Counts {
    compared: usize,
    accepted: usize,
    invalid: usize,
    premium_rate: usize,
    over_e164: usize,
    toll_free: usize,
    screened_out: usize,
    disagreements: usize,
}

#[test]
fn parse_agrees_with_libphonenumber() {
    if std::env::var("PRAXIS_SKIP_ORACLES").as_deref() == Ok("1") {
        println!("oracle_numbers: skipped (PRAXIS_SKIP_ORACLES=1)");
        return;
    }
    let python = std::env::var("PRAXIS_ORACLE_PYTHON").unwrap_or_else(|_| "python3".into());
    let corpus = corpus();
    let answers = match run_oracle(&python, &corpus) {
        Ok(answers) => answers,
        Err(why) => panic!("libphonenumber oracle unavailable: {why}\n{INSTALL_HINT}"),
    };

    let mut counts = Counts::default();
    let mut reports = Vec::new();
    for ((raw, region), oracle) in corpus.iter().zip(&answers) {
        let region = Region::parse(region).expect("corpus regions are known");
        let ours = PhoneNumber::parse(raw, region);
        let agrees = match &ours {
            Ok(number) => {
                counts.accepted += 1;
                oracle.valid
                    && oracle.e164.as_deref() == Some(number.as_str())
                    && oracle.kind != "PREMIUM_RATE"
                    && oracle.kind != "TOLL_FREE"
            }
            Err(PhoneError::Invalid) => {
                counts.invalid += 1;
                !oracle.valid
            }
            Err(PhoneError::PremiumRate) => {
                counts.premium_rate += 1;
                oracle.valid && oracle.kind == "PREMIUM_RATE"
            }
            Err(PhoneError::TollFree) => {
                counts.toll_free += 1;
                oracle.valid && oracle.kind == "TOLL_FREE"
            }
            // Stricter by design: valid to libphonenumber, but longer than E.164 allows.
            Err(PhoneError::OverE164) => {
                counts.over_e164 += 1;
                oracle.valid && oracle.e164.as_deref().is_some_and(|e| e.len() > 16)
            }
            // Stricter than libphonenumber by design (no letters, no extensions,
            // no odd characters, bounded length): nothing to compare.
            Err(
                PhoneError::Empty
                | PhoneError::TooLong
                | PhoneError::Letters
                | PhoneError::BadCharacters(_)
                | PhoneError::MisplacedPlus,
            ) => {
                counts.screened_out += 1;
                continue;
            }
            Err(PhoneError::UnknownRegion(_)) => false,
        };
        counts.compared += 1;
        if !agrees {
            counts.disagreements += 1;
            reports.push(format!(
                "{raw:?} region {region}: ours {:?}, libphonenumber {oracle:?}",
                ours.as_ref().map(PhoneNumber::as_str)
            ));
        }
    }

    println!("oracle_numbers: {} inputs, {counts:?}", corpus.len());
    for report in reports.iter().take(50) {
        println!("  disagreement: {report}");
    }
    assert!(counts.compared >= 20_000, "corpus compares too little");
    assert!(
        counts.accepted > 5_000 && counts.invalid > 2_000,
        "corpus lost its mix"
    );
    assert!(
        counts.premium_rate > 200 && counts.toll_free > 200,
        "corpus lost its mix"
    );
    assert_eq!(counts.disagreements, 0, "disagreements with libphonenumber");
}
