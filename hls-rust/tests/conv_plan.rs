//! The training-step plan: its descriptor list, run through the reference
//! executor, computes bit for bit what the golden model computes for the
//! same network step; the list has the expected structure, every descriptor
//! encodes, regions are disjoint, and the numerics realize the learning rate.

use hls_rust::conv::desc::{Descriptor, Op};
use hls_rust::conv::float::{init_weights, softmax_xent};
use hls_rust::conv::golden::{
    BpParams, FpParams, WuParams, conv_bp, conv_fp, conv_wu, pool_bwd, pool_fwd,
};
use hls_rust::conv::layout::ActLayout;
use hls_rust::conv::plan::{Headroom, Layer, Magnitudes, Network, Scales, Step, TrainPlan};
use hls_rust::conv::{HwConfig, Memory, Tensor4};
use hls_rust::rng::Rng;

/// Batch 8: on the ECP5 build (P = 2, pipeline depth 4) the fully connected
/// layer (batch as width) needs B >= 8 for the hazard rule.
const B: usize = 8;

fn plan_for(hw: &HwConfig) -> TrainPlan {
    let net = Network::digits();
    let scales = Scales::propose(&net, &Magnitudes::digits_typical(), &Headroom::default());
    TrainPlan::new(&net, B, hw, scales, 0.1).unwrap()
}

fn setup(plan: &TrainPlan, seed: u64) -> Memory {
    let mut mem = plan.new_memory();
    let w0 = init_weights(&plan.net, plan.hw.t, seed).unwrap();
    for (i, w) in w0.iter().enumerate() {
        if let Some(w) = w {
            plan.store_weights(&mut mem, i, w).unwrap();
        }
    }
    let mut rng = Rng::new(seed);
    let x = Tensor4::from_fn([B, 1, 8, 8], |_| rng.below(17) as f64 / 16.0);
    plan.store_input(&mut mem, &x).unwrap();
    mem
}

/// `[B][C][H][W]` to the batch-as-width `[1][N][1][B]` in the engine's flattening order.
fn flatten(p: &Tensor4<i16>, n: usize, t: usize) -> Tensor4<i16> {
    let [b_, c_, h, w] = p.dims();
    let lay = ActLayout {
        b: 1,
        c: c_,
        h,
        w,
        t,
    };
    let mut out = Tensor4::zeros([1, n, 1, b_]);
    for b in 0..b_ {
        for c in 0..c_ {
            for y in 0..h {
                for x in 0..w {
                    out[[0, lay.offset(0, c, y, x), 0, b]] = p[[b, c, y, x]];
                }
            }
        }
    }
    out
}

fn unflatten(f: &Tensor4<i16>, dims: [usize; 4], t: usize) -> Tensor4<i16> {
    let [_, c_, h, w] = dims;
    let lay = ActLayout {
        b: 1,
        c: c_,
        h,
        w,
        t,
    };
    Tensor4::from_fn(dims, |[b, c, y, x]| f[[0, lay.offset(0, c, y, x), 0, b]])
}

