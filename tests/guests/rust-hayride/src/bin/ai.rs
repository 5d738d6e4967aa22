//! `ai MODE …`: local inference the way Hayride's model morphs do it.
//! - `answer MODEL PROMPT [OPTIONS]`: `get-model`, then wasi:nn `load-by-name` of the path and a
//!   blocking `compute`; prints `answer: TEXT`.
//! - `stream MODEL PROMPT [OPTIONS]`: `hayride:ai/graph-stream` by name, reads the tensor stream
//!   as it fills (waiting on its pollable when nothing is ready); prints each piece as it comes,
//!   then `text: TEXT`, `pieces: N`, `waits: M`.
//! - `drop MODEL PROMPT [OPTIONS]`: as `stream`, but drops the stream after its first piece, then
//!   generates a few tokens more on the same model.
//! - `models`: `list-models`; `get NAME`, `download NAME`: the path or the error.
//! Failures print `CALL: CODE: DATA`.
wit_bindgen::generate!({ path: "wit", world: "ai-probe", generate_all });

use std::io::Write;

use hayride::ai::graph_stream;
use hayride::ai::model_repository as repo;
use wasi::nn::tensor::{Tensor, TensorType};

fn inputs(prompt: &str, options: Option<&String>) -> Vec<(String, Tensor)> {
    let mut v = vec![("user".to_string(), Tensor::new(&[1], TensorType::U8, prompt.as_bytes()))];
    if let Some(o) = options {
        v.push(("options".to_string(), Tensor::new(&[1], TensorType::U8, o.as_bytes())));
    }
    v
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    match arg(0).as_str() {
        "models" => match repo::list_models() {
            Ok(names) => println!("models: {names:?}"),
            Err(e) => println!("list-models: {:?}: {}", e.code(), e.data()),
        },
        "get" => match repo::get_model(&arg(1)) {
            Ok(path) => println!("path: {path}"),
            Err(e) => println!("get-model: {:?}: {}", e.code(), e.data()),
        },
        "download" => match repo::download_model(&arg(1)) {
            Ok(path) => println!("path: {path}"),
            Err(e) => println!("download-model: {:?}: {}", e.code(), e.data()),
        },
        "answer" => answer(&arg(1), &arg(2), args.get(3)),
        "stream" => stream(&arg(1), &arg(2), args.get(3), false),
        "drop" => stream(&arg(1), &arg(2), args.get(3), true),
        other => println!("unknown mode {other:?}"),
    }
}

fn answer(model: &str, prompt: &str, options: Option<&String>) {
    let path = match repo::get_model(model) {
        Ok(p) => p,
        Err(e) => return println!("get-model: {:?}: {}", e.code(), e.data()),
    };
    let graph = match wasi::nn::graph::load_by_name(&path) {
        Ok(g) => g,
        Err(e) => return println!("load-by-name: {:?}: {}", e.code(), e.data()),
    };
    let ctx = graph.init_execution_context().unwrap();
    match ctx.compute(inputs(prompt, options)) {
        Ok(outputs) => {
            for (name, t) in outputs {
                println!("{name}: {:?} {:?}", t.ty(), t.dimensions());
                println!("answer: {:?}", String::from_utf8_lossy(&t.data()));
            }
        }
        Err(e) => println!("compute: {:?}: {}", e.code(), e.data()),
    }
}

fn stream(model: &str, prompt: &str, options: Option<&String>, drop_early: bool) {
    let graph = match graph_stream::load_by_name(model) {
        Ok(g) => g,
        Err(e) => return println!("load-by-name: {:?}: {}", e.code(), e.data()),
    };
    let ctx = graph.init_execution_context_stream().unwrap();
    let (name, stream) = match ctx.compute(inputs(prompt, options)) {
        Ok(s) => s,
        Err(e) => return println!("compute: {:?}: {}", e.code(), e.data()),
    };
    println!("stream {name}: {:?} {:?}", stream.ty(), stream.dimensions());
    let (mut text, mut pieces, mut waits) = (Vec::new(), 0, 0);
    loop {
        match stream.read(4096) {
            Ok(bytes) if bytes.is_empty() => {
                waits += 1;
                stream.subscribe().block();
            }
            Ok(bytes) => {
                pieces += 1;
                println!("piece: {:?}", String::from_utf8_lossy(&bytes));
                std::io::stdout().flush().unwrap();
                text.extend(bytes);
                if drop_early {
                    drop(stream);
                    println!("dropped after the first piece");
                    // The same model again: it is free only once the dropped generation stopped.
                    let short = r#"{"max_predict":4}"#.to_string();
                    let (_, again) = ctx.compute(inputs(prompt, Some(&short))).unwrap();
                    while !matches!(again.read(4096), Err(_)) {
                        again.subscribe().block();
                    }
                    println!("generated again");
                    return;
                }
            }
            Err(e) => {
                println!("end: {e:?}");
                break;
            }
        }
    }
    println!("text: {:?}", String::from_utf8_lossy(&text).trim());
    println!("pieces: {pieces}");
    println!("waits: {waits}");
}
