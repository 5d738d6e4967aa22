//! Files morph writes are readable as any tool's are (0666 less the umask), except the one that
//! holds credentials, which is its owner's only whatever the umask.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::*;

/// `morph ARGS` under `umask`, in `home`.
fn with_umask(home: &Path, umask: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(format!("umask {umask}; exec \"$0\" \"$@\"")).arg(morph_bin()).args(args);
    cmd.env("MORPH_HOME", home).env("NO_COLOR", "1");
    Run::from(cmd.output().unwrap())
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn outputs_and_registered_morphs_follow_the_umask_and_credentials_stay_private() {
    for (umask, shared) in [("022", 0o644), ("077", 0o600)] {
        let home = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let hello = example("hello.wat");
        let r = with_umask(home.path(), umask, &["register", path_str(&hello), "--package", "test:hello@1.0.0"]);
        assert_eq!(r.code, 0, "{r:?}");
        let registered = home.path().join("registry/morphs/test/1.0.0/hello.wasm");
        assert_eq!(mode(&registered), shared, "registered morph under umask {umask}");
        let plugged = out.path().join("out.wasm");
        let fixtures = workspace_root().join("tests/fixtures/compose");
        let (socket, plug) = (fixtures.join("b.wat"), fixtures.join("a.wat"));
        let args = ["plug", path_str(&socket), "--plug", path_str(&plug), "-o", path_str(&plugged)];
        let r = with_umask(home.path(), umask, &args);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(mode(&plugged), shared, "composed output under umask {umask}");
        let mut login = Command::new("sh");
        login
            .arg("-c")
            .arg(format!(
                "umask {umask}; echo s3cret | exec \"$0\" login localhost:5999 -u ann --password-stdin --no-verify"
            ))
            .arg(morph_bin())
            .env("MORPH_HOME", home.path());
        let r = Run::from(login.output().unwrap());
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(mode(&home.path().join("config.toml")), 0o600, "credentials under umask {umask}");
    }
}
