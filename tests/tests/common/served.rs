//! A `morph serve` process on a free loopback port, for the tests that talk to it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::registry::free_port;
use super::{morph_bin, path_str};

/// A running `morph serve`; killed when dropped. Its stderr lines arrive on `log`.
pub struct Served {
    pub child: Child,
    pub addr: String,
    pub log: mpsc::Receiver<String>,
    /// Every line an earlier wait read from `log`, for a line that may come before or after the
    /// one that was waited for (see [`Served::saw_or_wait_for`]).
    seen: std::cell::RefCell<Vec<String>>,
    /// Its MORPH_HOME, when the test did not give one.
    _home: Option<tempfile::TempDir>,
}

impl Served {
    /// Starts `morph serve GUEST --addr <free port> EXTRA…` and waits until it listens.
    pub fn start(guest: &Path, extra: &[&str]) -> Served {
        let addr = format!("127.0.0.1:{}", free_port());
        let mut args = vec!["serve", path_str(guest), "--addr", &addr];
        args.extend_from_slice(extra);
        Served::spawn(&args, None, addr.clone())
    }

    /// Starts a bare `morph serve` in a project directory; the morph itself says `addr`.
    pub fn start_project(dir: &Path, addr: &str) -> Served {
        Served::spawn(&["serve"], Some(dir), addr.to_string())
    }

    /// Starts `morph serve --addr <free port> EXTRA…` in a project directory.
    pub fn start_in_project(dir: &Path, extra: &[&str]) -> Served {
        let addr = format!("127.0.0.1:{}", free_port());
        let mut args = vec!["serve", "--addr", &addr];
        args.extend_from_slice(extra);
        Served::spawn(&args, Some(dir), addr.clone())
    }

    /// Starts `morph up --addr <free port>` in an app's directory.
    pub fn start_app(dir: &Path) -> Served {
        Served::start_app_with(dir, &[])
    }

    /// `morph up --addr <free port> EXTRA…` in an app's directory, waiting up to `within` for it
    /// to listen (a `--build` first compiles the project).
    pub fn start_app_within(dir: &Path, extra: &[&str], within: Duration) -> Served {
        let addr = format!("127.0.0.1:{}", free_port());
        let mut args = vec!["up", "--addr", &addr];
        args.extend_from_slice(extra);
        Served::spawn_waiting(&args, Some(dir), None, addr.clone(), "listening on http://", within)
    }

    /// `morph up --addr <free port> EXTRA…` in an app's directory.
    pub fn start_app_with(dir: &Path, extra: &[&str]) -> Served {
        let addr = format!("127.0.0.1:{}", free_port());
        let mut args = vec!["up", "--addr", &addr];
        args.extend_from_slice(extra);
        Served::spawn(&args, Some(dir), addr.clone())
    }

    /// `morph up --addr <free port> EXTRA…` in an app's directory, with MORPH_HOME `home` (a
    /// registry the test filled).
    pub fn start_app_at(home: &Path, dir: &Path, extra: &[&str]) -> Served {
        let addr = format!("127.0.0.1:{}", free_port());
        let mut args = vec!["up", "--addr", &addr];
        args.extend_from_slice(extra);
        Served::spawn_in(&args, Some(dir), Some(home), addr.clone(), "listening on http://")
    }

    /// Starts `morph --json serve GUEST --addr <free port>`: its log is JSON lines.
    pub fn start_json(guest: &Path) -> Served {
        let addr = format!("127.0.0.1:{}", free_port());
        Served::spawn_until(&["--json", "serve", path_str(guest), "--addr", &addr], None, addr.clone(), "\"listening\"")
    }

    fn spawn(args: &[&str], cwd: Option<&Path>, addr: String) -> Served {
        Served::spawn_until(args, cwd, addr, "listening on http://")
    }

    /// Spawns morph with `args` and waits for the log line that says it listens.
    fn spawn_until(args: &[&str], cwd: Option<&Path>, addr: String, listening: &str) -> Served {
        Served::spawn_in(args, cwd, None, addr, listening)
    }

    /// Spawns morph with `args` in `cwd` with MORPH_HOME `home` (a fresh one when none) and
    /// waits for the log line that says it listens.
    fn spawn_in(args: &[&str], cwd: Option<&Path>, home: Option<&Path>, addr: String, listening: &str) -> Served {
        Served::spawn_waiting(args, cwd, home, addr, listening, Duration::from_secs(60))
    }

    fn spawn_waiting(
        args: &[&str],
        cwd: Option<&Path>,
        home: Option<&Path>,
        addr: String,
        listening: &str,
        within: Duration,
    ) -> Served {
        let fresh = home.is_none().then(|| tempfile::tempdir().unwrap());
        let home_path = home.or(fresh.as_ref().map(|t| t.path())).unwrap().to_path_buf();
        let mut cmd = Command::new(morph_bin());
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        let mut child =
            cmd.args(args).env("MORPH_HOME", &home_path).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let (tx, log) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let served = Served { child, addr, log, seen: Default::default(), _home: fresh };
        served.wait_for(listening, within);
        served
    }

    /// A log line containing `text` that an earlier wait already read (a line logged while the
    /// server was still starting may come before the one saying it listens), or else the next
    /// one within `within`.
    pub fn saw_or_wait_for(&self, text: &str, within: Duration) -> String {
        if let Some(line) = self.seen.borrow().iter().find(|l| l.contains(text)) {
            return line.clone();
        }
        self.wait_for(text, within)
    }

    /// Waits for a log line containing `text`; returns it.
    pub fn wait_for(&self, text: &str, within: Duration) -> String {
        self.wait_for_all(&[text], within).remove(0)
    }

    /// Waits for a log line containing each of `texts`, in any order; returns them in the
    /// order of `texts`.
    pub fn wait_for_all(&self, texts: &[&str], within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        let mut found: Vec<Option<String>> = vec![None; texts.len()];
        while found.iter().any(Option::is_none) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else { break };
            let Ok(line) = self.log.recv_timeout(left) else { break };
            self.seen.borrow_mut().push(line.clone());
            for (i, text) in texts.iter().enumerate() {
                if found[i].is_none() && line.contains(text) {
                    found[i] = Some(line.clone());
                }
            }
        }
        let missing: Vec<&str> = texts.iter().zip(&found).filter(|(_, f)| f.is_none()).map(|(t, _)| *t).collect();
        assert!(missing.is_empty(), "no log line with {missing:?} within {within:?}");
        found.into_iter().flatten().collect()
    }

    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill").args(["-s", name, &self.child.id().to_string()]).status().unwrap();
        assert!(ok.success());
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
