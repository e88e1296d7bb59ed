//! Exports Herald's seeded data as a json-server `db.json` (`posts`, `comments`, `users`),
//! so that json-server and the reference peer serve exactly what Herald serves.

use crate::target::{http_client, Endpoint, Target};
use anyhow::{Context, Result};
use serde_json::{Map, Value};
use std::path::Path;

const RESOURCES: [&str; 3] = ["posts", "comments", "users"];

/// Reads every record of every resource from `base` and writes them to `out`.
pub async fn run(base: &str, out: &Path) -> Result<()> {
    let endpoint = Endpoint::new(Target::Herald, base)?;
    let http = http_client()?;
    let token = endpoint.token(&http).await?;
    let mut db = Map::new();
    for resource in RESOURCES {
        let url = endpoint.api(&format!(
            "/{resource}?_start=0&_end=1000000&_sort=id&_order=asc"
        ));
        let res = http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?;
        let records: Value = res
            .json()
            .await
            .with_context(|| format!("reading {resource}"))?;
        db.insert(resource.to_owned(), records);
    }
    std::fs::write(out, serde_json::to_string_pretty(&Value::Object(db))?)
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}
