//! The engines' buffers map to block RAM after synthesis, not to LUT RAM or
//! flip-flops (issue 12, item 1): each unit that holds a buffer is
//! synthesised alone with the pinned Yosys for ECP5 and the iCE40 UP5K, and
//! its cell counts are checked: block RAMs present, no distributed RAM
//! cells, and far fewer flip-flops than the buffer has bits.
//!
//! A failure prints Yosys's cell table, so the buffer that fell back is
//! plain to see.

use std::collections::BTreeMap;
use std::process::Command;

use hlsk_tests::rtl::{repo_root, run_in_root, sv_files, yosys};

/// A unit holding buffers, at one parameter set.
struct Case {
    top: &'static str,
    params: &'static [(&'static str, u32)],
    /// Bits held in the unit's buffers (all copies).
    buffer_bits: u64,
}

/// The conv units with buffers, at T = 2 with P = 1 and P = 2 (the
/// gradient buffer also at T = 3).
const CASES: &[Case] = &[
    // Input buffer (P copies of two banks) and weight buffer.
    Case {
        top: "conv_loader",
        params: &[("T", 2), ("P", 1), ("InWords", 2048), ("WWords", 1024)],
        buffer_bits: 2 * 2048 * 16 + 1024 * 16,
    },
    Case {
        top: "conv_loader",
        params: &[("T", 2), ("P", 2), ("InWords", 1024), ("WWords", 512)],
        buffer_bits: 2 * (2 * 1024 * 16) + 512 * 16,
    },
    // Output buffer (P banks of OutBeats entries of T accumulators) and
    // the mask buffer (OutBeats entries of T bits).
    Case {
        top: "conv_mac_array",
        params: &[("T", 2), ("P", 1), ("AccW", 32), ("OutEnt", 1024)],
        buffer_bits: 512 * 64 + 512 * 2,
    },
    Case {
        top: "conv_mac_array",
        params: &[("T", 2), ("P", 2), ("AccW", 32), ("OutEnt", 1024)],
        buffer_bits: 2 * 512 * 64 + 512 * 2,
    },
    // The argmax buffer.
    Case {
        top: "conv_pool",
        params: &[("T", 2), ("AccW", 32), ("OutEnt", 1024)],
        buffer_bits: 512 * 32,
    },
    // The gradient buffer: GEnt entries of AccWWu bits and a valid bit, in
    // banks of block RAM (2 at T = 2; 4 at T = 3, whose drains start at any
    // bank). T = 8 is `scripts/conv_area.sh`'s: its 128 lanes take Yosys
    // a quarter of an hour alone.
    Case {
        top: "conv_wu",
        params: &[("T", 2), ("P", 1), ("AccWWu", 40), ("GEnt", 1024)],
        buffer_bits: 1024 * 41,
    },
    Case {
        top: "conv_wu",
        params: &[("T", 3), ("P", 1), ("AccWWu", 40), ("GEnt", 1152)],
        buffer_bits: 1152 * 41,
    },
];

#[derive(Clone, Copy, Debug)]
enum Family {
    Ecp5,
    Ice40Up5k,
}

impl Family {
    fn synth(self, top: &str) -> String {
        match self {
            Family::Ecp5 => format!("synth_ecp5 -top {top}"),
            Family::Ice40Up5k => format!("synth_ice40 -device u -dsp -top {top}"),
        }
    }
    fn is_bram(self, cell: &str) -> bool {
        match self {
            Family::Ecp5 => cell == "DP16KD" || cell == "PDPW16KD",
            Family::Ice40Up5k => cell.starts_with("SB_RAM40") || cell == "SB_SPRAM256KA",
        }
    }
    /// Distributed (LUT) RAM: what a buffer must not become.
    fn is_lutram(self, cell: &str) -> bool {
        match self {
            Family::Ecp5 => cell == "TRELLIS_DPR16X4" || cell == "TRELLIS_RAM16X2",
            // iCE40 has no LUT RAM: a buffer that misses the EBR becomes flip-flops.
            Family::Ice40Up5k => false,
        }
    }
    fn is_ff(self, cell: &str) -> bool {
        match self {
            Family::Ecp5 => cell == "TRELLIS_FF",
            Family::Ice40Up5k => cell.starts_with("SB_DFF"),
        }
    }
}

/// Cell counts of `case` after synthesis for `family` (Yosys's `stat -json`).
fn cells(case: &Case, family: Family, n: usize) -> BTreeMap<String, u64> {
    let bin = yosys().unwrap_or_else(|e| panic!("{e}"));
    let files: Vec<String> = sv_files().iter().map(|p| p.display().to_string()).collect();
    let params: String = case
        .params
        .iter()
        .map(|(k, v)| format!(" -G {k}={v}"))
        .collect();
    // YoWASP cannot see the host's /tmp: relative paths, cwd = repo root.
    let dir = "target/buffer_mapping";
    std::fs::create_dir_all(repo_root().join(dir)).expect("create target/buffer_mapping");
    let json = format!("{dir}/{}-{n}-{family:?}.json", case.top);
    let script = format!(
        "read_slang -j 1 --ignore-assertions --top {top}{params} {files}; {synth}; \
         tee -q -o {json} stat -json",
        top = case.top,
        files = files.join(" "),
        synth = family.synth(case.top),
    );
    run_in_root(Command::new(&bin).args(["-q", "-p", &script]))
        .unwrap_or_else(|e| panic!("yosys failed on {} {:?}:\n{e}", case.top, case.params));
    let text =
        std::fs::read_to_string(repo_root().join(&json)).unwrap_or_else(|e| panic!("{json}: {e}"));
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{json}: {e}"));
    v["design"]["num_cells_by_type"]
        .as_object()
        .unwrap_or_else(|| panic!("{json}: no design.num_cells_by_type"))
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0)))
        .collect()
}

fn check(family: Family) {
    let mut failures = Vec::new();
    for (n, case) in CASES.iter().enumerate() {
        let m = cells(case, family, n);
        let count = |f: &dyn Fn(&str) -> bool| -> u64 {
            m.iter().filter(|(c, _)| f(c)).map(|(_, n)| n).sum()
        };
        let bram = count(&|c| family.is_bram(c));
        let lutram = count(&|c| family.is_lutram(c));
        let ff = count(&|c| family.is_ff(c));
        let what = format!("{} {:?} on {family:?}", case.top, case.params);
        println!("{what}: {bram} block RAMs, {lutram} LUT RAM cells, {ff} flip-flops");
        if bram == 0 || lutram != 0 || ff * 8 > case.buffer_bits {
            failures.push(format!(
                "{what}: buffers not in block RAM ({bram} block RAMs, {lutram} LUT RAM cells, \
                 {ff} flip-flops for {} buffer bits); cells: {m:?}",
                case.buffer_bits
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn conv_buffers_map_to_ecp5_block_ram() {
    check(Family::Ecp5);
}

#[test]
fn conv_buffers_map_to_ice40_block_ram() {
    check(Family::Ice40Up5k);
}
