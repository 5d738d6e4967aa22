//! `hayride:ai/rag` and `hayride:ai/transformer`: retrieval for agents. A connection is a
//! database (`sqlite:`/a path under the `hayride:db` rules — inside a `--dir` grant, or
//! `:memory:` — or `postgres://` with pgvector, which needs `--allow-net`); `register` names the
//! sentence-embedding model (a repository of morph's model store, e.g.
//! `sentence-transformers/all-MiniLM-L6-v2`) and the two columns; `embed` stores a text with its
//! embedding (creating the table), `query` gives the stored texts nearest to a text.
//! Options: `limit` (default 1, as Hayride's host) and `threshold` (the least cosine similarity).

mod postgres;
mod sqlite;

use std::sync::Arc;

use wasmtime::component::Resource;

use morph_ai::SentenceEncoder;

use super::{backend, AiView};
use crate::host::db::DbCtx;

/// The failures of `hayride:ai/rag`, the same in every contract version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RagCode {
    ConnectionFailed,
    CreateTableFailed,
    QueryFailed,
    EmbedFailed,
    RegisterFailed,
    MissingTable,
    InvalidOption,
}

pub(crate) type Failure = (RagCode, String);

pub struct RagError {
    code: RagCode,
    data: String,
}

/// Which model embeds which column into which vector column.
pub struct Transformer {
    model: String,
    data_column: String,
    vector_column: String,
}

/// Where the rows live.
enum Store {
    Sqlite(crate::host::db::sqlite::Shared),
    Postgres(crate::host::db::postgres::Pg),
}

pub struct Connection {
    store: Store,
    registered: Option<Registered>,
}

/// What `register` settled: the encoder, and the columns quoted for SQL.
struct Registered {
    encoder: Arc<SentenceEncoder>,
    data: String,
    vector: String,
}

/// What a query asks for.
#[derive(Debug, PartialEq)]
struct QueryOptions {
    limit: usize,
    /// The least cosine similarity a row needs.
    threshold: Option<f32>,
}

fn query_options(options: &[(String, String)]) -> Result<QueryOptions, Failure> {
    let mut q = QueryOptions { limit: 1, threshold: None };
    let bad =
        |name: &str, value: &str, want: &str| (RagCode::InvalidOption, format!("option {name}={value:?}: {want}"));
    for (name, value) in options {
        match name.to_ascii_lowercase().as_str() {
            "limit" => q.limit = value.trim().parse().map_err(|_| bad(name, value, "a count of rows, e.g. 3"))?,
            "threshold" => {
                let t: f32 = value.trim().parse().map_err(|_| bad(name, value, "a cosine similarity from -1 to 1"))?;
                if !(-1.0..=1.0).contains(&t) {
                    return Err(bad(name, value, "a cosine similarity from -1 to 1"));
                }
                q.threshold = Some(t);
            }
            _ => return Err(bad(name, value, "unknown option; use limit or threshold")),
        }
    }
    Ok(q)
}

/// A table or column name as SQL takes it quoted: letters, digits and `_`, not a digit first.
fn identifier(what: &str, name: &str) -> Result<String, Failure> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(format!("\"{name}\""))
    } else {
        Err((RagCode::InvalidOption, format!("{what} `{name}`: use letters, digits and _ (not a digit first)")))
    }
}

