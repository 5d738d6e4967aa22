//! Kubernetes manifests for a morph run by containerd's wasm shims (runwasi's
//! `containerd-shim-wasmtime`): a RuntimeClass naming the shim's handler, a Deployment whose
//! container runs the artifact's `<name>.wasm` with that runtime class, and, for an http morph, a
//! Service. Written as YAML by hand: every string double-quoted (JSON's escaping is YAML's), so
//! nothing a name holds can change the document's shape.

/// What runs the morph: a command's `wasi:cli/run` or an http proxy's incoming handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Command,
    Http,
}

/// What `morph deploy kube` was told.
#[derive(Debug, Clone)]
pub struct Deploy {
    /// The Deployment's and Service's name (a DNS label).
    pub name: String,
    /// REGISTRY/REPOSITORY@sha256:… (pinned by digest).
    pub image: String,
    /// The artifact's layer file name, the container's command.
    pub wasm_file: String,
    pub face: Face,
    pub replicas: u32,
    pub port: u16,
    pub namespace: Option<String>,
    /// RuntimeClass name and handler (`wasmtime`: runwasi's shim).
    pub runtime_class: String,
    /// An image pull Secret for a private registry.
    pub pull_secret: Option<String>,
}

fn q(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

/// A Kubernetes name from a morph's: lowercase letters, digits and `-`, at most 63.
pub fn dns_label(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .to_string();
    out.truncate(63);
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "morph".to_string()
    } else {
        out
    }
}

fn metadata(d: &Deploy, name: &str, namespaced: bool) -> String {
    let mut m = format!("metadata:\n  name: {}\n", q(name));
    if namespaced {
        if let Some(ns) = &d.namespace {
            m.push_str(&format!("  namespace: {}\n", q(ns)));
        }
    }
    m.push_str(&format!(
        "  labels:\n    app.kubernetes.io/name: {}\n    app.kubernetes.io/managed-by: \"morph\"\n",
        q(&d.name)
    ));
    m
}

pub fn runtime_class(d: &Deploy) -> String {
    format!(
        "apiVersion: \"node.k8s.io/v1\"\nkind: \"RuntimeClass\"\n{}handler: {}\n",
        metadata(d, &d.runtime_class, false),
        q(&d.runtime_class)
    )
}

pub fn deployment(d: &Deploy) -> String {
    let mut container = format!(
        "      - name: {}\n        image: {}\n        command: [{}]\n",
        q(&d.name),
        q(&d.image),
        q(&d.wasm_file)
    );
    if d.face == Face::Http {
        container.push_str(&format!(
            "        env:\n        - name: \"WASMTIME_HTTP_PROXY_SOCKET_ADDR\"\n          value: {}\n        ports:\n        - name: \"http\"\n          containerPort: {}\n          protocol: \"TCP\"\n",
            q(&format!("0.0.0.0:{}", d.port)),
            d.port
        ));
    }
    let secrets = match &d.pull_secret {
        Some(s) => format!("      imagePullSecrets:\n      - name: {}\n", q(s)),
        None => String::new(),
    };
    format!(
        "apiVersion: \"apps/v1\"\nkind: \"Deployment\"\n{}spec:\n  replicas: {}\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {}\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: {}\n    spec:\n      runtimeClassName: {}\n{secrets}      containers:\n{container}",
        metadata(d, &d.name, true),
        d.replicas,
        q(&d.name),
        q(&d.name),
        q(&d.runtime_class),
    )
}

/// The Service in front of an http morph's pods (port 80 to the container's port).
pub fn service(d: &Deploy) -> String {
    format!(
        "apiVersion: \"v1\"\nkind: \"Service\"\n{}spec:\n  selector:\n    app.kubernetes.io/name: {}\n  ports:\n  - name: \"http\"\n    port: 80\n    targetPort: {}\n    protocol: \"TCP\"\n",
        metadata(d, &d.name, true),
        q(&d.name),
        d.port
    )
}

/// Every manifest, by file name.
pub fn manifests(d: &Deploy) -> Vec<(&'static str, String)> {
    let mut all = vec![("runtimeclass.yaml", runtime_class(d)), ("deployment.yaml", deployment(d))];
    if d.face == Face::Http {
        all.push(("service.yaml", service(d)));
    }
    all
}

/// Whether a morph with these imports and exports can run under the wasmtime shim: a command or
/// an http proxy, importing WASI only. The error lists what stands in the way.
pub fn check_runnable(imports: &[String], exports: &[String]) -> Result<Face, String> {
    let face = if exports.iter().any(|e| e.starts_with("wasi:http/incoming-handler@")) {
        Face::Http
    } else if exports.iter().any(|e| e.starts_with("wasi:cli/run@")) {
        Face::Command
    } else {
        return Err(format!(
            "it exports neither wasi:cli/run nor wasi:http/incoming-handler (it exports: {}); \
             containerd's wasm shims run wasi:cli/command and wasi:http/proxy components only",
            if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") }
        ));
    };
    let foreign: Vec<&String> = imports.iter().filter(|i| !i.starts_with("wasi:")).collect();
    if !foreign.is_empty() {
        let list: Vec<String> = foreign.iter().map(|i| format!("  {i}")).collect();
        return Err(format!(
            "it imports what a cluster's wasm shim does not provide:\n{}\ncompose providers of these into it \
             first (`morph plug <morph> --plug <provider>` or a WAC file with `morph compose`), then deploy the result",
            list.join("\n")
        ));
    }
    Ok(face)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_dns_labels() {
        assert_eq!(dns_label("Hello_World.v2"), "hello-world-v2");
        assert_eq!(dns_label("--"), "morph");
        assert_eq!(dns_label(&"a".repeat(80)).len(), 63);
    }

    #[test]
    fn only_wasi_commands_and_proxies_run() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            check_runnable(&s(&["wasi:io/streams@0.2.0"]), &s(&["wasi:http/incoming-handler@0.2.0"])),
            Ok(Face::Http)
        );
        assert_eq!(check_runnable(&[], &s(&["wasi:cli/run@0.2.3"])), Ok(Face::Command));
        let e = check_runnable(&s(&["hayride:db/db@0.0.65", "wasi:io/streams@0.2.0"]), &s(&["wasi:cli/run@0.2.0"]))
            .unwrap_err();
        assert!(e.contains("  hayride:db/db@0.0.65") && !e.contains("wasi:io") && e.contains("morph plug"), "{e}");
        assert!(check_runnable(&[], &s(&["greet"])).unwrap_err().contains("exports neither"));
    }

    #[test]
    fn strings_cannot_break_the_yaml() {
        let d = Deploy {
            name: "x".into(),
            image: "r/x@sha256:1\"\nkind: Secret".into(),
            wasm_file: "x.wasm".into(),
            face: Face::Command,
            replicas: 1,
            port: 8080,
            namespace: None,
            runtime_class: "wasmtime".into(),
            pull_secret: None,
        };
        assert!(deployment(&d).contains(r#"image: "r/x@sha256:1\"\nkind: Secret""#));
    }
}
