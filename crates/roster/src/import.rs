//! `roster member import` and `roster dev seed`: rows go through the service's bulk path in
//! batches, with a progress bar and a summary; refused rows are reported by line. Each batch
//! that commits is reported at once on standard output ("committed lines 2-5001"), so that
//! after a crash the last such line says where to resume (`--from-line`).

use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use indicatif::{ProgressBar, ProgressStyle};
use roster_domain::OrgId;
use roster_service::import::{read_import_csv, ImportRow, Rejected};
use roster_service::{Service, ServiceError};

/// Reads a CSV file of people to import (see [`read_import_csv`] for its columns).
pub fn read_csv(path: &Path) -> Result<Vec<ImportRow>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    read_import_csv(file).with_context(|| path.display().to_string())
}

/// Imports `rows` in batches of `batch` rows, each batch one transaction. After each batch
/// commits, its refused rows go to standard error and "committed lines A-B" to standard
/// output, flushed, before the next batch starts.
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
    let (mut added, mut refused) = (0, 0);
    let mut last_committed: Option<usize> = None;
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        let chunk: Vec<ImportRow> = rows.by_ref().take(batch).collect();
        let n = chunk.len() as u64;
        let (first, last) = (chunk[0].line, chunk[chunk.len() - 1].line);
        match service.import_members(org, &chunk, strict).await {
            Ok(outcome) => {
                added += outcome.added;
                refused += outcome.rejected.len();
                bar.suspend(|| report_batch(first, last, &outcome.rejected))?;
                last_committed = Some(last);
            }
            Err(e) => {
                bar.abandon();
                if let ServiceError::Invalid { fields, .. } = &e {
                    for (line, reason) in fields {
                        eprintln!("{line}: {reason}");
                    }
                }
                let resume = match last_committed {
                    Some(line) => format!(
                        "the batches up to line {line} were committed, the rest was not: \
                         resume with --from-line {first}"
                    ),
                    None => format!("nothing from line {first} on was imported"),
                };
                return Err(anyhow::Error::new(e).context(resume));
            }
        }
        bar.inc(n);
    }
    bar.finish_and_clear();
    service.refresh_statistics().await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "imported {added} member(s), refused {refused} row(s), in {secs:.1} s ({:.0} rows/s)",
        (added + refused) as f64 / secs.max(1e-9)
    );
    if refused > 0 {
        bail!("{refused} row(s) were not imported; see the lines above");
    }
    Ok(())
}

/// Reports a committed batch: its refused rows, then the line the import has reached, flushed
/// so that it outlives a crash of this process a moment later.
fn report_batch(first: usize, last: usize, rejected: &[Rejected]) -> Result<()> {
    for r in rejected {
        eprintln!("line {}: {}", r.line, r.reason);
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "committed lines {first}-{last}")?;
    out.flush()?;
    Ok(())
}
