//! Writing the `.npy` outputs of a command: checked before anything runs,
//! written all or nothing, and numpy's names for the dtypes in messages.

use anyhow::{Context, Result, bail};
use hls_rust::tlmm::npy::{NpyArray, NpyData};
use std::path::{Path, PathBuf};

/// NumPy's name of the dtype of `d`, e.g. `float32`.
pub fn numpy_dtype(d: &NpyData) -> String {
    let descr = d.descr();
    let (kind, bytes) = descr
        .get(1..)
        .unwrap_or_default()
        .split_at_checked(1)
        .unwrap_or_default();
    let bits = bytes.parse::<usize>().map_or(0, |b| 8 * b);
    match kind {
        "i" => format!("int{bits}"),
        "u" => format!("uint{bits}"),
        "f" => format!("float{bits}"),
        _ => descr.to_owned(),
    }
}

/// Refuses outputs that cannot be written (a folder, a missing folder, the
/// same file twice) before anything runs.
pub fn check_outputs(outs: &[(&str, &PathBuf)]) -> Result<()> {
    for (i, &(flag, p)) in outs.iter().enumerate() {
        let name = p.display();
        if p.file_name().is_none() || p.is_dir() {
            bail!("{flag} {name}: not a file name");
        }
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(d) = dir
            && !d.is_dir()
        {
            bail!("{flag} {name}: the folder {} does not exist", d.display());
        }
        if let Some((other, _)) = outs[..i].iter().find(|(_, q)| q == &p) {
            bail!("{flag} {name}: {other} writes the same file; give each output its own");
        }
    }
    Ok(())
}

/// `.<name>.<pid>.tmp` beside `path`.
fn temp_beside(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Writes every output `(tensor, path, array)` to a temporary file beside
/// its path, then renames them all into place: if any write fails, the
/// temporary files are removed and no output is touched.
pub fn write_outputs(outs: &[(&str, &PathBuf, NpyArray)]) -> Result<()> {
    let temps: Vec<PathBuf> = outs.iter().map(|(_, p, _)| temp_beside(p)).collect();
    let written = outs.iter().zip(&temps).try_for_each(|((_, p, a), tmp)| {
        a.write(tmp)
            .with_context(|| format!("writing {} (through {})", p.display(), tmp.display()))
    });
    if let Err(e) = written {
        for tmp in &temps {
            let _ = std::fs::remove_file(tmp);
        }
        return Err(e);
    }
    for ((what, p, a), tmp) in outs.iter().zip(&temps) {
        std::fs::rename(tmp, p)
            .with_context(|| format!("renaming {} to {}", tmp.display(), p.display()))?;
        println!(
            "wrote {what} {:?} {} to {}",
            a.shape(),
            numpy_dtype(a.data()),
            p.display()
        );
    }
    Ok(())
}
