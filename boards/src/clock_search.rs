//! `hlsk build --clock auto`: the fastest PLL setting that meets timing.
//!
//! The candidates are the frequencies the board's PLL tool can make (each
//! one that the UART divider also accepts), ascending. Each try places and
//! routes the design aiming at one candidate and reports nextpnr's Fmax; the
//! candidate is met when Fmax reaches it. The search keeps the highest
//! candidate met and the lowest one failed, and tries next the highest
//! candidate at or below the last Fmax when that lies between them (nextpnr's
//! Fmax is a good estimate of what a placement aimed a little lower
//! reaches), else the candidate just above the highest met one (the lowest
//! when none met), which the Fmax predicts to fail and so closes the
//! interval. After a prediction that proved wrong it tries the middle of the
//! open interval instead (bisection), so a misleading Fmax costs at most
//! about twice the bisection's tries. It stops early when no candidate is
//! left between the two, after `max_tries`, or when a try returns an error.
//!
//! The search knows nothing of tools: [`search`] takes the try as a
//! closure, so its logic is tested without place and route.
//!
//! ```
//! use hlsk_boards::clock_search::{search, Verdict};
//! let candidates = [24.0, 30.0, 36.0, 42.0, 48.0, 54.0, 60.0];
//! // A design that closes up to 45 MHz whatever it is aimed at.
//! let r = search(&candidates, 8, |_mhz| Ok::<_, ()>(45.0))?;
//! assert_eq!(r.best(), Some(42.0));
//! assert!(r.tries.len() <= 3);
//! assert!(r.tries.iter().any(|t| t.mhz == 48.0 && t.verdict == Verdict::Failed));
//! # Ok::<(), ()>(())
//! ```

/// Whether a try met its candidate clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Fmax >= the candidate.
    Met,
    /// Fmax < the candidate.
    Failed,
}

/// One place-and-route try.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Try {
    /// The candidate clock aimed at, MHz.
    pub mhz: f64,
    /// nextpnr's Fmax, MHz.
    pub fmax_mhz: f64,
    /// Met or failed.
    pub verdict: Verdict,
}

/// The outcome of [`search`].
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// Every try, in order.
    pub tries: Vec<Try>,
    /// Why the search stopped.
    pub stop: Stop,
}

/// Why [`search`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The highest met candidate's next one up failed, or it is the last
    /// candidate: the answer is exact (for these placements).
    Bracketed,
    /// No candidate met, the lowest included.
    NoneMet,
    /// `max_tries` were used before the interval closed.
    OutOfTries,
    /// There were no candidates.
    NoCandidates,
}

impl Search {
    /// The highest candidate that met timing, MHz.
    pub fn best(&self) -> Option<f64> {
        self.tries
            .iter()
            .filter(|t| t.verdict == Verdict::Met)
            .map(|t| t.mhz)
            .fold(None, |acc: Option<f64>, m| {
                Some(acc.map_or(m, |a| a.max(m)))
            })
    }
}

