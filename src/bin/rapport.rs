//! `rapport`: the command line over the core (contract §5). A thin shell: read files and
//! arguments, call the core, print JSON. The clock and the seed are read here, never in the core.

use lexopt::ValueExt;
use rapport::json::Value;
use rapport::{Bundle, Error, Profile, Request};
use std::io::{self, BufRead, Read, Write};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

const USAGE: &str = "usage:
  rapport validate CATALOG
  rapport compile CATALOG [-o OUT] [--browser]
  rapport eval                      (stdin: JSON lines {\"rule\",\"data\"})
  rapport decide --catalog C [--profile P] --placement X [--context F] [--now T] [--seed N] [--trace]
  rapport simulate --catalog C [--profile-id ID] [--trace]   (stdin: journey lines)
  rapport profile apply --catalog C --replica R [--profile P] [--profile-id ID]   (stdin: events)
  rapport profile merge P...
  rapport profile view --catalog C --now T P
  rapport schema                    (the catalog's JSON Schema)";

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
        "simulate" => simulate(&args),
        "schema" => {
            let schema = rapport::catalog::shape::json_schema();
            println!("{}", serde_json::to_string_pretty(&schema).map_err(|e| e.to_string())?);
            Ok(ExitCode::SUCCESS)
        }
        "profile" => match args.positional.first().map(String::as_str) {
            Some("apply") => profile_apply(&args),
            Some("merge") => profile_merge(&args),
            Some("view") => profile_view(&args),
            _ => Err(format!("profile takes apply, merge or view\n{USAGE}")),
        },
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
    replica: Option<String>,
    profile_id: Option<String>,
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
            p.value().map_err(|e| e.to_string())?.string().map_err(|e| e.to_string())
        };
        while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
            match arg {
                Long("catalog") => args.catalog = Some(text(&mut parser)?),
                Long("profile") => args.profile = Some(text(&mut parser)?),
                Long("placement") => args.placement = Some(text(&mut parser)?),
                Long("context") => args.context = Some(text(&mut parser)?),
                Long("replica") => args.replica = Some(text(&mut parser)?),
                Long("profile-id") => args.profile_id = Some(text(&mut parser)?),
                Short('o') | Long("out") => args.out = Some(text(&mut parser)?),
                Long("now") => {
                    args.now = Some(text(&mut parser)?.parse().map_err(|_| "--now takes milliseconds")?)
                }
                Long("seed") => {
                    args.seed = Some(text(&mut parser)?.parse().map_err(|_| "--seed takes an integer")?)
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
    // The browser's bundle is format 2, what the SDK reads (`Bundle::from_compiled`).
    let (version, json) = match args.browser {
        true => match bundle.export_compiled() {
            Ok(exported) => exported,
            Err(errors) => return Ok(print_errors(&errors)),
        },
        false => (bundle.version.clone(), bundle.to_json(false)),
    };
    match &args.out {
        Some(path) => std::fs::write(path, &json).map_err(|e| format!("{path}: {e}"))?,
        None => println!("{json}"),
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(json.as_bytes()).map_err(|e| e.to_string())?;
    let gzipped = gz.finish().map_err(|e| e.to_string())?.len();
    let which = if args.browser { "browser bundle" } else { "bundle" };
    eprintln!("{which} {version}: {} bytes, {gzipped} bytes gzipped", json.len());
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
    let mut profile = match &args.profile {
        Some(path) => read_fragment(path)?,
        None => Profile::new("cli", "visitor"),
    };
    let context: Value = match &args.context {
        Some(path) => rapport::json::parse(&read(path)?).map_err(|e| format!("{path}: {e}"))?,
        None => Value::Object(Default::default()),
    };
    let placement = args.placement.as_deref().ok_or("missing --placement")?;
    let clock = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let request = Request {
        placement,
        context: &context,
        now: args.now.unwrap_or(clock.as_millis() as i64),
        seed: args.seed.unwrap_or(clock.as_nanos() as u64 ^ u64::from(std::process::id())),
        trace: args.trace,
    };
    let decision = rapport::decide(&bundle, &mut profile, &request);
    println!("{}", decision.to_json());
    Ok(ExitCode::SUCCESS)
}

fn read_fragment(path: &str) -> Result<Profile, String> {
    Profile::from_json(&read(path)?).map_err(|e| format!("{path}: {e}"))
}

fn lines() -> impl Iterator<Item = Result<(usize, String), String>> {
    io::stdin()
        .lock()
        .lines()
        .enumerate()
        .map(|(i, l)| l.map(|l| (i + 1, l)).map_err(|e| e.to_string()))
        .filter(|l| !matches!(l, Ok((_, text)) if text.trim().is_empty()))
}

fn profile_apply(args: &Args) -> Result<ExitCode, String> {
    let bundle = match load_bundle(args.catalog_path()?)? {
        Ok(bundle) => bundle,
        Err(errors) => return Ok(print_errors(&errors)),
    };
    let replica = args.replica.as_deref().ok_or("missing --replica")?;
    let mut fragment = match &args.profile {
        Some(path) => read_fragment(path)?,
        None => Profile::new(replica, args.profile_id.as_deref().unwrap_or("visitor")),
    };
    fragment.replica = replica.to_owned();
    let mut failed = false;
    for line in lines() {
        let (n, text) = line?;
        let applied = rapport::json::parse(&text)
            .map_err(|e| Error::new(rapport::ErrorKind::Parse, "", format!("not JSON: {e}")))
            .and_then(|v| rapport::simulate::event_with_id(&v));
        match applied {
            Ok(event) => {
                if let rapport::profile::Outcome::Dropped(reason) = fragment.apply(&bundle.schema, &event) {
                    eprintln!("line {n}: dropped: {reason}");
                }
            }
            Err(e) => {
                failed = true;
                eprintln!("line {n}: {e}");
            }
        }
    }
    println!("{}", fragment.to_json());
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn profile_merge(args: &Args) -> Result<ExitCode, String> {
    let mut paths = args.positional.iter().skip(1);
    let first = paths.next().ok_or("profile merge takes one or more fragments")?;
    let mut merged = read_fragment(first)?;
    for path in paths {
        merged.merge(&read_fragment(path)?);
    }
    println!("{}", merged.to_json());
    Ok(ExitCode::SUCCESS)
}

fn profile_view(args: &Args) -> Result<ExitCode, String> {
    let bundle = match load_bundle(args.catalog.as_deref().ok_or("missing --catalog")?)? {
        Ok(bundle) => bundle,
        Err(errors) => return Ok(print_errors(&errors)),
    };
    let path = args.positional.get(1).ok_or("missing the profile to view")?;
    let now = args.now.ok_or("missing --now")?;
    let view = bundle.view(&read_fragment(path)?, now);
    println!("{}", view.to_json());
    Ok(ExitCode::SUCCESS)
}

/// Replays a journey: events are applied, `decide` lines print a decision, `profile` lines a view.
fn simulate(args: &Args) -> Result<ExitCode, String> {
    let bundle = match load_bundle(args.catalog.as_deref().ok_or("missing --catalog")?)? {
        Ok(bundle) => bundle,
        Err(errors) => return Ok(print_errors(&errors)),
    };
    let mut journey = String::new();
    io::stdin().read_to_string(&mut journey).map_err(|e| e.to_string())?;
    let profile_id = args.profile_id.as_deref().unwrap_or("visitor");
    let replay = rapport::simulate::replay(&bundle, profile_id, &journey, args.trace);
    let mut out = io::BufWriter::new(io::stdout().lock());
    for line in &replay.outputs {
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    for error in &replay.errors {
        eprintln!("{error}");
    }
    Ok(if replay.failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
