//! The coalescing benchmark: how many refetches one live list costs under a burst of
//! 1,000 events, through Herald's own framework (query cache + live query + live client)
//! with the in-memory providers, the data provider answering after a REST-like delay.
//! Each burst is measured with the cache as the app configures it (paced) and without
//! pacing, and both against Refine's one refetch per event.

use anyhow::Result;
use clap::Args;
use herald_framework::cache::{Pacing, QueryCache, QueryKey};
use herald_framework::data::{BoxFuture, DataProvider, DataResult, ListResult, Record};
use herald_framework::live::memory::{Loopback, MemoryLiveProvider};
use herald_framework::live::SharedLiveProvider;
use herald_framework::live_query::{LiveMode, LiveQuery, LiveQueryOptions};
use herald_framework::memory::MemoryDataProvider;
use herald_framework::query::ListParams;
use herald_framework::Id;
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `bench coalesce`.
#[derive(Debug, Clone, Args)]
pub struct CoalesceArgs {
    /// Events per burst.
    #[arg(long, default_value_t = 1000)]
    pub events: usize,
    /// How long the data provider takes to answer, in milliseconds (a REST round trip).
    #[arg(long, default_value_t = 5)]
    pub fetch_ms: u64,
}

#[derive(Debug, Serialize)]
pub struct CoalesceResult {
    pub kind: &'static str,
    pub events: usize,
    pub fetch_ms: u64,
    pub bursts: Vec<Burst>,
}

#[derive(Debug, Serialize)]
pub struct Burst {
    pub name: String,
    /// How long the events took to arrive.
    pub span_ms: f64,
    pub refetches_paced: u64,
    pub refetches_unpaced: u64,
    /// Refine refetches a live list once per event.
    pub refetches_refine: usize,
}

/// Answers like `MemoryDataProvider`, after a delay.
struct Slow {
    inner: MemoryDataProvider,
    delay: Duration,
}

impl Slow {
    fn later<T: Send + 'static>(&self, f: BoxFuture<DataResult<T>>) -> BoxFuture<DataResult<T>> {
        let delay = self.delay;
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            f.await
        })
    }
}

impl DataProvider for Slow {
    fn get_list(&self, resource: &str, params: ListParams) -> BoxFuture<DataResult<ListResult>> {
        self.later(self.inner.get_list(resource, params))
    }
    fn get_many(&self, resource: &str, ids: Vec<Id>) -> BoxFuture<DataResult<Vec<Record>>> {
        self.later(self.inner.get_many(resource, ids))
    }
    fn get_one(&self, resource: &str, id: Id) -> BoxFuture<DataResult<Record>> {
        self.later(self.inner.get_one(resource, id))
    }
    fn create(&self, resource: &str, data: Record) -> BoxFuture<DataResult<Record>> {
        self.later(self.inner.create(resource, data))
    }
    fn update(&self, resource: &str, id: Id, data: Record) -> BoxFuture<DataResult<Record>> {
        self.later(self.inner.update(resource, id, data))
    }
    fn delete_one(&self, resource: &str, id: Id) -> BoxFuture<DataResult<Record>> {
        self.later(self.inner.delete_one(resource, id))
    }
}

/// Bursts: all at once, and spread over 100 ms and 500 ms (a bulk import as the server
/// commits it).
const SPREADS_MS: [u64; 3] = [0, 100, 500];
/// Long enough for every fetch and quiet spell to end.
const SETTLE: Duration = Duration::from_millis(1500);

pub async fn run(args: &CoalesceArgs) -> Result<CoalesceResult> {
    let mut bursts = Vec::new();
    for spread in SPREADS_MS {
        let paced = burst(args, spread, true).await;
        let unpaced = burst(args, spread, false).await;
        bursts.push(Burst {
            name: if spread == 0 {
                "all at once".to_owned()
            } else {
                format!("over {spread} ms")
            },
            span_ms: paced.1.max(unpaced.1),
            refetches_paced: paced.0,
            refetches_unpaced: unpaced.0,
            refetches_refine: args.events,
        });
    }
    Ok(CoalesceResult {
        kind: "coalesce",
        events: args.events,
        fetch_ms: args.fetch_ms,
        bursts,
    })
}

/// One burst against one live list: (refetches, milliseconds the events took).
async fn burst(args: &CoalesceArgs, spread_ms: u64, paced: bool) -> (u64, f64) {
    let posts = (1..=20)
        .map(|i| json!({"id": i, "title": format!("post {i}"), "version": 1}))
        .collect();
    let provider = Arc::new(Slow {
        inner: MemoryDataProvider::default().with("posts", posts),
        delay: Duration::from_millis(args.fetch_ms),
    });
    let mut cache = QueryCache::new(provider, Arc::new(|f| drop(tokio::spawn(f))));
    if paced {
        cache = cache.with_pacing(Pacing::new(Arc::new(|d| Box::pin(tokio::time::sleep(d)))));
    }
    let (client, server): (SharedLiveProvider, Arc<Loopback>) = {
        let (client, server) = MemoryLiveProvider::pair();
        (client, server)
    };
    let key = QueryKey::list("posts", ListParams::default().page(1, 10));
    let _ = cache.load(&key).await;
    let options = LiveQueryOptions {
        mode: LiveMode::Auto,
        ..Default::default()
    };
    let _query = LiveQuery::start(&cache, Some(&client), key, options, None);
    tokio::time::sleep(SETTLE).await;
    let before = cache.fetch_count();
    let started = Instant::now();
    let pause_every = (args.events / 50).max(1);
    for i in 0..args.events {
        server.emit(
            "resources/posts",
            "updated",
            json!({"ids": [(i % 20 + 1).to_string()]}),
            None,
        );
        if spread_ms > 0 && i % pause_every == 0 {
            tokio::time::sleep(Duration::from_millis(spread_ms / 50)).await;
        }
    }
    let span = started.elapsed().as_secs_f64() * 1000.0;
    tokio::time::sleep(SETTLE).await;
    (cache.fetch_count() - before, span)
}
