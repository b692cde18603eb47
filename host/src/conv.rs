//! Convolution jobs through the link: the engine's memory image uploaded
//! from word 0, one descriptor run with CONV_START, the image read back and
//! compared with `hls_rust::conv::exec::run_descriptor` on the same image.
//!
//! The engine addresses 16-bit words; engine word `a` is the low (even `a`)
//! or high half of device word `a / 2` ([`pack_image`], [`unpack_image`]).

use crate::job::{JobError, Progress};
use crate::link::Link;
use crate::proto::{Counter, DeviceStatus};
use crate::transport::Transport;
use hls_rust::conv::desc::{Bases, ConvShape, Descriptor, Op};
use hls_rust::conv::exec::run_descriptor;
use hls_rust::conv::hw::HwConfig;
use hls_rust::conv::layout::{ActLayout, Memory, WeightLayout};
use hls_rust::conv::model::{Stats, best_tiling};
use hls_rust::conv::tensor::Tensor4;
use hls_rust::rng::Rng;
use std::time::{Duration, Instant};

/// Device words holding an engine image: engine words `2i` (low half) and
/// `2i + 1` (high half) in word `i`; an odd-length image ends in a zero half.
pub fn pack_image(mem: &Memory) -> Vec<u32> {
    mem.words()
        .chunks(2)
        .map(|c| {
            let lo = u32::from(c[0] as u16);
            let hi = c.get(1).map_or(0, |&h| u32::from(h as u16));
            lo | (hi << 16)
        })
        .collect()
}

/// The engine image of `len` words held in device `words` (inverse of
/// [`pack_image`]).
pub fn unpack_image(words: &[u32], len: usize) -> Memory {
    Memory::from_words(
        words
            .iter()
            .flat_map(|&w| [w as u16 as i16, (w >> 16) as u16 as i16])
            .take(len)
            .collect(),
    )
}

/// The small layer `hlsk run` sends where the SoC carries the engine:
/// 4 -> 4 channels, 6 x 6, K 3, pad 1, batch 1.
pub const DEMO_FP: ConvShape = ConvShape {
    n: 4,
    m: 4,
    h: 6,
    w: 6,
    k: 3,
    pad: 1,
    b: 1,
};

/// A convolution job: a descriptor (bases set) and the memory image it runs
/// on, engine word 0 at device word 0.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvJob {
    /// The descriptor sent with CONV_START.
    pub desc: Descriptor,
    /// The engine's memory image before the job.
    pub image: Memory,
}

impl ConvJob {
    /// A random FP layer of `shape` (ReLU and `s_out` drawn from `seed`,
    /// data in -256..256), scheduled with `best_tiling` for `hw`: input,
    /// weights and output packed from engine word 0, each region starting on
    /// an even word, the output filled with junk.
    pub fn random_fp(shape: ConvShape, hw: &HwConfig, seed: u64) -> Result<ConvJob, JobError> {
        let t = hw.t;
        let mut rng = Rng::new(seed);
        let even = |n: usize| n.next_multiple_of(2);
        let s = shape;
        let x_words = ActLayout::new([s.b, s.n, s.h, s.w], t).words();
        let w_words = WeightLayout::new([s.m, s.n, s.k, s.k], t).words();
        let y_words = ActLayout::new([s.b, s.m, s.ho(), s.wo()], t).words();
        let (xb, wb) = (0, even(x_words));
        let yb = wb + even(w_words);
        let mut d = Descriptor::new(Op::Fp, shape);
        d.relu = rng.below(2) == 1;
        d.s_out = 4 + rng.below(5) as u8;
        d.base = Bases {
            input: xb as u32,
            weights: wb as u32,
            output: yb as u32,
            ..Bases::default()
        };
        d.tiling = best_tiling(&d, hw)
            .map_err(|e| JobError::Conv(format!("{shape:?} does not fit the engine: {e}")))?
            .0;
        let mut image = Memory::from_words(
            (0..even(yb + y_words))
                .map(|_| rng.next_u64() as i16)
                .collect(),
        );
        let mut val = |_: [usize; 4]| rng.below(512) as i16 - 256;
        let x = Tensor4::from_fn([s.b, s.n, s.h, s.w], &mut val);
        let w = Tensor4::from_fn([s.m, s.n, s.k, s.k], &mut val);
        image
            .store_act(xb, t, &x)
            .map_err(|e| JobError::Conv(e.to_string()))?;
        image
            .store_weights(wb, t, &w)
            .map_err(|e| JobError::Conv(e.to_string()))?;
        Ok(ConvJob { desc: d, image })
    }
}

