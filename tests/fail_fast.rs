//! A hang fails in cycles, not minutes: runs against deliberately stalled
//! streams must stop at their guard (no handshake for `HANG_LIMIT` cycles on
//! the TLMM engine; the model-derived cycle budget on the conv engine) with
//! a message that names the case and the cycles, and a property whose every
//! case hangs must come back from proptest (shrinking included) with that
//! message, not run on.

use hls_rust::conv::desc::{Bases, ConvShape, Descriptor, Op};
use hls_rust::conv::model::best_tiling;
use hls_rust::conv::{Memory, Tensor4};
use hls_rust::rng::Rng;
use hls_rust::tlmm::{Grouping, TernaryMatrix};
use hlsk_cosim::configs::CONV_CONFIGS;
use hlsk_tests::conv::{MemTiming, cycle_budget, hw_for, run};
use hlsk_tests::prop::check;
use hlsk_tests::tlmm::{Build, HANG_LIMIT, Job, Pressure, random_acts, run_jobs};
use proptest::prelude::*;

/// A small TLMM job on build `b`.
fn job(b: Build, seed: u64) -> Job {
    let cfg = b.config();
    let mut rng = Rng::new(seed);
    let w = TernaryMatrix::random(2 * cfg.p as usize, 40, 0.3, &mut rng);
    Job::new(
        &w,
        Grouping::new(cfg.g as usize).unwrap(),
        random_acts(40, &mut rng),
    )
}

#[test]
fn a_result_stream_that_is_never_ready_fails_at_the_hang_guard() {
    for b in Build::all() {
        let mut dut = b.fresh(1, None).unwrap();
        let stalled = Pressure {
            res: 0,
            ..Pressure::IDEAL
        };
        let e = run_jobs(dut.as_mut(), &[job(b, 3)], stalled, 1).unwrap_err();
        assert!(
            e.contains("hang") && e.contains(&HANG_LIMIT.to_string()),
            "{e}"
        );
        // The engine works until its result stream backs up, then the
        // guard counts HANG_LIMIT idle cycles: far below the budget.
        let cycles = dut.cycles();
        assert!(
            cycles < 4 * HANG_LIMIT,
            "{}: stopped after {cycles} cycles, want < {}",
            b.config().prefix(),
            4 * HANG_LIMIT
        );
    }
}

/// A small FP layer and its memory image on conv build 0.
fn fp_layer() -> (Descriptor, Memory, MemTiming, u64) {
    let c = CONV_CONFIGS[0];
    let shape = ConvShape {
        n: 2,
        m: 2,
        h: 5,
        w: 5,
        k: 3,
        pad: 1,
        b: 1,
    };
    let never = MemTiming {
        stall_pct: 100,
        ..MemTiming::IDEAL
    };
    let hw = hw_for(&c, never);
    let mut d = Descriptor::new(Op::Fp, shape);
    d.base = Bases {
        input: 0,
        weights: 256,
        output: 512,
        ..Bases::default()
    };
    d.tiling = best_tiling(&d, &hw).unwrap().0;
    let model = hls_rust::conv::model::predict(&d, &hw).unwrap();
    let mut mem = Memory::new(1024);
    let x = Tensor4::from_fn([1, 2, 5, 5], |[_, c, y, x]| (c + y + x) as i16);
    mem.store_act(0, c.t as usize, &x).unwrap();
    (d, mem, never, cycle_budget(model.cycles, never))
}

#[test]
fn a_memory_that_never_answers_fails_at_the_cycle_budget() {
    let (d, mut mem, never, budget) = fp_layer();
    let words = d.encode().unwrap();
    let e = run(0, 1, &words, &mut mem, never, budget, None).unwrap_err();
    assert!(
        e.contains("hang") && e.contains(&format!("budget of {budget} cycles")),
        "{e}"
    );
    // The budget is a few times the model's prediction, not millions.
    assert!(budget < 100_000, "budget {budget}");
}

#[test]
fn a_property_whose_every_case_hangs_reports_instead_of_running_on() {
    let b = Build::Os(0);
    let r = check(
        "deliberately stalled result stream",
        8,
        any::<u64>(),
        |&seed, _| {
            let mut dut = b.fresh(seed as u32, None)?;
            let stalled = Pressure {
                res: 0,
                ..Pressure::IDEAL
            };
            run_jobs(dut.as_mut(), &[job(b, seed)], stalled, seed).map(|_| ())
        },
    );
    let e = r.unwrap_err();
    assert!(
        e.contains("minimal failing input") && e.contains("hang: no handshake"),
        "{e}"
    );
}
