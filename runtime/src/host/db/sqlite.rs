//! The SQLite side of `hayride:db/db` (bundled SQLite): files only inside `--dir` grants.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::OpenFlags;

use super::bindings::hayride::db::db::ErrorCode;
use super::bindings::hayride::db::types::DbValue;
use super::DbCtx;
use super::{Failure, Rows};

pub(crate) type Shared = Arc<Mutex<rusqlite::Connection>>;

/// What a SQLite DSN names, in the forms people write: `:memory:`, `sqlite::memory:`,
/// `sqlite://:memory:`, `file::memory:`; a file as a plain path, `sqlite:PATH`, `sqlite://PATH`,
/// or a `file:` URI (`file:data.db`, `file:///data/app.db?mode=ro`).
#[derive(Debug, PartialEq, Eq)]
enum Dsn<'a> {
    Memory,
    /// A path in the guest's filesystem; `read_only` when the URI asks for `mode=ro`.
    File {
        path: &'a str,
        read_only: bool,
    },
}

fn parse_dsn(name: &str) -> Dsn<'_> {
    let (rest, query) = match name.strip_prefix("file:") {
        // A file: URI may carry a query (`?mode=ro&cache=shared`) and an authority (`//`).
        Some(uri) => {
            let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
            let path = match path.strip_prefix("//") {
                Some(with_authority) => with_authority.strip_prefix("localhost").unwrap_or(with_authority),
                None => path,
            };
            (path, query)
        }
        None => {
            let path = name.strip_prefix("sqlite:").map_or(name, |p| p.strip_prefix("//").unwrap_or(p));
            (path, "")
        }
    };
    if rest == ":memory:" || query.split('&').any(|kv| kv == "mode=memory") {
        return Dsn::Memory;
    }
    Dsn::File { path: rest, read_only: query.split('&').any(|kv| kv == "mode=ro") }
}

/// Opens the database `name` names: in memory, or a file inside a directory the morph was
/// granted.
pub(crate) fn open(name: &str, ctx: &DbCtx) -> Result<Shared, Failure> {
    let opened = if let Dsn::File { path, read_only } = parse_dsn(name) {
        let (path, writable) = host_path(name, path, ctx).map_err(|e| (ErrorCode::OpenFailed, e))?;
        let flags = if writable && !read_only {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        } else {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        };
        rusqlite::Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
    } else {
        rusqlite::Connection::open_in_memory()
    };
    opened.map(|db| Arc::new(Mutex::new(db))).map_err(|e| (ErrorCode::OpenFailed, e.to_string()))
}

/// Where the guest's `guest` path (from the DSN `name`) is on the host, and whether it may be
/// written, by the `--dir` grants.
fn host_path(name: &str, guest: &str, ctx: &DbCtx) -> Result<(PathBuf, bool), String> {
    for d in &ctx.dirs {
        let root = d.guest.trim_end_matches('/');
        let rest = if root.is_empty() || root == "." {
            Some(guest.trim_start_matches("./"))
        } else {
            guest.strip_prefix(root).and_then(|r| r.strip_prefix('/'))
        };
        if let Some(rest) = rest {
            if rest.split('/').any(|part| part == "..") {
                return Err(format!("{name}: `..` may not leave the granted directory"));
            }
            return Ok((d.host.join(rest), !d.read_only));
        }
    }
    Err(format!("{name} is not inside a directory granted with --dir; grant one, or use :memory:"))
}

/// Prepares `sql` (so a syntax error shows at `prepare`); cached for the runs to come. Gives the
/// number of parameters.
pub(super) fn prepare(db: &Shared, sql: &str) -> Result<usize, Failure> {
    let db = db.lock().unwrap();
    let st = db.prepare_cached(sql).map_err(|e| (ErrorCode::PrepareFailed, e.to_string()))?;
    Ok(st.parameter_count())
}

pub(super) fn batch(db: &Shared, sql: &str) -> Result<(), String> {
    db.lock().unwrap().execute_batch(sql).map_err(|e| e.to_string())
}

/// SQLite transactions are serializable, which is at least as strict as any level asked for.
/// Writers take the lock at BEGIN (IMMEDIATE), so a conflict shows up there and not midway.
pub(super) fn begin_sql(read_only: bool) -> &'static str {
    if read_only {
        "PRAGMA query_only = ON; BEGIN DEFERRED"
    } else {
        "BEGIN IMMEDIATE"
    }
}

pub(super) fn end_sql(commit: bool) -> &'static str {
    if commit {
        "COMMIT; PRAGMA query_only = OFF"
    } else {
        "ROLLBACK; PRAGMA query_only = OFF"
    }
}

