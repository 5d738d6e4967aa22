//! A real PostgreSQL server for the db tests: Debian's `postgresql` binaries, a fresh data
//! directory in a temp dir, listening on a free loopback port, stopped when dropped. Under root
//! the server runs as the `postgres` user, since PostgreSQL refuses to run as root.

use std::path::PathBuf;
use std::process::Command;

pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// The tools run as `postgres` (morph's tests run as root here).
    root: bool,
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
        let server = Postgres { dir, bin, root, port };
        let data = server.data();
        server.run("initdb", &["-D", &data, "-U", "morph", "--auth=trust", "-E", "UTF8"]);
        let opts = format!("-p {port} -k {} -c listen_addresses=127.0.0.1", server.dir.path().display());
        let log = server.dir.path().join("server.log");
        server.run("pg_ctl", &["-D", &data, "-o", &opts, "-l", log.to_str().unwrap(), "-w", "start"]);
        server
    }

    pub fn dsn(&self) -> String {
        format!("postgres://morph@127.0.0.1:{}/postgres", self.port)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_str().unwrap().to_string()
    }

    /// The PostgreSQL tool `program` with `args`, as the user that may run it.
    fn tool(&self, program: &str, args: &[&str]) -> Command {
        let path = self.bin.join(program);
        let mut cmd = if self.root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        cmd.args(args);
        cmd
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self.tool(program, args).output().expect("running a PostgreSQL tool");
        assert!(out.status.success(), "{program} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.tool("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"]).output();
    }
}
