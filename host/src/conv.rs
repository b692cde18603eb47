//! Convolution jobs through the link: the engine's memory image uploaded
//! from word 0, one descriptor run with CONV_START, the image read back and
//! compared with `hls_rust::conv::exec::run_descriptor` on the same image;
//! and [`run_placed`]: one descriptor of a larger host image, only its
//! regions moved into the device's memory and back (training a network
//! through the link, descriptor by descriptor).
//!
//! The engine addresses 16-bit words; engine word `a` is the low (even `a`)
//! or high half of device word `a / 2` ([`pack_image`], [`unpack_image`]).

use crate::job::{JobError, Progress};
use crate::link::Link;
use crate::proto::{Counter, DeviceStatus};
use crate::transport::Transport;
use hls_rust::conv::desc::{Bases, ConvShape, Descriptor, Op};
use hls_rust::conv::exec::{Region, regions, run_descriptor};
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
    let status = start_and_wait(link, words, progress)?;
    progress(Progress::Download);
    let back = link.read_words(0, up.len())?;
    Ok((status, unpack_image(&back, image.len())))
}

/// Starts the descriptor encoded as `words` and polls STATUS until the job
/// has ended (done or refused).
fn start_and_wait<T: Transport>(
    link: &mut Link<T>,
    words: &[u32; 12],
    progress: &mut dyn FnMut(Progress),
) -> Result<DeviceStatus, JobError> {
    let jobs_before = link.status()?.counter(Counter::Jobs);
    link.start_conv(words)?;
    progress(Progress::Started);
    let mut polls = 0;
    loop {
        let s = link.status()?;
        polls += 1;
        if !s.conv.busy && s.conv.done && s.counter(Counter::Jobs) != jobs_before {
            return Ok(s);
        }
        if polls >= MAX_POLLS {
            return Err(JobError::Stuck {
                polls,
                busy: s.conv.cycles,
            });
        }
    }
}

/// A descriptor moved into the device's memory: its regions packed from
/// engine word 0, each on an even word ([`place`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// The descriptor with the device's bases.
    pub desc: Descriptor,
    /// Every region of the descriptor (host bases, as
    /// [`regions`](hls_rust::conv::exec::regions) lists them) with its
    /// engine-word base on the device; WU's in-place master update keeps
    /// its read and written master regions at one device base.
    pub regions: Vec<(Region, usize)>,
    /// Engine words from 0 to the end of the last placed region.
    pub engine_words: usize,
}

impl Placement {
    /// Engine words uploaded: the regions the descriptor reads.
    pub fn upload_words(&self) -> usize {
        self.regions
            .iter()
            .filter(|(r, _)| !r.write)
            .map(|(r, _)| r.words)
            .sum()
    }

    /// Engine words read back: the regions the descriptor writes.
    pub fn download_words(&self) -> usize {
        self.regions
            .iter()
            .filter(|(r, _)| r.write)
            .map(|(r, _)| r.words)
            .sum()
    }
}

/// Places descriptor `d` of an engine with channel tile `t`: its regions
/// in the order [`regions`](hls_rust::conv::exec::regions) lists them,
/// packed from engine word 0, each starting on an even engine word (a whole
/// device word); regions with the same host base and length (WU in place)
/// share one.
pub fn place(d: &Descriptor, t: usize) -> Placement {
    let mut placed: Vec<(Region, usize)> = Vec::new();
    let mut next = 0;
    for r in regions(d, t) {
        let same = placed
            .iter()
            .find(|(p, _)| p.base == r.base && p.words == r.words)
            .map(|&(_, at)| at);
        let at = same.unwrap_or_else(|| {
            let at = next;
            next = (at + r.words).next_multiple_of(2);
            at
        });
        placed.push((r, at));
    }
    let mut desc = *d;
    for (r, at) in &placed {
        let at = *at as u32;
        match r.name {
            "in" => desc.base.input = at,
            "w" => desc.base.weights = at,
            "out" => desc.base.output = at,
            "aux" => desc.base.aux = at,
            _ => desc.base.w16_out = at,
        }
    }
    Placement {
        desc,
        regions: placed,
        engine_words: next,
    }
}

