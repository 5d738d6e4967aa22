//! A real PostgreSQL server for the db tests: Debian's `postgresql` binaries, a fresh data
//! directory in a temp dir, listening on a free loopback port, stopped when dropped. Under root
//! the server runs as the `postgres` user, since PostgreSQL refuses to run as root.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
}

/// Where `initdb` and `pg_ctl` are: on PATH, or Debian's versioned directory.
fn bin_dir() -> PathBuf {
    if let Some(p) = super::registry::which("initdb") {
        return p.parent().unwrap().to_path_buf();
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|p| p.join("initdb").is_file()).collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions
        .pop()
        .expect("PostgreSQL is not installed; install it with `apt-get install postgresql` (scripts/test does)")
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::tempdir().unwrap();
        let root = is_root();
        if root {
            let ok = Command::new("chown").args(["-R", "postgres"]).arg(dir.path()).status().unwrap().success();
            assert!(ok, "chown of the data directory to postgres");
        }
        let port = super::registry::free_port();
        let data = dir.path().join("data");
        let run = |program: &Path, args: &[&str]| {
            let mut cmd = if root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(program);
                c
            } else {
                Command::new(program)
            };
            let out = cmd.args(args).output().expect("running a PostgreSQL tool");
            assert!(out.status.success(), "{} failed: {}", program.display(), String::from_utf8_lossy(&out.stderr));
        };
        run(&bin.join("initdb"), &["-D", data.to_str().unwrap(), "-U", "morph", "--auth=trust", "-E", "UTF8"]);
        let opts = format!("-p {port} -k {} -c listen_addresses=127.0.0.1", dir.path().display());
        let log = dir.path().join("server.log");
        run(
            &bin.join("pg_ctl"),
            &["-D", data.to_str().unwrap(), "-o", &opts, "-l", log.to_str().unwrap(), "-w", "start"],
        );
        Postgres { dir, bin, port }
    }

    pub fn dsn(&self) -> String {
        format!("postgres://morph@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let pg_ctl = self.bin.join("pg_ctl");
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&pg_ctl);
            c
        } else {
            Command::new(&pg_ctl)
        };
        let _ = cmd.args(["-D", data.to_str().unwrap(), "-m", "immediate", "stop"]).output();
    }
}
