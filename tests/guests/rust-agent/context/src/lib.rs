//! A context: the conversation, in the order pushed, per resource.
wit_bindgen::generate!({ path: "../wit", world: "context", generate_all });

use std::cell::RefCell;

use exports::hayride::ai::context::{Error, ErrorCode, Guest, GuestContext, GuestError};
use hayride::ai::types::Message;

struct Component;

struct Conversation(RefCell<Vec<Message>>);

/// Never made: pushing to memory cannot fail.
struct NoError;

impl GuestError for NoError {
    fn code(&self) -> ErrorCode {
        ErrorCode::Unknown
    }
    fn data(&self) -> String {
        String::new()
    }
}

impl GuestContext for Conversation {
    fn new() -> Self {
        Conversation(RefCell::new(Vec::new()))
    }

    fn push(&self, msg: Message) -> Result<(), Error> {
        self.0.borrow_mut().push(msg);
        Ok(())
    }

    fn messages(&self) -> Result<Vec<Message>, Error> {
        Ok(self.0.borrow().clone())
    }
}

impl Guest for Component {
    type Error = NoError;
    type Context = Conversation;
}

export!(Component);
