//! Co-simulation of the UART receiver and transmitter against the
//! bit-level line model, for every build, and of the frame encoder that
//! feeds the transmitter against the host's frame format. See
//! `hlsk_tests::uart` and `hlsk_tests::frame_tx` for the properties.

use hlsk_cosim::configs::UART_CONFIGS;
use hlsk_tests::prop::cases;
use hlsk_tests::uart::{
    rx_delivers_line_bytes_on, rx_flags_bad_stop_bit_on, tx_line_decodes_to_bytes_on,
};

fn every_build(property: fn(usize, u32) -> Result<(), String>) {
    for config in 0..UART_CONFIGS.len() {
        if let Err(e) = property(config, cases(128)) {
            panic!("{e}");
        }
    }
}

#[test]
fn uart_rx_delivers_the_bytes_on_the_line_under_backpressure() {
    every_build(rx_delivers_line_bytes_on);
}

#[test]
fn uart_rx_drops_a_bad_stop_bit_frame_and_sets_frame_err() {
    every_build(rx_flags_bad_stop_bit_on);
}

#[test]
fn uart_tx_line_decodes_to_the_bytes_sent() {
    every_build(tx_line_decodes_to_bytes_on);
}

#[test]
fn frame_tx_sends_each_frame_exactly_as_encoded_under_backpressure() {
    for config in 0..hlsk_cosim::configs::FRAME_TX_CONFIGS.len() {
        if let Err(e) = hlsk_tests::frame_tx::frame_tx_sends_encoded_frames_on(config, cases(256)) {
            panic!("{e}");
        }
    }
}
