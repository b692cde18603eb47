//! Build-script helper for Verilator-based co-simulation models.
//!
//! Used from `build.rs` files only. It finds Verilator, runs it on a top
//! module with a prefix and a `-G` parameter set, reads the list of generated
//! C++ files from `<prefix>_classes.mk` (file names change between Verilator
//! versions, so they are never hard-coded), and writes one translation unit
//! per model that `#include`s them all.
//!
//! Compiler settings that matter for simulation speed live here, so every
//! model and the runtime get the same ones: `-O2` whatever the cargo profile,
//! `-fno-semantic-interposition` (cc adds `-fPIC`, which otherwise blocks
//! inlining), and `ccache` as compiler wrapper when it is installed.
//!
//! ```no_run
//! use hlsk_vbuild::{Verilator, VerilateSpec};
//! # fn main() -> Result<(), hlsk_vbuild::Error> {
//! let v = Verilator::find()?;
//! let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
//! let spec = VerilateSpec::new("hlsk_fifo_sync", "Vfifo_w8_d4")
//!     .param("Width", 8)
//!     .param("Depth", 4)
//!     .source("rtl/common/hlsk_fifo_sync.sv");
//! let model = v.verilate(&spec, &out.join("vobj"))?;
//! let tu = model.write_unity_file()?;
//! v.cc_build().file(&tu).compile("vfifo_w8_d4");
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What to do when Verilator is not installed.
pub const INSTALL_HINT: &str = "install it with `make setup` (runs scripts/setup.sh: \
     apt-get install -y verilator ccache zlib1g-dev), or point $VERILATOR at a verilator binary";

