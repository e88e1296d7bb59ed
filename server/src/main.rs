//! The `server` binary: `server` (or `server serve`) runs Herald; `server token` mints a
//! bearer token for a user straight from the database, for operators and scripts.

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
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve().await,
        Command::Token { user } => token(&user).await,
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
    let (router, _state) = server::build(config, leptos_options).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("Herald listening on http://{addr}");
    server::serve(listener, router, shutdown_signal()).await?;
    Ok(())
}

async fn token(user: &str) -> Result<(), AnyError> {
    let config = Config::from_env()?;
    let store = store::open::open(&config.database_url, config.seed).await?;
    let (identity, _) = server::auth::session::find_user(&store, user)
        .await?
        .ok_or_else(|| format!("no user named '{user}'"))?;
    let secret = server::auth::session::create(&store, identity.id, server::auth::session::Kind::Token, config.token_ttl).await?;
    println!("{secret}");
    Ok(())
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
