//! Properties of the convolution engine on the SoC, through the digital twin
//! and the host link (`hlsk_host::conv`):
//!
//! - [`conv_jobs_match_reference_on`]: random FP layers, scheduled with
//!   `best_tiling` for the SoC's engine, leave the device memory image of
//!   `run_descriptor` word for word, with the reference's fired cycles;
//! - [`bad_conv_descriptors_are_refused`]: a descriptor beyond the engine's
//!   buffers, a malformed one and one whose output lies past the memory end
//!   with the error status (no hang), the memory untouched, and the next
//!   good job still exact;
//! - [`lost_conv_ack_is_not_re_executed`]: a CONV_START whose reply is lost
//!   is sent again, answered as a duplicate, and the job runs once.

use crate::conv::{hw_of, oversized};
use crate::prop::check;
use crate::twin::{Twin, WireFault};
use crate::twin_props::connect;
use hls_rust::conv::HwConfig;
use hls_rust::conv::desc::{ConvShape, Op};
use hls_rust::conv::layout::Memory;
use hls_rust::rng::Rng;
use hlsk_cosim::configs::SOC_CONFIGS;
use hlsk_host::Link;
use hlsk_host::conv::pack_image;
use hlsk_host::conv::{ConvJob, DEMO_FP, run_conv, run_on_device};
use hlsk_host::proto::Counter;
use proptest::prelude::*;

/// The reference's view of SoC build `config`'s convolution engine.
pub fn soc_conv_hw(config: usize) -> Result<HwConfig, String> {
    SOC_CONFIGS[config]
        .conv
        .as_ref()
        .map(hw_of)
        .ok_or_else(|| format!("SoC build {config} has no convolution engine"))
}

/// One random FP job: power-up seed, layer, data seed.
#[derive(Debug, Clone)]
pub struct SocConvCase {
    /// Index into `SOC_CONFIGS`.
    pub config: usize,
    /// Power-up seed.
    pub seed: u32,
    /// The layer.
    pub shape: ConvShape,
    /// Seed of the data, ReLU and s_out.
    pub data: u64,
}

fn conv_case(config: usize) -> impl Strategy<Value = SocConvCase> {
    (
        any::<u32>(),
        (1usize..=6, 1usize..=6, 1usize..=7, 1usize..=7),
        prop_oneof![
            Just((1usize, 0usize)),
            Just((3, 0)),
            Just((3, 1)),
            Just((3, 2))
        ],
        1usize..=2,
        any::<u64>(),
    )
        .prop_map(move |(seed, (n, m, h, w), (k, pad), b, data)| SocConvCase {
            config,
            seed,
            shape: ConvShape {
                n,
                m,
                h,
                w,
                k,
                pad,
                b,
            },
            data,
        })
        .prop_filter("an empty output", |c| c.shape.ho() > 0 && c.shape.wo() > 0)
}

/// Runs `job` and compares the whole image; `what` names it in errors.
fn job_matches(
    link: &mut Link<Twin>,
    job: &ConvJob,
    hw: &HwConfig,
    what: &str,
) -> Result<(), String> {
    let o = run_conv(link, job, hw, &mut |_| {}).map_err(|e| format!("{what}: {e}"))?;
    if !o.passed() {
        let bad = o.mismatches();
        return Err(format!(
            "{what}: {} of {} engine words differ (first {:?}), status {:?}, reference fired {}\n \
             descriptor {:?}",
            bad.len(),
            o.image.len(),
            &bad[..bad.len().min(8)],
            o.status.conv,
            o.stats.fired,
            job.desc
        ));
    }
    Ok(())
}

/// Property: a random FP layer through the twin leaves `run_descriptor`'s
/// memory image, with the reference's fired cycles and no error.
pub fn conv_jobs_match_reference_on(config: usize, cases: u32) -> Result<(), String> {
    let hw = soc_conv_hw(config)?;
    let name = format!(
        "twin_conv_jobs_match_reference[{}]",
        SOC_CONFIGS[config].name()
    );
    check(&name, cases, conv_case(config), |case, waves| {
        let mut link = connect(case.config, case.seed, waves)?;
        let job = ConvJob::random_fp(case.shape, &hw, case.data).map_err(|e| e.to_string())?;
        job_matches(&mut link, &job, &hw, "random FP layer")
    })
}

