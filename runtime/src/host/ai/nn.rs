//! `wasi:nn@0.2.0-rc-2024-10-28` over morph's engine: `load-by-name` of a model in the store,
//! tensors as the guest made them, and `compute` that answers with the whole generated text in
//! one U8 tensor named `Output` (as Hayride's host does; the streamed form is in stream.rs).

use std::sync::Arc;

use wasmtime::component::Resource;

use super::backend::{self, LoadedModel};
use super::bindings::nn::wasi::nn::errors::{ErrorCode, Host as HostErrors, HostError};
use super::bindings::nn::wasi::nn::graph::{
    ExecutionTarget, GraphBuilder, GraphEncoding, Host as HostGraphs, HostGraph,
};
use super::bindings::nn::wasi::nn::inference::{Host as HostInference, HostGraphExecutionContext, NamedTensor};
use super::bindings::nn::wasi::nn::tensor::{
    Host as HostTensors, HostTensor, TensorData, TensorDimensions, TensorType,
};
use super::{AiView, Lookup};

/// A loaded model, as a guest holds it.
pub struct Graph {
    pub(crate) model: Arc<LoadedModel>,
}

/// What runs inferences on a graph's model.
pub struct ExecutionContext {
    pub(crate) model: Arc<LoadedModel>,
}

pub struct Tensor {
    pub(crate) dimensions: TensorDimensions,
    pub(crate) ty: TensorType,
    pub(crate) data: TensorData,
}

pub struct NnError {
    code: ErrorCode,
    data: String,
}

pub(crate) type NnResult<T> = wasmtime::Result<Result<T, Resource<NnError>>>;

impl AiView<'_> {
    pub(crate) fn nn_fail<T>(&mut self, code: ErrorCode, data: impl Into<String>) -> NnResult<T> {
        let data = data.into();
        tracing::debug!("wasi:nn error {code:?}: {data}");
        Ok(Err(self.table.push(NnError { code, data })?))
    }

    /// The model `name` names, loaded (or shared with an earlier load).
    pub(crate) async fn load_model(&mut self, name: &str) -> Result<Arc<LoadedModel>, (ErrorCode, String)> {
        let path = self.ctx.model_path(name).map_err(|e| match e {
            Lookup::Invalid(why) => (ErrorCode::InvalidArgument, why),
            Lookup::Missing(why) => (ErrorCode::NotFound, why),
        })?;
        backend::off_the_runtime(move || backend::load(&path)).await.map_err(|why| (ErrorCode::InvalidEncoding, why))
    }

    /// The guest's named tensors, read into a request for the engine.
    pub(crate) fn read_request(
        &mut self,
        inputs: &[NamedTensor],
    ) -> wasmtime::Result<Result<backend::Request, String>> {
        let mut named: Vec<(String, &[u8])> = Vec::with_capacity(inputs.len());
        for (name, t) in inputs {
            let t = self.table.get(t)?;
            if t.ty != TensorType::U8 {
                return Ok(Err(format!("tensor `{name}` is {:?}; the prompt and options are U8 bytes", t.ty)));
            }
            named.push((name.clone(), &t.data));
        }
        Ok(backend::request(&named))
    }
}

impl HostGraphs for AiView<'_> {
    fn load(
        &mut self,
        _builder: Vec<GraphBuilder>,
        _encoding: GraphEncoding,
        _target: ExecutionTarget,
    ) -> NnResult<Resource<Graph>> {
        self.nn_fail(
            ErrorCode::UnsupportedOperation,
            "morph loads models by name: `load-by-name(\"OWNER/REPO/FILE.gguf\")` of a model in its store (`morph model pull`/`add`)",
        )
    }

    async fn load_by_name(&mut self, name: String) -> NnResult<Resource<Graph>> {
        match self.load_model(&name).await {
            Ok(model) => Ok(Ok(self.table.push(Graph { model })?)),
            Err((code, why)) => self.nn_fail(code, why),
        }
    }
}

impl HostGraph for AiView<'_> {
    fn init_execution_context(&mut self, graph: Resource<Graph>) -> NnResult<Resource<ExecutionContext>> {
        let model = self.table.get(&graph)?.model.clone();
        Ok(Ok(self.table.push(ExecutionContext { model })?))
    }

    fn drop(&mut self, graph: Resource<Graph>) -> wasmtime::Result<()> {
        self.table.delete(graph)?;
        Ok(())
    }
}

impl HostInference for AiView<'_> {}

impl HostGraphExecutionContext for AiView<'_> {
    async fn compute(
        &mut self,
        ctx: Resource<ExecutionContext>,
        inputs: Vec<NamedTensor>,
    ) -> NnResult<Vec<NamedTensor>> {
        let model = self.table.get(&ctx)?.model.clone();
        let request = match self.read_request(&inputs)? {
            Ok(r) => r,
            Err(why) => return self.nn_fail(ErrorCode::InvalidArgument, why),
        };
        // The same generation the stream gives, read to its end. An instance dropped meanwhile
        // (`--timeout`) drops the receiver, which stops the generation.
        let mut pieces = backend::generate(model, request);
        let mut text = String::new();
        while let Some(piece) = pieces.recv().await {
            match piece {
                Ok(p) => text.push_str(&p),
                Err(why) => return self.nn_fail(ErrorCode::RuntimeError, why),
            }
        }
        let output = Tensor { dimensions: vec![1], ty: TensorType::U8, data: text.trim().as_bytes().to_vec() };
        Ok(Ok(vec![(backend::OUTPUT.to_string(), self.table.push(output)?)]))
    }

    fn drop(&mut self, ctx: Resource<ExecutionContext>) -> wasmtime::Result<()> {
        self.table.delete(ctx)?;
        Ok(())
    }
}

impl HostTensors for AiView<'_> {}

impl HostTensor for AiView<'_> {
    fn new(
        &mut self,
        dimensions: TensorDimensions,
        ty: TensorType,
        data: TensorData,
    ) -> wasmtime::Result<Resource<Tensor>> {
        Ok(self.table.push(Tensor { dimensions, ty, data })?)
    }

    fn dimensions(&mut self, t: Resource<Tensor>) -> wasmtime::Result<TensorDimensions> {
        Ok(self.table.get(&t)?.dimensions.clone())
    }

    fn ty(&mut self, t: Resource<Tensor>) -> wasmtime::Result<TensorType> {
        Ok(self.table.get(&t)?.ty)
    }

    fn data(&mut self, t: Resource<Tensor>) -> wasmtime::Result<TensorData> {
        Ok(self.table.get(&t)?.data.clone())
    }

    fn drop(&mut self, t: Resource<Tensor>) -> wasmtime::Result<()> {
        self.table.delete(t)?;
        Ok(())
    }
}

impl HostErrors for AiView<'_> {}

impl HostError for AiView<'_> {
    fn code(&mut self, e: Resource<NnError>) -> wasmtime::Result<ErrorCode> {
        Ok(self.table.get(&e)?.code)
    }

    fn data(&mut self, e: Resource<NnError>) -> wasmtime::Result<String> {
        Ok(self.table.get(&e)?.data.clone())
    }

    fn drop(&mut self, e: Resource<NnError>) -> wasmtime::Result<()> {
        self.table.delete(e)?;
        Ok(())
    }
}
