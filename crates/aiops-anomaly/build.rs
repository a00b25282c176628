//! Sets `cfg(aiops_avx512)` when the compiler has the AVX-512 intrinsics and target features
//! stable (Rust 1.89 and later), which the explicit AVX-512 Isolation Forest kernel needs; older
//! compilers within the workspace MSRV build the portable and AVX2 kernels only.

use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(aiops_avx512)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=RUSTC");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let minor = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| {
            v.split_whitespace()
                .nth(1)?
                .split('.')
                .nth(1)?
                .parse::<u32>()
                .ok()
        });
    if minor.is_some_and(|m| m >= 89) {
        println!("cargo::rustc-cfg=aiops_avx512");
    }
}
