//! Bit-exactness of the language model on the Verilated TLMM engine: for a
//! short prompt (one prefill) and a few decode steps, every logit equals
//! the reference's bit for bit, on a G = 3 and a G = 1 build; so do the
//! generated tokens. And one token through the iCEBreaker SoC's digital
//! twin over its UART host link.

use hlsk_lm::checkpoint::Checkpoint;
use hlsk_lm::engines::RtlEngine;
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
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
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
    let mut twin = hlsk_lm::engines::TwinEngine::new("icebreaker", 1).unwrap();
    let got = generate(&model, b"R", 1, Sampling::Greedy, &mut twin).unwrap();
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&got.logits[0]), bits(&want.logits[0]));
    assert_eq!(got.tokens, want.tokens);
    assert!(twin.jobs > 0);
}
