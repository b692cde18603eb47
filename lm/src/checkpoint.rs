//! The checkpoint format: ternary codes packed five to a byte plus the f32
//! embeddings, norms, scales and LM head.
//!
//! A file is the 8 bytes `HLSKLM01`, a little-endian `u32` length, that
//! many bytes of JSON ([`Header`]: shape, vocabulary, how it was trained,
//! and the tensor list with each projection's `gamma`), then each tensor's
//! data in the header's order: f32 tensors as little-endian f32, ternary
//! ones as five weights per byte (`sum_i (w_i + 1) * 3^i`, the first
//! weight in the least significant digit; row-major, the last byte padded
//! with weight 0).

use crate::data::Vocab;
use crate::model::{BitLinear, Config, LinearId, Proj};
use hls_rust::tlmm::TernaryMatrix;
use std::path::{Path, PathBuf};

/// The magic bytes at the start of a checkpoint.
pub const MAGIC: &[u8; 8] = b"HLSKLM01";
/// The checkpoint committed to the repository.
pub const DEFAULT: &str = "lm/checkpoints/shakespeare-d128-l4.hlsklm";

/// Errors reading or writing a checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a valid checkpoint.
    #[error("{path}: not a valid hlsk-lm checkpoint: {msg}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
}

/// One block's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// RMSNorm gain before attention, `d`.
    pub norm1: Vec<f32>,
    /// Fused query/key/value projection.
    pub qkv: BitLinear,
    /// Attention output projection.
    pub out: BitLinear,
    /// RMSNorm gain before the FFN, `d`.
    pub norm2: Vec<f32>,
    /// FFN up projection.
    pub up: BitLinear,
    /// FFN down projection.
    pub down: BitLinear,
}

impl Block {
    /// The projection `proj` of this block.
    pub fn linear(&self, proj: Proj) -> &BitLinear {
        match proj {
            Proj::Qkv => &self.qkv,
            Proj::Out => &self.out,
            Proj::Up => &self.up,
            Proj::Down => &self.down,
        }
    }
}

/// How a checkpoint was made (recorded in its header).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Provenance {
    /// The command line.
    pub command: String,
    /// Training seed.
    pub seed: u64,
    /// Optimizer steps.
    pub steps: usize,
    /// Sequences per step.
    pub batch: usize,
    /// Wall time of training, seconds.
    pub seconds: f64,
    /// Final training loss (nats per character, moving average).
    pub train_loss: f32,
}

/// A trained model.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// Shape.
    pub config: Config,
    /// The characters, token order.
    pub vocab: Vocab,
    /// Token embeddings, `vocab x d`.
    pub tok_emb: Vec<f32>,
    /// Position embeddings, `ctx x d`.
    pub pos_emb: Vec<f32>,
    /// The blocks.
    pub blocks: Vec<Block>,
    /// Final RMSNorm gain, `d`.
    pub norm_f: Vec<f32>,
    /// The f32 LM head, `vocab x d`.
    pub lm_head: Vec<f32>,
    /// How it was made.
    pub provenance: Provenance,
}

/// The JSON header.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Header {
    /// Shape.
    pub config: Config,
    /// The vocabulary as a string, token order.
    pub vocab: String,
    /// How it was made.
    pub provenance: Provenance,
    /// Tensors in data order.
    pub tensors: Vec<TensorInfo>,
}

/// One tensor in the header.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TensorInfo {
    /// Name.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// `gamma` for a ternary tensor, absent for f32.
    pub gamma: Option<f32>,
}

impl Checkpoint {
    /// The projection `id`.
    pub fn linear(&self, id: LinearId) -> &BitLinear {
        self.blocks[id.layer].linear(id.proj)
    }

    /// Loads the committed checkpoint ([`DEFAULT`], from the repository root).
    pub fn load_default() -> Result<Checkpoint, CheckpointError> {
        Checkpoint::load(&default_path())
    }

    /// Reads a checkpoint file.
    pub fn load(path: &Path) -> Result<Checkpoint, CheckpointError> {
        let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Checkpoint::from_bytes(&bytes).map_err(|msg| CheckpointError::Format {
            path: path.to_path_buf(),
            msg,
        })
    }