/// Scenario: descriptors the SoC must not run (beyond the engine's input
/// buffer; an op code above 4; an output region past the memory end) each
/// end with the error status instead of hanging, leave the memory as it
/// was (the one past the end writes nothing; the others access nothing),
/// and a good job afterwards is exact.
pub fn bad_conv_descriptors_are_refused(config: usize) -> Result<(), String> {
    let hw = soc_conv_hw(config)?;
    let mut link = connect(config, 9, None)?;
    let mem_words = 2 * usize::from(link.info().mem_words);
    let mut rng = Rng::new(3);
    let junk = Memory::from_words((0..1200).map(|_| rng.next_u64() as i16).collect());

    let too_big = oversized(Op::Fp, hw.t, 1, false)
        .encode()
        .map_err(|e| e.to_string())?;
    let mut bad_op = too_big;
    bad_op[0] = (bad_op[0] & !0xf) | 7;
    let good = ConvJob::random_fp(DEMO_FP, &hw, 11).map_err(|e| e.to_string())?;
    let mut past_end = good.desc;
    past_end.base.output = (mem_words - 8) as u32;
    let past_end = past_end.encode().map_err(|e| e.to_string())?;
    // The memory's last words, where the output past the end would begin.
    let sentinel = [0x5a5a_a5a5_u32, 1, 2, 3];
    link.write_words(mem_words / 2 - 4, &sentinel)
        .map_err(|e| e.to_string())?;

    for (what, words, refused) in [
        ("beyond the input buffer", too_big, true),
        ("op code 7", bad_op, true),
        ("output past the memory end", past_end, false),
    ] {
        let image = if refused { &junk } else { &good.image };
        let (s, back) = run_on_device(&mut link, &words, image, &mut |_| {})
            .map_err(|e| format!("{what}: {e}"))?;
        let flagged = if refused {
            s.conv.refused && !s.conv.range_error && s.conv.fired == 0
        } else {
            s.conv.range_error && !s.conv.refused
        };
        if !flagged || s.conv.busy || !s.conv.done {
            return Err(format!("{what}: want the error status, got {:?}", s.conv));
        }
        if &back != image {
            return Err(format!("{what}: the memory changed"));
        }
        let tail = link
            .read_words(mem_words / 2 - 4, 4)
            .map_err(|e| e.to_string())?;
        if tail != sentinel {
            return Err(format!(
                "{what}: the memory's last words changed: {tail:x?}"
            ));
        }
    }
    job_matches(&mut link, &good, &hw, "good job after refused ones")
}

/// Scenario: the reply to CONV_START is garbled (`fault`); the driver sends
/// the frame again, the device answers it as a duplicate without starting
/// the job a second time, and the image is the reference's.
pub fn lost_conv_ack_is_not_re_executed(config: usize, fault: WireFault) -> Result<(), String> {
    let hw = soc_conv_hw(config)?;
    let mut link = connect(config, 21, None)?;
    let job = ConvJob::random_fp(DEMO_FP, &hw, 5).map_err(|e| e.to_string())?;
    let s0 = link.status().map_err(|e| e.to_string())?;
    // Replies before CONV_START's: one per WRITE frame, then a STATUS.
    let writes = pack_image(&job.image)
        .len()
        .div_ceil(usize::from(link.info().max_words));
    link.transport_mut().fault_from_device(writes + 1, fault);
    let o = run_conv(&mut link, &job, &hw, &mut |_| {}).map_err(|e| e.to_string())?;
    let s1 = o.status;
    if !o.passed() {
        return Err(format!("{fault:?}: image differs at {:?}", o.mismatches()));
    }
    let rise = |c: Counter| s1.counter(c).wrapping_sub(s0.counter(c));
    if rise(Counter::Jobs) != 1 || rise(Counter::Dup) != 1 {
        return Err(format!(
            "{fault:?} on a CONV_START reply: jobs +{}, duplicates +{} (want +1 each)",
            rise(Counter::Jobs),
            rise(Counter::Dup)
        ));
    }
    Ok(())
}