/// Finds the highest of `candidates` (MHz, ascending) that meets timing.
/// `try_clock(mhz)` places and routes for `mhz` and returns nextpnr's Fmax;
/// its error stops the search and is returned. At most `max_tries` tries.
pub fn search<E>(
    candidates: &[f64],
    max_tries: usize,
    mut try_clock: impl FnMut(f64) -> Result<f64, E>,
) -> Result<Search, E> {
    debug_assert!(candidates.windows(2).all(|w| w[0] < w[1]));
    let n = candidates.len();
    if n == 0 {
        return Ok(Search {
            tries: Vec::new(),
            stop: Stop::NoCandidates,
        });
    }
    // Open interval (lo, hi) of untried-and-undecided indexes; lo = None
    // means nothing met yet, hi = n nothing failed.
    let mut lo: Option<usize> = None;
    let mut hi = n;
    let mut tries = Vec::new();
    // The next candidate the last Fmax points at, with the verdict it
    // predicts; after a wrong prediction the next try bisects.
    let mut hint: Option<(usize, Verdict)> = None;
    let mut trust = true;
    loop {
        let first = lo.map_or(0, |l| l + 1);
        if first >= hi {
            let stop = if lo.is_some() {
                Stop::Bracketed
            } else {
                Stop::NoneMet
            };
            return Ok(Search { tries, stop });
        }
        if tries.len() >= max_tries {
            return Ok(Search {
                tries,
                stop: Stop::OutOfTries,
            });
        }
        let (i, predicted) = match hint.filter(|&(h, _)| trust && h >= first && h < hi) {
            Some((h, v)) => (h, Some(v)),
            None => (first + (hi - first) / 2, None),
        };
        let mhz = candidates[i];
        let fmax_mhz = try_clock(mhz)?;
        let verdict = if fmax_mhz >= mhz {
            lo = Some(i);
            Verdict::Met
        } else {
            hi = i;
            Verdict::Failed
        };
        tries.push(Try {
            mhz,
            fmax_mhz,
            verdict,
        });
        trust = predicted.is_none_or(|p| p == verdict);
        // The highest candidate at or below this Fmax is predicted to meet
        // when it is above the best met one; otherwise the candidate just
        // above the best met one (the lowest one when none met) is
        // predicted to fail, which closes the interval.
        let below = candidates.iter().rposition(|&c| c <= fmax_mhz);
        let first = lo.map_or(0, |l| l + 1);
        hint = match below {
            Some(h) if h >= first => Some((h, Verdict::Met)),
            _ => Some((first, Verdict::Failed)),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Candidates every 3 MHz from 12 to 96 (a 3 Mbaud link's clocks).
    fn grid() -> Vec<f64> {
        (4..=32).map(|k| 3.0 * k as f64).collect()
    }

    #[test]
    fn finds_the_highest_met_candidate_for_every_true_fmax() {
        let c = grid();
        for true_fmax in [10.0, 12.0, 13.0, 40.0, 44.9, 45.0, 60.5, 96.0, 200.0] {
            let r = search(&c, 64, |_| Ok::<_, ()>(true_fmax)).unwrap();
            let want = c.iter().copied().rfind(|&x| x <= true_fmax);
            assert_eq!(r.best(), want, "true Fmax {true_fmax}: {r:?}");
            match want {
                None => assert_eq!(r.stop, Stop::NoneMet),
                Some(_) => assert_eq!(r.stop, Stop::Bracketed),
            }
            // A constant Fmax is found in at most three tries (bisect, the
            // hint, the next one up or down to bracket it).
            assert!(r.tries.len() <= 3, "true Fmax {true_fmax}: {r:?}");
        }
    }

    #[test]
    fn never_tries_a_candidate_twice_and_stops_within_twice_the_bisections_tries() {
        // An Fmax that says nothing (just below the target when failed, the
        // target when met) makes every hint the next candidate down: the
        // search alternates hint and bisection, at most 2 * ceil(log2(n + 1))
        // tries (29 candidates: 10).
        let c = grid();
        for true_fmax in (0..110).map(|x| x as f64) {
            let r = search(&c, 64, |mhz| {
                Ok::<_, ()>(if mhz <= true_fmax { mhz } else { mhz - 0.001 })
            })
            .unwrap();
            let mut seen: Vec<f64> = r.tries.iter().map(|t| t.mhz).collect();
            seen.sort_by(f64::total_cmp);
            seen.dedup();
            assert_eq!(seen.len(), r.tries.len(), "{r:?}");
            assert!(r.tries.len() <= 10, "{} tries: {r:?}", r.tries.len());
            assert_eq!(r.best(), c.iter().copied().rfind(|&x| x <= true_fmax));
        }
    }

    #[test]
    fn placement_noise_is_bracketed_by_what_was_tried() {
        // Fmax depends on the target (nextpnr pushes harder when aimed
        // higher); every met try really met, every failed one really failed.
        let c = grid();
        let fmax = |mhz: f64| 44.0 + 0.1 * (mhz - 40.0) + ((mhz * 7.0) % 3.0) - 1.5;
        let r = search(&c, 64, |mhz| Ok::<_, ()>(fmax(mhz))).unwrap();
        for t in &r.tries {
            assert_eq!(t.verdict == Verdict::Met, fmax(t.mhz) >= t.mhz);
        }
        let best = r.best().unwrap();
        let next = c.iter().copied().find(|&x| x > best).unwrap();
        assert!(
            r.tries
                .iter()
                .any(|t| t.mhz == next && t.verdict == Verdict::Failed)
        );
        assert_eq!(r.stop, Stop::Bracketed);
    }

    #[test]
    fn max_tries_and_errors_stop_the_search() {
        let c = grid();
        let r = search(&c, 1, Ok::<_, ()>).unwrap();
        assert_eq!(r.tries.len(), 1);
        assert_eq!(r.stop, Stop::OutOfTries);
        let mut calls = 0;
        let e = search(&c, 8, |_| {
            calls += 1;
            Err::<f64, _>("nextpnr crashed")
        });
        assert_eq!(e, Err("nextpnr crashed"));
        assert_eq!(calls, 1);
        let r = search(&[], 8, |_| Ok::<_, ()>(1.0)).unwrap();
        assert_eq!((r.best(), r.stop), (None, Stop::NoCandidates));
    }
}
