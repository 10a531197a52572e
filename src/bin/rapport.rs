//! `rapport`: the command line over the core (contract §5). A thin shell: read files and
//! arguments, call the core, print JSON. The clock and the seed are read here, never in the core.

use lexopt::ValueExt;
use rapport::{Bundle, Error, Profile, Request};
use serde_json::Value;
use std::io::{self, BufRead, Write};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

const USAGE: &str = "usage:
  rapport validate CATALOG
  rapport compile CATALOG [-o OUT] [--browser]
  rapport eval                      (stdin: JSON lines {\"rule\",\"data\"})
  rapport decide --catalog C [--profile P] --placement X [--context F] [--now T] [--seed N] [--trace]";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(message) => {
            eprintln!("rapport: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<ExitCode, String> {
    let mut parser = lexopt::Parser::from_env();
    let command = match parser.next().map_err(|e| e.to_string())? {
        Some(lexopt::Arg::Value(v)) => v.string().map_err(|e| e.to_string())?,
        Some(lexopt::Arg::Long("help") | lexopt::Arg::Short('h')) | None => {
            println!("{USAGE}");
            return Ok(ExitCode::SUCCESS);
        }
        Some(other) => return Err(other.unexpected().to_string()),
    };
    let args = Args::parse(parser)?;
    match command.as_str() {
        "validate" => validate(&args),
        "compile" => compile(&args),
        "eval" => eval(),
        "decide" => decide(&args),
        other => Err(format!("unknown command {other}\n{USAGE}")),
    }
}

/// Every option any command takes; each command reads the ones it needs.
#[derive(Default)]
struct Args {
    positional: Vec<String>,
    catalog: Option<String>,
    profile: Option<String>,
    placement: Option<String>,
    context: Option<String>,
    out: Option<String>,
    now: Option<i64>,
    seed: Option<u64>,
    browser: bool,
    trace: bool,
}

impl Args {
    fn parse(mut parser: lexopt::Parser) -> Result<Args, String> {
        use lexopt::prelude::*;
        let mut args = Args::default();
        let text = |p: &mut lexopt::Parser| -> Result<String, String> {
            p.value()
                .map_err(|e| e.to_string())?
                .string()
                .map_err(|e| e.to_string())
        };
        while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
            match arg {
                Long("catalog") => args.catalog = Some(text(&mut parser)?),
                Long("profile") => args.profile = Some(text(&mut parser)?),
                Long("placement") => args.placement = Some(text(&mut parser)?),
                Long("context") => args.context = Some(text(&mut parser)?),
                Short('o') | Long("out") => args.out = Some(text(&mut parser)?),
                Long("now") => {
                    args.now = Some(
                        text(&mut parser)?
                            .parse()
                            .map_err(|_| "--now takes milliseconds")?,
                    )
                }
                Long("seed") => {
                    args.seed = Some(
                        text(&mut parser)?
                            .parse()
                            .map_err(|_| "--seed takes an integer")?,
                    )
                }
                Long("browser") => args.browser = true,
                Long("trace") => args.trace = true,
                Value(v) => args.positional.push(v.string().map_err(|e| e.to_string())?),
                other => return Err(other.unexpected().to_string()),
            }
        }
        Ok(args)
    }

    fn catalog_path(&self) -> Result<&str, String> {
        self.catalog
            .as_deref()
            .or(self.positional.first().map(String::as_str))
            .ok_or_else(|| "missing CATALOG".into())
    }
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

/// Loads a catalog or bundle; on failure prints every error as `pointer: message`.
fn load_bundle(path: &str) -> Result<Result<Bundle, Vec<Error>>, String> {
    Ok(Bundle::from_json(&read(path)?))
}

fn print_errors(errors: &[Error]) -> ExitCode {
    for e in errors {
        println!("{e}");
    }
    ExitCode::from(1)
}

fn validate(args: &Args) -> Result<ExitCode, String> {
    Ok(match load_bundle(args.catalog_path()?)? {
        Ok(bundle) => {
            let c = &bundle.catalog;
            println!(
                "ok: catalog {} version {}: {} placements, {} offers, {} audiences, {} experiments",
                c.catalog,
                bundle.version,
                c.placements.len(),
                c.offers.len(),
                c.audiences.len(),
                c.experiments.len()
            );
            ExitCode::SUCCESS
        }
        Err(errors) => print_errors(&errors),
    })
}

fn compile(args: &Args) -> Result<ExitCode, String> {
    let bundle = match load_bundle(args.catalog_path()?)? {
        Ok(bundle) => bundle,
        Err(errors) => return Ok(print_errors(&errors)),
    };
    let json = bundle.to_json(args.browser);
    match &args.out {
        Some(path) => std::fs::write(path, &json).map_err(|e| format!("{path}: {e}"))?,
        None => println!("{json}"),
    }
    eprintln!("bundle {}: {} bytes", bundle.version, json.len());
    Ok(ExitCode::SUCCESS)
}

fn eval() -> Result<ExitCode, String> {
    let stdin = io::stdin();
    let mut out = io::BufWriter::new(io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| e.to_string())?;
        if line.trim().is_empty() {
            continue;
        }
        writeln!(out, "{}", rapport::rules::eval_line(&line)).map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

fn decide(args: &Args) -> Result<ExitCode, String> {
    let bundle = match load_bundle(args.catalog_path()?)? {
        Ok(bundle) => bundle,
        Err(errors) => return Ok(print_errors(&errors)),
    };
    let profile: Profile = match &args.profile {
        Some(path) => serde_json::from_str(&read(path)?).map_err(|e| format!("{path}: {e}"))?,
        None => Profile::default(),
    };
    let context: Value = match &args.context {
        Some(path) => serde_json::from_str(&read(path)?).map_err(|e| format!("{path}: {e}"))?,
        None => Value::Object(Default::default()),
    };
    let placement = args.placement.as_deref().ok_or("missing --placement")?;
    let clock = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let request = Request {
        placement,
        context: &context,
        now: args.now.unwrap_or(clock.as_millis() as i64),
        seed: args
            .seed
            .unwrap_or(clock.as_nanos() as u64 ^ u64::from(std::process::id())),
        trace: args.trace,
    };
    let decision = rapport::decide(&bundle, &profile, &request);
    println!(
        "{}",
        serde_json::to_string(&decision).map_err(|e| e.to_string())?
    );
    Ok(ExitCode::SUCCESS)
}
