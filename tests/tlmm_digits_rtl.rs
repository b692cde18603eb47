//! The whole digits test split through the Verilated TLMM engine: every
//! integer logit bit-identical to the reference, same accuracy, and the
//! accuracy targets of the ternary network.

use hlsk_cosim::configs::TLMM_CONFIGS;
use hlsk_tests::tlmm_digits::run_digits;

#[test]
fn digits_test_split_through_rtl_is_bit_identical_for_g3_and_g1() {
    for (c, cfg) in TLMM_CONFIGS.iter().enumerate() {
        // The UP5K-sized G = 3 build and the G = 1 baseline.
        if !(cfg.p == 4 && (cfg.t == 3 || cfg.t == 4)) {
            continue;
        }
        let r = run_digits(c, 1, 30, None).unwrap_or_else(|e| panic!("{}: {e}", cfg.prefix()));
        println!("{r}");
        assert_eq!(r.images, 359, "the whole held-out split");
        assert_eq!(r.identical, r.images, "every logit bit-identical");
        assert_eq!(r.rtl_accuracy, r.reference_accuracy);
        assert!(
            r.reference_accuracy >= 0.90,
            "ternary accuracy {}",
            r.reference_accuracy
        );
    }
}
