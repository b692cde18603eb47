//! Board configurations and the bitstream flow of hlsk.
//!
//! A board is a TOML file, `boards/<name>.toml` ([`BoardConfig`]): device,
//! pins, programmer, capacities, and the kernel configuration its SoC
//! carries. From it the flow ([`Flow`]) generates the constraint file
//! ([`constraints`]), synthesizes the SoC ([`Design`], from the fixed
//! [`kernels::KERNELS`] table) with Yosys `read_slang`, checks the cells
//! against the capacities before place and route, places and routes with
//! nextpnr and packs the bitstream. Each tool stage is skipped when its
//! fingerprint is unchanged ([`stage`]); outputs are promoted only on
//! success, so a timing failure never replaces a good bitstream.
//!
//! The crate knows nothing of kernels' internals: the top module, its
//! files and parameters come from the board file and the kernel table.
//!
//! ```
//! use hlsk_boards::{BoardConfig, Family, constraints};
//! let src = r#"
//! [board]
//! name = "mini"
//! description = "an example"
//! [device]
//! family = "ice40"
//! part = "up5k"
//! package = "sg48"
//! [clock]
//! pin = "35"
//! freq_mhz = 12.0
//! [leds]
//! pins = ["11"]
//! active_low = true
//! [[buttons]]
//! pins = ["10"]
//! active_low = true
//! [uart]
//! tx = "9"
//! rx = "6"
//! [programmer]
//! tool = "openfpgaloader"
//! board = "ice40_generic"
//! [capacity]
//! lut = 5280
//! ff = 5280
//! dsp = 8
//! bram = 30
//! [kernel]
//! engine = "tlmm_os"
//! params = { G = 3, T = 1, P = 4, AccW = 24, KMax = 256, MemWords = 1024 }
//! "#;
//! let cfg = BoardConfig::parse("boards/mini.toml".as_ref(), src)?;
//! assert_eq!(cfg.device.family, Family::Ice40);
//! assert!(constraints::generate(&cfg).contains("set_io led_o 11"));
//!
//! let bad = src.replace("package = \"sg48\"", "package = \"qfn\"");
//! let e = BoardConfig::parse("boards/mini.toml".as_ref(), &bad).unwrap_err();
//! assert!(e.to_string().starts_with("boards/mini.toml:8: field `device.package`"));
//! # Ok::<(), hlsk_boards::ConfigError>(())
//! ```

pub mod clock_search;
pub mod config;
pub mod constraints;
pub mod flow;
pub mod kernels;
pub mod pll;
pub mod report;
pub mod stage;
pub mod uart;

pub use config::{BoardConfig, ConfigError, Family};
pub use flow::{Flow, FlowError, Progress, Tools, known_boards, load_board};
pub use kernels::{Design, KernelSpec};
pub use pll::Pll;
pub use report::{BuildReport, Resource};
pub use uart::UartDivider;
