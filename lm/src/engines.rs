//! The Verilated TLMM engine and a board's digital twin as [`Engine`]s.
//!
//! Both split `K` into chunks that the hardware computes exactly: at most
//! `KMax` columns, and at most `K_EXACT = floor((2^(ACC_W-1) - 1) / 128)`
//! so that no chunk's accumulator can wrap (int8 activations, ternary
//! weights: `|partial| <= 128 * chunk`). The host adds the chunks' int32
//! partial sums; the total is bounded by `128 * K`, far inside i32 for
//! these models (checked), so the sum equals the exact product and every
//! engine gives the reference's integers.

use crate::model::{BitLinear, Config, Engine, LinearId};
use hls_rust::tlmm::{AccWidth, CodeMatrix, Flags, Grouping, TernaryMatrix};
use hlsk_cosim::TlmmDriver;
use hlsk_host::job::{JobOutcome, JobPlan, run_tlmm_resident};
use hlsk_host::proto::{DeviceInfo, TlmmDescriptor};
use hlsk_host::{Link, LinkConfig};
use hlsk_sim::tlmm::{Build, FLAG_CLEAR, Job, Pressure, run_jobs};
use hlsk_sim::twin::Twin;
use std::collections::HashMap;

/// The columns of `w` in `lo..hi`.
fn columns(w: &TernaryMatrix, lo: usize, hi: usize) -> Result<TernaryMatrix, String> {
    let data = (0..w.m())
        .flat_map(|r| w.row(r)[lo..hi].iter().copied())
        .collect();
    TernaryMatrix::new(w.m(), hi - lo, data).map_err(|e| e.to_string())
}

/// The largest chunk of K a build computes exactly.
pub fn exact_chunk(k_max: usize, acc_w: u32) -> Result<usize, String> {
    let acc = AccWidth::new(acc_w).map_err(|e| e.to_string())?;
    let chunk = k_max.min(acc.k_exact());
    if chunk == 0 {
        return Err(format!("ACC_W = {acc_w} is exact for no K"));
    }
    Ok(chunk)
}

/// Checks that summing chunk partials of `K` columns cannot leave i32.
fn check_total(k: usize) -> Result<(), String> {
    if 128 * k as u64 > i32::MAX as u64 {
        return Err(format!(
            "K = {k}: the sum of partial products could exceed i32 (|y| <= 128 K)"
        ));
    }
    Ok(())
}

/// The Verilated output-stationary TLMM engine (`hlsk tlmm builds`), one
/// model kept across products; every product is one job per token per K
/// chunk, played back to back under ideal streams.
pub struct RtlEngine {
    build: usize,
    dut: Box<dyn TlmmDriver>,
    g: Grouping,
    chunk: usize,
    codes: HashMap<LinearId, Vec<CodeMatrix>>,
    /// Engine busy cycles over all jobs so far.
    pub busy_cycles: u64,
    /// Jobs run so far.
    pub jobs: u64,
    seed: u64,
}

impl RtlEngine {
    /// A fresh model of output-stationary build `build` (power-up state
    /// from `seed`); an error if the build cannot run `model` exactly.
    pub fn new(build: usize, model: Config, seed: u64) -> Result<RtlEngine, String> {
        let n = hlsk_cosim::configs::TLMM_CONFIGS.len();
        if build >= n {
            return Err(format!(
                "no TLMM build {build}: builds are 0..{n} (`hlsk tlmm builds`)"
            ));
        }
        let b = Build::Os(build);
        let cfg = b.config();
        let chunk = exact_chunk(cfg.k_max as usize, cfg.acc_w)?;
        for proj in [
            crate::model::Proj::Qkv,
            crate::model::Proj::Out,
            crate::model::Proj::Up,
            crate::model::Proj::Down,
        ] {
            let (m, k) = model.shape(proj);
            check_total(k)?;
            if m > cfg.m_max as usize {
                return Err(format!(
                    "{}: M = {m} of the {} projection exceeds MMax = {}",
                    cfg.prefix(),
                    proj.name(),
                    cfg.m_max
                ));
            }
        }
        let g = Grouping::new(cfg.g as usize).map_err(|e| e.to_string())?;
        Ok(RtlEngine {
            build,
            dut: b.fresh(seed as u32, None)?,
            g,
            chunk,
            codes: HashMap::new(),
            busy_cycles: 0,
            jobs: 0,
            seed,
        })
    }

