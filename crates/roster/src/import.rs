//! `roster member import` and `roster dev seed`: rows go through the service's bulk path in
//! batches, with a progress bar and a summary; refused rows are reported by line.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use indicatif::{ProgressBar, ProgressStyle};
use roster_domain::OrgId;
use roster_service::import::{read_import_csv, ImportRow, Rejected};
use roster_service::{Service, ServiceError};

/// Reads a CSV file of people to import (see [`read_import_csv`] for its columns).
pub fn read_csv(path: &Path) -> Result<(Vec<ImportRow>, u64)> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let rows = read_import_csv(file).with_context(|| path.display().to_string())?;
    let total = rows.len() as u64;
    Ok((rows, total))
}

/// Imports `rows` in batches of `batch` rows, each batch one transaction.
pub async fn run(
    service: &Service,
    org: OrgId,
    rows: impl Iterator<Item = ImportRow>,
    total: u64,
    batch: usize,
    strict: bool,
) -> Result<()> {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  eta {eta}")
            .expect("static template"),
    );
    let started = Instant::now();
    let (mut added, mut rejected): (usize, Vec<Rejected>) = (0, Vec::new());
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        let chunk: Vec<ImportRow> = rows.by_ref().take(batch).collect();
        let n = chunk.len() as u64;
        match service.import_members(org, &chunk, strict).await {
            Ok(outcome) => {
                added += outcome.added;
                rejected.extend(outcome.rejected);
            }
            Err(ServiceError::Invalid { message, fields }) => {
                bar.abandon();
                for (line, reason) in fields {
                    eprintln!("{line}: {reason}");
                }
                bail!("{message}");
            }
            Err(e) => {
                bar.abandon();
                return Err(e.into());
            }
        }
        bar.inc(n);
    }
    bar.finish_and_clear();
    service.refresh_statistics().await?;
    for r in &rejected {
        eprintln!("line {}: {}", r.line, r.reason);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "imported {added} member(s), refused {} row(s), in {secs:.1} s ({:.0} rows/s)",
        rejected.len(),
        (added + rejected.len()) as f64 / secs.max(1e-9)
    );
    if !rejected.is_empty() {
        bail!(
            "{} row(s) were not imported; see the lines above",
            rejected.len()
        );
    }
    Ok(())
}
