//! The PostgreSQL side of `hayride:db/db` (tokio-postgres, no TLS): `postgres://` DSNs, only with
//! `--allow-net`. Parameters are encoded for the type PostgreSQL inferred for each one, so a
//! `db-value` goes into any column it fits (an `int64` into an INT4 that can hold it, an ISO
//! date string into a DATE).

use std::collections::VecDeque;
use std::error::Error;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::{Client, NoTls, Row, Statement};

use super::bindings::hayride::db::db::ErrorCode;
use super::bindings::hayride::db::types::{DbValue, IsolationLevel};
use super::DbCtx;
use super::{Failure, Rows};

pub(crate) type Pg = Arc<Client>;

pub(crate) fn is_dsn(name: &str) -> bool {
    name.starts_with("postgres://") || name.starts_with("postgresql://")
}

pub(crate) async fn open(dsn: &str, ctx: &DbCtx) -> Result<Pg, Failure> {
    if !ctx.allow_net {
        return Err((ErrorCode::OpenFailed, "connecting to PostgreSQL needs --allow-net as well as --allow db".into()));
    }
    let (client, connection) =
        tokio_postgres::connect(dsn, NoTls).await.map_err(|e| (ErrorCode::OpenFailed, text(&e)))?;
    // The connection does the socket I/O; it ends when the client is dropped.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(Arc::new(client))
}

/// The server's own message when there is one (tokio-postgres's Display is only "db error").
pub(crate) fn text(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => match e.source() {
            Some(s) => format!("{e}: {s}"),
            None => e.to_string(),
        },
    }
}

pub(super) async fn prepare(pg: &Pg, sql: &str) -> Result<Statement, Failure> {
    pg.prepare(sql).await.map_err(|e| (ErrorCode::PrepareFailed, text(&e)))
}

pub(super) async fn batch(pg: &Pg, sql: &str) -> Result<(), String> {
    pg.batch_execute(sql).await.map_err(|e| text(&e))
}

/// PostgreSQL's nearest level: its REPEATABLE READ is snapshot isolation, SERIALIZABLE is the
/// strongest it has.
pub(super) fn begin_sql(isolation: IsolationLevel, read_only: bool) -> String {
    let level = match isolation {
        IsolationLevel::ReadUncommitted => "READ UNCOMMITTED",
        IsolationLevel::ReadCommitted | IsolationLevel::WriteCommitted => "READ COMMITTED",
        IsolationLevel::RepeatableRead | IsolationLevel::Snapshot => "REPEATABLE READ",
        IsolationLevel::Serializable | IsolationLevel::Linearizable => "SERIALIZABLE",
    };
    format!("BEGIN ISOLATION LEVEL {level}{}", if read_only { " READ ONLY" } else { "" })
}

pub(super) async fn query(pg: &Pg, st: &Statement, args: Vec<DbValue>) -> Result<Rows, Failure> {
    super::check_arity(st.params().len(), args.len())?;
    let params: Vec<PgParam> = args.into_iter().map(PgParam).collect();
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    let rows = pg.query(st, &refs).await.map_err(|e| (ErrorCode::QueryFailed, text(&e)))?;
    let columns = st.columns().iter().map(|c| c.name().to_string()).collect();
    let mut out = VecDeque::with_capacity(rows.len());
    for row in &rows {
        out.push_back(read_row(row).map_err(|e| (ErrorCode::NextFailed, e))?);
    }
    Ok(Rows { columns, rows: out })
}

pub(super) async fn execute(pg: &Pg, st: &Statement, args: Vec<DbValue>) -> Result<u64, Failure> {
    super::check_arity(st.params().len(), args.len())?;
    let params: Vec<PgParam> = args.into_iter().map(PgParam).collect();
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    pg.execute(st, &refs).await.map_err(|e| (ErrorCode::ExecuteFailed, text(&e)))
}

fn read_row(row: &Row) -> Result<Vec<DbValue>, String> {
    (0..row.len()).map(|i| read_value(row, i)).collect()
}

