//! Make-style stages: a stage runs only when its fingerprint (contents of
//! its input files, its arguments, its tools' versions) differs from the
//! one recorded at its last success, or an output is missing. Outputs are
//! written under a temporary name and promoted (renamed) only on success,
//! so a failed run never replaces a good result.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What a stage reads and writes.
#[derive(Debug, Clone, Default)]
pub struct StageSpec {
    /// Stage name (also names its stamp file).
    pub name: String,
    /// Files whose contents the stage depends on.
    pub inputs: Vec<PathBuf>,
    /// Arguments and anything else the result depends on.
    pub args: Vec<String>,
    /// Tool identities (name and version).
    pub tools: Vec<String>,
    /// Files the stage produces.
    pub outputs: Vec<PathBuf>,
}

/// Whether a stage ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Fingerprint unchanged and outputs present: nothing done.
    Skipped,
    /// Ran and its outputs were promoted.
    Ran,
}

/// A stage's result and how long it took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageRun {
    /// Skipped or ran.
    pub outcome: Outcome,
    /// Wall time, fingerprinting included.
    pub time: Duration,
}

/// Where stamps and temporary outputs of a build directory live.
#[derive(Debug, Clone)]
pub struct StageDir {
    dir: PathBuf,
}

impl StageDir {
    /// Stages whose bookkeeping lives in `dir` (created on demand).
    pub fn new(dir: impl Into<PathBuf>) -> StageDir {
        StageDir { dir: dir.into() }
    }

    fn stamp(&self, stage: &str) -> PathBuf {
        self.dir.join(".stamps").join(stage)
    }

    /// The temporary name of `output` while its stage runs: same file name
    /// in `.tmp/` next to the stamps (same filesystem, so renaming is atomic).
    pub fn tmp_path(&self, output: &Path) -> PathBuf {
        self.dir
            .join(".tmp")
            .join(output.file_name().expect("outputs are files"))
    }

    /// The fingerprint of `spec`; an error when an input cannot be read.
    pub fn fingerprint(spec: &StageSpec) -> std::io::Result<String> {
        let mut h = Sha256::new();
        let mut field = |tag: &str, bytes: &[u8]| {
            h.update(tag.as_bytes());
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        field("stage", spec.name.as_bytes());
        for p in &spec.inputs {
            let data = std::fs::read(p)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
            field("input", p.display().to_string().as_bytes());
            field("content", &data);
        }
        for a in &spec.args {
            field("arg", a.as_bytes());
        }
        for t in &spec.tools {
            field("tool", t.as_bytes());
        }
        Ok(hex(&h.finalize()))
    }

    /// Runs `spec` unless up to date. `run` gets the temporary output
    /// paths (in `spec.outputs` order) and must write them; on `Ok` they
    /// replace the outputs and the stamp is written, on `Err` the outputs
    /// and stamp stay as they were (the temporary files are left in `.tmp/`
    /// for inspection) and the error is returned.
    pub fn run<E>(
        &self,
        spec: &StageSpec,
        run: impl FnOnce(&[PathBuf]) -> Result<(), E>,
    ) -> Result<StageRun, E>
    where
        E: From<std::io::Error>,
    {
        let start = Instant::now();
        let fp = Self::fingerprint(spec)?;
        let stamp = self.stamp(&spec.name);
        let up_to_date = std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == fp)
            && spec.outputs.iter().all(|o| o.is_file());
        if up_to_date {
            return Ok(StageRun {
                outcome: Outcome::Skipped,
                time: start.elapsed(),
            });
        }
        std::fs::create_dir_all(self.dir.join(".stamps"))?;
        std::fs::create_dir_all(self.dir.join(".tmp"))?;
        // The stamp goes first: an interrupted promotion must not look done.
        remove_if_exists(&stamp)?;
        let tmps: Vec<PathBuf> = spec.outputs.iter().map(|o| self.tmp_path(o)).collect();
        for t in &tmps {
            remove_if_exists(t)?;
        }
        run(&tmps)?;
        for t in &tmps {
            if !t.is_file() {
                return Err(std::io::Error::other(format!(
                    "stage {} succeeded but did not write {}",
                    spec.name,
                    t.display()
                ))
                .into());
            }
        }
        for (t, o) in tmps.iter().zip(&spec.outputs) {
            if let Some(d) = o.parent() {
                std::fs::create_dir_all(d)?;
            }
            std::fs::rename(t, o)?;
        }
        std::fs::write(&stamp, format!("{fp}\n"))?;
        Ok(StageRun {
            outcome: Outcome::Ran,
            time: start.elapsed(),
        })
    }
}

fn remove_if_exists(p: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a file's contents, hex.
pub fn file_hash(p: &Path) -> std::io::Result<String> {
    Ok(hex(&Sha256::digest(std::fs::read(p)?)))
}
