//! `sessionkit`: look into sessions from the command line.
//!
//! - `sessionkit decode COOKIE` verifies a sessionkit (or, with `--flask`, a Flask) session
//!   cookie with the app's key and shows what it holds, and whether and why the app would
//!   refuse it.
//! - `sessionkit sessions list|revoke --store URL OWNER` lists or logs out an owner's sessions.
//! - `sessionkit sweep --store URL` deletes the expired records of a store that keeps them.
//! - `sessionkit move --from URL --to URL` moves every live session to another store (files in
//!   development to Redis in production, one Redis to another): same keys, so every cookie
//!   keeps working with the same key and namespace.
//!
//! The key comes from an environment variable (`SESSION_SECRET` by default), read as the app
//! reads it (`Key::from_env`), so it never appears in the shell's history.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};
use serde::{Deserialize, Serialize};
use sessionkit::inspect::{inspect, Contents, Inspected};
use sessionkit::{Key, Keyring, SessionConfig, SessionSchema};

#[derive(Parser)]
#[command(name = "sessionkit", version, about = "Look into sessionkit sessions")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify a session cookie and show what it holds, and whether and why it would be refused.
    Decode(Decode),
    /// List or revoke an owner's sessions in a store.
    #[command(subcommand)]
    Sessions(Sessions),
    /// Delete the expired records of a store (SQL, files, memory; Redis and memcached expire
    /// their own).
    Sweep {
        /// The store, as `sessionkit_redis::connect` takes it (Redis and every built-in store).
        #[arg(long)]
        store: String,
    },
    /// Move every live session from one store to another: each record is created in the
    /// target, then deleted from the source. A session the target already holds is left in
    /// both and counted. Stop the apps' writes (or use `migrate_from`) while it runs.
    Move {
        /// The store sessions leave, as `sessionkit_redis::connect` takes it (Redis and every built-in store).
        #[arg(long)]
        from: String,
        /// The store sessions go to.
        #[arg(long)]
        to: String,
    },
}

#[derive(clap::Args)]
struct Decode {
    /// The cookie's value (or `name=value`, as a browser's developer tools copy it).
    cookie: String,
    /// A Flask session cookie (itsdangerous, Flask's `secret_key`).
    #[arg(long)]
    flask: bool,
    /// The environment variable holding the key (Flask: the `secret_key` text).
    #[arg(long, default_value = "SESSION_SECRET")]
    key_env: String,
    /// Another environment variable holding a fallback key (key rotation).
    #[arg(long)]
    fallback_key_env: Option<String>,
    /// The cookie's name, which its signature covers.
    #[arg(long, default_value = "session")]
    name: String,
    /// The store namespace (the cookie name unless the app sets one), to name a
    /// server-side session's record.
    #[arg(long)]
    namespace: Option<String>,
    /// The app's schema version (`#[session(version = N)]`).
    #[arg(long, default_value_t = 0)]
    schema: u32,
    /// The app's absolute lifetime, in seconds (Flask: `PERMANENT_SESSION_LIFETIME`).
    #[arg(long, default_value_t = 31 * 24 * 3600)]
    lifetime: u64,
    /// The app's idle timeout, in seconds, if it has one.
    #[arg(long)]
    idle: Option<u64>,
    /// The time to judge at, in Unix seconds (now by default).
    #[arg(long)]
    now: Option<u64>,
}

#[derive(Subcommand)]
enum Sessions {
    /// The owner's live sessions: public id, created, expires, last active.
    List(OwnerArgs),
    /// Log the owner out everywhere: delete every session of theirs.
    Revoke(OwnerArgs),
}

#[derive(clap::Args)]
struct OwnerArgs {
    /// The owner's id (the field marked `#[session(owner)]`).
    owner: String,
    /// The store, as `sessionkit_redis::connect` takes it (Redis and every built-in store).
    #[arg(long)]
    store: String,
    /// The app's store namespace (its cookie name unless it sets one).
    #[arg(long, default_value = "session")]
    namespace: String,
}

