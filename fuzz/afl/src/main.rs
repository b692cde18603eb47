//! `hlsk-afl <target>`: one of hlsk-fuzz's targets (frame, board, npy,
//! desc) as an AFL++ persistent-mode harness. A broken oracle panics, so
//! AFL records it as a crash. Build and run with cargo-afl
//! (docs/fuzzing.md).

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(target) = hlsk_fuzz::targets::by_name(&name) else {
        eprintln!("usage: hlsk-afl frame|board|npy|desc");
        std::process::exit(2);
    };
    let target = std::panic::AssertUnwindSafe(target);
    afl::fuzz!(|data: &[u8]| {
        if let Err(message) = target.run(data) {
            panic!("{}: {message}", target.name());
        }
    });
}