/// What [`run_placed`] did.
#[derive(Debug, Clone)]
pub struct PlacedRun {
    /// The placement used.
    pub placement: Placement,
    /// Device status after the job.
    pub status: DeviceStatus,
}

/// Runs descriptor `d` (host bases, engine with channel tile `t`) on the
/// device behind `link` against the host image `mem`: places it
/// ([`place`]), uploads only the regions it reads, runs it, and, if the job
/// ended without an error, reads back only the regions it writes into
/// `mem` at their host bases. So a network whose whole image exceeds the
/// device's memory runs descriptor by descriptor, as long as each one's
/// regions fit. Check `status.conv.ok()` in the result.
pub fn run_placed<T: Transport>(
    link: &mut Link<T>,
    d: &Descriptor,
    t: usize,
    mem: &mut Memory,
) -> Result<PlacedRun, JobError> {
    let info = link.info();
    if !info.has_conv() {
        return Err(JobError::Device(
            "no convolution engine (INFO kernels bit 1 clear)".to_owned(),
        ));
    }
    let placement = place(d, t);
    let capacity = 2 * usize::from(info.mem_words);
    if placement.engine_words > capacity {
        return Err(JobError::Conv(format!(
            "the {} descriptor's regions need {} engine words, the device's memory holds {capacity} \
             ({} words of 32 bits); use a smaller batch",
            d.op, placement.engine_words, info.mem_words
        )));
    }
    let conv_err = |e: hls_rust::conv::layout::MemError| JobError::Conv(e.to_string());
    for (r, at) in placement.regions.iter().filter(|(r, _)| !r.write) {
        let words = mem.slice(r.base, r.words).map_err(conv_err)?;
        link.write_words(at / 2, &pack_image(&Memory::from_words(words.to_vec())))?;
    }
    let words = placement
        .desc
        .encode()
        .map_err(|e| JobError::Conv(format!("descriptor: {e}")))?;
    let status = start_and_wait(link, &words, &mut |_| {})?;
    if status.conv.ok() {
        for (r, at) in placement.regions.iter().filter(|(r, _)| r.write) {
            let back = link.read_words(at / 2, r.words.div_ceil(2))?;
            mem.slice_mut(r.base, r.words)
                .map_err(conv_err)?
                .copy_from_slice(unpack_image(&back, r.words).words());
        }
    }
    Ok(PlacedRun { placement, status })
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

    #[test]
    fn placement_packs_regions_on_even_words_and_keeps_wu_in_place() {
        let mut d = Descriptor::new(Op::Wu, DEMO_FP);
        d.base = Bases {
            input: 1001,
            weights: 5000,
            output: 5000,
            aux: 3001,
            w16_out: 7001,
        };
        d.write_w16 = true;
        let p = place(&d, 2);
        let at = |name| p.regions.iter().find(|(r, _)| r.name == name).unwrap().1;
        assert_eq!(at("w"), at("out"), "in-place masters stay in place");
        let mut spans: Vec<(usize, usize)> = p
            .regions
            .iter()
            .filter(|(r, _)| r.name != "out")
            .map(|(r, at)| (*at, at + r.words))
            .collect();
        spans.sort_unstable();
        assert_eq!(spans[0].0, 0);
        for w in spans.windows(2) {
            assert!(w[0].1 <= w[1].0 && w[1].0 % 2 == 0, "{spans:?}");
        }
        assert_eq!(p.engine_words, spans.last().unwrap().1.next_multiple_of(2));
        assert_eq!(p.desc.base.weights, p.desc.base.output);
        assert_eq!(p.desc.base.input as usize, at("in"));
        assert_eq!(
            p.upload_words() + p.download_words(),
            p.regions.iter().map(|(r, _)| r.words).sum()
        );
    }

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