/// Any session, as JSON: the admin commands never read a session's fields.
#[derive(Serialize, Deserialize, Default)]
#[serde(transparent)]
struct AnySession(serde_json::Map<String, serde_json::Value>);

impl SessionSchema for AnySession {
    const FIELDS: &'static [&'static str] = &[];
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode(args) => decode(&args),
        Command::Sessions(Sessions::List(args)) => list(&args).await,
        Command::Sessions(Sessions::Revoke(args)) => revoke(&args).await,
        Command::Sweep { store } => sweep(&store).await,
        Command::Move { from, to } => move_sessions(&from, &to).await,
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("sessionkit: {message}");
            ExitCode::from(2)
        }
    }
}

fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The cookie value alone, from `value` or `name=value`.
fn value_of<'a>(cookie: &'a str, name: &str) -> &'a str {
    let cookie = cookie.trim();
    cookie
        .strip_prefix(name)
        .and_then(|rest| rest.strip_prefix('='))
        .unwrap_or(cookie)
}

/// Prints what the cookie holds; exit 0 when the app would accept it, 1 when it would refuse
/// it (the reason on the last line).
fn decode(args: &Decode) -> Result<ExitCode, String> {
    let now = args.now.unwrap_or_else(|| unix(SystemTime::now()));
    let value = value_of(&args.cookie, &args.name);
    if args.flask {
        return decode_flask(args, value, now);
    }
    let key = Key::from_env(&args.key_env).map_err(|e| e.to_string())?;
    let mut keys = Keyring::new(key);
    if let Some(var) = &args.fallback_key_env {
        keys = keys.with_fallback(Key::from_env(var).map_err(|e| e.to_string())?);
    }
    let namespace = args.namespace.as_deref().unwrap_or(&args.name);
    let inspected = match inspect(&keys, &args.name, namespace, value) {
        Ok(inspected) => inspected,
        Err(reason) => return Ok(refused(&reason.to_string())),
    };
    let (created, issued) = (unix(inspected.created_at), unix(inspected.issued_at));
    show(&inspected, created, issued)?;
    if inspected.schema_version != args.schema {
        return Ok(refused(&format!(
            "schema version {} where the app expects {}",
            inspected.schema_version, args.schema
        )));
    }
    if created.saturating_add(args.lifetime) <= now {
        return Ok(refused(&format!(
            "expired: created {}s ago, lifetime {}s",
            now.saturating_sub(created),
            args.lifetime
        )));
    }
    if let Some(idle) = args.idle {
        if issued.saturating_add(idle) <= now {
            return Ok(refused(&format!(
                "expired: idle {}s, idle timeout {idle}s",
                now.saturating_sub(issued)
            )));
        }
    }
    println!("verdict: accepted");
    Ok(ExitCode::SUCCESS)
}

/// Prints the header and contents of an opened cookie.
fn show(inspected: &Inspected, created: u64, issued: u64) -> Result<(), String> {
    println!(
        "format: {}",
        if inspected.encrypted {
            "encrypted"
        } else {
            "signed"
        }
    );
    println!("schema version: {}", inspected.schema_version);
    println!("created at: {created}");
    println!("issued at: {issued}");
    println!("permanent: {}", inspected.permanent);
    if inspected.by_fallback_key {
        println!("key: a fallback key (the app rewrites it with the current key)");
    }
    match &inspected.contents {
        Contents::Data(json) => {
            let pretty = serde_json::to_string_pretty(json).map_err(|e| e.to_string())?;
            println!("data: {pretty}");
        }
        Contents::Stored { public_id } => {
            println!("stored: the data is in the store, record {public_id}");
        }
        _ => println!("data: (a form this tool does not know)"),
    }
    Ok(())
}

fn refused(reason: &str) -> ExitCode {
    println!("verdict: refused: {reason}");
    ExitCode::from(1)
}

