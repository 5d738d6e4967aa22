//! The app model of `morph.toml`: `[[entry]]` tables, each a morph the app serves (`morph up`),
//! with its source, its pin, its grants and limits. Read and checked here; every error names the
//! entry and the field.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::manifest::MANIFEST;
use crate::BuildError;

#[derive(Debug, Deserialize)]
struct AppFile {
    #[serde(default)]
    entry: Vec<EntrySection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct EntrySection {
    name: String,
    kind: String,
    source: String,
    sha256: Option<String>,
    export: Option<String>,
    route: Option<String>,
    /// Process entries: the arguments after argv[0].
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    allow_net: bool,
    #[serde(default)]
    dirs: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    timeout: Option<String>,
    max_memory: Option<String>,
    fuel: Option<u64>,
    #[serde(default)]
    pool: PoolSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PoolSection {
    min: Option<usize>,
    max: Option<usize>,
    queue_timeout: Option<String>,
}

/// What an entry is served as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// `kind = "function"`: the export `morph call` would name, at `POST /call/<name>`.
    Function { export: String },
    /// `kind = "http"` or `"websocket"`: requests under the route prefix.
    Http { route: String },
    /// `kind = "process"`: a command started with the app and restarted when it fails.
    Process { args: Vec<String> },
}

/// One checked entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub kind: EntryKind,
    /// A file (made absolute against the project), a registry id or an OCI reference.
    pub source: String,
    /// The sha256 (hex) the source must have.
    pub sha256: Option<String>,
    /// Grants, as `--allow` takes them.
    pub allow: Vec<String>,
    pub allow_net: bool,
    /// As `--dir` takes them, host paths made absolute against the project.
    pub dirs: Vec<String>,
    pub env: Vec<(String, String)>,
    pub timeout: Option<Duration>,
    pub max_memory: Option<usize>,
    pub fuel: Option<u64>,
    pub pool_max: usize,
    /// Instances kept made ahead of the requests that take them.
    pub pool_min: usize,
    pub queue_timeout: Duration,
}

/// Instances an entry runs at once when `pool.max` is not given.
pub const DEFAULT_POOL_MAX: usize = 64;

/// The entries of `dir/morph.toml` (none when it has no `[[entry]]`).
pub fn read_entries(dir: &Path) -> Result<Vec<Entry>, BuildError> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        BuildError::Input(format!("cannot read {}: {e}; run `morph up` in an app's directory", path.display()))
    })?;
    let file: AppFile =
        toml::from_str(&text).map_err(|e| BuildError::Input(format!("{}: {}", path.display(), e.message())))?;
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    for (i, section) in file.entry.into_iter().enumerate() {
        let entry = check(dir, section).map_err(|(name, field, why)| {
            let which = if name.is_empty() { format!("entry {}", i + 1) } else { format!("entry `{name}`") };
            BuildError::Input(format!("{}: {which}, field `{field}`: {why}", path.display()))
        })?;
        if !seen.insert(entry.name.clone()) {
            return Err(BuildError::Input(format!(
                "{}: two entries are named `{}`; entry names are unique in an app",
                path.display(),
                entry.name
            )));
        }
        entries.push(entry);
    }
    Ok(entries)
}

type FieldError = (String, &'static str, String);

fn check(dir: &Path, s: EntrySection) -> Result<Entry, FieldError> {
    let name = s.name.clone();
    let fail = |field: &'static str, why: String| (name.clone(), field, why);
    if !morph_registry_client::id::valid_label(&s.name) {
        return Err(fail("name", "use lowercase letters, digits and single dashes, starting with a letter".into()));
    }
    let kind = match s.kind.as_str() {
        "function" => {
            let export = s.export.clone().ok_or_else(|| {
                fail("export", "a function entry names the export to call (as `morph call` names it)".into())
            })?;
            EntryKind::Function { export }
        }
        "http" | "websocket" => {
            let route = s.route.clone().unwrap_or_else(|| "/".to_string());
            if !route.starts_with('/') {
                return Err(fail("route", format!("`{route}` is not a path prefix; write it as /{route}")));
            }
            EntryKind::Http { route }
        }
        "process" => EntryKind::Process { args: s.args.clone() },
        other => {
            return Err(fail("kind", format!("`{other}` is not a kind; use function, http, websocket or process")))
        }
    };
    let sha256 = match s.sha256 {
        Some(pin) => {
            let hex = pin.strip_prefix("sha256:").unwrap_or(&pin).to_ascii_lowercase();
            if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(fail("sha256", format!("`{pin}` is not a sha256 (64 hex digits, `sha256:` optional)")));
            }
            Some(hex)
        }
        None => None,
    };
    let duration = |field: &'static str, v: &Option<String>| {
        v.as_deref().map(|t| morph_registry_client::units::parse_duration(t).map_err(|e| fail(field, e))).transpose()
    };
    let timeout = duration("timeout", &s.timeout)?;
    let queue_timeout = duration("pool.queue-timeout", &s.pool.queue_timeout)?.unwrap_or(Duration::from_secs(5));
    let max_memory = s
        .max_memory
        .as_deref()
        .map(|t| morph_registry_client::units::parse_size(t).map_err(|e| fail("max-memory", e)))
        .transpose()?;
    let pool_max = s.pool.max.unwrap_or(DEFAULT_POOL_MAX);
    if pool_max == 0 || s.pool.min.is_some_and(|min| min > pool_max) {
        return Err(fail("pool", format!("max must be at least 1 and at least min (max = {pool_max})")));
    }
    Ok(Entry {
        source: resolve_source(dir, &s.source),
        dirs: s.dirs.iter().map(|d| absolute_dir(dir, d)).collect(),
        env: s.env.into_iter().collect(),
        name: s.name,
        kind,
        sha256,
        allow: s.allow,
        allow_net: s.allow_net,
        timeout,
        max_memory,
        fuel: s.fuel.filter(|f| *f > 0),
        pool_max,
        pool_min: s.pool.min.unwrap_or(0),
        queue_timeout,
    })
}

