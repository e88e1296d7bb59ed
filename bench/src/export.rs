//! Exports Herald's seeded data as a json-server `db.json` (`posts`, `comments`, `users`),
//! so that json-server and the reference peer serve exactly what Herald serves.

use crate::target::{http_client, Endpoint, Target};
use anyhow::{Context, Result};
use serde_json::{Map, Value};
use std::path::Path;

const RESOURCES: [&str; 3] = ["posts", "comments", "users"];
/// Rows per request: within the server's page cap (1,000 by default).
const PAGE: usize = 500;

/// Reads every record of every resource from `base` and writes them to `out`.
pub async fn run(base: &str, out: &Path) -> Result<()> {
    let endpoint = Endpoint::new(Target::Herald, base)?;
    let http = http_client()?;
    let token = endpoint.token(&http).await?;
    let mut db = Map::new();
    for resource in RESOURCES {
        let mut records = Vec::new();
        loop {
            let start = records.len();
            let url = endpoint.api(&format!(
                "/{resource}?_start={start}&_end={}&_sort=id&_order=asc",
                start + PAGE
            ));
            let res = http
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await?
                .error_for_status()?;
            let page: Vec<Value> = res
                .json()
                .await
                .with_context(|| format!("reading {resource}"))?;
            let last = page.len() < PAGE;
            records.extend(page);
            if last {
                break;
            }
        }
        db.insert(resource.to_owned(), Value::Array(records));
    }
    std::fs::write(out, serde_json::to_string_pretty(&Value::Object(db))?)
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}
