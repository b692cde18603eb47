//! TLMM jobs through the link: lay the packed streams out in the device
//! memory, run, read the results back and compare them with the reference
//! model (`hls_rust::tlmm::golden`).

use crate::link::{Link, LinkError};
use crate::proto::{Counter, DeviceInfo, DeviceStatus, TlmmDescriptor};
use crate::transport::Transport;
use hls_rust::tlmm::stream::{Arch, WeightLayout, pack_activations, pack_weights};
use hls_rust::tlmm::{AccWidth, CodeMatrix, Grouping, TernaryMatrix, golden};
use std::time::{Duration, Instant};

/// Why a job could not run or did not match.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The link failed.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The job does not fit the device.
    #[error("job {m} x {k} does not fit the device: {why}")]
    DoesNotFit {
        /// Rows.
        m: usize,
        /// Columns.
        k: usize,
        /// Which limit.
        why: String,
    },
    /// The device's parameters are not a TLMM build this host can drive.
    #[error("device kernel not supported: {0}")]
    Device(String),
    /// A convolution job the host cannot lay out or the reference refuses.
    #[error("convolution job: {0}")]
    Conv(String),
    /// The job did not finish.
    #[error(
        "the job did not finish after {polls} status polls (engine busy {busy} cycles); reset the board"
    )]
    Stuck {
        /// Polls made.
        polls: u32,
        /// Engine busy cycles at the last poll.
        busy: u32,
    },
}

/// Where a job's streams sit in the device memory (word addresses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPlan {
    /// The descriptor sent with TLMM_START.
    pub desc: TlmmDescriptor,
    /// Packed activations, 4 per word.
    pub act_words: Vec<u32>,
    /// Packed weight beats, `w_words` words each, row-block-major.
    pub weight_words: Vec<u32>,
}

/// The packed weight beats of `w` as the device `info` describes stores
/// them: `w_words` words per beat, row-block-major (the layout a job's
/// weight region holds, whether uploaded with the job or kept resident).
pub fn weight_words(info: &DeviceInfo, w: &TernaryMatrix) -> Result<Vec<u32>, JobError> {
    let g = Grouping::new(usize::from(info.g)).map_err(|e| JobError::Device(e.to_string()))?;
    let layout = WeightLayout::new(
        usize::from(info.p),
        usize::from(info.t),
        Arch::OutputStationary,
    )
    .map_err(|e| JobError::Device(e.to_string()))?;
    let mut out = Vec::new();
    for beat in pack_weights(&CodeMatrix::encode(w, g), &layout) {
        let mut words = beat.words_u32();
        if words.len() > usize::from(info.w_words) {
            return Err(JobError::Device(format!(
                "a weight beat is {} words, the device takes {}",
                words.len(),
                info.w_words
            )));
        }
        words.resize(usize::from(info.w_words), 0);
        out.extend(words);
    }
    Ok(out)
}

impl JobPlan {
    /// Packs `w` and `x` for the device `info` describes: activations from
    /// word 0, weights right after, results after those. An error names the
    /// limit a job exceeds (K, M or memory).
    pub fn new(info: &DeviceInfo, w: &TernaryMatrix, x: &[i8]) -> Result<JobPlan, JobError> {
        let (m, k) = (w.m(), w.k());
        let fit = |why: String| JobError::DoesNotFit { m, k, why };
        if m == 0 || k == 0 || x.len() != k {
            return Err(fit(format!(
                "needs M, K > 0 and K activations (got {})",
                x.len()
            )));
        }
        if k > usize::from(info.k_max) {
            return Err(fit(format!("K above the engine's KMax = {}", info.k_max)));
        }
        let act_words = pack_activations(x);
        let weight_words = weight_words(info, w)?;
        let a_addr = 0;
        let w_addr = a_addr + act_words.len();
        let out_addr = w_addr + weight_words.len();
        let mem = usize::from(info.mem_words);
        if out_addr + m > mem {
            return Err(fit(format!(
                "needs {} memory words ({} activation, {} weight, {m} result), the device has {mem}",
                out_addr + m,
                act_words.len(),
                weight_words.len()
            )));
        }
        Ok(JobPlan {
            desc: TlmmDescriptor {
                m: m as u16,
                k: k as u16,
                a_addr: a_addr as u16,
                w_addr: w_addr as u16,
                out_addr: out_addr as u16,
            },
            act_words,
            weight_words,
        })
    }

    /// The words to store from [`TlmmDescriptor::a_addr`] on: the
    /// activations, then the weights (they are laid out back to back).
    pub fn upload(&self) -> Vec<u32> {
        self.act_words
            .iter()
            .chain(&self.weight_words)
            .copied()
            .collect()
    }
}

/// Steps of a job, for progress output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Words written so far of the total.
    Upload {
        /// Written.
        done: usize,
        /// Total.
        total: usize,
    },
    /// The job was started.
    Started,
    /// Results are being read back.
    Download,
}