/// A source that names a file (a path, or a name ending in .wasm/.wat) is taken relative to the
/// project; anything else is a registry id or an OCI reference.
fn resolve_source(dir: &Path, source: &str) -> String {
    let file_like = source.ends_with(".wasm") || source.ends_with(".wat") || source.starts_with('.');
    let path = PathBuf::from(source);
    if file_like && path.is_relative() {
        dir.join(path).display().to_string()
    } else {
        source.to_string()
    }
}

/// `HOST[::GUEST[:ro]]` with HOST made absolute against the project.
fn absolute_dir(dir: &Path, spec: &str) -> String {
    let (host, rest) = match spec.split_once("::") {
        Some((h, r)) => (h, Some(r)),
        None => (spec, None),
    };
    let host = if Path::new(host).is_relative() { dir.join(host).display().to_string() } else { host.to_string() };
    match rest {
        Some(r) => format!("{host}::{r}"),
        None => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(toml: &str) -> Result<Vec<Entry>, String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST), toml).unwrap();
        read_entries(dir.path()).map_err(|e| e.to_string())
    }

    #[test]
    fn an_entry_reads_with_its_grants_limits_and_pool() {
        let e = entries(
            r#"
[[entry]]
name = "greet"
kind = "function"
source = "target/morph/greeter.wasm"
sha256 = "sha256:AB00000000000000000000000000000000000000000000000000000000000000"
export = "greet"
allow = ["config"]
dirs = ["./data::/data:ro"]
env = { LOG = "info" }
timeout = "2s"
max-memory = "64MiB"
fuel = 0
pool = { min = 2, max = 32, queue-timeout = "1s" }
"#,
        )
        .unwrap();
        let e = &e[0];
        assert_eq!(e.kind, EntryKind::Function { export: "greet".into() });
        assert!(e.source.ends_with("/target/morph/greeter.wasm") && Path::new(&e.source).is_absolute());
        assert_eq!(e.sha256.as_deref(), Some("ab00000000000000000000000000000000000000000000000000000000000000"));
        assert!(e.dirs[0].ends_with("/./data::/data:ro") && Path::new(&e.dirs[0]).is_absolute(), "{:?}", e.dirs);
        assert_eq!(e.env, vec![("LOG".to_string(), "info".to_string())]);
        assert_eq!((e.timeout, e.max_memory, e.fuel), (Some(Duration::from_secs(2)), Some(64 << 20), None));
        assert_eq!((e.pool_max, e.pool_min, e.queue_timeout), (32, 2, Duration::from_secs(1)));
    }

    #[test]
    fn errors_name_the_entry_and_the_field() {
        let base = "[[entry]]\nname = \"api\"\nsource = \"a.wasm\"\n";
        for (extra, field) in [
            ("kind = \"function\"\n", "field `export`"),
            ("kind = \"http\"\nroute = \"api\"\n", "field `route`"),
            ("kind = \"cron\"\n", "field `kind`"),
            ("kind = \"http\"\ntimeout = \"soon\"\n", "field `timeout`"),
            ("kind = \"http\"\nsha256 = \"abc\"\n", "field `sha256`"),
            ("kind = \"http\"\npool = { max = 0 }\n", "field `pool`"),
        ] {
            let err = entries(&format!("{base}{extra}")).unwrap_err();
            assert!(err.contains("entry `api`") && err.contains(field), "{extra}: {err}");
        }
        let twice = format!("{base}kind = \"http\"\n{base}kind = \"http\"\n");
        assert!(entries(&twice).unwrap_err().contains("two entries are named `api`"));
        let unknown = entries(&format!("{base}kind = \"http\"\nroutes = \"/\"\n")).unwrap_err();
        assert!(unknown.contains("routes"), "{unknown}");
    }
}
