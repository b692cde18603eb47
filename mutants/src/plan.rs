//! Which tests cover which RTL file.
//!
//! Each module maps to the test runs that exercise it, cheapest first: its
//! own block test, then the engines and the SoC that instantiate it. A
//! mutant is killed by the first run that fails.

/// One test run: a test target of a package, optionally filtered to the
/// tests whose names contain `filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestRun {
    pub package: &'static str,
    pub target: &'static str,
    pub filter: Option<&'static str>,
}

impl TestRun {
    const fn new(
        package: &'static str,
        target: &'static str,
        filter: Option<&'static str>,
    ) -> Self {
        TestRun {
            package,
            target,
            filter,
        }
    }

    /// `cargo test -p <package> --test <target> [filter]`, for reports.
    pub fn label(&self) -> String {
        match self.filter {
            Some(f) => format!("{}::{} {f}", self.package, self.target),
            None => format!("{}::{}", self.package, self.target),
        }
    }
}

const T: &str = "hlsk-tests";
const B: &str = "hlsk-boards";

const FIFO: TestRun = TestRun::new(T, "common_blocks", Some("fifo"));
const SKID: TestRun = TestRun::new(T, "common_blocks", Some("skid"));
const RAM: TestRun = TestRun::new(T, "common_blocks", Some("ram"));
const UART_RX: TestRun = TestRun::new(T, "uart_link", Some("uart_rx"));
const UART_TX: TestRun = TestRun::new(T, "uart_link", Some("uart_tx"));
const FRAME_TX: TestRun = TestRun::new(T, "uart_link", Some("frame_tx"));
const TLMM: TestRun = TestRun::new(T, "tlmm_engine", None);
const TLMM_JOBS: TestRun = TestRun::new(T, "tlmm_engine", Some("random_jobs"));
const FEEDER: TestRun = TestRun::new(T, "tlmm_engine", Some("weight_feeder"));
const CONV: TestRun = TestRun::new(T, "conv_engine", None);
const TWIN: TestRun = TestRun::new(T, "soc_twin", None);
const TWIN_TLMM: TestRun = TestRun::new(T, "soc_twin", Some("twin_tlmm_jobs"));
const TWIN_CONV: TestRun = TestRun::new(T, "soc_twin", Some("conv"));
const SOC_STATUS: TestRun = TestRun::new(T, "soc_status", None);
const SOC_SIM: TestRun = TestRun::new(B, "soc_sim", None);
const SOC_SELFTEST: TestRun = TestRun::new(B, "soc_selftest", None);

/// The test runs for `module` (a file stem under `rtl/`), cheapest first;
/// empty for an unknown module.
pub fn tests_for(module: &str) -> Vec<TestRun> {
    match module {
        "hlsk_fifo_sync" => vec![FIFO, FEEDER, TLMM_JOBS],
        "hlsk_skid_buffer" => vec![SKID],
        "hlsk_ram_1r1w" => vec![RAM, TLMM_JOBS, TWIN_TLMM],
        "hlsk_uart_rx" => vec![UART_RX, TWIN_TLMM],
        "hlsk_uart_tx" => vec![UART_TX, TWIN_TLMM],
        "tlmm_weight_feeder" => vec![FEEDER, TWIN_TLMM],
        "tlmm_ts_engine" | "tlmm_table_ram" => vec![TLMM],
        "tlmm_pkg" | "tlmm_os_engine" | "tlmm_act_buffer" | "tlmm_cmd_accept" | "tlmm_lane"
        | "tlmm_table_build" => {
            vec![TLMM, SOC_SIM]
        }
        "conv_pkg" | "conv_engine" | "conv_desc" | "conv_plan" | "conv_ctrl" | "conv_addr_gen"
        | "conv_loader" | "conv_mac_array" | "conv_wu" | "conv_pool" | "conv_mem_port"
        | "conv_counters" => {
            vec![CONV, TWIN_CONV]
        }
        "hlsk_soc_bist" => vec![SOC_SELFTEST, SOC_SIM],
        "hlsk_frame_tx" => vec![FRAME_TX, SOC_STATUS, TWIN, SOC_SIM],
        "hlsk_link_pkg" | "hlsk_frame_rx" | "hlsk_soc_ctrl" | "hlsk_soc_tlmm_job"
        | "hlsk_soc_conv_job" | "hlsk_soc_top" => vec![SOC_STATUS, TWIN, SOC_SIM],
        _ => Vec::new(),
    }
}

/// The kernel a file belongs to: its folder under `rtl/`.
pub fn kernel_of(rel: &str) -> &str {
    rel.strip_prefix("rtl/")
        .and_then(|r| r.split('/').next())
        .unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `.sv` file under rtl/ has test runs: a module without any
    /// would count every mutant of it as a survivor without running a test.
    #[test]
    fn every_rtl_module_has_tests() {
        let rtl = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rtl");
        let mut missing = Vec::new();
        let mut seen = 0;
        for kernel in ["common", "tlmm", "conv", "soc"] {
            for e in std::fs::read_dir(rtl.join(kernel)).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "sv") {
                    seen += 1;
                    let m = p.file_stem().unwrap().to_string_lossy().into_owned();
                    if tests_for(&m).is_empty() {
                        missing.push(m);
                    }
                }
            }
        }
        assert!(
            seen > 30,
            "only {seen} .sv files found under {}",
            rtl.display()
        );
        assert!(missing.is_empty(), "no test runs mapped for {missing:?}");
    }
}
