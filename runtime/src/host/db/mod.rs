//! `hayride:db/db`: SQLite (bundled; `:memory:` or a file inside a `--dir` grant, `sqlite://`
//! optional) and PostgreSQL (`postgres://` DSNs, with `--allow-net`). The resources here are the
//! WIT's; each backend lives in its own module. Rows are read when the query runs, so a `rows`
//! handle holds no lock and no server cursor.

pub(crate) mod postgres;
pub(crate) mod sqlite;

use std::collections::VecDeque;

use wasmtime::component::{Linker, Resource};

use crate::host::{HasTableView, TableView};

use crate::policy::DirGrant;

mod bindings {
    wasmtime::component::bindgen!({
        inline: "
            package morph:host;
            world db { import hayride:db/db@0.0.65; }
        ",
        world: "morph:host/db",
        path: ["../wit/hayride/0.0.65/hayride-db.wit"],
        imports: { default: async | trappable },
        with: {
            "hayride:db/db.error": super::DbError,
            "hayride:db/db.connection": super::Connection,
            "hayride:db/db.statement": super::Statement,
            "hayride:db/db.transaction": super::Transaction,
            "hayride:db/db.rows": super::Rows,
        },
    });
}

use bindings::hayride::db::db::{ErrorCode, Host, HostConnection, HostError, HostRows, HostStatement, HostTransaction};
use bindings::hayride::db::types::{DbValue, IsolationLevel};

/// What a morph's databases may reach: SQLite files inside its `--dir` grants, PostgreSQL
/// servers only with `--allow-net`.
#[derive(Default)]
pub(crate) struct DbCtx {
    pub dirs: Vec<DirGrant>,
    pub allow_net: bool,
}

/// What the interface reaches of the store's data.
pub(crate) type DbView<'a> = TableView<'a, DbCtx>;

/// Links `hayride:db/db` over the view `get` makes of the store's data.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> DbView<'_>,
) -> wasmtime::Result<()> {
    bindings::hayride::db::db::add_to_linker::<T, HasTableView<DbCtx>>(linker, get)
}

/// A failure: the WIT's code and the database's message.
type Failure = (ErrorCode, String);

pub struct DbError {
    code: ErrorCode,
    data: String,
}

/// An open database, shared by the statements and transactions made from it.
#[derive(Clone)]
enum Conn {
    Sqlite(sqlite::Shared),
    Postgres(postgres::Pg),
}

pub struct Connection {
    conn: Conn,
}

pub struct Statement {
    conn: Conn,
    sql: String,
    /// PostgreSQL's prepared statement (SQLite keeps its own cache by SQL text).
    pg: Option<tokio_postgres::Statement>,
    params: usize,
}

pub struct Transaction {
    conn: Conn,
    /// Ended by commit or rollback; later calls fail.
    open: bool,
}

/// Rows already read, handed out one `next` at a time.
pub struct Rows {
    columns: Vec<String>,
    rows: VecDeque<Vec<DbValue>>,
}

type DbResult<T> = wasmtime::Result<Result<T, Resource<DbError>>>;

impl DbView<'_> {
    fn db_fail<T>(&mut self, (code, data): Failure) -> DbResult<T> {
        Ok(Err(self.table.push(DbError { code, data })?))
    }

    /// The guest's answer: the value, or an `error` resource for the failure.
    fn db_reply<T>(&mut self, result: Result<T, Failure>) -> DbResult<T> {
        match result {
            Ok(v) => Ok(Ok(v)),
            Err(f) => self.db_fail(f),
        }
    }

    /// The guest's answer when the value is a resource: pushed into the table.
    fn db_new<T: Send + 'static>(&mut self, result: Result<T, Failure>) -> DbResult<Resource<T>> {
        match result {
            Ok(v) => Ok(Ok(self.table.push(v)?)),
            Err(f) => self.db_fail(f),
        }
    }
}