    /// K columns per job.
    pub fn chunk(&self) -> usize {
        self.chunk
    }

    /// Simulated clock cycles so far (the model's own counter).
    pub fn cycles(&self) -> u64 {
        self.dut.cycles()
    }
}

impl Engine for RtlEngine {
    fn matmul(&mut self, lin: &BitLinear, x: &[i8], tokens: usize) -> Result<Vec<i32>, String> {
        let (m, k) = (lin.w.m(), lin.w.k());
        let chunk = self.chunk;
        let g = self.g;
        if let std::collections::hash_map::Entry::Vacant(slot) = self.codes.entry(lin.id) {
            let mut v = Vec::new();
            for lo in (0..k).step_by(chunk) {
                v.push(CodeMatrix::encode(
                    &columns(&lin.w, lo, (lo + chunk).min(k))?,
                    g,
                ));
            }
            slot.insert(v);
        }
        let codes = &self.codes[&lin.id];
        let mut jobs = Vec::with_capacity(tokens * codes.len());
        for row in x.chunks_exact(k).take(tokens) {
            for (c, cm) in codes.iter().enumerate() {
                let lo = c * chunk;
                jobs.push(Job {
                    m,
                    k: cm.k(),
                    codes: cm.clone(),
                    x: row[lo..lo + cm.k()].to_vec(),
                    flags: FLAG_CLEAR,
                    bad_act_last: None,
                    bad_w_last: None,
                });
            }
        }
        self.seed = self.seed.wrapping_add(1);
        let seen = run_jobs(self.dut.as_mut(), &jobs, Pressure::IDEAL, self.seed)?;
        if seen.len() != jobs.len() {
            return Err(format!("{} jobs sent, {} observed", jobs.len(), seen.len()));
        }
        let mut out = vec![0i32; tokens * m];
        for (j, o) in seen.iter().enumerate() {
            if o.out.len() != m || o.status != Flags::empty() {
                return Err(format!(
                    "build {} job {j}: {} results (expected {m}), status {:#06b}",
                    self.build,
                    o.out.len(),
                    o.status.bits()
                ));
            }
            self.busy_cycles += u64::from(o.busy_cycles);
            self.jobs += 1;
            let t = j / codes.len();
            for (acc, &v) in out[t * m..][..m].iter_mut().zip(&o.out) {
                *acc += v;
            }
        }
        Ok(out)
    }

    fn name(&self) -> String {
        format!("rtl build {} ({})", self.build, self.dut.config().prefix())
    }
}

/// A board's digital twin through its UART host link: each product is one
/// job per token per K chunk, checked against the reference by the job
/// runner. The weights either stay resident ([`TwinEngine::resident`]:
/// loaded once, so a product moves only its activations and results) or
/// are uploaded with every product ([`TwinEngine::streaming`], in blocks of
/// rows that fit the device memory).
pub struct TwinEngine {
    board: String,
    link: Link<Twin>,
    chunk: usize,
    weights: Weights,
    /// Device job cycles over all jobs so far.
    pub job_cycles: u64,
    /// Jobs run so far.
    pub jobs: u64,
}

/// Where a [`TwinEngine`] keeps the weights.
enum Weights {
    /// Uploaded with every product: rows per job for each `(M, K chunk)`.
    Streamed(HashMap<(usize, usize), usize>),
    /// Loaded once: each projection's weights and its K chunks in memory;
    /// every job's activations at word 0, its results at `out_addr`.
    Resident {
        chunks: HashMap<LinearId, (TernaryMatrix, Vec<ResidentChunk>)>,
        out_addr: u16,
    },
}