/// Errors from finding or running Verilator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No Verilator binary could be found.
    #[error(
        "Verilator not found (looked at $VERILATOR, $VERILATOR_ROOT/bin/verilator, PATH); {INSTALL_HINT}"
    )]
    NotFound,
    /// A Verilator binary was found but could not be run.
    #[error("could not run `{cmd}`: {source}")]
    Spawn {
        /// The command line.
        cmd: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Verilator ran and reported errors.
    #[error("`{cmd}` failed with {status}:\n{stderr}")]
    Failed {
        /// The command line.
        cmd: String,
        /// Exit status.
        status: std::process::ExitStatus,
        /// What Verilator printed on stderr.
        stderr: String,
    },
    /// The generated `_classes.mk` could not be read or understood.
    #[error("reading {path}: {msg}")]
    ClassesMk {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        msg: String,
    },
    /// Any other I/O error, with the path it concerns.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// A Verilator installation.
#[derive(Debug, Clone)]
pub struct Verilator {
    bin: PathBuf,
    root: PathBuf,
    version: String,
}

impl Verilator {
    /// Finds Verilator: `$VERILATOR`, then `$VERILATOR_ROOT/bin/verilator`,
    /// then `verilator` on `PATH`. Also asks it for its root and version.
    pub fn find() -> Result<Self, Error> {
        println!("cargo:rerun-if-env-changed=VERILATOR");
        println!("cargo:rerun-if-env-changed=VERILATOR_ROOT");
        println!("cargo:rerun-if-env-changed=PATH");
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(v) = std::env::var_os("VERILATOR") {
            candidates.push(v.into());
        }
        if let Some(r) = std::env::var_os("VERILATOR_ROOT") {
            candidates.push(Path::new(&r).join("bin").join("verilator"));
        }
        if let Some(path) = std::env::var_os("PATH") {
            candidates.extend(std::env::split_paths(&path).map(|d| d.join("verilator")));
        }
        let bin = candidates
            .into_iter()
            .find(|p| p.is_file())
            .ok_or(Error::NotFound)?;
        let version = run(Command::new(&bin).arg("--version"))?.trim().to_owned();
        let root = run(Command::new(&bin).args(["--getenv", "VERILATOR_ROOT"]))?
            .trim()
            .into();
        Ok(Self { bin, root, version })
    }

    /// The binary that was found.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// `VERILATOR_ROOT` as the binary reports it.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The version line, e.g. `Verilator 5.006 2023-01-22 rev (Debian 5.006-3)`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Include folders needed to compile generated models and the runtime.
    pub fn include_dirs(&self) -> [PathBuf; 2] {
        let inc = self.root.join("include");
        [inc.join("vltstd"), inc]
    }

    /// A `cc::Build` for C++ with the settings every model and the runtime
    /// share: C++17, `-O2`, `-fno-semantic-interposition`, Verilator's
    /// include folders, no warnings from generated code, ccache if present.
    pub fn cc_build(&self) -> cc::Build {
        use_ccache_if_present();
        let mut b = cc::Build::new();
        b.cpp(true)
            .std("c++17")
            .opt_level(2)
            .debug(false)
            .warnings(false)
            .extra_warnings(false)
            .flag("-fno-semantic-interposition")
            .flag_if_supported("-faligned-new")
            .flag_if_supported("-Wno-unused-parameter")
            .define("VL_IGNORE_UNKNOWN_ARCH", None);
        for d in self.include_dirs() {
            b.include(d);
        }
        b
    }

    /// Verilates `spec` into `dir/<prefix>/` and returns the generated model.
    ///
    /// Re-running on unchanged inputs is cheap for the C++ compiler (ccache)
    /// but Verilator itself always runs; cargo only calls the build script
    /// again when a `rerun-if-changed` input moved.
    pub fn verilate(&self, spec: &VerilateSpec, dir: &Path) -> Result<Model, Error> {
        let mdir = dir.join(&spec.prefix);
        if mdir.exists() {
            std::fs::remove_dir_all(&mdir).map_err(io_err(&mdir))?;
        }
        std::fs::create_dir_all(&mdir).map_err(io_err(&mdir))?;
        let mut cmd = Command::new(&self.bin);
        cmd.args(["--cc", "-O3", "--assert", "--x-assign", "unique"])
            .args(["--x-initial", "unique", "-Wno-fatal"])
            .arg("--prefix")
            .arg(&spec.prefix)
            .arg("--top-module")
            .arg(&spec.top)
            .arg("--Mdir")
            .arg(&mdir);
        if spec.trace {
            cmd.arg("--trace-fst").arg("--trace-structs");
        }
        if spec.coverage {
            cmd.arg("--coverage-line").arg("--coverage-toggle");
        }
        if spec.public {
            cmd.arg("--public-flat-rw");
        }
        for (k, v) in &spec.params {
            cmd.arg(format!("-G{k}={v}"));
        }
        // A source the build script generated into OUT_DIR is newer than
        // the script's run every time, so watching it would rerun the
        // script (and rebuild everything above it) on every build.
        let out_dir = std::env::var_os("OUT_DIR").map(PathBuf::from);
        for s in &spec.sources {
            if !out_dir.as_ref().is_some_and(|o| s.starts_with(o)) {
                println!("cargo:rerun-if-changed={}", s.display());
            }
            cmd.arg(s);
        }
        run(&mut cmd)?;
        let classes = mdir.join(format!("{}_classes.mk", spec.prefix));
        let lists = read_classes_mk(&classes)?;
        let files = lists
            .model
            .iter()
            .map(|f| mdir.join(format!("{f}.cpp")))
            .collect();
        let runtime_files = lists
            .global
            .iter()
            .map(|f| self.root.join("include").join(format!("{f}.cpp")))
            .collect();
        Ok(Model {
            prefix: spec.prefix.clone(),
            dir: mdir,
            files,
            runtime_files,
        })
    }
}

/// Makes the `cc` crate call the compiler through ccache when ccache is on
/// `PATH` and the user has not chosen a compiler. Must run before the first
/// `cc::Build` (including the one `cxx_build` makes) reads `$CXX`.
pub fn use_ccache_if_present() {
    println!("cargo:rerun-if-env-changed=CXX");
    if std::env::var_os("CXX").is_some() {
        return;
    }
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("ccache").is_file()))
        .unwrap_or(false);
    if found {
        // SAFETY: build scripts are single-threaded at this point; nothing
        // else reads the environment concurrently.
        unsafe { std::env::set_var("CXX", "ccache c++") };
    }
}

