//! A model formatter: messages to a Llama 3 chat prompt, and the model's raw answer back to an
//! assistant message.
wit_bindgen::generate!({ path: "../wit", world: "formatter", generate_all });

use exports::hayride::ai::model::{Guest, GuestError, GuestFormat, ErrorCode, Error};
use hayride::ai::types::{Message, MessageContent, Role};

struct Component;

struct Format;

/// Never made: encoding and decoding text cannot fail.
struct NoError;

impl GuestError for NoError {
    fn code(&self) -> ErrorCode {
        ErrorCode::Unknown
    }
    fn data(&self) -> String {
        String::new()
    }
}

impl GuestFormat for Format {
    fn new() -> Self {
        Format
    }

    fn encode(&self, messages: Vec<Message>) -> Result<Vec<u8>, Error> {
        let mut prompt = String::from("<|begin_of_text|>");
        for m in messages {
            let role = match m.role {
                Role::System => "system",
                Role::Assistant => "assistant",
                Role::Tool => "ipython",
                _ => "user",
            };
            prompt.push_str(&format!("<|start_header_id|>{role}<|end_header_id|>\n\n"));
            for c in m.content {
                if let MessageContent::Text(t) = c {
                    prompt.push_str(&t);
                }
            }
            prompt.push_str("<|eot_id|>");
        }
        prompt.push_str("<|start_header_id|>assistant<|end_header_id|>\n\n");
        Ok(prompt.into_bytes())
    }

    fn decode(&self, raw: Vec<u8>) -> Result<Message, Error> {
        let text = String::from_utf8_lossy(&raw).trim().to_string();
        Ok(Message { role: Role::Assistant, content: vec![MessageContent::Text(text)], final_: true })
    }
}

impl Guest for Component {
    type Error = NoError;
    type Format = Format;
}

export!(Component);