/// One training step of the digits net with the golden model, compared
/// with the plan's memory image after the engine path.
fn check_step_against_golden(hw: HwConfig, seed: u64) {
    let plan = plan_for(&hw);
    let t = hw.t;
    let mut mem = setup(&plan, seed);
    let mem0 = mem.clone();
    let tn = &plan.tensors;
    let num = |i: usize| plan.numerics[i].unwrap();
    let wdims = |i: usize| plan.geometry[i].weight_dims().unwrap();
    let w16 = |m: &Memory, i: usize| {
        m.load_weights(tn[i].weights.unwrap() as usize, t, wdims(i))
            .unwrap()
    };
    let master = |m: &Memory, i: usize| {
        m.load_master(tn[i].master.unwrap() as usize, t, wdims(i))
            .unwrap()
    };
    let act = |m: &Memory, r: hls_rust::conv::plan::TensorRef| {
        m.load_act(r.base as usize, t, r.dims).unwrap()
    };

    // Golden forward.
    let x0 = act(&mem0, plan.input);
    let fp = |x: &Tensor4<i16>, i: usize, pad: usize, relu: bool| {
        conv_fp(
            x,
            &w16(&mem0, i),
            &FpParams {
                pad,
                s_out: num(i).fp_s_out.into(),
                relu,
                acc_w: hw.acc_w,
            },
        )
        .unwrap()
        .0
    };
    let a1 = fp(&x0, 0, 1, true);
    let (p1, arg1) = pool_fwd(&a1).unwrap();
    let a2 = fp(&p1, 2, 1, true);
    let (p2, arg2) = pool_fwd(&a2).unwrap();
    let fc_in = flatten(&p2, plan.geometry[4].shape.n, t);
    let logits = fp(&fc_in, 4, 0, false);

    plan.run_forward(&mut mem).unwrap();
    assert_eq!(act(&mem, tn[0].output), a1, "conv1 output");
    assert_eq!(act(&mem, tn[1].output), p1, "pool1 output");
    assert_eq!(act(&mem, tn[2].output), a2, "conv2 output");
    assert_eq!(act(&mem, tn[3].output), p2, "pool2 output");
    assert_eq!(act(&mem, tn[4].input), fc_in, "fc input (batch as width)");
    assert_eq!(act(&mem, tn[4].output), logits, "logits");
    assert_eq!(
        mem.load_argmax(tn[1].argmax.unwrap() as usize, t, p1.dims())
            .unwrap(),
        arg1
    );

    // Loss on the host.
    let z = plan.read_logits(&mem).unwrap();
    let grads: Vec<Vec<f64>> = z
        .iter()
        .enumerate()
        .map(|(b, row)| softmax_xent(row, (b * 3) % 10).1)
        .collect();
    plan.write_logits_grad(&mut mem, &grads).unwrap();
    let dlog = act(&mem, plan.logits_grad().unwrap());

    // Golden backward.
    let bp = |d: &Tensor4<i16>, i: usize, pad: usize, a: &Tensor4<i16>| {
        conv_bp(
            d,
            &w16(&mem0, i),
            Some(a),
            &BpParams {
                pad,
                s_out: num(i).bp_s_out.into(),
                acc_w: hw.acc_w,
            },
        )
        .unwrap()
        .0
    };
    let wu = |x: &Tensor4<i16>, d: &Tensor4<i16>, i: usize, pad: usize| {
        let n = num(i);
        let p = WuParams {
            pad,
            g_pre: n.g_pre.into(),
            lr_mant: n.lr_mant,
            lr_shift: n.lr_shift,
            acc_w_wu: hw.acc_w_wu,
        };
        conv_wu(x, d, &master(&mem0, i), &p).unwrap()
    };
    let dfc = bp(&dlog, 4, 0, &fc_in);
    let u3 = wu(&fc_in, &dlog, 4, 0);
    let dp2 = unflatten(&dfc, p2.dims(), t);
    let da2 = pool_bwd(&dp2, &arg2).unwrap();
    let dp1 = bp(&da2, 2, 1, &p1);
    let u2 = wu(&p1, &da2, 2, 1);
    let da1 = pool_bwd(&dp1, &arg1).unwrap();
    let u1 = wu(&x0, &da1, 0, 1);

    plan.run_backward(&mut mem).unwrap();
    assert_eq!(
        act(&mem, tn[3].output_grad.unwrap()),
        dp2,
        "pool2 output gradient"
    );
    assert_eq!(
        act(&mem, tn[2].output_grad.unwrap()),
        da2,
        "conv2 output gradient"
    );
    assert_eq!(
        act(&mem, tn[1].output_grad.unwrap()),
        dp1,
        "pool1 output gradient"
    );
    assert_eq!(
        act(&mem, tn[0].output_grad.unwrap()),
        da1,
        "conv1 output gradient"
    );
    for (i, u) in [(0, &u1), (2, &u2), (4, &u3)] {
        assert_eq!(master(&mem, i), u.master, "layer {i} master weights");
        assert_eq!(w16(&mem, i), u.w16, "layer {i} working weights");
        assert!(u.master != master(&mem0, i), "layer {i} learned something");
    }
}

