//! `hayride:db/db` on SQLite (bundled): `open(name)` takes `:memory:` or a path inside a
//! directory the morph was granted with `--dir` (read-only grants open read-only), optionally as
//! `sqlite://PATH`. Rows are read when the query runs, so a `rows` handle holds no lock.
//! PostgreSQL DSNs are refused with `open-failed` naming what is missing.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::OpenFlags;
use wasmtime::component::Resource;

use super::bindings::hayride::db::db::{
    ErrorCode, Host as Db, HostConnection, HostError, HostRows, HostStatement, HostTransaction,
};
use super::bindings::hayride::db::types::{DbValue, IsolationLevel};
use crate::host::Host;

type Shared = Arc<Mutex<rusqlite::Connection>>;

pub struct DbError {
    code: ErrorCode,
    data: String,
}

pub struct Connection {
    db: Shared,
}

pub struct Statement {
    db: Shared,
    sql: String,
}

pub struct Transaction {
    db: Shared,
    /// Ended by commit or rollback; later calls fail.
    open: bool,
}

pub struct Rows {
    columns: Vec<String>,
    rows: VecDeque<Vec<DbValue>>,
}

type DbResult<T> = wasmtime::Result<Result<T, Resource<DbError>>>;

impl Host {
    fn db_error<T>(&mut self, code: ErrorCode, data: impl Into<String>) -> DbResult<T> {
        Ok(Err(self.table.push(DbError { code, data: data.into() })?))
    }

