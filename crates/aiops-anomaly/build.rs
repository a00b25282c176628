//! Sets `cfg(aiops_avx512)` when the compiler has the AVX-512 intrinsics and target features
//! stable (Rust 1.89 and later), which the explicit AVX-512 Isolation Forest kernel needs; older
//! compilers within the workspace MSRV build the portable and AVX2 kernels only.
//!
//! Never fails the build: when the compiler cannot be run or its version not read, the cfg is
//! simply not set (the portable and AVX2 kernels remain).

use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(aiops_avx512)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=RUSTC");
    if rust_minor_version().is_some_and(|minor| minor >= 89) {
        println!("cargo::rustc-cfg=aiops_avx512");
    }
}

/// The minor version of Rust 1.x from `$RUSTC --version`: `rustc 1.95.0`, `rustc 1.95.0-nightly
/// (hash date)`, or `clippy 0.1.95 (...)` when `RUSTC` is clippy-driver (its `0.1.N` is Rust
/// `1.N`). `None` when the compiler cannot be run, fails, or prints anything else. Cargo passes
/// the real compiler in `RUSTC` (wrappers such as sccache come in `RUSTC_WRAPPER`, unused here).
fn rust_minor_version() -> Option<u32> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc).arg("--version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let mut words = text.split_whitespace();
    let (name, version) = (words.next()?, words.next()?);
    let mut parts = version.split(['.', '-']);
    match (name, parts.next()?, parts.next()?) {
        ("rustc", "1", minor) => minor.parse().ok(),
        ("clippy", "0", "1") => parts.next()?.parse().ok(),
        _ => None,
    }
}
