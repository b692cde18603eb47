//! Bit-exactness of the language model on the Verilated TLMM engine: for a
//! short prompt (one prefill) and a few decode steps, every logit equals
//! the reference's bit for bit, on a G = 3 and a G = 1 build; so do the
//! generated tokens. And through the SoC digital twins over their UART
//! host links: the ULX3S's with the weights resident (loaded once), the
//! iCEBreaker's with them uploaded per product (its memory cannot hold
//! them, and it says so).

use hlsk_lm::checkpoint::Checkpoint;
use hlsk_lm::engines::{RtlEngine, TwinEngine};
use hlsk_lm::generate::{Sampling, generate};
use hlsk_lm::model::{Model, Reference};

fn same_as_reference(build: usize) {
    let model = Model::new(Checkpoint::load_default().expect("the committed checkpoint"));
    let want = generate(&model, b"ROMEO:", 4, Sampling::Greedy, &mut Reference).unwrap();
    let mut rtl = RtlEngine::new(build, model.config(), 1).unwrap();
    let got = generate(&model, b"ROMEO:", 4, Sampling::Greedy, &mut rtl)
        .unwrap_or_else(|e| panic!("build {build}: {e}"));
    assert_eq!(got.logits.len(), want.logits.len());
    for (step, (g, w)) in got.logits.iter().zip(&want.logits).enumerate() {
        assert_eq!(
            bits(g),
            bits(w),
            "build {build}: logits of step {step} differ"
        );
    }
    assert_eq!(got.tokens, want.tokens, "build {build}");
    assert!(rtl.jobs > 0 && rtl.busy_cycles > 0);
}

#[test]
fn g3_build_gives_the_reference_logits() {
    // TLMM_CONFIGS[0]: G = 3, T = 3, P = 4, KMax 256 (the down projection,
    // K = 512, runs as two chunks).
    same_as_reference(0);
}

#[test]
fn g1_build_gives_the_reference_logits() {
    // TLMM_CONFIGS[4]: G = 1, T = 1, P = 1, ACC_W 20, KMax 64: every
    // product runs as K / 64 chunks summed on the host.
    same_as_reference(4);
}

#[test]
fn icebreaker_twin_gives_the_reference_logits() {
    // One token through the SoC's UART host link (weights uploaded with
    // every product: about 11 s of simulation), checked against the
    // reference's logits bit for bit.
    let model = Model::new(Checkpoint::load_default().expect("the committed checkpoint"));
    let want = generate(&model, b"R", 1, Sampling::Greedy, &mut Reference).unwrap();
    let mut twin = TwinEngine::streaming("icebreaker", 1).unwrap();
    let got = generate(&model, b"R", 1, Sampling::Greedy, &mut twin).unwrap();
    assert_eq!(bits(&got.logits[0]), bits(&want.logits[0]));
    assert_eq!(got.tokens, want.tokens);
    assert!(twin.jobs > 0);
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn ulx3s_twin_keeps_the_weights_resident() {
    // Every weight loaded once; then a prefill of two tokens and one decode
    // step write only activations: one job per projection per token (the
    // ULX3S engine's KMax = 1024 takes every K in one chunk), the logits
    // the reference's bit for bit.
    let model = Model::new(Checkpoint::load_default().expect("the committed checkpoint"));
    let want = generate(&model, b"RO", 2, Sampling::Greedy, &mut Reference).unwrap();
    let mut loaded = (0, 0);
    let mut twin =
        TwinEngine::resident("ulx3s", model.checkpoint(), 1, &mut |d, t| loaded = (d, t)).unwrap();
    assert!(twin.is_resident());
    assert_eq!(loaded.0, loaded.1, "progress ends at the total");
    let (load_sent, _) = twin.link_bytes();
    assert!(
        load_sent >= 4 * loaded.1 as u64,
        "{load_sent} bytes sent for {loaded:?} words"
    );
    let got = generate(&model, b"RO", 2, Sampling::Greedy, &mut twin).unwrap();
    assert_eq!(got.logits.len(), want.logits.len());
    for (step, (g, w)) in got.logits.iter().zip(&want.logits).enumerate() {
        assert_eq!(bits(g), bits(w), "logits of step {step} differ");
    }
    assert_eq!(got.tokens, want.tokens);
    let tokens = 3; // two prompt tokens, one generated
    let projections = model.config().linears().len() as u64;
    assert_eq!(twin.jobs, tokens * projections);
    let (sent, _) = twin.link_bytes();
    let per_token = (sent - load_sent) / tokens;
    assert!(
        per_token * 20 < load_sent,
        "{per_token} bytes sent per token against {load_sent} for the weights: are they re-sent?"
    );
}

#[test]
fn icebreaker_twin_says_the_model_does_not_fit() {
    let model = Model::new(Checkpoint::load_default().expect("the committed checkpoint"));
    let err = TwinEngine::resident("icebreaker", model.checkpoint(), 1, &mut |_, _| {
        panic!("nothing may be written when the weights cannot fit")
    })
    .err()
    .expect("1,024 words cannot hold the model");
    assert!(
        err.contains("do not fit the icebreaker SoC's memory")
            && err.contains("the device has 1024")
            && err.contains("holds 0 of these layers")
            && err.contains("the largest model it keeps resident has about"),
        "{err}"
    );
}