    /// Where `name` is on the host, and whether it may be written, by the `--dir` grants.
    fn sqlite_path(&self, name: &str) -> Result<(PathBuf, bool), String> {
        let guest = name.strip_prefix("sqlite://").unwrap_or(name);
        for d in &self.hayride.policy.dirs {
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
}

impl Db for Host {
    async fn open(&mut self, name: String) -> DbResult<Resource<Connection>> {
        if name.starts_with("postgres://") || name.starts_with("postgresql://") {
            return self.db_error(ErrorCode::OpenFailed, "PostgreSQL is not supported by morph's host yet; use SQLite");
        }
        let opened = if name == ":memory:" || name == "sqlite://:memory:" {
            rusqlite::Connection::open_in_memory()
        } else {
            let (path, writable) = match self.sqlite_path(&name) {
                Ok(p) => p,
                Err(e) => return self.db_error(ErrorCode::OpenFailed, e),
            };
            let flags = if writable {
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
            } else {
                OpenFlags::SQLITE_OPEN_READ_ONLY
            };
            rusqlite::Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        };
        match opened {
            Ok(db) => Ok(Ok(self.table.push(Connection { db: Arc::new(Mutex::new(db)) })?)),
            Err(e) => self.db_error(ErrorCode::OpenFailed, e.to_string()),
        }
    }
}

impl HostConnection for Host {
    async fn prepare(&mut self, c: Resource<Connection>, query: String) -> DbResult<Resource<Statement>> {
        let db = self.table.get(&c)?.db.clone();
        prepare_on(self, db, query)
    }

    async fn begin_transaction(
        &mut self,
        c: Resource<Connection>,
        isolation: IsolationLevel,
        read_only: bool,
    ) -> DbResult<Resource<Transaction>> {
        let db = self.table.get(&c)?.db.clone();
        // SQLite transactions are serializable; a stricter level than asked is still correct.
        // Writers take the lock at BEGIN (IMMEDIATE) so a conflict shows up there, not mid-way.
        let _ = isolation;
        let begin = if read_only { "PRAGMA query_only = ON; BEGIN DEFERRED" } else { "BEGIN IMMEDIATE" };
        let result = db.lock().unwrap().execute_batch(begin);
        match result {
            Ok(()) => Ok(Ok(self.table.push(Transaction { db, open: true })?)),
            Err(e) => self.db_error(ErrorCode::BeginTransactionFailed, e.to_string()),
        }
    }

    async fn close(&mut self, _c: Resource<Connection>) -> DbResult<()> {
        // The connection closes when its last statement, transaction and handle are dropped.
        Ok(Ok(()))
    }

    async fn drop(&mut self, c: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(c)?;
        Ok(())
    }
}

fn prepare_on(host: &mut Host, db: Shared, sql: String) -> DbResult<Resource<Statement>> {
    // Prepared now so a syntax error is reported by `prepare`; cached for the runs to come.
    let checked = db.lock().unwrap().prepare_cached(&sql).map(|_| ());
    match checked {
        Ok(()) => Ok(Ok(host.table.push(Statement { db, sql })?)),
        Err(e) => host.db_error(ErrorCode::PrepareFailed, e.to_string()),
    }
}

impl HostStatement for Host {
    async fn query(&mut self, s: Resource<Statement>, args: Vec<DbValue>) -> DbResult<Resource<Rows>> {
        let st = self.table.get(&s)?;
        let (db, sql) = (st.db.clone(), st.sql.clone());
        run_query(self, &db, &sql, args)
    }

    async fn execute(&mut self, s: Resource<Statement>, args: Vec<DbValue>) -> DbResult<u64> {
        let st = self.table.get(&s)?;
        let (db, sql) = (st.db.clone(), st.sql.clone());
        run_execute(self, &db, &sql, args)
    }

    async fn number_parameters(&mut self, s: Resource<Statement>) -> wasmtime::Result<u32> {
        let st = self.table.get(&s)?;
        let db = st.db.lock().unwrap();
        let count = db.prepare_cached(&st.sql).map(|p| p.parameter_count()).unwrap_or(0);
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn close(&mut self, _s: Resource<Statement>) -> DbResult<()> {
        Ok(Ok(()))
    }

    async fn drop(&mut self, s: Resource<Statement>) -> wasmtime::Result<()> {
        self.table.delete(s)?;
        Ok(())
    }
}

impl HostTransaction for Host {
    async fn commit(&mut self, t: Resource<Transaction>) -> DbResult<()> {
        end_transaction(self, t, "COMMIT", ErrorCode::CommitFailed)
    }

    async fn rollback(&mut self, t: Resource<Transaction>) -> DbResult<()> {
        end_transaction(self, t, "ROLLBACK", ErrorCode::RollbackFailed)
    }

    async fn query(&mut self, t: Resource<Transaction>, query: String, args: Vec<DbValue>) -> DbResult<Resource<Rows>> {
        let Some(db) = open_transaction(self, &t)? else {
            return self.db_error(ErrorCode::QueryFailed, "the transaction has ended");
        };
        run_query(self, &db, &query, args)
    }

    async fn execute(&mut self, t: Resource<Transaction>, query: String, args: Vec<DbValue>) -> DbResult<u64> {
        let Some(db) = open_transaction(self, &t)? else {
            return self.db_error(ErrorCode::ExecuteFailed, "the transaction has ended");
        };
        run_execute(self, &db, &query, args)
    }

    async fn prepare(&mut self, t: Resource<Transaction>, query: String) -> DbResult<Resource<Statement>> {
        let Some(db) = open_transaction(self, &t)? else {
            return self.db_error(ErrorCode::PrepareFailed, "the transaction has ended");
        };
        prepare_on(self, db, query)
    }

    async fn drop(&mut self, t: Resource<Transaction>) -> wasmtime::Result<()> {
        // A transaction dropped while open is rolled back, as database clients do.
        let tx = self.table.delete(t)?;
        if tx.open {
            let _ = tx.db.lock().unwrap().execute_batch("ROLLBACK; PRAGMA query_only = OFF");
        }
        Ok(())
    }
}

fn open_transaction(host: &mut Host, t: &Resource<Transaction>) -> wasmtime::Result<Option<Shared>> {
    let tx = host.table.get(t)?;
    Ok(tx.open.then(|| tx.db.clone()))
}

fn end_transaction(host: &mut Host, t: Resource<Transaction>, sql: &str, code: ErrorCode) -> DbResult<()> {
    let tx = host.table.get_mut(&t)?;
    if !tx.open {
        return host.db_error(code, "the transaction has already ended");
    }
    tx.open = false;
    let db = tx.db.clone();
    let result = db.lock().unwrap().execute_batch(&format!("{sql}; PRAGMA query_only = OFF"));
    match result {
        Ok(()) => Ok(Ok(())),
        Err(e) => host.db_error(code, e.to_string()),
    }
}

impl HostRows for Host {
    async fn columns(&mut self, r: Resource<Rows>) -> wasmtime::Result<Vec<String>> {
        Ok(self.table.get(&r)?.columns.clone())
    }

    async fn next(&mut self, r: Resource<Rows>) -> DbResult<Vec<DbValue>> {
        match self.table.get_mut(&r)?.rows.pop_front() {
            Some(row) => Ok(Ok(row)),
            None => self.db_error(ErrorCode::EndOfRows, "no more rows"),
        }
    }

    async fn close(&mut self, r: Resource<Rows>) -> DbResult<()> {
        self.table.get_mut(&r)?.rows.clear();
        Ok(Ok(()))
    }

    async fn drop(&mut self, r: Resource<Rows>) -> wasmtime::Result<()> {
        self.table.delete(r)?;
        Ok(())
    }
}

impl HostError for Host {
    async fn code(&mut self, e: Resource<DbError>) -> wasmtime::Result<ErrorCode> {
        Ok(self.table.get(&e)?.code)
    }

    async fn data(&mut self, e: Resource<DbError>) -> wasmtime::Result<String> {
        Ok(self.table.get(&e)?.data.clone())
    }

    async fn drop(&mut self, e: Resource<DbError>) -> wasmtime::Result<()> {
        self.table.delete(e)?;
        Ok(())
    }
}

fn run_query(host: &mut Host, db: &Shared, sql: &str, args: Vec<DbValue>) -> DbResult<Resource<Rows>> {
    let result = (|| -> Result<Rows, (ErrorCode, String)> {
        let params = to_sql_all(args).map_err(|e| (ErrorCode::QueryFailed, e))?;
        let db = db.lock().unwrap();
        let mut st = db.prepare_cached(sql).map_err(|e| (ErrorCode::PrepareFailed, e.to_string()))?;
        check_arity(st.parameter_count(), params.len())?;
        let columns: Vec<String> = st.column_names().map(|c| c.to_string()).collect();
        let decls: Vec<Option<String>> = st.columns().map(|c| c.decl_type().map(str::to_ascii_uppercase)).collect();
        let mut rows = st
            .query(rusqlite::params_from_iter(params))
            .map_err(|e| (ErrorCode::QueryFailed, e.to_string()))?;
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
    })();
    match result {
        Ok(rows) => Ok(Ok(host.table.push(rows)?)),
        Err((code, text)) => host.db_error(code, text),
    }
}

fn run_execute(host: &mut Host, db: &Shared, sql: &str, args: Vec<DbValue>) -> DbResult<u64> {
    let result = (|| -> Result<u64, (ErrorCode, String)> {
        let params = to_sql_all(args).map_err(|e| (ErrorCode::ExecuteFailed, e))?;
        let db = db.lock().unwrap();
        let mut st = db.prepare_cached(sql).map_err(|e| (ErrorCode::PrepareFailed, e.to_string()))?;
        check_arity(st.parameter_count(), params.len())?;
        let n = st.execute(rusqlite::params_from_iter(params)).map_err(|e| (ErrorCode::ExecuteFailed, e.to_string()))?;
        Ok(n as u64)
    })();
    match result {
        Ok(n) => Ok(Ok(n)),
        Err((code, text)) => host.db_error(code, text),
    }
}

fn check_arity(wanted: usize, given: usize) -> Result<(), (ErrorCode, String)> {
    if wanted == given {
        return Ok(());
    }
    Err((ErrorCode::NumberParametersFailed, format!("the statement takes {wanted} parameter(s), {given} given")))
}

fn to_sql_all(args: Vec<DbValue>) -> Result<Vec<Sql>, String> {
    args.into_iter().map(to_sql).collect()
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
