//! The bundle benchmark: the hydrate bundle a browser downloads — the release wasm and its
//! JS glue from cargo-leptos' site directory — raw and gzip-compressed (level 9, as a
//! static file server would precompress it).

use anyhow::{bail, Context, Result};
use clap::Args;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// `bench bundle`.
#[derive(Debug, Clone, Args)]
pub struct BundleArgs {
    /// The site's package directory (`$LEPTOS_SITE_ROOT/pkg`).
    #[arg(long)]
    pub dir: PathBuf,
}

#[derive(Debug, Serialize)]
pub struct BundleResult {
    pub kind: &'static str,
    pub files: Vec<BundleFile>,
    pub raw_bytes: u64,
    pub gzip_bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct BundleFile {
    pub name: String,
    pub raw_bytes: u64,
    pub gzip_bytes: u64,
}

pub fn run(args: &BundleArgs) -> Result<BundleResult> {
    let mut files = Vec::new();
    let entries =
        std::fs::read_dir(&args.dir).with_context(|| format!("reading {}", args.dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let is_bundle = path.extension().is_some_and(|e| e == "wasm" || e == "js");
        if !is_bundle {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(&bytes)?;
        files.push(BundleFile {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            raw_bytes: bytes.len() as u64,
            gzip_bytes: gz.finish()?.len() as u64,
        });
    }
    if files.is_empty() {
        bail!("no .wasm or .js in {}", args.dir.display());
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(BundleResult {
        kind: "bundle",
        raw_bytes: files.iter().map(|f| f.raw_bytes).sum(),
        gzip_bytes: files.iter().map(|f| f.gzip_bytes).sum(),
        files,
    })
}