impl AiView<'_> {
    fn rag_fail<T>(&mut self, (code, data): Failure) -> wasmtime::Result<Result<T, Resource<RagError>>> {
        Ok(Err(self.table.push(RagError { code, data })?))
    }

    fn rag_answer<T>(
        &mut self,
        r: wasmtime::Result<Result<T, Failure>>,
    ) -> wasmtime::Result<Result<T, Resource<RagError>>> {
        match r? {
            Ok(v) => Ok(Ok(v)),
            Err(f) => self.rag_fail(f),
        }
    }

    async fn rag_connect(&mut self, dsn: &str) -> Result<Connection, Failure> {
        let db = DbCtx { dirs: self.ctx.dirs.clone(), allow_net: self.ctx.allow_net };
        let store = if crate::host::db::postgres::is_dsn(dsn) {
            let pg =
                crate::host::db::postgres::open(dsn, &db).await.map_err(|(_, why)| (RagCode::ConnectionFailed, why))?;
            postgres::prepare(&pg).await?;
            Store::Postgres(pg)
        } else {
            Store::Sqlite(crate::host::db::sqlite::open(dsn, &db).map_err(|(_, why)| (RagCode::ConnectionFailed, why))?)
        };
        Ok(Connection { store, registered: None })
    }

    async fn rag_register(
        &mut self,
        c: &Resource<Connection>,
        t: Resource<Transformer>,
    ) -> wasmtime::Result<Result<(), Failure>> {
        let transformer = self.table.delete(t)?;
        let registered = async {
            let dir = self.ctx.embedding_model(&transformer.model).map_err(|why| (RagCode::RegisterFailed, why))?;
            let encoder = backend::off_the_runtime(move || backend::load_encoder(&dir))
                .await
                .map_err(|why| (RagCode::RegisterFailed, why))?;
            let data = identifier("data column", &transformer.data_column)?;
            let vector = identifier("vector column", &transformer.vector_column)?;
            Ok(Registered { encoder, data, vector })
        };
        match registered.await {
            Ok(r) => {
                self.table.get_mut(c)?.registered = Some(r);
                Ok(Ok(()))
            }
            Err(f) => Ok(Err(f)),
        }
    }

    /// The table and registered columns, and the embedding of `text`.
    async fn rag_embedding(
        &mut self,
        c: &Resource<Connection>,
        table: &str,
        text: &str,
    ) -> wasmtime::Result<Result<(Columns, Vec<f32>), Failure>> {
        let Some(r) = &self.table.get(c)?.registered else {
            return Ok(Err((
                RagCode::RegisterFailed,
                "no transformer: call `register` on the connection first".into(),
            )));
        };
        let (encoder, data, vector) = (r.encoder.clone(), r.data.clone(), r.vector.clone());
        let table = match identifier("table", table) {
            Ok(t) => t,
            Err(f) => return Ok(Err(f)),
        };
        let text = text.to_string();
        let embedded = backend::off_the_runtime(move || encoder.embed(&text).map_err(|e| e.to_string())).await;
        Ok(embedded.map(|v| (Columns { table, data, vector }, v)).map_err(|why| (RagCode::EmbedFailed, why)))
    }

    async fn rag_embed(
        &mut self,
        c: Resource<Connection>,
        table: String,
        data: String,
    ) -> wasmtime::Result<Result<(), Failure>> {
        let (columns, vector) = match self.rag_embedding(&c, &table, &data).await? {
            Ok(found) => found,
            Err(f) => return Ok(Err(f)),
        };
        Ok(match &self.table.get(&c)?.store {
            Store::Sqlite(db) => sqlite::insert(db, &columns, &data, &vector),
            Store::Postgres(pg) => postgres::insert(&pg.clone(), &columns, &data, &vector).await,
        })
    }

    async fn rag_query(
        &mut self,
        c: Resource<Connection>,
        table: String,
        data: String,
        options: Vec<(String, String)>,
    ) -> wasmtime::Result<Result<Vec<String>, Failure>> {
        let opts = match query_options(&options) {
            Ok(o) => o,
            Err(f) => return Ok(Err(f)),
        };
        let (columns, vector) = match self.rag_embedding(&c, &table, &data).await? {
            Ok(found) => found,
            Err(f) => return Ok(Err(f)),
        };
        Ok(match &self.table.get(&c)?.store {
            Store::Sqlite(db) => sqlite::nearest(db, &columns, &vector, &opts),
            Store::Postgres(pg) => postgres::nearest(&pg.clone(), &columns, &vector, &opts).await,
        })
    }
}

/// The quoted names of a RAG table and its columns.
pub(crate) struct Columns {
    table: String,
    data: String,
    vector: String,
}