fn decode_flask(args: &Decode, value: &str, now: u64) -> Result<ExitCode, String> {
    let secret = std::env::var(&args.key_env).map_err(|_| {
        format!(
            "{} is not set: export the app's secret_key there",
            args.key_env
        )
    })?;
    let codec = sessionkit::flask::FlaskCodec::new(secret).map_err(|e| e.to_string())?;
    match codec.decode(value, now, args.lifetime) {
        Ok(session) => {
            println!("format: flask");
            println!("issued at: {}", session.timestamp);
            println!("permanent: {}", session.permanent());
            let pretty = serde_json::to_string_pretty(&session.data).map_err(|e| e.to_string())?;
            println!("data: {pretty}");
            println!("verdict: accepted");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(refused(&error.to_string())),
    }
}

/// A configuration over the store at `url` for the admin commands: they sign no cookie, so
/// its key is a random one.
async fn admin(url: &str, namespace: &str) -> Result<SessionConfig<AnySession>, String> {
    let store = sessionkit_redis::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    let mut random = [0u8; 32];
    let time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    // Not a secret: it signs nothing that leaves this process.
    random[..16].copy_from_slice(&time.as_nanos().to_le_bytes());
    SessionConfig::builder()
        .key(Key::from_bytes(random).map_err(|e| e.to_string())?)
        .store(store)
        .namespace(namespace)
        .build()
        .map_err(|e| e.to_string())
}

async fn list(args: &OwnerArgs) -> Result<ExitCode, String> {
    let config = admin(&args.store, &args.namespace).await?;
    let sessions = config
        .list_owner(&args.owner, SystemTime::now())
        .await
        .map_err(|e| e.to_string())?;
    println!("{} session(s) of {}", sessions.len(), args.owner);
    for session in sessions {
        let last = session
            .last_active
            .map_or_else(|| "-".to_owned(), |t| unix(t).to_string());
        println!(
            "{} created {} expires {} last active {last}",
            session.id,
            unix(session.created_at),
            unix(session.expires_at)
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn revoke(args: &OwnerArgs) -> Result<ExitCode, String> {
    let config = admin(&args.store, &args.namespace).await?;
    let removed = config
        .revoke_owner(&args.owner, None)
        .await
        .map_err(|e| e.to_string())?;
    println!("revoked {removed} session(s) of {}", args.owner);
    Ok(ExitCode::SUCCESS)
}

/// Pages through `from` and moves each live record to `to`.
async fn move_sessions(from: &str, to: &str) -> Result<ExitCode, String> {
    use sessionkit::store::{Created, ScanCursor};
    use sessionkit::SessionStore as _;
    use sessionkit_redis::connect;
    let source = connect(from).await.map_err(|e| format!("--from: {e}"))?;
    let target = connect(to).await.map_err(|e| format!("--to: {e}"))?;
    let (mut moved, mut kept) = (0_usize, 0_usize);
    let mut cursor = ScanCursor::start();
    loop {
        let now = unix_ms(SystemTime::now());
        let page = source
            .scan(&cursor, 500, now)
            .await
            .map_err(|e| format!("--from: {e}"))?;
        for (key, record) in &page.records {
            match target
                .create(key, record, now)
                .await
                .map_err(|e| format!("--to: {e}"))?
            {
                Created::Ok => {
                    source
                        .delete(key)
                        .await
                        .map_err(|e| format!("--from: {e}"))?;
                    moved += 1;
                }
                Created::Collision => kept += 1,
            }
        }
        match page.next {
            Some(next) => cursor = next,
            None => break,
        }
    }
    println!("moved {moved} session(s)");
    if kept > 0 {
        println!("left {kept} session(s) the target already held in both stores");
    }
    Ok(ExitCode::SUCCESS)
}

fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

async fn sweep(url: &str) -> Result<ExitCode, String> {
    let config = admin(url, "session").await?;
    let removed = config
        .sweep(SystemTime::now())
        .await
        .map_err(|e| e.to_string())?;
    println!("deleted {removed} expired record(s)");
    Ok(ExitCode::SUCCESS)
}
