//! Tells the tests the target they are built for: a suite built with `--target` builds and runs
//! the morph binary for that target too (see `common::morph_bin`).

fn main() {
    let target = std::env::var("TARGET").expect("cargo sets TARGET for build scripts");
    println!("cargo:rustc-env=MORPH_E2E_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