fn check_arity(wanted: usize, given: usize) -> Result<(), Failure> {
    if wanted == given {
        return Ok(());
    }
    Err((ErrorCode::NumberParametersFailed, format!("the statement takes {wanted} parameter(s), {given} given")))
}

impl Conn {
    async fn prepare(&self, sql: String) -> Result<Statement, Failure> {
        match self {
            Conn::Sqlite(db) => {
                let params = sqlite::prepare(db, &sql)?;
                Ok(Statement { conn: self.clone(), sql, pg: None, params })
            }
            Conn::Postgres(pg) => {
                let st = postgres::prepare(pg, &sql).await?;
                Ok(Statement { conn: self.clone(), sql, params: st.params().len(), pg: Some(st) })
            }
        }
    }

    async fn batch(&self, sql: &str) -> Result<(), String> {
        match self {
            Conn::Sqlite(db) => sqlite::batch(db, sql),
            Conn::Postgres(pg) => postgres::batch(pg, sql).await,
        }
    }

    async fn begin(&self, isolation: IsolationLevel, read_only: bool) -> Result<(), String> {
        match self {
            Conn::Sqlite(db) => sqlite::batch(db, sqlite::begin_sql(read_only)),
            Conn::Postgres(pg) => postgres::batch(pg, &postgres::begin_sql(isolation, read_only)).await,
        }
    }

    async fn end(&self, commit: bool) -> Result<(), String> {
        let sql = match self {
            Conn::Sqlite(_) => sqlite::end_sql(commit),
            Conn::Postgres(_) if commit => "COMMIT",
            Conn::Postgres(_) => "ROLLBACK",
        };
        self.batch(sql).await
    }
}

impl Statement {
    async fn query(&self, args: Vec<DbValue>) -> Result<Rows, Failure> {
        match (&self.conn, &self.pg) {
            (Conn::Postgres(pg), Some(st)) => postgres::query(pg, st, args).await,
            (Conn::Sqlite(db), _) => sqlite::query(db, &self.sql, args),
            (Conn::Postgres(_), None) => unreachable!("a PostgreSQL statement is prepared on the server"),
        }
    }

    async fn execute(&self, args: Vec<DbValue>) -> Result<u64, Failure> {
        match (&self.conn, &self.pg) {
            (Conn::Postgres(pg), Some(st)) => postgres::execute(pg, st, args).await,
            (Conn::Sqlite(db), _) => sqlite::execute(db, &self.sql, args),
            (Conn::Postgres(_), None) => unreachable!("a PostgreSQL statement is prepared on the server"),
        }
    }
}

impl Host for DbView<'_> {
    async fn open(&mut self, name: String) -> DbResult<Resource<Connection>> {
        let opened = if postgres::is_dsn(&name) {
            postgres::open(&name, self.ctx).await.map(Conn::Postgres)
        } else {
            sqlite::open(&name, self.ctx).map(Conn::Sqlite)
        };
        self.db_new(opened.map(|conn| Connection { conn }))
    }
}

impl HostConnection for DbView<'_> {
    async fn prepare(&mut self, c: Resource<Connection>, query: String) -> DbResult<Resource<Statement>> {
        let conn = self.table.get(&c)?.conn.clone();
        let st = conn.prepare(query).await;
        self.db_new(st)
    }

    async fn begin_transaction(
        &mut self,
        c: Resource<Connection>,
        isolation: IsolationLevel,
        read_only: bool,
    ) -> DbResult<Resource<Transaction>> {
        let conn = self.table.get(&c)?.conn.clone();
        let begun = conn.begin(isolation, read_only).await;
        self.db_new(
            begun.map(|()| Transaction { conn, open: true }).map_err(|e| (ErrorCode::BeginTransactionFailed, e)),
        )
    }

    async fn close(&mut self, _c: Resource<Connection>) -> DbResult<()> {
        // The database closes when its last statement, transaction and handle are dropped.
        Ok(Ok(()))
    }

    async fn drop(&mut self, c: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(c)?;
        Ok(())
    }
}

