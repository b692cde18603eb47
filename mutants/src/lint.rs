//! The combinational check of the lint step: `hlsk_rtl_lint` (Yosys
//! `read_slang; proc; check`) on the mutated design. It kills the mutants
//! that Verilator's lint lets through and simulates without a difference:
//! an `always_comb` variable left unassigned on some path (a dropped
//! default), which keeps its old value there.

use anyhow::Result;
use std::path::Path;

/// The first problem of the combinational check on `tops` elaborated
/// together from `files` (relative to `dir`), or why they do not elaborate;
/// `None` when clean.
pub fn comb(yosys: &Path, dir: &Path, tops: &[String], files: &[String]) -> Result<Option<String>> {
    let design = hlsk_rtl_lint::Design {
        dir: dir.to_owned(),
        files: files.to_vec(),
        tops: tops.to_vec(),
        params: Vec::new(),
    };
    match hlsk_rtl_lint::comb_check(yosys, &design) {
        Ok(problems) => Ok(problems.first().map(|p| {
            let more = match problems.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            format!("yosys proc; check: {p}{more}")
        })),
        Err(hlsk_rtl_lint::Error::Elaborate(log)) => {
            let first = log
                .lines()
                .find(|l| l.contains("error") || l.starts_with("ERROR"))
                .unwrap_or("read_slang failed");
            Ok(Some(format!("read_slang: {first}")))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mutate::{Kind, candidates};

    /// The survivor of issue 16, drawn as the sampler draws it: the
    /// statement mutant that drops `src_d = src_q;` from `hlsk_soc_ctrl`.
    /// The unmutated module passes; the mutant is killed, naming `src_d`.
    #[test]
    fn the_dropped_src_d_default_is_killed_by_lint() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let yosys = hlsk_rtl_lint::pinned_yosys(&root).unwrap_or_else(|e| panic!("{e}"));
        let ctrl = "rtl/soc/hlsk_soc_ctrl.sv";
        let text = std::fs::read_to_string(root.join(ctrl)).expect("read hlsk_soc_ctrl");
        let dropped: Vec<_> = candidates(&text)
            .into_iter()
            .filter(|m| m.kind == Kind::Statement)
            .filter(|m| m.orig.split_whitespace().eq(["src_d", "=", "src_q;"]))
            .collect();
        let [mutant] = &dropped[..] else {
            panic!("want one `src_d = src_q;` statement mutant, got {dropped:?}");
        };

        // The packages and the module, in a directory of their own (YoWASP
        // sees only its working directory).
        let dir = std::env::temp_dir().join(format!("hlsk-mutants-lint-{}", std::process::id()));
        let mut files = Vec::new();
        for k in ["common", "tlmm", "conv", "soc"] {
            for e in std::fs::read_dir(root.join("rtl").join(k)).expect("rtl/<kernel>") {
                let name = e.expect("directory entry").file_name();
                let name = name.to_string_lossy();
                if name.ends_with("_pkg.sv") {
                    files.push(format!("rtl/{k}/{name}"));
                }
            }
        }
        files.push(ctrl.to_owned());
        for f in &files {
            std::fs::create_dir_all(dir.join(f).parent().expect("rtl/<kernel>")).expect("mkdir");
            std::fs::copy(root.join(f), dir.join(f)).expect("copy");
        }
        let tops = ["hlsk_soc_ctrl".to_owned()];
        let clean = comb(&yosys, &dir, &tops, &files).expect("yosys runs");
        std::fs::write(dir.join(ctrl), mutant.apply(&text)).expect("write the mutant");
        let killed = comb(&yosys, &dir, &tops, &files).expect("yosys runs");
        std::fs::remove_dir_all(&dir).expect("clean up");

        assert_eq!(clean, None, "the unmutated module");
        let msg = killed.expect("the mutant is killed by lint");
        assert!(msg.contains(&format!("{ctrl}:")), "{msg}");
        assert!(
            msg.contains("`src_d` is not assigned on every path"),
            "{msg}"
        );
    }
}
