//! The frame every command shares: version, help, worlds, completions, usage errors.

mod common;

use common::*;

#[test]
fn version_and_help() {
    let r = morph(&["--version"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout.trim(), format!("morph {}", env!("CARGO_PKG_VERSION")));
    let r = morph(&["help", "validate"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("--world") && r.stdout.contains("--strict"), "{r:?}");
    // The listing of every command carries each one's description (which lives on the command's
    // own arguments struct, so a parser that builds a command only when it is given loses it).
    for help in [morph(&["--help"]), morph(&["help"])] {
        assert_eq!(help.code, 0, "{help:?}");
        let line = |name: &str| {
            help.stdout.lines().find(|l| l.trim_start().starts_with(&format!("{name} "))).map(str::to_string)
        };
        for (name, about) in [
            ("run", "Run a morph in the embedded runtime"),
            ("cache", "See and trim the caches"),
            ("pull", "Pull a wasm component"),
        ] {
            let l = line(name).unwrap_or_default();
            assert!(l.contains(about), "`{name}` listed without its description: {l:?}\n{}", help.stdout);
        }
    }
    // A mistake in a command's arguments is explained with that command's usage.
    let r = morph(&["run", "--no-such-flag", "x.wasm"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--no-such-flag") && r.stderr.contains("Usage: morph run"), "{r:?}");
}

#[test]
fn usage_errors_exit_2() {
    let r = morph(&["validate", "--no-such-flag", "x.wasm"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--no-such-flag"), "{r:?}");
    let r = morph(&["no-such-command"]);
    assert_eq!(r.code, 2, "{r:?}");
    let r = morph(&["--color", "sometimes", "worlds"]);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn worlds_lists_every_bundled_world() {
    let r = morph(&["--json", "worlds"]);
    assert_eq!(r.code, 0, "{r:?}");
    let rows = r.json();
    let names: Vec<&str> = rows.as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    for w in [
        "hayride-cli",
        "hayride-server",
        "hayride-ws",
        "hayride-ai",
        "hayride-mcp",
        "hayride-core",
        "hayride-api",
        "hayride-silo",
        "hayride-wac",
        "hayride-db",
        "command",
        "proxy",
        "extension",
    ] {
        assert!(names.contains(&w), "{w} missing from {names:?}");
    }
    // Each older contract's Hayride worlds, with their version; 0.0.60 has no db or mcp world.
    let cli060 =
        rows.as_array().unwrap().iter().find(|w| w["name"] == "hayride-cli@0.0.60").expect("hayride-cli@0.0.60");
    assert_eq!(cli060["contract"], "0.0.60");
    let newest = rows.as_array().unwrap().iter().find(|w| w["name"] == "hayride-cli").unwrap();
    assert_eq!(newest["contract"], "0.0.65");
    assert!(!names.contains(&"hayride-db@0.0.60") && names.contains(&"hayride-wac@0.0.60"), "{names:?}");
    assert_eq!(rows[0]["full_name"], "hayride:runtime/hayride-cli@0.0.1");
    assert!(rows.as_array().unwrap().iter().all(|w| !w["summary"].as_str().unwrap().is_empty()));
    let human = morph(&["worlds"]);
    assert!(human.stdout.contains("wasi:http/proxy@0.2.0"), "{human:?}");
}

#[test]
fn every_listed_world_validates_something_or_reports_why() {
    // Each short name resolves (exit 0 or 1, never 2).
    for w in ["hayride-ai", "hayride-mcp", "hayride-api", "hayride-silo", "hayride-wac", "command", "proxy"] {
        let r = morph(&["validate", path_str(&example("hello.wat")), "--world", w]);
        assert!(r.code == 0 || r.code == 1, "{w}: {r:?}");
    }
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let r = morph(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {r:?}");
        assert!(r.stdout.contains("validate"), "{shell} completions mention commands");
        // Nested commands and their arguments too (`cache clean --older-than`, `help cache clean`).
        assert!(r.stdout.contains("--older-than"), "{shell} completions miss a nested command's flag");
    }
    let bash = morph(&["completions", "bash"]);
    assert!(bash.stdout.contains("help__subcmd__cache__subcmd__clean"), "bash completions miss `help cache clean`");
}

#[test]
fn color_flag_controls_escape_codes() {
    let file = example("hello.wat");
    let always = morph(&["--color", "always", "validate", path_str(&file)]);
    assert!(always.stdout.contains("\x1b["), "{always:?}");
    let never = morph(&["--color", "never", "validate", path_str(&file)]);
    assert!(!never.stdout.contains("\x1b["), "{never:?}");
}

#[test]
fn quiet_validate_prints_nothing_on_success() {
    let r = morph(&["-q", "validate", path_str(&example("hello.wat"))]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.is_empty(), "{r:?}");
}

#[test]
fn validate_works_offline_from_any_directory() {
    // The contract is embedded: run from an empty directory with no network configuration.
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(morph_bin())
        .args(["validate", path_str(&fixture("http-server.wat")), "--world", "hayride-server"])
        .current_dir(dir.path())
        .env("MORPH_HOME", dir.path())
        .env_remove("CARGO_HOME")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `morph ARGS` on a pseudo-terminal (util-linux `script`), in `home`: what the terminal showed.
fn on_a_terminal(home: &std::path::Path, args: &str) -> String {
    let out = std::process::Command::new("script")
        .args(["-qfec", &format!("{} {args}", morph_bin().display()), "/dev/null"])
        .env("MORPH_HOME", home)
        .output()
        .expect("util-linux script");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_first_compile_shows_a_spinner_on_a_terminal_only() {
    // The 18 MB Python morph compiles for seconds; a small one in well under the half second
    // after which the spinner shows.
    let home = tempfile::tempdir().unwrap();
    let py = python_hello();
    // The size as the spinner prints it, from the file: it moves with the componentize-py build.
    let mib = std::fs::metadata(&py).unwrap().len() as f64 / (1024.0 * 1024.0);
    let label = format!("compiling python-hello ({mib:.1} MiB)");
    let shown = on_a_terminal(home.path(), &format!("run --compiler baseline {}", path_str(&py)));
    assert!(shown.contains(&label) && shown.contains("hello from python"), "{label}: {shown:?}");
    let shown = on_a_terminal(home.path(), &format!("run --compiler baseline {}", path_str(&py)));
    assert!(!shown.contains("compiling"), "the second start comes from the cache: {shown:?}");
    let other = tempfile::tempdir().unwrap();
    let shown = on_a_terminal(other.path(), &format!("run {}", path_str(&example("hello.wat"))));
    assert!(
        !shown.contains("compiling") && shown.contains("hello from morph"),
        "a quick compile shows none: {shown:?}"
    );
    let shown = on_a_terminal(other.path(), &format!("-q run --compiler baseline {}", path_str(&py)));
    assert!(!shown.contains("compiling"), "-q shows none: {shown:?}");
    let r = morph_in(tempfile::tempdir().unwrap().path(), &["run", "--compiler", "baseline", path_str(&py)]);
    assert!(!r.stderr.contains("compiling") && r.stdout == "hello from python\n", "nothing off a terminal: {r:?}");
}

#[test]
fn a_download_inside_run_shows_a_byte_bar_on_a_terminal_only() {
    use common::registry::{BlobMode, FakeRegistry};
    let fake = FakeRegistry::start(wat::parse_file(example("hello.wat")).unwrap(), "application/wasm", BlobMode::Slow);
    let reference = format!("{}/acme/hello:1.0.0", fake.addr);
    let insecure = format!("[registries.\"{}\"]\ninsecure = true\n", fake.addr);
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("config.toml"), &insecure).unwrap();
    let shown = on_a_terminal(home.path(), &format!("run {reference}"));
    assert!(shown.contains(&format!("pulling {reference}")) && shown.contains("997 B"), "{shown:?}");
    assert!(shown.contains("hello from morph"), "{shown:?}");
    let shown = on_a_terminal(home.path(), &format!("run {reference}"));
    assert!(!shown.contains("pulling"), "nothing to download the second time: {shown:?}");
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("config.toml"), &insecure).unwrap();
    let r = morph_in(other.path(), &["run", &reference]);
    assert_eq!(r.stdout, "hello from morph\n", "{r:?}");
    assert!(!r.stderr.contains("pulling"), "no bar off a terminal: {r:?}");
}
