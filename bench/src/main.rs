//! `bench`: Herald's load generator, run as a process separate from the servers it
//! measures (all on loopback addresses).
//!
//! - `fanout`: N live subscribers and W REST writes/s; write→subscriber latency, deliveries/s,
//!   server RSS — against Herald or the socket.io reference peer.
//! - `idle`: N subscribed sockets held open; server RSS per socket.
//! - `rest`: one REST call under `wrk`; requests/s and latency.
//! - `stalled`: sockets that never read while the largest events are written; server RSS
//!   bounded, the reader on the side gets everything.
//! - `soak`: a crowd of subscribers with a tenth of slow readers under steady ~10 KB writes;
//!   server RSS flat, slow readers cut off, probes' latency before and with them, nothing lost.
//! - `coalesce`: refetches of one live list per 1,000-event burst, through the framework.
//! - `bundle`: the hydrate bundle's size, raw and gzip.
//! - `export`: Herald's seeded data as a json-server `db.json`.
//! - `report`: the results file as the Markdown results table.
//! - `port`, `wait`: a free loopback port; wait until a server answers.
//!
//! Every measuring command prints one JSON object on stdout (progress goes to stderr);
//! `scripts/bench.sh` collects them and runs `report`. Every load loop is bounded in count
//! and time.

mod bundle;
mod clock;
mod coalesce;
mod cpu;
mod crowd;
mod export;
mod fanout;
mod idle;
mod live;
mod net;
mod ready;
mod report;
mod rest;
mod rss;
mod soak;
mod stalled;
mod stats;
mod target;
mod writer;

use anyhow::Result;
use clap::{Parser, Subcommand};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(about = "Herald's benchmark load generator")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Live fan-out: latency of every (write, subscriber) pair, deliveries/s, server RSS.
    Fanout(fanout::FanoutArgs),
    /// Idle subscribed sockets: server RSS per socket.
    Idle(idle::IdleArgs),
    /// REST requests/s of one call, with wrk.
    Rest(rest::RestArgs),
    /// Stalled readers: RSS and cut-offs while the largest events are written.
    Stalled(stalled::StalledArgs),
    /// Soak: slow readers among a crowd under steady writes; RSS slope, cut-offs, latency.
    Soak(soak::SoakArgs),
    /// Refetches of one live list per burst of events, through the framework.
    Coalesce(coalesce::CoalesceArgs),
    /// The hydrate bundle's size, raw and gzip.
    Bundle(bundle::BundleArgs),
    /// Export a Herald server's data as a json-server db.json.
    Export {
        #[arg(long)]
        base: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Render the results file as Markdown.
    Report(report::ReportArgs),
    /// Print a free TCP port on 127.0.0.1.
    Port,
    /// Wait until a URL answers (any HTTP status).
    Wait {
        #[arg(long)]
        url: String,
        /// Seconds to wait at most.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Fanout(args) => emit(&fanout::run(&args).await?),
        Command::Idle(args) => emit(&idle::run(&args).await?),
        Command::Rest(args) => emit(&rest::run(&args).await?),
        Command::Coalesce(args) => emit(&coalesce::run(&args).await?),
        Command::Stalled(args) => emit(&stalled::run(&args).await?),
        Command::Soak(args) => emit(&soak::run(&args).await?),
        Command::Bundle(args) => emit(&bundle::run(&args)?),
        Command::Export { base, out } => export::run(&base, &out).await,
        Command::Report(args) => report::run(&args),
        Command::Port => {
            println!("{}", ready::free_port()?);
            Ok(())
        }
        Command::Wait { url, timeout } => {
            ready::wait_for(&url, std::time::Duration::from_secs(timeout)).await
        }
    }
}

/// Prints one result as a JSON line.
fn emit(result: &impl Serialize) -> Result<()> {
    println!("{}", serde_json::to_string(result)?);
    Ok(())
}
