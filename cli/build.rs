//! Link settings for the `morph` binary.
//!
//! A warm `morph run` of a small morph is a few milliseconds, and most of them are the process
//! starting: the dynamic loader applying ~68 000 relative relocations (a 1.6 MB table read page
//! by page). Packed relative relocations (DT_RELR, glibc ≥ 2.36, binutils ≥ 2.38) keep the
//! binary position-independent, so still loaded at a random address, and shrink that table to
//! a few kilobytes.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" && linker_packs_relocations() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// Whether the system linker knows the option (binutils 2.38 and later); an older one would
/// fail the link, so morph is built without it there.
fn linker_packs_relocations() -> bool {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let dir = std::env::temp_dir().join(format!("morph-relr-probe-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        return false;
    }
    let src = dir.join("probe.c");
    let ok = std::fs::write(&src, "int main(void) { return 0; }\n").is_ok()
        && std::process::Command::new(&cc)
            .arg("-Wl,-z,pack-relative-relocs")
            .arg("-o")
            .arg(dir.join("probe"))
            .arg(&src)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    let _ = std::fs::remove_dir_all(&dir);
    ok
}
