//! RAG rows in SQLite: the text, and its embedding as little-endian f32s in a BLOB. A query
//! reads the table and ranks in memory (the embeddings are unit length: the dot product is the
//! cosine similarity).

use crate::host::db::sqlite::Shared;

use super::{Columns, Failure, QueryOptions, RagCode};

pub(super) fn insert(db: &Shared, c: &Columns, text: &str, vector: &[f32]) -> Result<(), Failure> {
    let db = db.lock().unwrap();
    let create =
        format!("CREATE TABLE IF NOT EXISTS {} ({} TEXT NOT NULL, {} BLOB NOT NULL)", c.table, c.data, c.vector);
    db.execute_batch(&create).map_err(|e| (RagCode::CreateTableFailed, e.to_string()))?;
    let blob: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    let insert = format!("INSERT INTO {} ({}, {}) VALUES (?1, ?2)", c.table, c.data, c.vector);
    db.execute(&insert, rusqlite::params![text, blob]).map_err(|e| (RagCode::EmbedFailed, e.to_string()))?;
    Ok(())
}

pub(super) fn nearest(db: &Shared, c: &Columns, vector: &[f32], opts: &QueryOptions) -> Result<Vec<String>, Failure> {
    let db = db.lock().unwrap();
    let sql = format!("SELECT {}, {} FROM {}", c.data, c.vector, c.table);
    let mut st = db.prepare(&sql).map_err(|e| match e.to_string() {
        // SQLite says so when it prepares the query; no need to look the table up first.
        why if why.starts_with("no such table") => {
            (RagCode::MissingTable, format!("no table {}: `embed` into it first", c.table))
        }
        why => (RagCode::QueryFailed, why),
    })?;
    let rows = st
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))
        .map_err(|e| (RagCode::QueryFailed, e.to_string()))?;
    let mut scored: Vec<(f32, String)> = Vec::new();
    for row in rows {
        let (text, blob) = row.map_err(|e| (RagCode::QueryFailed, e.to_string()))?;
        let stored = blob.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let similarity: f32 = stored.zip(vector).map(|(a, b)| a * b).sum();
        if opts.threshold.is_none_or(|t| similarity >= t) {
            scored.push((similarity, text));
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    Ok(scored.into_iter().take(opts.limit).map(|(_, t)| t).collect())
}
