//! `hayride:ai/context`, the host's fallback that 0.0.65's world names: a conversation kept in
//! memory per `context` resource (so per instance), in the order pushed. It never fails; a
//! composed morph that exports `hayride:ai/context` replaces it.

use wasmtime::component::Resource;

use super::AiView;

/// The interface's error resource. Nothing here fails, so none is ever made.
pub enum ContextError {}

macro_rules! context_for {
    ($v:ident) => {
        pub mod $v {
            use super::*;
            use crate::host::ai::bindings::$v::hayride::ai::context::{ErrorCode, Host, HostContext, HostError};
            use crate::host::ai::bindings::$v::hayride::ai::types::Message;

            /// One conversation.
            pub struct Context {
                messages: Vec<Message>,
            }

            impl Host for AiView<'_> {}

            impl HostContext for AiView<'_> {
                fn new(&mut self) -> wasmtime::Result<Resource<Context>> {
                    Ok(self.table.push(Context { messages: Vec::new() })?)
                }

                fn push(
                    &mut self,
                    c: Resource<Context>,
                    msg: Message,
                ) -> wasmtime::Result<Result<(), Resource<ContextError>>> {
                    self.table.get_mut(&c)?.messages.push(msg);
                    Ok(Ok(()))
                }

                fn messages(
                    &mut self,
                    c: Resource<Context>,
                ) -> wasmtime::Result<Result<Vec<Message>, Resource<ContextError>>> {
                    Ok(Ok(self.table.get(&c)?.messages.clone()))
                }

                fn drop(&mut self, c: Resource<Context>) -> wasmtime::Result<()> {
                    self.table.delete(c)?;
                    Ok(())
                }
            }

            impl HostError for AiView<'_> {
                fn code(&mut self, e: Resource<ContextError>) -> wasmtime::Result<ErrorCode> {
                    match *self.table.get(&e)? {}
                }

                fn data(&mut self, e: Resource<ContextError>) -> wasmtime::Result<String> {
                    match *self.table.get(&e)? {}
                }

                fn drop(&mut self, e: Resource<ContextError>) -> wasmtime::Result<()> {
                    self.table.delete(e)?;
                    Ok(())
                }
            }
        }
    };
}

context_for!(v060);
context_for!(v065);