fn read_value(row: &Row, i: usize) -> Result<DbValue, String> {
    fn get<'a, T: tokio_postgres::types::FromSql<'a>>(row: &'a Row, i: usize) -> Result<Option<T>, String> {
        row.try_get::<_, Option<T>>(i).map_err(|e| e.to_string())
    }
    let ty = row.columns()[i].type_().clone();
    let v = match ty {
        Type::BOOL => get::<bool>(row, i)?.map(DbValue::Boolean),
        Type::INT2 => get::<i16>(row, i)?.map(|n| DbValue::Int32(n.into())),
        Type::INT4 => get::<i32>(row, i)?.map(DbValue::Int32),
        Type::INT8 => get::<i64>(row, i)?.map(DbValue::Int64),
        Type::OID => get::<u32>(row, i)?.map(DbValue::Uint32),
        Type::FLOAT4 => get::<f32>(row, i)?.map(|f| DbValue::Float(f.into())),
        Type::FLOAT8 => get::<f64>(row, i)?.map(DbValue::Double),
        Type::BYTEA => get::<Vec<u8>>(row, i)?.map(DbValue::Binary),
        Type::DATE => get::<NaiveDate>(row, i)?.map(|d| DbValue::Date(d.to_string())),
        Type::TIME => get::<NaiveTime>(row, i)?.map(|t| DbValue::Time(t.to_string())),
        Type::TIMESTAMP => {
            get::<NaiveDateTime>(row, i)?.map(|t| DbValue::Timestamp(t.format("%Y-%m-%dT%H:%M:%S%.f").to_string()))
        }
        Type::TIMESTAMPTZ => {
            get::<DateTime<Utc>>(row, i)?.map(|t| DbValue::Timestamp(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)))
        }
        _ => match get::<String>(row, i) {
            Ok(s) => s.map(DbValue::Str),
            Err(_) => {
                return Err(format!(
                    "column {} is of type {ty}, which no db-value carries; cast it in the query (e.g. ::text)",
                    row.columns()[i].name()
                ))
            }
        },
    };
    Ok(v.unwrap_or(DbValue::Null))
}

/// A `db-value` encoded for the parameter type PostgreSQL expects.
#[derive(Debug)]
struct PgParam(DbValue);

type BoxError = Box<dyn Error + Sync + Send>;

impl ToSql for PgParam {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        match &self.0 {
            DbValue::Null => Ok(IsNull::Yes),
            DbValue::Int32(n) => int(i64::from(*n), ty, out),
            DbValue::Int64(n) => int(*n, ty, out),
            DbValue::Uint32(n) => int(i64::from(*n), ty, out),
            DbValue::Uint64(n) => int(i64::try_from(*n).map_err(|_| format!("{n} does not fit a BIGINT"))?, ty, out),
            DbValue::Float(f) | DbValue::Double(f) => match *ty {
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => f.to_sql(ty, out),
            },
            DbValue::Boolean(b) => b.to_sql(ty, out),
            DbValue::Binary(b) => b.as_slice().to_sql(ty, out),
            DbValue::Str(s) => s.as_str().to_sql(ty, out),
            DbValue::Date(s) => match *ty {
                Type::DATE => NaiveDate::parse_from_str(s, "%Y-%m-%d")?.to_sql(ty, out),
                _ => s.as_str().to_sql(ty, out),
            },
            DbValue::Time(s) => match *ty {
                Type::TIME => NaiveTime::parse_from_str(s, "%H:%M:%S%.f")?.to_sql(ty, out),
                _ => s.as_str().to_sql(ty, out),
            },
            DbValue::Timestamp(s) => match *ty {
                Type::TIMESTAMPTZ => DateTime::parse_from_rfc3339(s)?.with_timezone(&Utc).to_sql(ty, out),
                Type::TIMESTAMP => naive_timestamp(s)?.to_sql(ty, out),
                _ => s.as_str().to_sql(ty, out),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        // Checked per value in to_sql, against the type the server inferred.
        true
    }

    to_sql_checked!();
}

fn int(n: i64, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
    match *ty {
        Type::INT2 => i16::try_from(n)?.to_sql(ty, out),
        Type::INT4 => i32::try_from(n)?.to_sql(ty, out),
        Type::OID => u32::try_from(n)?.to_sql(ty, out),
        Type::FLOAT4 => (n as f32).to_sql(ty, out),
        Type::FLOAT8 => (n as f64).to_sql(ty, out),
        Type::BOOL => (n != 0).to_sql(ty, out),
        _ => n.to_sql(ty, out),
    }
}

/// `2026-11-28T12:34:56`, with a space instead of the T, or RFC 3339 (taken as UTC).
fn naive_timestamp(s: &str) -> Result<NaiveDateTime, BoxError> {
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Ok(t);
        }
    }
    Ok(DateTime::parse_from_rfc3339(s)?.naive_utc())
}