/// Runs `run` on the cached statement of `sql` with `args` converted and counted; `code` is the
/// failure of an argument SQLite cannot store.
fn with_statement<T>(
    db: &Shared,
    sql: &str,
    args: Vec<DbValue>,
    code: ErrorCode,
    run: impl FnOnce(&mut rusqlite::CachedStatement<'_>, Vec<Sql>) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let params = args.into_iter().map(to_sql).collect::<Result<Vec<_>, _>>().map_err(|e| (code, e))?;
    let db = db.lock().unwrap();
    let mut st = db.prepare_cached(sql).map_err(|e| (ErrorCode::PrepareFailed, e.to_string()))?;
    super::check_arity(st.parameter_count(), params.len())?;
    run(&mut st, params)
}

pub(super) fn query(db: &Shared, sql: &str, args: Vec<DbValue>) -> Result<Rows, Failure> {
    with_statement(db, sql, args, ErrorCode::QueryFailed, |st, params| {
        let columns: Vec<String> = st.column_names().map(|c| c.to_string()).collect();
        let decls: Vec<Option<String>> = st.columns().map(|c| c.decl_type().map(str::to_ascii_uppercase)).collect();
        let mut rows =
            st.query(rusqlite::params_from_iter(params)).map_err(|e| (ErrorCode::QueryFailed, e.to_string()))?;
        let mut out = VecDeque::new();
        while let Some(row) = rows.next().map_err(|e| (ErrorCode::NextFailed, e.to_string()))? {
            let mut values = Vec::with_capacity(columns.len());
            for (i, decl) in decls.iter().enumerate() {
                let v = row.get_ref(i).map_err(|e| (ErrorCode::NextFailed, e.to_string()))?;
                values.push(from_sql(v, decl.as_deref()));
            }
            out.push_back(values);
        }
        Ok(Rows { columns, rows: out })
    })
}

pub(super) fn execute(db: &Shared, sql: &str, args: Vec<DbValue>) -> Result<u64, Failure> {
    with_statement(db, sql, args, ErrorCode::ExecuteFailed, |st, params| {
        let n =
            st.execute(rusqlite::params_from_iter(params)).map_err(|e| (ErrorCode::ExecuteFailed, e.to_string()))?;
        Ok(n as u64)
    })
}

/// A `db-value` as SQLite stores it: integers, reals, text (dates and times as ISO text),
/// booleans as 0/1, blobs and NULL.
fn to_sql(v: DbValue) -> Result<Sql, String> {
    Ok(match v {
        DbValue::Int32(n) => Sql::Integer(n.into()),
        DbValue::Int64(n) => Sql::Integer(n),
        DbValue::Uint32(n) => Sql::Integer(n.into()),
        DbValue::Uint64(n) => {
            Sql::Integer(i64::try_from(n).map_err(|_| format!("{n} does not fit SQLite's 64-bit signed integers"))?)
        }
        DbValue::Float(f) | DbValue::Double(f) => Sql::Real(f),
        DbValue::Str(s) | DbValue::Date(s) | DbValue::Time(s) | DbValue::Timestamp(s) => Sql::Text(s),
        DbValue::Boolean(b) => Sql::Integer(b.into()),
        DbValue::Binary(b) => Sql::Blob(b),
        DbValue::Null => Sql::Null,
    })
}

/// A SQLite value as a `db-value`, refined by the column's declared type where SQLite's own
/// storage classes lose it (BOOLEAN, DATE, TIME, TIMESTAMP/DATETIME, FLOAT).
fn from_sql(v: ValueRef<'_>, decl: Option<&str>) -> DbValue {
    let decl = decl.unwrap_or("");
    match v {
        ValueRef::Null => DbValue::Null,
        ValueRef::Integer(n) if decl.contains("BOOL") => DbValue::Boolean(n != 0),
        ValueRef::Integer(n) => DbValue::Int64(n),
        ValueRef::Real(f) if decl == "FLOAT" => DbValue::Float(f),
        ValueRef::Real(f) => DbValue::Double(f),
        ValueRef::Text(t) => {
            let s = String::from_utf8_lossy(t).into_owned();
            if decl.contains("TIMESTAMP") || decl.contains("DATETIME") {
                DbValue::Timestamp(s)
            } else if decl == "DATE" {
                DbValue::Date(s)
            } else if decl == "TIME" {
                DbValue::Time(s)
            } else {
                DbValue::Str(s)
            }
        }
        ValueRef::Blob(b) => DbValue::Binary(b.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsns_as_people_write_them() {
        for memory in [":memory:", "sqlite::memory:", "sqlite://:memory:", "file::memory:", "file:x?mode=memory"] {
            assert_eq!(parse_dsn(memory), Dsn::Memory, "{memory}");
        }
        let file = |path, read_only| Dsn::File { path, read_only };
        assert_eq!(parse_dsn("data/app.db"), file("data/app.db", false));
        assert_eq!(parse_dsn("sqlite:data/app.db"), file("data/app.db", false));
        assert_eq!(parse_dsn("sqlite://data/app.db"), file("data/app.db", false));
        assert_eq!(parse_dsn("sqlite:///data/app.db"), file("/data/app.db", false));
        assert_eq!(parse_dsn("file:data/app.db"), file("data/app.db", false));
        assert_eq!(parse_dsn("file:///data/app.db?mode=ro"), file("/data/app.db", true));
        assert_eq!(parse_dsn("file://localhost/data/app.db"), file("/data/app.db", false));
    }
}
