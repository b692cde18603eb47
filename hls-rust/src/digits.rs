//! The handwritten digits data set vendored in `data/digits.csv.gz`
//! (UCI Optical Recognition of Handwritten Digits, CC BY 4.0; see
//! `data/README.md`), and the fixed train/test split every experiment uses.
//!
//! ```
//! let d = hls_rust::digits::Digits::load().unwrap();
//! assert_eq!(d.len(), 1797);
//! let (train, test) = d.split();
//! assert_eq!(train.len() + test.len(), 1797);
//! assert!(test.images.iter().all(|im| im.iter().all(|&p| p <= 16)));
//! ```

use crate::rng::Rng;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Pixels per image (8 x 8).
pub const PIXELS: usize = 64;
/// Number of classes.
pub const CLASSES: usize = 10;
/// Seed of the train/test split.
pub const SPLIT_SEED: u64 = 2026;
/// Share of the samples held out for testing, in percent.
pub const TEST_PERCENT: usize = 20;

/// Errors reading the data set.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read or decompressed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A row is malformed.
    #[error("{path}:{line}: {msg}")]
    Format {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        msg: String,
    },
}

/// A set of labelled 8x8 images, pixels 0..=16.
#[derive(Debug, Clone, Default)]
pub struct Digits {
    /// Images, row-major, 64 pixels each.
    pub images: Vec<[u8; PIXELS]>,
    /// Labels 0..=9.
    pub labels: Vec<u8>,
}

impl Digits {
    /// The vendored file, `data/digits.csv.gz` at the repository root.
    pub fn default_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/digits.csv.gz")
    }

    /// Loads the vendored data set.
    pub fn load() -> Result<Self, Error> {
        Self::load_from(&Self::default_path())
    }

    /// Loads a gzip'd CSV of 65 integer columns (64 pixels, label).
    pub fn load_from(path: &Path) -> Result<Self, Error> {
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut text = String::new();
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut text)
            .map_err(io)?;
        let mut d = Digits::default();
        for (n, row) in text
            .lines()
            .enumerate()
            .filter(|(_, r)| !r.trim().is_empty())
        {
            let fail = |msg: String| Error::Format {
                path: path.to_owned(),
                line: n + 1,
                msg,
            };
            let vals: Vec<u8> = row
                .split(',')
                .map(|v| {
                    v.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.fract() == 0.0 && (0.0..=16.0).contains(x))
                        .map(|x| x as u8)
                        .ok_or_else(|| fail(format!("not an integer in 0..=16: {v:?}")))
                })
                .collect::<Result<_, _>>()?;
            if vals.len() != PIXELS + 1 {
                return Err(fail(format!(
                    "{} columns, expected {}",
                    vals.len(),
                    PIXELS + 1
                )));
            }
            if vals[PIXELS] as usize >= CLASSES {
                return Err(fail(format!("label {} out of 0..=9", vals[PIXELS])));
            }
            let mut im = [0u8; PIXELS];
            im.copy_from_slice(&vals[..PIXELS]);
            d.images.push(im);
            d.labels.push(vals[PIXELS]);
        }
        Ok(d)
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Keeps the first `n` samples (all when there are fewer).
    pub fn truncate(&mut self, n: usize) {
        self.images.truncate(n);
        self.labels.truncate(n);
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The fixed split: a seeded shuffle ([`SPLIT_SEED`]), the last
    /// [`TEST_PERCENT`]% held out. Returns `(train, test)`.
    pub fn split(&self) -> (Digits, Digits) {
        let mut idx: Vec<usize> = (0..self.len()).collect();
        Rng::new(SPLIT_SEED).shuffle(&mut idx);
        let n_test = self.len() * TEST_PERCENT / 100;
        let (tr, te) = idx.split_at(self.len() - n_test);
        (self.subset(tr), self.subset(te))
    }

    /// The samples at `idx`, in that order.
    pub fn subset(&self, idx: &[usize]) -> Digits {
        Digits {
            images: idx.iter().map(|&i| self.images[i]).collect(),
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
        }
    }
}
