//! The host link's bit clock: the SoC's UART divides its clock by a whole
//! number of cycles per bit, so a board's `[uart] baud` is only as good as
//! the divider its clock allows. [`UartDivider::new`] picks the nearest
//! divider and refuses a rate the clock cannot make closely enough, or one
//! too fast for the UART's sampling.
//!
//! The SoC top (`hlsk_soc_top`) computes its divider as `ClkHz / Baud`
//! (integer division); the flow sets its `Baud` parameter to
//! [`UartDivider::baud_param`], the rate the chosen divider really makes,
//! rounded down, so that the SoC divides by the nearest divider and not by
//! the truncated quotient.
//!
//! ```
//! use hlsk_boards::uart::UartDivider;
//! // The iCEBreaker: 21 MHz from its PLL, 3 Mbaud to the FT2232H.
//! let d = UartDivider::new(21_000_000, 3_000_000)?;
//! assert_eq!(d.clks_per_bit, 7);
//! assert_eq!(d.baud_param(), 3_000_000);
//! // The ULX3S at 70 MHz: 23 cycles per bit make 3.043 Mbaud, 1.4 % fast.
//! let d = UartDivider::new(70_000_000, 3_000_000)?;
//! assert_eq!((d.clks_per_bit, d.baud_param()), (23, 3_043_478));
//! assert!((d.error() - 0.0145).abs() < 1e-4);
//! // 25 MHz cannot make 3 Mbaud: 8 cycles per bit are 4.2 % off.
//! assert!(UartDivider::new(25_000_000, 3_000_000).is_err());
//! # Ok::<(), hlsk_boards::uart::BaudError>(())
//! ```

use serde::{Deserialize, Serialize};

/// Fewest clock cycles per bit the flow accepts. `hlsk_uart_rx` and
/// `hlsk_uart_tx` work from 2, but the receiver sees a start edge up to one
/// cycle late, so its samples sit up to `1/d` of a bit off the bits'
/// middles; the sample of the stop bit, 9.5 bits after the start edge,
/// must then stay inside its bit with both sides' rate errors added up.
/// At 4 cycles per bit a quarter bit is left for them (2.6 % over 9.5
/// bits), which covers [`MAX_BAUD_ERROR`] of this side.
pub const MIN_CLKS_PER_BIT: u32 = 4;

/// Largest relative difference between the rate the divider makes and the
/// board file's `baud`.
pub const MAX_BAUD_ERROR: f64 = 0.02;

/// Standard rates offered in error messages, fastest first.
const STANDARD_BAUDS: &[u32] = &[
    3_000_000, 2_000_000, 1_500_000, 1_000_000, 921_600, 460_800, 230_400, 115_200,
];

/// The UART divider of one clock and baud rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UartDivider {
    /// The clock the SoC runs at, Hz.
    pub clk_hz: u64,
    /// The rate asked for (`[uart] baud`).
    pub baud: u32,
    /// Clock cycles per bit: `clk_hz / baud` rounded to the nearest.
    pub clks_per_bit: u32,
}

/// Why a baud rate does not work at a clock.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BaudError {
    /// A rate of 0.
    #[error("0 is not a baud rate")]
    Zero,
    /// Fewer than [`MIN_CLKS_PER_BIT`] cycles per bit.
    #[error(
        "{baud} baud from a {clk_mhz} MHz clock leaves {cpb:.2} clock cycles per bit, fewer than \
         the {MIN_CLKS_PER_BIT} the UART needs; choose at most {max} baud, or a faster clock \
         (`[clock] pll_mhz` of at least {min_mhz} MHz)",
        clk_mhz = *clk_hz as f64 / 1e6,
        cpb = *clk_hz as f64 / f64::from(*baud),
        max = clk_hz / u64::from(MIN_CLKS_PER_BIT),
        min_mhz = f64::from(*baud) * f64::from(MIN_CLKS_PER_BIT) / 1e6
    )]
    TooFast {
        /// The clock, Hz.
        clk_hz: u64,
        /// The rate asked for.
        baud: u32,
    },
    /// The nearest divider is more than [`MAX_BAUD_ERROR`] off.
    #[error(
        "{baud} baud from a {clk_mhz} MHz clock needs {exact:.2} clock cycles per bit; the \
         nearest divider, {cpb}, makes {actual:.0} baud, {pct:+.2} % off (at most \
         {max_pct} %); choose a rate the clock divides closely{suggest}, or a clock that is a \
         multiple of it (`[clock] pll_mhz`, e.g. {mult_mhz} MHz = {cpb} x {baud} baud)",
        clk_mhz = *clk_hz as f64 / 1e6,
        exact = *clk_hz as f64 / f64::from(*baud),
        actual = *clk_hz as f64 / f64::from(*cpb),
        pct = (*clk_hz as f64 / f64::from(*cpb) / f64::from(*baud) - 1.0) * 100.0,
        max_pct = MAX_BAUD_ERROR * 100.0,
        suggest = suggestions(*clk_hz),
        mult_mhz = f64::from(*cpb) * f64::from(*baud) / 1e6
    )]
    Inexact {
        /// The clock, Hz.
        clk_hz: u64,
        /// The rate asked for.
        baud: u32,
        /// The nearest divider.
        cpb: u32,
    },
}

