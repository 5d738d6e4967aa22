//! `context TEXT…`: pushes each TEXT as a user message into a new `hayride:ai/context`, then
//! prints what `messages` gives back; a second context shows they are apart.
wit_bindgen::generate!({ path: "wit", world: "context-probe", generate_all });

use hayride::ai::context::Context;
use hayride::ai::types::{Message, MessageContent, Role};

fn main() {
    let ctx = Context::new();
    for text in std::env::args().skip(1) {
        let msg = Message { role: Role::User, content: vec![MessageContent::Text(text)], final_: false };
        if let Err(e) = ctx.push(&msg) {
            println!("push: {:?}: {}", e.code(), e.data());
        }
    }
    match ctx.messages() {
        Ok(all) => {
            for m in &all {
                println!("{:?}: {:?}", m.role, m.content);
            }
            println!("messages: {}", all.len());
        }
        Err(e) => println!("messages: {:?}: {}", e.code(), e.data()),
    }
    println!("another context: {} messages", Context::new().messages().map(|m| m.len()).unwrap_or(99));
}