/// One top module and parameter set to verilate.
#[derive(Debug, Clone)]
pub struct VerilateSpec {
    top: String,
    prefix: String,
    params: BTreeMap<String, String>,
    sources: Vec<PathBuf>,
    trace: bool,
    coverage: bool,
    public: bool,
}

impl VerilateSpec {
    /// A spec for `top`, generating classes named `prefix`.
    pub fn new(top: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self {
            top: top.into(),
            prefix: prefix.into(),
            params: BTreeMap::new(),
            sources: Vec::new(),
            trace: false,
            coverage: false,
            public: false,
        }
    }

    /// Overrides a top-level parameter (`-Gname=value`).
    pub fn param(mut self, name: &str, value: impl fmt::Display) -> Self {
        self.params.insert(name.to_owned(), value.to_string());
        self
    }

    /// Adds a source file (packages first, as for any SV compiler).
    pub fn source(mut self, path: impl Into<PathBuf>) -> Self {
        self.sources.push(path.into());
        self
    }

    /// Adds several source files.
    pub fn sources<I: IntoIterator<Item = P>, P: Into<PathBuf>>(mut self, paths: I) -> Self {
        self.sources.extend(paths.into_iter().map(Into::into));
        self
    }

    /// Compiles FST tracing support into the model.
    pub fn trace(mut self, on: bool) -> Self {
        self.trace = on;
        self
    }

    /// Keeps every signal of the design as a member of the model's root
    /// class, `rootp-><top>__DOT__<path>__DOT__<name>` (`--public-flat-rw`),
    /// for a shim that observes internal signals. Slower; for small builds.
    pub fn public(mut self, on: bool) -> Self {
        self.public = on;
        self
    }

    /// Instruments the model for line (with branch) and toggle coverage
    /// (`--coverage-line --coverage-toggle`). The model then counts into its
    /// `VerilatedContext::coveragep()`, and the runtime needs
    /// `verilated_cov.cpp` (listed in `_classes.mk` as a global file).
    pub fn coverage(mut self, on: bool) -> Self {
        self.coverage = on;
        self
    }
}

/// A verilated model: its generated folder and C++ files.
#[derive(Debug, Clone)]
pub struct Model {
    prefix: String,
    dir: PathBuf,
    files: Vec<PathBuf>,
    runtime_files: Vec<PathBuf>,
}

impl Model {
    /// The class prefix, also the name of the top header (`<prefix>.h`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The `--Mdir` folder; add it to the include path of code using the model.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The generated C++ files, as listed in `_classes.mk`.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The Verilator runtime files this model needs (`VM_GLOBAL_*`), as
    /// paths under `VERILATOR_ROOT/include`. Compile them once per build.
    pub fn runtime_files(&self) -> &[PathBuf] {
        &self.runtime_files
    }

    /// Writes `<prefix>__unity.cpp`, which includes every generated file, so
    /// the model compiles as one translation unit. Returns its path.
    pub fn write_unity_file(&self) -> Result<PathBuf, Error> {
        let path = self.dir.join(format!("{}__unity.cpp", self.prefix));
        let mut text =
            String::from("// Generated by hlsk-vbuild: one translation unit per model.\n");
        for f in &self.files {
            text.push_str(&format!("#include \"{}\"\n", f.display()));
        }
        std::fs::write(&path, text).map_err(io_err(&path))?;
        Ok(path)
    }
}

/// The file lists of a `<prefix>_classes.mk`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassLists {
    /// The model's own files (`VM_CLASSES_*` and `VM_SUPPORT_*`: classes,
    /// symbol table, trace code), without the `.cpp` suffix.
    pub model: Vec<String>,
    /// Runtime files (`VM_GLOBAL_*`, e.g. `verilated`), compiled once per
    /// build by the runtime crate, without the `.cpp` suffix.
    pub global: Vec<String>,
}