macro_rules! rag_for {
    ($v:ident) => {
        mod $v {
            use super::*;
            use crate::host::ai::bindings::$v::hayride::ai::rag::{self, ErrorCode};
            use crate::host::ai::bindings::$v::hayride::ai::transformer::{self, EmbeddingType};

            type R<T> = wasmtime::Result<Result<T, Resource<RagError>>>;

            impl rag::Host for AiView<'_> {
                async fn connect(&mut self, dsn: String) -> R<Resource<Connection>> {
                    match self.rag_connect(&dsn).await {
                        Ok(c) => Ok(Ok(self.table.push(c)?)),
                        Err(f) => self.rag_fail(f),
                    }
                }
            }

            impl rag::HostConnection for AiView<'_> {
                async fn register(&mut self, c: Resource<Connection>, t: Resource<Transformer>) -> R<()> {
                    let r = self.rag_register(&c, t).await;
                    self.rag_answer(r)
                }

                async fn embed(&mut self, c: Resource<Connection>, table: String, data: String) -> R<()> {
                    let r = self.rag_embed(c, table, data).await;
                    self.rag_answer(r)
                }

                async fn query(
                    &mut self,
                    c: Resource<Connection>,
                    table: String,
                    data: String,
                    options: Vec<(String, String)>,
                ) -> R<Vec<String>> {
                    let r = self.rag_query(c, table, data, options).await;
                    self.rag_answer(r)
                }

                async fn drop(&mut self, c: Resource<Connection>) -> wasmtime::Result<()> {
                    self.table.delete(c)?;
                    Ok(())
                }
            }

            impl rag::HostError for AiView<'_> {
                async fn code(&mut self, e: Resource<RagError>) -> wasmtime::Result<ErrorCode> {
                    Ok(match self.table.get(&e)?.code {
                        RagCode::ConnectionFailed => ErrorCode::ConnectionFailed,
                        RagCode::CreateTableFailed => ErrorCode::CreateTableFailed,
                        RagCode::QueryFailed => ErrorCode::QueryFailed,
                        RagCode::EmbedFailed => ErrorCode::EmbedFailed,
                        RagCode::RegisterFailed => ErrorCode::RegisterFailed,
                        RagCode::MissingTable => ErrorCode::MissingTable,
                        RagCode::InvalidOption => ErrorCode::InvalidOption,
                    })
                }

                async fn data(&mut self, e: Resource<RagError>) -> wasmtime::Result<String> {
                    Ok(self.table.get(&e)?.data.clone())
                }

                async fn drop(&mut self, e: Resource<RagError>) -> wasmtime::Result<()> {
                    self.table.delete(e)?;
                    Ok(())
                }
            }

            impl transformer::Host for AiView<'_> {}

            impl transformer::HostTransformer for AiView<'_> {
                fn new(
                    &mut self,
                    _embedding: EmbeddingType,
                    model: String,
                    data_column: String,
                    vector_column: String,
                ) -> wasmtime::Result<Resource<Transformer>> {
                    Ok(self.table.push(Transformer { model, data_column, vector_column })?)
                }

                fn embedding(&mut self, _t: Resource<Transformer>) -> wasmtime::Result<EmbeddingType> {
                    Ok(EmbeddingType::Sentence)
                }

                fn model(&mut self, t: Resource<Transformer>) -> wasmtime::Result<String> {
                    Ok(self.table.get(&t)?.model.clone())
                }

                fn data_column(&mut self, t: Resource<Transformer>) -> wasmtime::Result<String> {
                    Ok(self.table.get(&t)?.data_column.clone())
                }

                fn vector_column(&mut self, t: Resource<Transformer>) -> wasmtime::Result<String> {
                    Ok(self.table.get(&t)?.vector_column.clone())
                }

                fn drop(&mut self, t: Resource<Transformer>) -> wasmtime::Result<()> {
                    self.table.delete(t)?;
                    Ok(())
                }
            }
        }
    };
}

rag_for!(v060);
rag_for!(v065);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_names_are_checked() {
        let o = |v: &[(&str, &str)]| {
            query_options(&v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>())
        };
        assert_eq!(o(&[]).unwrap(), QueryOptions { limit: 1, threshold: None });
        assert_eq!(
            o(&[("LIMIT", "3"), ("threshold", "0.5")]).unwrap(),
            QueryOptions { limit: 3, threshold: Some(0.5) }
        );
        assert_eq!(o(&[("limit", "x")]).unwrap_err().0, RagCode::InvalidOption);
        assert_eq!(o(&[("threshold", "2")]).unwrap_err().0, RagCode::InvalidOption);
        assert_eq!(o(&[("distance", "1")]).unwrap_err().0, RagCode::InvalidOption);
        assert_eq!(identifier("table", "docs_1").unwrap(), "\"docs_1\"");
        for bad in ["", "1x", "a b", "x\"; DROP TABLE t; --"] {
            assert_eq!(identifier("table", bad).unwrap_err().0, RagCode::InvalidOption, "{bad}");
        }
    }
}
