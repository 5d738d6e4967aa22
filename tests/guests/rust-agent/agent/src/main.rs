//! `agent MODEL PROMPT`: an agent's turn. The system instruction and the prompt go into the
//! context, the formatter encodes the conversation, the host's model answers as a stream that is
//! printed as it arrives, the formatter decodes the answer into the context.
wit_bindgen::generate!({ path: "../wit", world: "agent", generate_all });

use std::io::Write;

use hayride::ai::context::Context;
use hayride::ai::graph_stream;
use hayride::ai::model::Format;
use hayride::ai::types::{Message, MessageContent, Role};
use wasi::nn::tensor::{Tensor, TensorType};

fn text(role: Role, t: &str) -> Message {
    Message { role, content: vec![MessageContent::Text(t.to_string())], final_: false }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (model, prompt) = (&args[0], &args[1]);
    let context = Context::new();
    context.push(&text(Role::System, "You are a helpful assistant.")).unwrap();
    context.push(&text(Role::User, prompt)).unwrap();
    let format = Format::new();
    let encoded = format.encode(&context.messages().unwrap()).unwrap();

    let graph = match graph_stream::load_by_name(model) {
        Ok(g) => g,
        Err(e) => return println!("load-by-name: {:?}: {}", e.code(), e.data()),
    };
    let ctx = graph.init_execution_context_stream().unwrap();
    let options = r#"{"max_predict":32}"#;
    let inputs = vec![
        ("user".to_string(), Tensor::new(&[1], TensorType::U8, &encoded)),
        ("options".to_string(), Tensor::new(&[1], TensorType::U8, options.as_bytes())),
    ];
    let (_, stream) = ctx.compute(inputs).unwrap();
    let mut raw = Vec::new();
    let mut out = std::io::stdout();
    loop {
        match stream.read(256) {
            Ok(b) if b.is_empty() => stream.subscribe().block(),
            Ok(b) => {
                out.write_all(&b).unwrap();
                out.flush().unwrap();
                raw.extend(b);
            }
            Err(_) => break,
        }
    }
    println!();
    let answer = format.decode(&raw).unwrap();
    context.push(&answer).unwrap();
    let all = context.messages().unwrap();
    println!("prompt bytes: {}", encoded.len());
    println!("context: {} messages, last {:?} final={}", all.len(), all.last().unwrap().role, all.last().unwrap().final_);
}
