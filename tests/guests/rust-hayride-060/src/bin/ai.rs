//! `ai MODEL PROMPT`, against contract 0.0.60: the blocking wasi:nn answer and the streamed one
//! for the same prompt (`answer: …`, `streamed: …`), then a `hayride:ai/context` round trip.
wit_bindgen::generate!({ path: "wit", world: "ai-probe", generate_all });

use hayride::ai::context::Context;
use hayride::ai::types::{Content, Message, Role, TextContent};
use wasi::nn::tensor::{Tensor, TensorType};

fn prompt_tensor(prompt: &str) -> Vec<(String, Tensor)> {
    vec![("user".to_string(), Tensor::new(&[1], TensorType::U8, prompt.as_bytes()))]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (model, prompt) = (&args[0], &args[1]);
    let path = match hayride::ai::model_repository::get_model(model) {
        Ok(p) => p,
        Err(e) => return println!("get-model: {:?}: {}", e.code(), e.data()),
    };
    match wasi::nn::graph::load_by_name(&path) {
        Ok(graph) => match graph.init_execution_context().unwrap().compute(prompt_tensor(prompt)) {
            Ok(out) => println!("answer: {:?}", String::from_utf8_lossy(&out[0].1.data())),
            Err(e) => println!("compute: {:?}: {}", e.code(), e.data()),
        },
        Err(e) => println!("load-by-name: {:?}: {}", e.code(), e.data()),
    }
    let graph = hayride::ai::graph_stream::load_by_name(model).unwrap();
    let (_, stream) = graph.init_execution_context_stream().unwrap().compute(prompt_tensor(prompt)).unwrap();
    let mut text = Vec::new();
    loop {
        match stream.read(1024) {
            Ok(b) if b.is_empty() => stream.subscribe().block(),
            Ok(b) => text.extend(b),
            Err(_) => break,
        }
    }
    println!("streamed: {:?}", String::from_utf8_lossy(&text).trim());

    let ctx = Context::new();
    let text = TextContent { text: "hello".into(), content_type: "text/plain".into() };
    ctx.push(&Message { role: Role::User, content: vec![Content::Text(text)] }).unwrap();
    let all = ctx.messages().unwrap();
    println!("context: {} message(s), first {:?}", all.len(), all[0].content);
}