impl HostStatement for DbView<'_> {
    async fn query(&mut self, s: Resource<Statement>, args: Vec<DbValue>) -> DbResult<Resource<Rows>> {
        let rows = self.table.get(&s)?.query(args).await;
        self.db_new(rows)
    }

    async fn execute(&mut self, s: Resource<Statement>, args: Vec<DbValue>) -> DbResult<u64> {
        let changed = self.table.get(&s)?.execute(args).await;
        self.db_reply(changed)
    }

    async fn number_parameters(&mut self, s: Resource<Statement>) -> wasmtime::Result<u32> {
        Ok(u32::try_from(self.table.get(&s)?.params).unwrap_or(u32::MAX))
    }

    async fn close(&mut self, _s: Resource<Statement>) -> DbResult<()> {
        Ok(Ok(()))
    }

    async fn drop(&mut self, s: Resource<Statement>) -> wasmtime::Result<()> {
        self.table.delete(s)?;
        Ok(())
    }
}

impl HostTransaction for DbView<'_> {
    async fn commit(&mut self, t: Resource<Transaction>) -> DbResult<()> {
        end_transaction(self, t, true).await
    }

    async fn rollback(&mut self, t: Resource<Transaction>) -> DbResult<()> {
        end_transaction(self, t, false).await
    }

    async fn query(&mut self, t: Resource<Transaction>, query: String, args: Vec<DbValue>) -> DbResult<Resource<Rows>> {
        let conn = open_transaction(self, &t, ErrorCode::QueryFailed)?;
        let rows = async { conn?.prepare(query).await?.query(args).await }.await;
        self.db_new(rows)
    }

    async fn execute(&mut self, t: Resource<Transaction>, query: String, args: Vec<DbValue>) -> DbResult<u64> {
        let conn = open_transaction(self, &t, ErrorCode::ExecuteFailed)?;
        let changed = async { conn?.prepare(query).await?.execute(args).await }.await;
        self.db_reply(changed)
    }

    async fn prepare(&mut self, t: Resource<Transaction>, query: String) -> DbResult<Resource<Statement>> {
        let conn = open_transaction(self, &t, ErrorCode::PrepareFailed)?;
        let st = async { conn?.prepare(query).await }.await;
        self.db_new(st)
    }

    async fn drop(&mut self, t: Resource<Transaction>) -> wasmtime::Result<()> {
        // A transaction dropped while open is rolled back, as database clients do.
        let tx = self.table.delete(t)?;
        if tx.open {
            let _ = tx.conn.end(false).await;
        }
        Ok(())
    }
}

/// The transaction's database while it is open; `code` otherwise.
fn open_transaction(
    host: &mut DbView<'_>,
    t: &Resource<Transaction>,
    code: ErrorCode,
) -> wasmtime::Result<Result<Conn, Failure>> {
    let tx = host.table.get(t)?;
    Ok(if tx.open { Ok(tx.conn.clone()) } else { Err((code, "the transaction has ended".into())) })
}

async fn end_transaction(host: &mut DbView<'_>, t: Resource<Transaction>, commit: bool) -> DbResult<()> {
    let code = if commit { ErrorCode::CommitFailed } else { ErrorCode::RollbackFailed };
    let tx = host.table.get_mut(&t)?;
    if !tx.open {
        return host.db_fail((code, "the transaction has already ended".into()));
    }
    tx.open = false;
    let conn = tx.conn.clone();
    let ended = conn.end(commit).await;
    host.db_reply(ended.map_err(|e| (code, e)))
}

impl HostRows for DbView<'_> {
    async fn columns(&mut self, r: Resource<Rows>) -> wasmtime::Result<Vec<String>> {
        Ok(self.table.get(&r)?.columns.clone())
    }

    async fn next(&mut self, r: Resource<Rows>) -> DbResult<Vec<DbValue>> {
        let row = self.table.get_mut(&r)?.rows.pop_front();
        self.db_reply(row.ok_or((ErrorCode::EndOfRows, "no more rows".into())))
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

impl HostError for DbView<'_> {
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