/// One K chunk of a resident projection.
struct ResidentChunk {
    /// First column.
    lo: usize,
    /// The chunk's columns (for the reference check).
    w: TernaryMatrix,
    /// Word address of its packed weight beats.
    w_addr: u16,
}

/// The device memory a model needs with its weights resident: a scratch
/// region for one job's activations and results, then every projection's
/// K chunks, packed for the device (`hlsk_host::job::weight_words`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ResidentLayout {
    /// Words of the activation region (word 0 on).
    act_words: usize,
    /// Words of the result region (right after the activations).
    out_words: usize,
    /// Packed weight words of each layer, in layer order.
    layer_words: Vec<usize>,
    /// The device's memory, words.
    mem_words: usize,
}

impl ResidentLayout {
    /// Words needed in all.
    fn total(&self) -> usize {
        self.act_words + self.out_words + self.layer_words.iter().sum::<usize>()
    }

    /// The most leading layers whose weights fit beside the scratch.
    fn layers_that_fit(&self) -> usize {
        let mut left = self
            .mem_words
            .saturating_sub(self.act_words + self.out_words);
        let mut n = 0;
        for &w in &self.layer_words {
            if w > left {
                break;
            }
            left -= w;
            n += 1;
        }
        n
    }
}

/// A projection's K chunk: which, its first column, its columns and their
/// packed weight words.
type PackedChunk = (LinearId, usize, TernaryMatrix, Vec<u32>);

/// Each K chunk of every projection of `ckpt`, packed for `info`'s device,
/// with the layout they need resident.
fn resident_chunks(
    info: &DeviceInfo,
    ckpt: &crate::checkpoint::Checkpoint,
    chunk: usize,
) -> Result<(ResidentLayout, Vec<PackedChunk>), String> {
    let c = ckpt.config;
    let (mut act_words, mut out_words) = (0, 0);
    let mut layer_words = vec![0; c.layers];
    let mut chunks = Vec::new();
    for id in c.linears() {
        let w = &ckpt.linear(id).w;
        let (m, k) = (w.m(), w.k());
        check_total(k)?;
        if m > usize::from(u16::MAX) {
            return Err(format!(
                "{id}: M = {m} does not fit a TLMM_START descriptor"
            ));
        }
        out_words = out_words.max(m);
        for lo in (0..k).step_by(chunk) {
            let wc = columns(w, lo, (lo + chunk).min(k))?;
            act_words = act_words.max(wc.k().div_ceil(4));
            let words = hlsk_host::job::weight_words(info, &wc).map_err(|e| e.to_string())?;
            layer_words[id.layer] += words.len();
            chunks.push((id, lo, wc, words));
        }
    }
    let layout = ResidentLayout {
        act_words,
        out_words,
        layer_words,
        mem_words: usize::from(info.mem_words),
    };
    Ok((layout, chunks))
}

impl TwinEngine {
    fn connect(board: &str, seed: u64, weights: Weights) -> Result<TwinEngine, String> {
        let twin = Twin::for_board(board, seed as u32).map_err(|e| e.to_string())?;
        let config = LinkConfig {
            baud: twin.config().baud,
            ..LinkConfig::default()
        };
        let link = Link::connect(twin, config).map_err(|e| e.to_string())?;
        let info = link.info();
        let chunk = exact_chunk(usize::from(info.k_max), u32::from(info.acc_w))?;
        Ok(TwinEngine {
            board: board.to_owned(),
            link,
            chunk,
            weights,
            job_cycles: 0,
            jobs: 0,
        })
    }

