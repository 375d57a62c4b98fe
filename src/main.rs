//! The `kith` command line: serve (the default), migrate, print-schema, seed, and the
//! moderators' `reports` and `ban`.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc rather than the system's: glibc's malloc spent a quarter of the CPU of a busy
/// server, and kept the memory of a burst long after it (it returns freed pages to the
/// system far less readily).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use kith::config::Config;

#[derive(Parser)]
#[command(
    name = "kith",
    version,
    about = "The GraphQL backend for in-person communities"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default). Migrations are applied first.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) to standard output.
    PrintSchema,
    /// Write data: `--demo` for a newcomer, `--synthetic` for benchmarks.
    Seed(SeedArgs),
    /// List the open reports of members, oldest first (with the text of a comment or message
    /// reported, as it was).
    Reports,
    /// Ban a member (by their ID as the API shows it): their meetings stop counting for
    /// anyone's trust, their comments are deleted (keeping their place) and their
    /// conversations go with every message in them, and the reports about them are closed.
    Ban {
        /// The member's ID.
        user_id: String,
    },
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("kind").required(true).args(["demo", "synthetic"])))]
struct SeedArgs {
    /// A small, believable data set: members (password `demo-password`) and groups in
    /// several cities. Running it twice changes nothing.
    #[arg(long)]
    demo: bool,
    /// Deterministic data at scale: groups clustered in cities and spread over the countryside.
    #[arg(long)]
    synthetic: bool,
    /// How many groups (with --synthetic).
    #[arg(long, default_value_t = 10_000)]
    groups: u64,
    /// How many members (with --synthetic).
    #[arg(long, default_value_t = 1_000)]
    users: u64,
    /// How many events (with --synthetic), in random groups, starting within 90 days.
    #[arg(long, default_value_t = 0)]
    events: u64,
    /// The random seed (with --synthetic): the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// One clear line, and a non-zero exit code.
fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("kith: {message}");
    ExitCode::FAILURE
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::PrintSchema) = cli.command {
        print!("{}", kith::graphql::sdl());
        return ExitCode::SUCCESS;
    }
    init_logging();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => return fail(err),
    };
    match cli.command {
        Some(Command::Seed(args)) => seed(config, args).await,
        Some(Command::Reports) => moderation(config, None).await,
        Some(Command::Ban { user_id }) => moderation(config, Some(user_id)).await,
        Some(Command::Migrate) => match kith::db::connect(&config.database_url).await {
            Ok(db) => match kith::db::migrate(&db).await {
                Ok(()) => {
                    tracing::info!("migrations applied");
                    ExitCode::SUCCESS
                }
                Err(err) => fail(format!("DATABASE_URL: migrations failed: {err}")),
            },
            Err(err) => fail(format!("DATABASE_URL: cannot open the database: {err}")),
        },
        _ => serve(config).await,
    }
}

async fn seed(config: Config, args: SeedArgs) -> ExitCode {
    let db = match kith::db::connect(&config.database_url).await {
        Ok(db) => db,
        Err(err) => return fail(format!("DATABASE_URL: cannot open the database: {err}")),
    };
    if let Err(err) = kith::db::migrate(&db).await {
        return fail(format!("DATABASE_URL: migrations failed: {err}"));
    }
    let started = std::time::Instant::now();
    let result = if args.demo {
        kith::seed::demo::run(&db).await
    } else {
        let options = kith::seed::synthetic::Options {
            groups: args.groups,
            users: args.users,
            events: args.events,
            seed: args.seed,
        };
        kith::seed::synthetic::run(&db, &options).await
    };
    match result {
        Ok(()) => {
            tracing::info!("seeded in {:.1?}", started.elapsed());
            ExitCode::SUCCESS
        }
        Err(err) => fail(format!("seed failed: {err:#}")),
    }
}