/// A finished job and its check against the reference.
#[derive(Debug, Clone)]
pub struct JobOutcome {
    /// Results read back from the device.
    pub out: Vec<i32>,
    /// `hls_rust::tlmm::golden`'s results at the device's accumulator width.
    pub expected: Vec<i32>,
    /// Device status after the job.
    pub status: DeviceStatus,
    /// Wall-clock time from the first upload to the last result (for the
    /// digital twin, the host's time simulating it; the device's own time
    /// is [`DeviceStatus::job_cycles`]).
    pub wall: Duration,
}

impl JobOutcome {
    /// True when every result equals the reference and the engine raised
    /// no error flag (K beyond the exact range is expected wrapping, not an
    /// error).
    pub fn passed(&self) -> bool {
        self.out == self.expected && self.status.engine_flags & !1 == 0
    }

    /// Indices of the results that differ from the reference.
    pub fn mismatches(&self) -> Vec<usize> {
        (0..self.out.len().max(self.expected.len()))
            .filter(|&i| self.out.get(i) != self.expected.get(i))
            .collect()
    }
}

/// Most STATUS polls while waiting for a job.
const MAX_POLLS: u32 = 1000;

/// Runs `y = W x` on the device behind `link` and checks it against the
/// reference model, reporting progress through `progress`.
pub fn run_tlmm<T: Transport>(
    link: &mut Link<T>,
    w: &TernaryMatrix,
    x: &[i8],
    progress: &mut dyn FnMut(Progress),
) -> Result<JobOutcome, JobError> {
    let info = link.info();
    let plan = JobPlan::new(&info, w, x)?;
    let expected = reference(&info, w, x)?;
    let t0 = Instant::now();
    let d = plan.desc;
    let words = plan.upload();
    // Progress every ~8 frames.
    let step = 8 * usize::from(info.max_words).max(1);
    for (i, chunk) in words.chunks(step).enumerate() {
        link.write_words(usize::from(d.a_addr) + i * step, chunk)?;
        progress(Progress::Upload {
            done: (i * step + chunk.len()).min(words.len()),
            total: words.len(),
        });
    }
    execute(link, &d, expected, t0, progress)
}

/// Runs `y = W x` with the weights already in the device memory at
/// `d.w_addr` (kept resident by the caller, packed by [`weight_words`]):
/// stores only the activations at `d.a_addr`, starts the job, reads the
/// `M` results from `d.out_addr` and checks them against the reference.
/// `d.m`/`d.k` must be `w`'s shape; the regions are the caller's to keep
/// apart (the device refuses only regions beyond its memory).
pub fn run_tlmm_resident<T: Transport>(
    link: &mut Link<T>,
    d: &TlmmDescriptor,
    w: &TernaryMatrix,
    x: &[i8],
    progress: &mut dyn FnMut(Progress),
) -> Result<JobOutcome, JobError> {
    let (m, k) = (w.m(), w.k());
    if (usize::from(d.m), usize::from(d.k)) != (m, k) || x.len() != k {
        return Err(JobError::DoesNotFit {
            m,
            k,
            why: format!(
                "the descriptor says {} x {} and there are {} activations",
                d.m,
                d.k,
                x.len()
            ),
        });
    }
    let expected = reference(&link.info(), w, x)?;
    let t0 = Instant::now();
    let act = pack_activations(x);
    link.write_words(usize::from(d.a_addr), &act)?;
    progress(Progress::Upload {
        done: act.len(),
        total: act.len(),
    });
    execute(link, d, expected, t0, progress)
}

/// `hls_rust::tlmm::golden`'s results for `y = W x` at the device's
/// accumulator width.
fn reference(info: &DeviceInfo, w: &TernaryMatrix, x: &[i8]) -> Result<Vec<i32>, JobError> {
    let acc = AccWidth::new(u32::from(info.acc_w)).map_err(|e| JobError::Device(e.to_string()))?;
    Ok(golden(w, x, acc)
        .map_err(|e| JobError::Device(e.to_string()))?
        .out)
}

/// Starts the job `d` (its streams in place), waits for it and reads its
/// results back.
fn execute<T: Transport>(
    link: &mut Link<T>,
    d: &TlmmDescriptor,
    expected: Vec<i32>,
    t0: Instant,
    progress: &mut dyn FnMut(Progress),
) -> Result<JobOutcome, JobError> {
    let jobs_before = link.status()?.counter(Counter::Jobs);
    link.start_tlmm(d)?;
    progress(Progress::Started);
    let mut polls = 0;
    let status = loop {
        let s = link.status()?;
        polls += 1;
        if !s.job_busy && s.job_done && s.counter(Counter::Jobs) != jobs_before {
            break s;
        }
        if polls >= MAX_POLLS {
            return Err(JobError::Stuck {
                polls,
                busy: s.engine_busy,
            });
        }
    };
    progress(Progress::Download);
    let out = link
        .read_words(usize::from(d.out_addr), usize::from(d.m))?
        .into_iter()
        .map(|v| v as i32)
        .collect();
    Ok(JobOutcome {
        out,
        expected,
        status,
        wall: t0.elapsed(),
    })
}