/// A finished convolution job and its check against the reference.
#[derive(Debug, Clone)]
pub struct ConvOutcome {
    /// The device's memory image after the job.
    pub image: Memory,
    /// `run_descriptor`'s image after the job.
    pub expected: Memory,
    /// The reference's counters (fired cycles are exact).
    pub stats: Stats,
    /// Device status after the job.
    pub status: DeviceStatus,
    /// Wall-clock time from the first upload to the last word read back.
    pub wall: Duration,
}

impl ConvOutcome {
    /// True when the image equals the reference's word for word, the job
    /// ended without an error and the array fired the reference's cycles.
    pub fn passed(&self) -> bool {
        self.image == self.expected
            && self.status.conv.ok()
            && u64::from(self.status.conv.fired) == self.stats.fired
    }

    /// Engine word addresses where the device's image differs.
    pub fn mismatches(&self) -> Vec<usize> {
        let (a, b) = (self.image.words(), self.expected.words());
        (0..a.len().max(b.len()))
            .filter(|&i| a.get(i) != b.get(i))
            .collect()
    }
}

/// Most STATUS polls while waiting for a job.
const MAX_POLLS: u32 = 1000;

/// Uploads `image` from device word 0, runs the descriptor encoded as
/// `words` (`Descriptor::encode`, or any 12 words: the engine refuses
/// malformed ones) and waits for it (done or refused); returns the status
/// and the image read back.
pub fn run_on_device<T: Transport>(
    link: &mut Link<T>,
    words: &[u32; 12],
    image: &Memory,
    progress: &mut dyn FnMut(Progress),
) -> Result<(DeviceStatus, Memory), JobError> {
    let info = link.info();
    if !info.has_conv() {
        return Err(JobError::Device(
            "no convolution engine (INFO kernels bit 1 clear)".to_owned(),
        ));
    }
    let up = pack_image(image);
    let step = 8 * usize::from(info.max_words).max(1);
    for (i, chunk) in up.chunks(step).enumerate() {
        link.write_words(i * step, chunk)?;
        progress(Progress::Upload {
            done: (i * step + chunk.len()).min(up.len()),
            total: up.len(),
        });
    }
    let jobs_before = link.status()?.counter(Counter::Jobs);
    link.start_conv(words)?;
    progress(Progress::Started);
    let mut polls = 0;
    let status = loop {
        let s = link.status()?;
        polls += 1;
        if !s.conv.busy && s.conv.done && s.counter(Counter::Jobs) != jobs_before {
            break s;
        }
        if polls >= MAX_POLLS {
            return Err(JobError::Stuck {
                polls,
                busy: s.conv.cycles,
            });
        }
    };
    progress(Progress::Download);
    let back = link.read_words(0, up.len())?;
    Ok((status, unpack_image(&back, image.len())))
}

/// Runs `job` on the device behind `link` and checks the whole image
/// against `run_descriptor` for the engine `hw` describes.
pub fn run_conv<T: Transport>(
    link: &mut Link<T>,
    job: &ConvJob,
    hw: &HwConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<ConvOutcome, JobError> {
    let mut expected = job.image.clone();
    let stats = run_descriptor(&mut expected, &job.desc, hw)
        .map_err(|e| JobError::Conv(format!("the reference refuses the job: {e}")))?;
    let words = job
        .desc
        .encode()
        .map_err(|e| JobError::Conv(format!("descriptor: {e}")))?;
    let t0 = Instant::now();
    let (status, image) = run_on_device(link, &words, &job.image, progress)?;
    Ok(ConvOutcome {
        image,
        expected,
        stats,
        status,
        wall: t0.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn unpack_inverts_pack(words in proptest::collection::vec(any::<i16>(), 0..40)) {
            let mem = Memory::from_words(words.clone());
            let packed = pack_image(&mem);
            prop_assert_eq!(packed.len(), words.len().div_ceil(2));
            prop_assert_eq!(unpack_image(&packed, words.len()), mem);
        }
    }
}