/// Reads the lists of generated files from `<prefix>_classes.mk`.
pub fn read_classes_mk(path: &Path) -> Result<ClassLists, Error> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let lists = parse_make_lists(&text);
    let take = |keys: &[&str], out: &mut Vec<String>| -> Result<(), Error> {
        for key in keys {
            match lists.get(*key) {
                Some(v) => out.extend(v.iter().cloned()),
                None => {
                    return Err(Error::ClassesMk {
                        path: path.to_owned(),
                        msg: format!("no {key} list (unsupported Verilator version?)"),
                    });
                }
            }
        }
        Ok(())
    };
    let mut out = ClassLists::default();
    take(
        &[
            "VM_CLASSES_FAST",
            "VM_CLASSES_SLOW",
            "VM_SUPPORT_FAST",
            "VM_SUPPORT_SLOW",
        ],
        &mut out.model,
    )?;
    take(&["VM_GLOBAL_FAST", "VM_GLOBAL_SLOW"], &mut out.global)?;
    if out.model.is_empty() {
        return Err(Error::ClassesMk {
            path: path.to_owned(),
            msg: "lists no generated classes".into(),
        });
    }
    Ok(out)
}

/// Parses `NAME += \` continuation lists from a Verilator-generated makefile
/// fragment into name -> words.
pub fn parse_make_lists(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for raw in text.lines() {
        let line = raw.split('#').next().unwrap_or("");
        let continues = line.trim_end().ends_with('\\');
        let body = line.trim_end().trim_end_matches('\\');
        let words = if let Some((name, rest)) = body
            .split_once("+=")
            .or_else(|| body.split_once(":="))
            .or_else(|| body.split_once('='))
            .filter(|(name, _)| current.is_none() && is_make_name(name.trim()))
        {
            let name = name.trim().to_owned();
            lists.entry(name.clone()).or_default();
            current = Some(name);
            rest
        } else {
            body
        };
        if let Some(name) = &current {
            lists
                .get_mut(name)
                .expect("list created above")
                .extend(words.split_whitespace().map(str::to_owned));
        }
        if !continues {
            current = None;
        }
    }
    lists
}

fn is_make_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn run(cmd: &mut Command) -> Result<String, Error> {
    let shown = format!("{cmd:?}");
    let out = cmd.output().map_err(|source| Error::Spawn {
        cmd: shown.clone(),
        source,
    })?;
    if !out.status.success() {
        return Err(Error::Failed {
            cmd: shown,
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_continuation_lists() {
        let text = "# comment\nVM_CLASSES_FAST += \\\n\tVtop \\\n\tVtop___024root__DepSet_h1__0 \\\n\nVM_CLASSES_SLOW += \\\n\tVtop__Slow \\\n\nVM_SUPPORT_FAST += \\\n\nVM_GLOBAL_FAST += \\\n\tverilated \\\n";
        let l = parse_make_lists(text);
        assert!(!l.contains_key("comment"));
        assert_eq!(
            l["VM_CLASSES_FAST"],
            vec!["Vtop", "Vtop___024root__DepSet_h1__0"]
        );
        assert_eq!(l["VM_CLASSES_SLOW"], vec!["Vtop__Slow"]);
        assert!(l["VM_SUPPORT_FAST"].is_empty());
        assert_eq!(l["VM_GLOBAL_FAST"], vec!["verilated"]);
    }

    #[test]
    fn missing_list_is_an_error() {
        let dir = std::env::temp_dir().join(format!("vbuild-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x_classes.mk");
        std::fs::write(&p, "VM_CLASSES_FAST += \\\n\tVx \\\n").unwrap();
        let e = read_classes_mk(&p).unwrap_err();
        assert!(e.to_string().contains("VM_CLASSES_SLOW"), "{e}");
        std::fs::write(
            &p,
            "VM_CLASSES_FAST += \\\n\tVx \\\n\nVM_CLASSES_SLOW += \\\n\tVx__Slow \\\n\n\
             VM_SUPPORT_FAST += \\\n\nVM_SUPPORT_SLOW += \\\n\tVx__Syms \\\n\n\
             VM_GLOBAL_FAST += \\\n\tverilated \\\n\nVM_GLOBAL_SLOW += \\\n",
        )
        .unwrap();
        let l = read_classes_mk(&p).unwrap();
        assert_eq!(l.model, vec!["Vx", "Vx__Slow", "Vx__Syms"]);
        assert_eq!(l.global, vec!["verilated"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