impl UartDivider {
    /// The divider nearest `clk_hz / baud`; an error when it is below
    /// [`MIN_CLKS_PER_BIT`] or its rate is more than [`MAX_BAUD_ERROR`] off
    /// `baud`, with what to change.
    pub fn new(clk_hz: u64, baud: u32) -> Result<UartDivider, BaudError> {
        if baud == 0 {
            return Err(BaudError::Zero);
        }
        let b = u64::from(baud);
        let cpb = (clk_hz + b / 2) / b;
        if cpb < u64::from(MIN_CLKS_PER_BIT) {
            return Err(BaudError::TooFast { clk_hz, baud });
        }
        let cpb = u32::try_from(cpb).unwrap_or(u32::MAX);
        let d = UartDivider {
            clk_hz,
            baud,
            clks_per_bit: cpb,
        };
        if d.error().abs() > MAX_BAUD_ERROR {
            return Err(BaudError::Inexact { clk_hz, baud, cpb });
        }
        Ok(d)
    }

    /// The rate the divider makes, baud.
    pub fn actual_baud(&self) -> f64 {
        self.clk_hz as f64 / f64::from(self.clks_per_bit)
    }

    /// Relative error of [`UartDivider::actual_baud`] against the rate
    /// asked (positive: faster).
    pub fn error(&self) -> f64 {
        self.actual_baud() / f64::from(self.baud) - 1.0
    }

    /// The SoC top's `Baud` parameter: the divider's rate rounded down, so
    /// that the SoC's `ClkHz / Baud` (integer division) is exactly
    /// [`UartDivider::clks_per_bit`].
    pub fn baud_param(&self) -> u64 {
        self.clk_hz / u64::from(self.clks_per_bit)
    }
}

/// `" (e.g. 1000000 or 115200 baud at this clock)"`: standard rates the
/// clock makes within [`MAX_BAUD_ERROR`], or nothing.
fn suggestions(clk_hz: u64) -> String {
    let ok: Vec<String> = STANDARD_BAUDS
        .iter()
        .filter(|&&b| UartDivider::new(clk_hz, b).is_ok())
        .take(3)
        .map(u32::to_string)
        .collect();
    if ok.is_empty() {
        String::new()
    } else {
        format!(" (e.g. {} baud at this clock)", ok.join(" or "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soc_divides_by_the_nearest_divider() {
        // hlsk_soc_top: ClksPerBit = ClkHz / Baud, integer division.
        for clk in [
            12_000_000u64,
            21_000_000,
            25_000_000,
            36_000_000,
            48_000_000,
            70_000_000,
            75_000_000,
            100_000_000,
        ] {
            for &baud in STANDARD_BAUDS {
                if let Ok(d) = UartDivider::new(clk, baud) {
                    assert_eq!(
                        clk / d.baud_param(),
                        u64::from(d.clks_per_bit),
                        "{clk} {baud}"
                    );
                    let exact = clk as f64 / f64::from(baud);
                    assert!(
                        (f64::from(d.clks_per_bit) - exact).abs() <= 0.5,
                        "{clk} {baud}"
                    );
                }
            }
        }
    }

    #[test]
    fn too_fast_and_inexact_rates_are_refused_with_what_to_do() {
        let e = UartDivider::new(12_000_000, 4_000_000).unwrap_err();
        assert_eq!(
            e.to_string(),
            "4000000 baud from a 12 MHz clock leaves 3.00 clock cycles per bit, fewer than the 4 \
             the UART needs; choose at most 3000000 baud, or a faster clock (`[clock] pll_mhz` \
             of at least 16 MHz)"
        );
        let e = UartDivider::new(25_000_000, 3_000_000).unwrap_err();
        assert_eq!(
            e.to_string(),
            "3000000 baud from a 25 MHz clock needs 8.33 clock cycles per bit; the nearest \
             divider, 8, makes 3125000 baud, +4.17 % off (at most 2 %); choose a rate the clock \
             divides closely (e.g. 1500000 or 1000000 or 921600 baud at this clock), or a clock \
             that is a multiple of it (`[clock] pll_mhz`, e.g. 24 MHz = 8 x 3000000 baud)"
        );
        assert_eq!(UartDivider::new(25_000_000, 0), Err(BaudError::Zero));
        // Inside and outside the 2 % bound.
        assert!(UartDivider::new(101 * 4, 100).is_ok());
        assert!(UartDivider::new(97 * 4, 100).is_err());
    }
}