    /// Writes a checkpoint file.
    pub fn save(&self, path: &Path) -> Result<(), CheckpointError> {
        std::fs::write(path, self.to_bytes()).map_err(|source| CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let c = self.config;
        let mut tensors = Vec::new();
        let mut data = Vec::new();
        let mut f32s = |name: &str, shape: Vec<usize>, v: &[f32], data: &mut Vec<u8>| {
            tensors.push(TensorInfo {
                name: name.into(),
                shape,
                gamma: None,
            });
            for x in v {
                data.extend_from_slice(&x.to_le_bytes());
            }
        };
        f32s("tok_emb", vec![c.vocab, c.d], &self.tok_emb, &mut data);
        f32s("pos_emb", vec![c.ctx, c.d], &self.pos_emb, &mut data);
        let mut ternary = Vec::new();
        for (l, b) in self.blocks.iter().enumerate() {
            f32s(&format!("layer{l}.norm1"), vec![c.d], &b.norm1, &mut data);
            f32s(&format!("layer{l}.norm2"), vec![c.d], &b.norm2, &mut data);
            ternary.extend([&b.qkv, &b.out, &b.up, &b.down]);
        }
        f32s("norm_f", vec![c.d], &self.norm_f, &mut data);
        f32s("lm_head", vec![c.vocab, c.d], &self.lm_head, &mut data);
        for lin in ternary {
            tensors.push(TensorInfo {
                name: lin.id.to_string(),
                shape: vec![lin.w.m(), lin.w.k()],
                gamma: Some(lin.gamma),
            });
            data.extend(pack_trits(lin.w.data()));
        }
        let header = Header {
            config: c,
            vocab: String::from_utf8_lossy(self.vocab.chars()).into_owned(),
            provenance: self.provenance.clone(),
            tensors,
        };
        let json = serde_json::to_vec(&header).expect("the header serializes");
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend(json);
        out.extend(data);
        out
    }

    /// Parses a checkpoint; an error message on a malformed one.
    pub fn from_bytes(bytes: &[u8]) -> Result<Checkpoint, String> {
        if bytes.len() < 12 || &bytes[..8] != MAGIC {
            return Err("it does not start with HLSKLM01".into());
        }
        let len = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
        let json = bytes.get(12..12 + len).ok_or("the header is cut short")?;
        let header: Header = serde_json::from_slice(json).map_err(|e| format!("header: {e}"))?;
        let c = header.config;
        if c.heads == 0 || !c.d.is_multiple_of(c.heads) || c.layers == 0 || c.vocab == 0 {
            return Err(format!("unusable shape {c:?}"));
        }
        let mut r = Reader {
            bytes,
            pos: 12 + len,
            tensors: header.tensors.iter(),
        };
        let tok_emb = r.f32s("tok_emb", c.vocab * c.d)?;
        let pos_emb = r.f32s("pos_emb", c.ctx * c.d)?;
        let mut norms = Vec::new();
        for l in 0..c.layers {
            norms.push((
                r.f32s(&format!("layer{l}.norm1"), c.d)?,
                r.f32s(&format!("layer{l}.norm2"), c.d)?,
            ));
        }
        let norm_f = r.f32s("norm_f", c.d)?;
        let lm_head = r.f32s("lm_head", c.vocab * c.d)?;
        let mut blocks = Vec::new();
        for (layer, (norm1, norm2)) in norms.into_iter().enumerate() {
            let mut lin = |proj| r.ternary(&c, LinearId { layer, proj });
            let (qkv, out, up, down) = (
                lin(Proj::Qkv)?,
                lin(Proj::Out)?,
                lin(Proj::Up)?,
                lin(Proj::Down)?,
            );
            blocks.push(Block {
                norm1,
                qkv,
                out,
                norm2,
                up,
                down,
            });
        }
        if r.pos != bytes.len() {
            return Err(format!(
                "{} bytes after the last tensor",
                bytes.len() - r.pos
            ));
        }
        let vocab = Vocab::new(header.vocab.into_bytes());
        if vocab.len() != c.vocab {
            return Err(format!(
                "vocabulary of {} characters, config says {}",
                vocab.len(),
                c.vocab
            ));
        }
        Ok(Checkpoint {
            config: c,
            vocab,
            tok_emb,
            pos_emb,
            blocks,
            norm_f,
            lm_head,
            provenance: header.provenance,
        })
    }
}

/// The committed checkpoint's path.
pub fn default_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(DEFAULT)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    tensors: std::slice::Iter<'a, TensorInfo>,
}

impl Reader<'_> {
    fn take(&mut self, name: &str, n: usize) -> Result<(&TensorInfo, &[u8]), String> {
        let info = self
            .tensors
            .next()
            .ok_or_else(|| format!("tensor {name} missing from the header"))?;
        if info.name != name {
            return Err(format!("expected tensor {name}, found {}", info.name));
        }
        let data = self
            .bytes
            .get(self.pos..self.pos + n)
            .ok_or_else(|| format!("tensor {name}: data cut short"))?;
        self.pos += n;
        Ok((info, data))
    }

    fn f32s(&mut self, name: &str, n: usize) -> Result<Vec<f32>, String> {
        let (_, data) = self.take(name, 4 * n)?;
        Ok(data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect())
    }

    fn ternary(&mut self, c: &Config, id: LinearId) -> Result<BitLinear, String> {
        let (m, k) = c.shape(id.proj);
        let name = id.to_string();
        let (info, data) = self.take(&name, (m * k).div_ceil(5))?;
        if info.shape != [m, k] {
            return Err(format!(
                "{name}: shape {:?}, expected [{m}, {k}]",
                info.shape
            ));
        }
        let gamma = info.gamma.ok_or_else(|| format!("{name}: no gamma"))?;
        if !(gamma.is_finite() && gamma > 0.0) {
            return Err(format!("{name}: gamma {gamma} is not a positive scale"));
        }
        let w = unpack_trits(data, m * k).map_err(|e| format!("{name}: {e}"))?;
        let w = TernaryMatrix::new(m, k, w).map_err(|e| format!("{name}: {e}"))?;
        Ok(BitLinear { id, w, gamma })
    }
}

/// Five ternary weights per byte, `sum_i (w_i + 1) * 3^i`.
pub fn pack_trits(w: &[i8]) -> Vec<u8> {
    w.chunks(5)
        .map(|c| {
            c.iter()
                .rev()
                .fold(0u8, |acc, &t| acc * 3 + (t.clamp(-1, 1) + 1) as u8)
        })
        .collect()
}

/// The inverse of [`pack_trits`] for `n` weights; an error on a byte
/// above 242.
pub fn unpack_trits(bytes: &[u8], n: usize) -> Result<Vec<i8>, String> {
    let mut out = Vec::with_capacity(n);
    for (i, &b) in bytes.iter().enumerate() {
        if b > 242 {
            return Err(format!("byte {i} = {b} is not five trits"));
        }
        let mut v = b;
        for _ in 0..5 {
            if out.len() < n {
                out.push((v % 3) as i8 - 1);
            }
            v /= 3;
        }
    }
    Ok(out)
}
