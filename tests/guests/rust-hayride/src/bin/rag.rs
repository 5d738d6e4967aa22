//! `rag DSN MODEL TABLE QUERY TEXT…`: connects, registers MODEL's sentence embeddings for the
//! columns `text`/`embedding`, embeds each TEXT into TABLE, then prints the nearest row to
//! QUERY, the three nearest, those at least 0.99 similar, and what a query of a missing table
//! gives. Failures print `CALL: CODE: DATA`.
wit_bindgen::generate!({ path: "wit", world: "rag-probe", generate_all });

use hayride::ai::rag;
use hayride::ai::transformer::{EmbeddingType, Transformer};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dsn, model, table, query) = (&args[0], &args[1], &args[2], &args[3]);
    let conn = match rag::connect(dsn) {
        Ok(c) => c,
        Err(e) => return println!("connect: {:?}: {}", e.code(), e.data()),
    };
    if let Err(e) = conn.embed(table, "before register") {
        println!("embed before register: {:?}", e.code());
    }
    if let Err(e) = conn.register(Transformer::new(EmbeddingType::Sentence, model, "text", "embedding")) {
        return println!("register: {:?}: {}", e.code(), e.data());
    }
    for text in &args[4..] {
        if let Err(e) = conn.embed(table, text) {
            return println!("embed: {:?}: {}", e.code(), e.data());
        }
    }
    let ask = |opts: &[(&str, &str)]| {
        let opts: Vec<(String, String)> = opts.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        match conn.query(table, query, &opts) {
            Ok(rows) => format!("{rows:?}"),
            Err(e) => format!("{:?}: {}", e.code(), e.data()),
        }
    };
    println!("nearest: {}", ask(&[]));
    println!("three: {}", ask(&[("limit", "3")]));
    println!("close: {}", ask(&[("limit", "3"), ("threshold", "0.99")]));
    println!("bad option: {}", ask(&[("distance", "2")]));
    match conn.query("no_such_table", query, &[]) {
        Ok(rows) => println!("missing: {rows:?}"),
        Err(e) => println!("missing: {:?}", e.code()),
    }
}