#[test]
fn training_step_equals_golden_model_on_ecp5() {
    check_step_against_golden(HwConfig::ecp5(), 3);
}

#[test]
fn training_step_equals_golden_model_on_up5k() {
    check_step_against_golden(HwConfig::up5k(), 4);
}

#[test]
fn step_list_structure_and_encoding() {
    let hw = HwConfig::ecp5();
    let plan = plan_for(&hw);
    let ops: Vec<Op> = plan.descriptors().map(|d| d.op).collect();
    use Op::*;
    assert_eq!(
        ops,
        [
            Fp, PoolFwd, Fp, PoolFwd, Fp, Bp, Wu, PoolBwd, Bp, Wu, PoolBwd, Wu
        ]
    );
    for d in plan.descriptors() {
        let words = d.encode().unwrap();
        assert_eq!(Descriptor::decode(&words).unwrap(), *d);
        assert!(hls_rust::conv::model::check_tiling(d, &hw).is_ok());
        if d.op == Bp {
            assert!(d.relu_mask, "every BP input here went through a ReLU");
        }
        if d.op == Wu {
            assert!(
                d.write_w16 && d.base.weights == d.base.output,
                "in-place master update"
            );
        }
    }
    let fp_relu: Vec<bool> = plan
        .descriptors()
        .filter(|d| d.op == Fp)
        .map(|d| d.relu)
        .collect();
    assert_eq!(fp_relu, [true, true, false]);
    let host = plan
        .steps
        .iter()
        .filter(|s| matches!(s, Step::Host { .. }))
        .count();
    assert_eq!(host, 3, "relayout, loss, relayout back");
    // Regions are disjoint and inside the image.
    let mut r: Vec<_> = plan
        .regions
        .iter()
        .map(|r| (r.base as usize, r.words))
        .collect();
    r.sort();
    for w in r.windows(2) {
        assert!(w[0].0 + w[0].1 <= w[1].0);
    }
    assert!(r.last().is_some_and(|l| l.0 + l.1 <= plan.mem_words));
    // The codes realize the learning rate within the 15-bit mantissa.
    for n in plan.numerics.iter().flatten() {
        assert!((n.lr_real / 0.1 - 1.0).abs() < 1e-4, "lr {}", n.lr_real);
        assert!(n.lr_mant >= 1 << 14);
    }
    // The model's per-step prediction adds up its descriptors.
    let p = plan.predicted();
    assert_eq!(p.cycles, p.fired + p.stalls() + p.overhead);
    assert!(p.macs > 0 && p.utilization(&hw) <= 1.0);
}

#[test]
fn plan_errors_name_the_layer() {
    let hw = HwConfig::ecp5();
    let mut net = Network::digits();
    net.layers.insert(3, Layer::MaxPool); // 4x4 -> 2x2 -> 1x1, then a pool of 1x1
    net.layers.insert(4, Layer::MaxPool);
    let scales = Scales {
        input: 14,
        layers: vec![],
    };
    let e = TrainPlan::new(&net, 4, &hw, scales, 0.1).unwrap_err();
    assert!(e.to_string().contains("layer 5"), "{e}");
    let conv_after_fc = Network {
        input: [1, 8, 8],
        layers: vec![
            Layer::Fc { m: 4, relu: true },
            Layer::Conv {
                m: 2,
                k: 1,
                pad: 0,
                relu: false,
            },
        ],
    };
    let e = hls_rust::conv::plan::geometry(&conv_after_fc, 2, 4).unwrap_err();
    assert!(e.to_string().contains("layer 1"), "{e}");
}

/// The hazard rule binds the fully connected layer: batch-as-width gives a
/// read-modify-write period of ceil(B/P) cycles.
#[test]
fn small_batch_violates_the_fc_hazard_rule() {
    let hw = HwConfig::ecp5(); // P = 2, depth 4
    let net = Network::digits();
    let scales = plan_for(&hw).scales;
    let e = TrainPlan::new(&net, 4, &hw, scales, 0.1).unwrap_err();
    assert!(e.to_string().contains("hazard"), "{e}");
}
