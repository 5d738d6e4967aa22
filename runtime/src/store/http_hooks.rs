//! Outgoing wasi:http, by the `--allow-net` grant.

use wasmtime_wasi_http::WasiHttpHooks;

use crate::policy::Policy;

/// wasmtime-wasi-http's own sender with `--allow-net`; a refusal without.
pub(super) fn for_policy(policy: &Policy) -> Box<dyn WasiHttpHooks> {
    if policy.allow_net {
        Box::new(AllowRequests)
    } else {
        Box::new(DenyRequests)
    }
}

struct AllowRequests;

impl WasiHttpHooks for AllowRequests {}

/// The guest gets `HTTP-request-denied`, the error wasi:http defines for this.
struct DenyRequests;

impl WasiHttpHooks for DenyRequests {
    fn send_request(
        &mut self,
        _request: http::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn std::future::Future<
                Output = wasmtime_wasi_http::Result<(
                    http::Response<wasmtime_wasi_http::WasiBody>,
                    Box<dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                )>,
            > + Send,
    > {
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}
