//! The corpus (`data/shakespeare.txt.gz`), its fixed train/validation split
//! and the character vocabulary.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The corpus file, relative to the repository root.
pub const CORPUS: &str = "data/shakespeare.txt.gz";
/// The validation split: the last tenth of the corpus, in characters.
pub const VALIDATION_FRACTION: f64 = 0.1;

/// Errors reading the corpus or mapping text to tokens.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The corpus could not be read.
    #[error("cannot read the corpus {path}: {source} (it ships in the repository's data/)")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The corpus is not ASCII text.
    #[error("the corpus {0} is not ASCII text")]
    NotAscii(PathBuf),
    /// A character the model has no token for.
    #[error(
        "{} at byte {pos} is not in the model's vocabulary {vocab:?} (ASCII only)",
        describe(*byte)
    )]
    Unknown {
        /// The byte.
        byte: u8,
        /// Its position in the text (characters).
        pos: usize,
        /// The vocabulary, for the message.
        vocab: String,
    },
}

/// `character 'x'` for an ASCII byte, `non-ASCII byte 0xc3` otherwise.
fn describe(b: u8) -> String {
    if b.is_ascii() {
        format!("character {:?}", b as char)
    } else {
        format!("non-ASCII byte {b:#04x}")
    }
}

/// The corpus as bytes (ASCII), split once into train and validation.
#[derive(Debug, Clone)]
pub struct Corpus {
    text: Vec<u8>,
    split: usize,
}

impl Corpus {
    /// Loads [`CORPUS`] from the repository that holds this crate.
    pub fn load() -> Result<Corpus, DataError> {
        Corpus::load_from(&default_path())
    }

    /// Loads a gzip'd ASCII text.
    pub fn load_from(path: &Path) -> Result<Corpus, DataError> {
        let io = |source| DataError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(file)
            .read_to_end(&mut text)
            .map_err(io)?;
        if !text.is_ascii() {
            return Err(DataError::NotAscii(path.to_path_buf()));
        }
        Ok(Corpus::from_text(text))
    }

    /// A corpus from text in memory (the last tenth is validation).
    pub fn from_text(text: Vec<u8>) -> Corpus {
        let split = text.len() - (text.len() as f64 * VALIDATION_FRACTION).round() as usize;
        Corpus { text, split }
    }

    /// The whole text.
    pub fn text(&self) -> &[u8] {
        &self.text
    }

    /// The training split: everything before the last tenth.
    pub fn train(&self) -> &[u8] {
        &self.text[..self.split]
    }

    /// The validation split: the last tenth.
    pub fn validation(&self) -> &[u8] {
        &self.text[self.split..]
    }
}

/// `data/shakespeare.txt.gz` of the repository this crate lives in.
pub fn default_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(CORPUS)
}

/// A character vocabulary: token `i` is the `i`-th character in byte order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocab {
    chars: Vec<u8>,
    index: [Option<u32>; 256],
}

impl Vocab {
    /// The distinct bytes of `text`, sorted.
    pub fn of(text: &[u8]) -> Vocab {
        let mut seen = [false; 256];
        for &b in text {
            seen[b as usize] = true;
        }
        let chars = (0..=255u8).filter(|&b| seen[b as usize]).collect();
        Vocab::new(chars)
    }

    /// A vocabulary of these characters, in this order.
    pub fn new(chars: Vec<u8>) -> Vocab {
        let mut index = [None; 256];
        for (i, &c) in chars.iter().enumerate() {
            index[c as usize] = Some(i as u32);
        }
        Vocab { chars, index }
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// True for an empty vocabulary.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The characters, token order.
    pub fn chars(&self) -> &[u8] {
        &self.chars
    }

    /// The tokens of `text`; an error naming the first unknown character.
    pub fn encode(&self, text: &[u8]) -> Result<Vec<u32>, DataError> {
        text.iter()
            .enumerate()
            .map(|(pos, &b)| {
                self.index[b as usize].ok_or_else(|| DataError::Unknown {
                    byte: b,
                    pos,
                    vocab: String::from_utf8_lossy(&self.chars).into_owned(),
                })
            })
            .collect()
    }

    /// The character of a token (`?` for an out-of-range token).
    pub fn decode(&self, token: u32) -> char {
        self.chars.get(token as usize).map_or('?', |&b| b as char)
    }
}
