//! The real serial transport against the digital twin on a pseudo-terminal:
//! `hlsk_host::SerialTransport` (the serialport crate, termios, timeouts)
//! talks to the Verilated SoC exactly as it would to a board's UART.

use hls_rust::rng::Rng;
use hls_rust::tlmm::TernaryMatrix;
use hlsk_host::job::run_tlmm;
use hlsk_host::proto::Counter;
use hlsk_host::{Link, LinkConfig, SerialTransport, Transport};
use hlsk_tests::twin_pty::PtyTwin;
use std::time::{Duration, Instant};

#[test]
fn a_tlmm_job_through_the_serial_transport_matches_the_reference() {
    let twin = PtyTwin::spawn("icebreaker", 7).expect("serving the twin");
    let path = twin.path().to_str().expect("utf-8 pty path").to_owned();
    let port = SerialTransport::open(&path, 115_200).expect("opening the twin's terminal");
    assert_eq!(port.name(), path);
    let mut link = Link::connect(port, LinkConfig::default()).expect("INFO through the pty");
    let info = link.info();
    let mut rng = Rng::new(11);
    let k = usize::from(info.k_max);
    let w = TernaryMatrix::random(2 * usize::from(info.p) + 1, k, 0.3, &mut rng);
    let x: Vec<i8> = (0..k).map(|_| rng.below(256) as u8 as i8).collect();
    let outcome = run_tlmm(&mut link, &w, &x, &mut |_| {}).expect("job through the pty");
    assert!(
        outcome.passed(),
        "rows {:?} differ\n device   {:?}\n expected {:?}",
        outcome.mismatches(),
        outcome.out,
        outcome.expected
    );
    let s = outcome.status;
    for c in [
        Counter::Crc,
        Counter::Trunc,
        Counter::Oversize,
        Counter::BadArg,
    ] {
        assert_eq!(s.counter(c), 0, "{c:?} counted on a clean line: {s:?}");
    }
    assert!(!s.uart_frame_err && !s.uart_overrun, "{s:?}");
    assert!(twin.cycles() > 0 && twin.is_running());
    drop(link);
    twin.stop().expect("the twin ran without a model error");
}

#[test]
fn serial_receive_times_out_with_nothing_sent() {
    let twin = PtyTwin::spawn("icebreaker", 3).expect("serving the twin");
    let mut port = SerialTransport::open(twin.path().to_str().unwrap(), 115_200).unwrap();
    let mut buf = [0u8; 16];
    let t0 = Instant::now();
    let n = port.recv(&mut buf, Duration::from_millis(50)).unwrap();
    assert_eq!(n, 0, "the device spoke unasked: {:?}", &buf[..n]);
    assert!(t0.elapsed() >= Duration::from_millis(40));
}

#[test]
fn a_missing_board_is_reported_before_any_terminal_is_served() {
    let e = PtyTwin::spawn("no-such-board", 1).err().expect("no twin");
    assert!(
        e.to_string()
            .contains("no digital twin of board no-such-board"),
        "{e}"
    );
}
