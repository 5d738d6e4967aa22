//! `hayride:ai`'s streamed inference: `graph-stream` loads a model as `wasi:nn` does,
//! `graph-execution-context-stream.compute` starts a generation and hands back at once a
//! `tensor-stream` of its text, which `read` drains as tokens arrive (an empty read: nothing yet)
//! and `subscribe` waits on. Dropping the stream stops the generation.

use std::sync::Arc;

use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::UnboundedReceiver;
use wasmtime::component::Resource;
use wasmtime_wasi::p2::bindings::io::streams::StreamError;
use wasmtime_wasi::p2::DynPollable;

use super::backend::{self, LoadedModel, Piece};
use super::bindings::nn::wasi::nn::errors::ErrorCode;
use super::bindings::nn::wasi::nn::tensor::{TensorData, TensorDimensions, TensorType};
use super::nn::{NnResult, Tensor};
use super::AiView;

/// A model loaded through `graph-stream`.
pub struct GraphStream {
    model: Arc<LoadedModel>,
}

/// What starts streamed inferences on a model.
pub struct StreamContext {
    model: Arc<LoadedModel>,
}

/// Bytes of a tensor as they become ready: a generation's text, or the data a guest gave.
pub struct TensorStream {
    dimensions: TensorDimensions,
    ty: TensorType,
    /// Ready, not yet read.
    buffer: Vec<u8>,
    /// The generation's pieces still to come; `None` once it ended (or for fixed data).
    pieces: Option<UnboundedReceiver<Piece>>,
    /// Why the generation failed, told at the next read.
    failed: Option<String>,
}

impl TensorStream {
    fn fixed(dimensions: TensorDimensions, ty: TensorType, data: TensorData) -> TensorStream {
        TensorStream { dimensions, ty, buffer: data, pieces: None, failed: None }
    }

    fn generating(pieces: UnboundedReceiver<Piece>) -> TensorStream {
        TensorStream { dimensions: vec![1], ty: TensorType::U8, buffer: Vec::new(), pieces: Some(pieces), failed: None }
    }

    fn take(&mut self, piece: Option<Piece>) {
        match piece {
            Some(Ok(text)) => self.buffer.extend_from_slice(text.as_bytes()),
            Some(Err(why)) => {
                self.failed = Some(why);
                self.pieces = None;
            }
            None => self.pieces = None,
        }
    }

    /// Up to `len` ready bytes; empty when none is ready yet; `Err` once all were read (the
    /// message when the generation failed).
    fn read(&mut self, len: usize) -> Result<Vec<u8>, Option<String>> {
        while let Some(rx) = &mut self.pieces {
            match rx.try_recv() {
                Ok(piece) => self.take(Some(piece)),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => self.take(None),
            }
        }
        if !self.buffer.is_empty() {
            let n = len.min(self.buffer.len());
            return Ok(self.buffer.drain(..n).collect());
        }
        match (&self.pieces, self.failed.take()) {
            (_, Some(why)) => Err(Some(why)),
            (Some(_), None) => Ok(Vec::new()),
            (None, None) => Err(None),
        }
    }
}

#[async_trait::async_trait]
impl wasmtime_wasi::p2::Pollable for TensorStream {
    async fn ready(&mut self) {
        if !self.buffer.is_empty() || self.failed.is_some() {
            return;
        }
        if let Some(rx) = &mut self.pieces {
            let piece = rx.recv().await;
            self.take(piece);
        }
    }
}

