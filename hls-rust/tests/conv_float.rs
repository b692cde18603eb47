//! The f32 twin: its backward pass matches finite differences of the
//! softmax cross-entropy loss, so the baseline the fixed point is compared
//! with is itself right.

use hls_rust::conv::Tensor4;
use hls_rust::conv::float::{FloatNet, init_weights, softmax_xent};
use hls_rust::conv::plan::Network;
use hls_rust::rng::Rng;

fn loss(net: &FloatNet, x: &Tensor4<f32>, labels: &[usize]) -> f64 {
    let tr = net.forward(x).unwrap();
    let z = tr.acts.last().unwrap();
    labels
        .iter()
        .enumerate()
        .map(|(b, &l)| {
            let row: Vec<f64> = (0..z.dims()[1])
                .map(|k| f64::from(z[[b, k, 0, 0]]))
                .collect();
            softmax_xent(&row, l).0
        })
        .sum()
}

#[test]
fn f32_weight_gradients_match_finite_differences() {
    let net = Network::digits();
    let w0 = init_weights(&net, 4, 9).unwrap();
    let fnet = FloatNet::new(&net, 4, &w0).unwrap();
    let mut rng = Rng::new(2);
    let x = Tensor4::from_fn([3, 1, 8, 8], |_| rng.next_f64() as f32);
    let labels = [1, 7, 3];
    let tr = fnet.forward(&x).unwrap();
    let z = tr.acts.last().unwrap().clone();
    let dl = Tensor4::from_fn(z.dims(), |[b, c, _, _]| {
        let row: Vec<f64> = (0..z.dims()[1])
            .map(|k| f64::from(z[[b, k, 0, 0]]))
            .collect();
        softmax_xent(&row, labels[b]).1[c] as f32
    });
    let g = fnet.backward(&tr, &dl).unwrap();
    let mut checked = 0;
    for layer in [0, 2, 4] {
        let gw = g.weights[layer].as_ref().unwrap();
        for i in (0..gw.len()).step_by(gw.len() / 7 + 1) {
            let eps = 2e-3f32;
            let mut plus = fnet.clone();
            plus.weights[layer].as_mut().unwrap().data_mut()[i] += eps;
            let mut minus = fnet.clone();
            minus.weights[layer].as_mut().unwrap().data_mut()[i] -= eps;
            let fd =
                (loss(&plus, &x, &labels) - loss(&minus, &x, &labels)) / (2.0 * f64::from(eps));
            let an = f64::from(gw.data()[i]);
            assert!(
                (fd - an).abs() <= 2e-3 + 2e-2 * an.abs(),
                "layer {layer} weight {i}: fd {fd} vs {an}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 15);
    assert!(fnet.forward(&Tensor4::zeros([1, 2, 8, 8])).is_err());
}