    /// Connects to `board`'s twin (power-up state from `seed`); every
    /// product uploads its weights.
    pub fn streaming(board: &str, seed: u64) -> Result<TwinEngine, String> {
        Self::connect(board, seed, Weights::Streamed(HashMap::new()))
    }

    /// Connects to `board`'s twin and loads every ternary weight of `ckpt`
    /// into its memory once (`progress(words written, words in all)`); an
    /// error, before anything is written, if they do not fit, naming the
    /// words needed and how many layers would fit.
    pub fn resident(
        board: &str,
        ckpt: &crate::checkpoint::Checkpoint,
        seed: u64,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<TwinEngine, String> {
        let mut e = Self::connect(board, seed, Weights::Streamed(HashMap::new()))?;
        let (layout, chunks) = resident_chunks(&e.link.info(), ckpt, e.chunk)?;
        if layout.total() > layout.mem_words {
            let c = ckpt.config;
            let per_layer = c.ternary_params() / c.layers.max(1);
            let layer_words = layout.layer_words.first().copied().unwrap_or(1).max(1);
            let room = layout
                .mem_words
                .saturating_sub(layout.act_words + layout.out_words);
            return Err(format!(
                "the model's weights do not fit the {board} SoC's memory: resident they need {} \
                 words ({} for one job's activations and results, {layer_words} per layer for {} \
                 layers of {per_layer} weights), the device has {}, which holds {} of these \
                 layers (the largest model it keeps resident has about {} ternary weights in \
                 this engine's packing); run with the weights uploaded per product instead \
                 (slow), or on a board whose SoC memory holds them",
                layout.total(),
                layout.act_words + layout.out_words,
                layout.layer_words.len(),
                layout.mem_words,
                layout.layers_that_fit(),
                room * per_layer / layer_words
            ));
        }
        let total: usize = layout.layer_words.iter().sum();
        let mut addr = layout.act_words + layout.out_words;
        let mut done = 0;
        let mut map: HashMap<LinearId, (TernaryMatrix, Vec<ResidentChunk>)> = HashMap::new();
        for (id, lo, w, words) in chunks {
            e.link
                .write_words(addr, &words)
                .map_err(|err| format!("loading {id}: {err}"))?;
            done += words.len();
            progress(done, total);
            map.entry(id)
                .or_insert_with(|| (ckpt.linear(id).w.clone(), Vec::new()))
                .1
                .push(ResidentChunk {
                    lo,
                    w,
                    w_addr: addr as u16,
                });
            addr += words.len();
        }
        e.weights = Weights::Resident {
            chunks: map,
            out_addr: layout.act_words as u16,
        };
        Ok(e)
    }

    /// Whether the weights stay in the device memory.
    pub fn is_resident(&self) -> bool {
        matches!(self.weights, Weights::Resident { .. })
    }

    /// Simulated SoC clock cycles so far.
    pub fn sim_cycles(&mut self) -> u64 {
        self.link.transport_mut().cycles()
    }

    /// Bytes sent and received on the link so far.
    pub fn link_bytes(&self) -> (u64, u64) {
        let s = self.link.stats();
        (s.bytes_sent, s.bytes_received)
    }

    /// The most rows (at most `m`) whose job of `k` columns fits the
    /// device memory beside its activations and results.
    fn rows_that_fit(&mut self, m: usize, k: usize) -> Result<usize, String> {
        let info = self.link.info();
        let Weights::Streamed(rows) = &mut self.weights else {
            return Ok(m);
        };
        if let Some(&r) = rows.get(&(m, k)) {
            return Ok(r);
        }
        let fits = |rows: usize| {
            TernaryMatrix::new(rows, k, vec![0; rows * k])
                .is_ok_and(|w| JobPlan::new(&info, &w, &vec![0; k]).is_ok())
        };
        let (mut lo, mut hi) = (0, m); // fits(lo) or lo = 0; the answer is in lo..=hi
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if fits(mid) { lo = mid } else { hi = mid - 1 }
        }
        if lo == 0 {
            return Err(format!(
                "not even one row of K = {k} fits the device's {} memory words",
                info.mem_words
            ));
        }
        rows.insert((m, k), lo);
        Ok(lo)
    }