impl AiView<'_> {
    async fn stream_load(&mut self, name: String) -> NnResult<Resource<GraphStream>> {
        match self.load_model(&name).await {
            Ok(model) => Ok(Ok(self.table.push(GraphStream { model })?)),
            Err((code, why)) => self.nn_fail(code, why),
        }
    }

    fn stream_context(&mut self, graph: Resource<GraphStream>) -> NnResult<Resource<StreamContext>> {
        let model = self.table.get(&graph)?.model.clone();
        Ok(Ok(self.table.push(StreamContext { model })?))
    }

    fn stream_compute(
        &mut self,
        ctx: Resource<StreamContext>,
        inputs: Vec<(String, Resource<Tensor>)>,
    ) -> NnResult<(String, Resource<TensorStream>)> {
        let model = self.table.get(&ctx)?.model.clone();
        let request = match self.read_request(&inputs)? {
            Ok(r) => r,
            Err(why) => return self.nn_fail(ErrorCode::InvalidArgument, why),
        };
        let stream = TensorStream::generating(backend::generate(model, request));
        Ok(Ok((backend::OUTPUT.to_string(), self.table.push(stream)?)))
    }

    fn stream_read(
        &mut self,
        s: Resource<TensorStream>,
        len: u64,
    ) -> wasmtime::Result<Result<TensorData, StreamError>> {
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        match self.table.get_mut(&s)?.read(len) {
            Ok(bytes) => Ok(Ok(bytes)),
            Err(None) => Ok(Err(StreamError::Closed)),
            Err(Some(why)) => {
                let error = self.table.push(wasmtime::Error::msg(why))?;
                Ok(Err(StreamError::LastOperationFailed(error)))
            }
        }
    }
}

/// The same host for each contract version's bindings (their types are shared: `wasi:nn`'s,
/// `wasi:io`'s and the resources above).
macro_rules! streams_for {
    ($v:ident) => {
        mod $v {
            use super::*;
            use crate::host::ai::bindings::$v::hayride::ai::{graph_stream, inference_stream, tensor_stream};

            impl graph_stream::Host for AiView<'_> {
                async fn load_by_name(&mut self, name: String) -> NnResult<Resource<GraphStream>> {
                    self.stream_load(name).await
                }
            }

            impl graph_stream::HostGraphStream for AiView<'_> {
                fn init_execution_context_stream(
                    &mut self,
                    g: Resource<GraphStream>,
                ) -> NnResult<Resource<StreamContext>> {
                    self.stream_context(g)
                }

                fn drop(&mut self, g: Resource<GraphStream>) -> wasmtime::Result<()> {
                    self.table.delete(g)?;
                    Ok(())
                }
            }

            impl inference_stream::Host for AiView<'_> {}

            impl inference_stream::HostGraphExecutionContextStream for AiView<'_> {
                fn compute(
                    &mut self,
                    ctx: Resource<StreamContext>,
                    inputs: Vec<(String, Resource<Tensor>)>,
                ) -> NnResult<(String, Resource<TensorStream>)> {
                    self.stream_compute(ctx, inputs)
                }

                fn drop(&mut self, ctx: Resource<StreamContext>) -> wasmtime::Result<()> {
                    self.table.delete(ctx)?;
                    Ok(())
                }
            }

            impl tensor_stream::Host for AiView<'_> {}

            impl tensor_stream::HostTensorStream for AiView<'_> {
                fn new(
                    &mut self,
                    dimensions: TensorDimensions,
                    ty: TensorType,
                    data: TensorData,
                ) -> wasmtime::Result<Resource<TensorStream>> {
                    Ok(self.table.push(TensorStream::fixed(dimensions, ty, data))?)
                }

                fn dimensions(&mut self, s: Resource<TensorStream>) -> wasmtime::Result<TensorDimensions> {
                    Ok(self.table.get(&s)?.dimensions.clone())
                }

                fn ty(&mut self, s: Resource<TensorStream>) -> wasmtime::Result<TensorType> {
                    Ok(self.table.get(&s)?.ty)
                }

                fn read(
                    &mut self,
                    s: Resource<TensorStream>,
                    len: u64,
                ) -> wasmtime::Result<Result<TensorData, StreamError>> {
                    self.stream_read(s, len)
                }

                fn subscribe(&mut self, s: Resource<TensorStream>) -> wasmtime::Result<Resource<DynPollable>> {
                    wasmtime_wasi::p2::subscribe(self.table, s)
                }

                fn drop(&mut self, s: Resource<TensorStream>) -> wasmtime::Result<()> {
                    // The receiver goes with it, which stops the generation at its next token.
                    self.table.delete(s)?;
                    Ok(())
                }
            }
        }
    };
}

streams_for!(v060);
streams_for!(v065);
