//! RAG rows in PostgreSQL with pgvector: a `vector(N)` column, ranked by the server with the
//! cosine-distance operator `<=>`.

use crate::host::db::postgres::{text, Pg};

use super::{Columns, Failure, QueryOptions, RagCode};

/// pgvector's `[x,y,…]` text form, cast to `vector` in SQL (no client-side type needed).
fn literal(vector: &[f32]) -> String {
    let items: Vec<String> = vector.iter().map(|x| x.to_string()).collect();
    format!("[{}]", items.join(","))
}

/// The extension, once per connection; a server without pgvector says so here.
pub(super) async fn prepare(pg: &Pg) -> Result<(), Failure> {
    pg.batch_execute("CREATE EXTENSION IF NOT EXISTS vector").await.map_err(|e| {
        (RagCode::ConnectionFailed, format!("the pgvector extension is not available on this server: {}", text(&e)))
    })
}

pub(super) async fn insert(pg: &Pg, c: &Columns, data: &str, vector: &[f32]) -> Result<(), Failure> {
    let create = format!(
        "CREATE TABLE IF NOT EXISTS {} ({} TEXT NOT NULL, {} vector({}) NOT NULL)",
        c.table,
        c.data,
        c.vector,
        vector.len()
    );
    pg.batch_execute(&create).await.map_err(|e| (RagCode::CreateTableFailed, text(&e)))?;
    let insert = format!("INSERT INTO {} ({}, {}) VALUES ($1, $2::text::vector)", c.table, c.data, c.vector);
    pg.execute(&insert, &[&data, &literal(vector)]).await.map_err(|e| (RagCode::EmbedFailed, text(&e)))?;
    Ok(())
}

pub(super) async fn nearest(pg: &Pg, c: &Columns, vector: &[f32], opts: &QueryOptions) -> Result<Vec<String>, Failure> {
    let sql = format!(
        "SELECT {data}, 1 - ({vec} <=> $1::text::vector) FROM {table} ORDER BY {vec} <=> $1::text::vector LIMIT $2",
        data = c.data,
        vec = c.vector,
        table = c.table
    );
    let limit = i64::try_from(opts.limit).unwrap_or(i64::MAX);
    let rows = pg.query(&sql, &[&literal(vector), &limit]).await.map_err(|e| {
        if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) {
            (RagCode::MissingTable, format!("no table {}: `embed` into it first", c.table))
        } else {
            (RagCode::QueryFailed, text(&e))
        }
    })?;
    Ok(rows
        .into_iter()
        .filter(|r| opts.threshold.is_none_or(|t| r.get::<_, f64>(1) >= f64::from(t)))
        .map(|r| r.get::<_, String>(0))
        .collect())
}
