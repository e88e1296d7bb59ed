//! `tasks`: the task board's server. Same configuration as Herald's (`DATABASE_URL`,
//! `HERALD_ADDR`, …; see the README), serving only the API: `/api/tasks`, `/api/users`,
//! `/api/auth/*` and the live channel `/api/live`.

use server::config::Config;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    server::init_tracing("info,sqlx=warn");
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let config = Config::from_env()?;
    let addr = config.addr;
    // No UI: the Leptos options only name the (absent) site.
    let leptos = leptos::config::LeptosOptions::builder()
        .output_name("tasks")
        .build();
    let (router, state) = herald_example_tasks::build(config, leptos).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("task board listening on http://{addr}");
    server::serve(listener, router, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
