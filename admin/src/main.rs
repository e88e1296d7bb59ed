//! The `server` binary: `server` (or `server serve`) runs Herald; `server token` mints a
//! bearer token for a user straight from the database, for operators and scripts.

// Release builds lay out the admin UI's deeply nested view types here too.
#![recursion_limit = "256"]
use clap::{Parser, Subcommand};
use server::config::Config;
use server::store;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "server", about = "Herald: live admin data server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the admin app (the default).
    Serve,
    /// Print a new bearer token for a user (for curl and other non-browser clients).
    Token {
        /// The user's name.
        #[arg(long)]
        user: String,
    },
    /// Live channel tools.
    Live {
        #[command(subcommand)]
        command: LiveCommand,
    },
}

#[derive(Subcommand)]
enum LiveCommand {
    /// Print live events as JSON lines.
    Tail {
        /// Channels to follow (repeatable).
        #[arg(long = "channel", default_value = "resources/posts")]
        channels: Vec<String>,
        /// Replay events after this cursor first.
        #[arg(long)]
        since: Option<String>,
        /// The live endpoint.
        #[arg(long, default_value = "ws://127.0.0.1:3000/api/live")]
        url: String,
        /// Bearer token; without it, one is minted for --user from DATABASE_URL.
        #[arg(long, env = "HERALD_TOKEN")]
        token: Option<String>,
        /// User to mint a token for when --token is absent.
        #[arg(long, default_value = "alice")]
        user: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    server::init_tracing("info,sqlx=warn,tower_http=warn");
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve().await,
        Command::Token { user } => token(&user).await.map(|t| println!("{t}")),
        Command::Live {
            command:
                LiveCommand::Tail {
                    channels,
                    since,
                    url,
                    token: given,
                    user,
                },
        } => tail(given, &user, url, channels, since).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type AnyError = Box<dyn std::error::Error + Send + Sync>;

async fn serve() -> Result<(), AnyError> {
    let config = Config::from_env()?;
    let leptos_options = leptos::config::get_configuration(None)?.leptos_options;
    let addr = config.addr;
    let (router, state) = admin::build(config, leptos_options).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("Herald listening on http://{addr}");
    server::serve(listener, router, state, shutdown_signal()).await?;
    Ok(())
}

async fn token(user: &str) -> Result<String, AnyError> {
    let config = Config::from_env()?;
    let store = store::open::open(&config.database_url, admin::SCHEMA, config.seed).await?;
    let (identity, _) = server::auth::session::find_user(&store, user)
        .await?
        .ok_or_else(|| format!("no user named '{user}'"))?;
    Ok(server::auth::session::create(
        &store,
        identity.id,
        server::auth::session::Kind::Token,
        config.token_ttl,
    )
    .await?)
}

async fn tail(
    given: Option<String>,
    user: &str,
    url: String,
    channels: Vec<String>,
    since: Option<String>,
) -> Result<(), AnyError> {
    let token = match given {
        Some(t) => t,
        None => token(user).await?,
    };
    let opts = server::tail::TailOptions {
        url,
        token,
        channels,
        since,
    };
    Ok(server::tail::tail(&opts, std::io::stdout().lock()).await?)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