/// Lists open reports, or bans `ban`.
async fn moderation(config: Config, ban: Option<String>) -> ExitCode {
    use kith::domain::{accounts, reports};
    use kith::graphql::ids::{self, Kind};
    let db = match kith::db::connect(&config.database_url).await {
        Ok(db) => db,
        Err(err) => return fail(format!("DATABASE_URL: cannot open the database: {err}")),
    };
    if let Err(err) = kith::db::migrate(&db).await {
        return fail(format!("DATABASE_URL: migrations failed: {err}"));
    }
    if let Some(id) = ban {
        let Some((Kind::User, user_id)) = ids::decode_any(&id) else {
            return fail(format!("{id} is not a member's ID"));
        };
        let outlets = match outlets(&config, &db) {
            Ok(outlets) => outlets,
            Err(err) => return fail(format!("{err:#}")),
        };
        // With PostgreSQL the running servers hear of it and close the member's WebSockets;
        // with SQLite they close when their tokens expire.
        return match reports::ban(&db, user_id, chrono::Utc::now()).await {
            Ok(banned) => match outlets.deliver_now(banned).await {
                true => {
                    println!("banned {id}");
                    ExitCode::SUCCESS
                }
                false => fail(format!("no member {id}")),
            },
            Err(err) => fail(format!("{:#}", err.into_anyhow())),
        };
    }
    let open = match reports::open(&db).await {
        Ok(open) => open,
        Err(err) => return fail(format!("{:#}", err.into_anyhow())),
    };
    let mut people = Vec::new();
    for r in &open {
        people.push(r.reporter_id);
        people.push(r.reported_id);
    }
    let names: std::collections::HashMap<_, _> = match accounts::find_many(&db, &people).await {
        Ok(users) => users.into_iter().map(|u| (u.id, u.display_name)).collect(),
        Err(err) => return fail(format!("{:#}", err.into_anyhow())),
    };
    let who = |id| {
        format!(
            "{} ({})",
            names.get(&id).map_or("?", String::as_str),
            ids::encode(Kind::User, id).0
        )
    };
    println!("{} open report(s)", open.len());
    for r in open {
        let event = r
            .event_id
            .map(|e| format!(" at event {}", ids::encode(Kind::Event, e).0))
            .unwrap_or_default();
        println!(
            "{}  {} reported by {}{}: {}",
            r.created_at.format("%Y-%m-%d %H:%M UTC"),
            who(r.reported_id),
            who(r.reporter_id),
            event,
            r.reason.replace('\n', " ")
        );
        // What they wrote, as it was when reported: the comment or message may be gone.
        let about = match (r.comment_id, r.message_id) {
            (Some(c), _) => Some(format!("comment {}", ids::encode(Kind::Comment, c).0)),
            (None, Some(m)) => Some(format!("message {}", ids::encode(Kind::Message, m).0)),
            (None, None) => None,
        };
        if let Some(about) = about {
            println!(
                "    {about} said: \"{}\"",
                r.quoted.as_deref().unwrap_or_default().replace('\n', " ")
            );
        }
    }
    ExitCode::SUCCESS
}

/// Where the effects of a change made from the command line go.
fn outlets(
    config: &Config,
    db: &sea_orm::DatabaseConnection,
) -> anyhow::Result<kith::effects::Outlets> {
    Ok(kith::effects::Outlets {
        db: db.clone(),
        bus: kith::live::Bus::new(db.clone()),
        mailer: kith::notify::Mailer::new(&config.mail, &config.mail_from)?,
        push: kith::notify::push::Providers::from_config(config)?,
    })
}

async fn serve(config: Config) -> ExitCode {
    if config.jwt_secret_generated {
        tracing::warn!(
            "KITH_JWT_SECRET is not set: using a random secret for this run (development only); \
             tokens will not survive a restart"
        );
    }
    let listen = config.listen;
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(listener) => listener,
        Err(err) => return fail(format!("KITH_LISTEN: cannot listen on {listen}: {err}")),
    };
    // Before anything answers: a SIGTERM from then on is a clean stop.
    let shutdown = kith::shutdown_signal();
    let app = match kith::start(config).await {
        Ok(app) => app,
        Err(err) => return fail(format!("{err:#}")),
    };
    let address = listener.local_addr().map_or(listen, |a| a);
    tracing::info!("listening on http://{address}");
    match kith::serve(app, listener, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(format!("{err:#}")),
    }
}