    fn job(&mut self, w: &TernaryMatrix, x: &[i8]) -> Result<Vec<i32>, String> {
        let o = hlsk_host::job::run_tlmm(&mut self.link, w, x, &mut |_| {})
            .map_err(|e| e.to_string())?;
        account(o, &mut self.job_cycles, &mut self.jobs)
    }

    /// `lin` on resident weights: one job per token per K chunk, only the
    /// activations written.
    fn resident_matmul(
        &mut self,
        lin: &BitLinear,
        x: &[i8],
        tokens: usize,
    ) -> Result<Vec<i32>, String> {
        let (m, k) = (lin.w.m(), lin.w.k());
        let Weights::Resident { chunks, out_addr } = &self.weights else {
            return Err("no resident weights".into());
        };
        let Some((w, chunks)) = chunks.get(&lin.id) else {
            return Err(format!("{}: not among the resident weights", lin.id));
        };
        if *w != lin.w {
            return Err(format!("{}: differs from the weights loaded", lin.id));
        }
        let mut out = vec![0i32; tokens * m];
        for c in chunks {
            let d = TlmmDescriptor {
                m: m as u16,
                k: c.w.k() as u16,
                a_addr: 0,
                w_addr: c.w_addr,
                out_addr: *out_addr,
            };
            for t in 0..tokens {
                let xs = &x[t * k + c.lo..][..c.w.k()];
                let o = run_tlmm_resident(&mut self.link, &d, &c.w, xs, &mut |_| {})
                    .map_err(|e| e.to_string())?;
                let y = account(o, &mut self.job_cycles, &mut self.jobs)?;
                for (acc, v) in out[t * m..][..m].iter_mut().zip(y) {
                    *acc += v;
                }
            }
        }
        Ok(out)
    }
}

/// A finished twin job's results, once checked against the reference,
/// counted into `job_cycles` and `jobs`.
fn account(o: JobOutcome, job_cycles: &mut u64, jobs: &mut u64) -> Result<Vec<i32>, String> {
    if !o.passed() {
        return Err(format!(
            "the twin's results differ from the reference in rows {:?}",
            &o.mismatches()[..o.mismatches().len().min(8)]
        ));
    }
    *job_cycles += u64::from(o.status.job_cycles);
    *jobs += 1;
    Ok(o.out)
}

impl Engine for TwinEngine {
    fn matmul(&mut self, lin: &BitLinear, x: &[i8], tokens: usize) -> Result<Vec<i32>, String> {
        if self.is_resident() {
            return self.resident_matmul(lin, x, tokens);
        }
        let (m, k) = (lin.w.m(), lin.w.k());
        check_total(k)?;
        let chunk = self.chunk;
        let rows = self.rows_that_fit(m, chunk.min(k))?;
        let mut out = vec![0i32; tokens * m];
        for lo in (0..k).step_by(chunk) {
            let hi = (lo + chunk).min(k);
            let wk = columns(&lin.w, lo, hi)?;
            for r0 in (0..m).step_by(rows) {
                let r1 = (r0 + rows).min(m);
                let data = (r0..r1).flat_map(|r| wk.row(r).iter().copied()).collect();
                let wb = TernaryMatrix::new(r1 - r0, hi - lo, data).map_err(|e| e.to_string())?;
                for t in 0..tokens {
                    let y = self.job(&wb, &x[t * k + lo..t * k + hi])?;
                    for (acc, v) in out[t * m + r0..t * m + r1].iter_mut().zip(y) {
                        *acc += v;
                    }
                }
            }
        }
        Ok(out)
    }

    fn name(&self) -> String {
        format!("twin of {}", self.board)
    }
}
