//! `morph deploy kube`: Kubernetes manifests that run a morph with containerd's wasm shim
//! (runwasi's `containerd-shim-wasmtime`), after checking it can run there; a file or a local
//! registry id is pushed first so the Deployment can name its digest.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use morph_project::kube::{self, Deploy};
use morph_registry_client::oci;

use super::oci::RegistryArgs;
use super::registry::home;
use super::sandbox::{block_on, component_only};
use crate::output::Output;

/// Write the manifests that run a morph on Kubernetes.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    target: Target,
}

#[derive(clap::Subcommand)]
enum Target {
    Kube(KubeArgs),
}

/// A RuntimeClass (the shim's handler), a Deployment running the artifact's `<name>.wasm`, and
/// for an http morph a Service; only wasi:cli/command and wasi:http/proxy morphs with WASI
/// imports only (a cluster's shim provides nothing else).
#[derive(clap::Args)]
struct KubeArgs {
    /// An OCI reference, or a .wasm/.wat file or local registry id (pushed to --push first).
    morph: std::ffi::OsString,
    /// Where to push a file or id: REGISTRY/REPOSITORY:TAG.
    #[arg(long, value_name = "REF")]
    push: Option<String>,
    #[arg(long, default_value_t = 1)]
    replicas: u32,
    /// The port an http morph listens on in its pod (WASMTIME_HTTP_PROXY_SOCKET_ADDR).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    #[arg(long, value_name = "NS")]
    namespace: Option<String>,
    /// The Deployment's name (default: the morph's name).
    #[arg(long)]
    name: Option<String>,
    /// The RuntimeClass and its containerd handler.
    #[arg(long, default_value = "wasmtime")]
    runtime_class: String,
    /// An image pull Secret (kubernetes.io/dockerconfigjson) for a private registry.
    #[arg(long, value_name = "SECRET")]
    pull_secret: Option<String>,
    /// Write one file per manifest here (default: all of them on stdout, `---` between).
    #[arg(long, short = 'o', value_name = "DIR")]
    output: Option<PathBuf>,
    #[command(flatten)]
    registry: RegistryArgs,
}

pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let Target::Kube(args) = args.target;
    let home = home()?;
    let options = args.registry.options()?;
    let arg = args.morph.to_string_lossy().into_owned();
    let is_ref = !std::path::Path::new(&args.morph).exists()
        && !morph_registry_client::MorphId::looks_like_id(&arg)
        && oci::looks_like_reference(&arg);
    // The component, checked before anything is pushed.
    let (path, pulled_digest) = if is_ref {
        let pulled = block_on(oci::pull(&home, &arg, &options, &component_only, &|_| {}))?;
        (pulled.path, Some(pulled.manifest_digest))
    } else {
        (super::sandbox::resolve_morph_path(&args.morph)?.path, None)
    };
    let comp = morph_contract::Component::read(&path)?;
    let (imports, exports) = morph_contract::component::world_items(&comp.resolve, comp.world);
    let face = kube::check_runnable(&imports, &exports)
        .map_err(|why| anyhow::anyhow!("{arg} cannot run on Kubernetes: {why}"))?;
    let (image_ref, manifest_digest) = match pulled_digest {
        Some(digest) => (arg.clone(), digest),
        None => {
            let Some(to) = &args.push else {
                bail!(
                    "{arg} is a file or a local registry id: give --push REGISTRY/REPOSITORY:TAG to push it where \
                     the cluster can pull it"
                );
            };
            let pushed = super::oci::push_morph(&args.morph, to, &[], None, None, &options, out)?;
            (to.clone(), pushed.manifest_digest)
        }
    };
    let r = oci::parse_reference(&image_ref)?;
    let name = oci::morph_name(&r).to_string();
    let deploy = Deploy {
        name: kube::dns_label(args.name.as_deref().unwrap_or(&name)),
        image: format!("{}/{}@{manifest_digest}", r.registry(), r.repository()),
        wasm_file: format!("{name}.wasm"),
        face,
        replicas: args.replicas,
        port: args.port,
        namespace: args.namespace.clone(),
        runtime_class: kube::dns_label(&args.runtime_class),
        pull_secret: args.pull_secret.clone(),
    };
    let manifests = kube::manifests(&deploy);
    match &args.output {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot make {}", dir.display()))?;
            for (file, text) in &manifests {
                let path = dir.join(file);
                morph_registry_client::atomic::write_output(&path, text.as_bytes())
                    .with_context(|| format!("cannot write {}", path.display()))?;
                if !out.quiet && !out.json {
                    eprintln!("wrote {}", path.display());
                }
            }
            if out.json {
                let files: Vec<PathBuf> = manifests.iter().map(|(f, _)| dir.join(f)).collect();
                out.json(&serde_json::json!({ "image": deploy.image, "files": files }));
            }
        }
        None => {
            let all: Vec<&str> = manifests.iter().map(|(_, t)| t.as_str()).collect();
            print!("{}", all.join("---\n"));
        }
    }
    Ok(ExitCode::SUCCESS)
}
