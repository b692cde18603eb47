//! The committed checkpoint through the reference engine: it loads, its
//! ternary codes round-trip through the file format, and inference is
//! deterministic.

use hlsk_lm::checkpoint::{Checkpoint, pack_trits, unpack_trits};
use hlsk_lm::data::{Corpus, Vocab};
use hlsk_lm::generate::{Sampling, generate};
use hlsk_lm::model::{Model, Reference};

#[test]
fn trits_round_trip_five_to_a_byte() {
    let w: Vec<i8> = (0..23).map(|i| ((i * 7) % 3) as i8 - 1).collect();
    let packed = pack_trits(&w);
    assert_eq!(packed.len(), 5);
    assert_eq!(unpack_trits(&packed, w.len()).unwrap(), w);
    assert!(unpack_trits(&[243], 5).is_err());
}

#[test]
fn committed_checkpoint_round_trips() {
    let ck = Checkpoint::load_default().expect("the committed checkpoint loads");
    let again = Checkpoint::from_bytes(&ck.to_bytes()).expect("it parses again");
    assert_eq!(again, ck);
    let c = ck.config;
    assert!(c.ternary_params() >= 500_000, "{c:?}");
}

#[test]
fn corpus_split_and_vocabulary_match_the_checkpoint() {
    let corpus = Corpus::load().expect("the corpus loads");
    assert_eq!(
        corpus.train().len() + corpus.validation().len(),
        corpus.text().len()
    );
    let tenth = corpus.text().len() as f64 / 10.0;
    assert!((corpus.validation().len() as f64 - tenth).abs() <= 1.0);
    let ck = Checkpoint::load_default().unwrap();
    assert_eq!(Vocab::of(corpus.text()), ck.vocab);
}

#[test]
fn reference_generation_is_deterministic() {
    let model = Model::new(Checkpoint::load_default().unwrap());
    let a = generate(&model, b"ROMEO:", 24, Sampling::Greedy, &mut Reference).unwrap();
    let b = generate(&model, b"ROMEO:", 24, Sampling::Greedy, &mut Reference).unwrap();
    assert_eq!(a.tokens, b.tokens);
    assert_eq!(a.logits, b.logits, "logits differ bit for bit between runs");
    assert_eq!(a.text.len(), 24);
    let t = Sampling::Temperature {
        temperature: 0.8,
        seed: 7,
    };
    let c = generate(&model, b"ROMEO:", 24, t, &mut Reference).unwrap();
    let d = generate(&model, b"ROMEO:", 24, t, &mut Reference).unwrap();
    assert_eq!(c.tokens, d.tokens);
}

#[test]
fn prefill_equals_token_by_token_decode() {
    // The KV cache: one prefill of the prompt gives the same logits, bit
    // for bit, as feeding it one token at a time.
    let model = Model::new(Checkpoint::load_default().unwrap());
    let ids = model.checkpoint().vocab.encode(b"ROMEO: What").unwrap();
    let mut cache = model.cache();
    let all = model
        .forward(&ids, &mut cache, &mut Reference, &mut Default::default())
        .unwrap();
    let mut cache = model.cache();
    let mut one = Vec::new();
    for &t in &ids {
        one.extend(
            model
                .forward(&[t], &mut cache, &mut Reference, &mut Default::default())
                .unwrap(),
        );
    }
    assert_eq!(all, one);
}

#[test]
fn unknown_prompt_characters_are_refused() {
    let model = Model::new(Checkpoint::load_default().unwrap());
    let e = generate(
        &model,
        "ROMEO é".as_bytes(),
        4,
        Sampling::Greedy,
        &mut Reference,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("not in the model's vocabulary"), "{e}");
}
