//! A property run over every parser a stranger's bytes reach: component decoding (what
//! `validate` and `inspect` do), WAC parsing and composing, the JSON argument mapping of `call`,
//! and OCI manifests. Each gets thousands of inputs made by mutating real ones (seeded, so a
//! failure reproduces); the property is that every input ends in a value or an error, never a
//! panic. The counts are printed (`cargo test --test stranger_bytes -- --nocapture`).

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use common::*;

/// A small xorshift generator: the same seed gives the same inputs on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// `seed` changed in one to four places: a byte flipped, set to an edge value, removed,
/// duplicated, or the input cut short.
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        if out.is_empty() {
            out.push(rng.next() as u8);
            continue;
        }
        let at = rng.below(out.len());
        match rng.below(6) {
            0 => out[at] ^= 1 << rng.below(8),
            1 => out[at] = [0x00, 0x7f, 0x80, 0xff][rng.below(4)],
            2 => {
                out.remove(at);
            }
            3 => {
                let b = out[at];
                out.insert(at, b);
            }
            4 => out.truncate(at),
            _ => out[at] = rng.next() as u8,
        }
    }
    out
}

/// Runs `f` on `count` mutations of each seed; panics (naming the input) if any panicked.
fn property(name: &str, seeds: &[Vec<u8>], count: usize, mut f: impl FnMut(&[u8])) -> usize {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
    let mut ran = 0;
    for seed in seeds {
        for _ in 0..count {
            let input = mutate(&mut rng, seed);
            if catch_unwind(AssertUnwindSafe(|| f(&input))).is_err() {
                let dump = std::env::temp_dir().join(format!("morph-{name}-panic.bin"));
                let _ = std::fs::write(&dump, &input);
                panic!("{name}: an input panicked; it is saved at {}", dump.display());
            }
            ran += 1;
        }
    }
    eprintln!("{name}: {ran} inputs, no panic");
    ran
}

fn component_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = ["types.wat", "http-server.wat", "extension.wat", "websocket.wat", "exit-code.wat"]
        .iter()
        .map(|f| wat::parse_file(fixture(f)).unwrap())
        .collect();
    seeds.push(wat::parse_file(example("hello.wat")).unwrap());
    seeds
}

#[test]
fn component_decoding_never_panics() {
    let seeds = component_seeds();
    let path = Path::new("fuzzed.wasm");
    let ran = property("component", &seeds, 600, |bytes| {
        use morph_contract::component::{CodeCheck, Component};
        match Component::from_binary(path, bytes.to_vec(), CodeCheck::Now) {
            Ok(comp) => {
                let _ = morph_contract::inspect::inspect(&comp, true);
                let _ = morph_contract::validate(&comp, morph_contract::WorldSpec::Detect { contract: None }, false);
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
        let _ = morph_contract::component::check_component_bytes(path, bytes);
    });
    assert_eq!(ran, seeds.len() * 600);
}

#[test]
fn wac_parsing_and_composing_never_panic() {
    let dir = workspace_root().join("tests/fixtures/compose");
    let seeds: Vec<Vec<u8>> = ["chain.wac", "forward.wac", "resource.wac", "shared.wac"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    // The fixtures as a deps directory (`deps/test/<name>.wat`), so the seeds compose.
    let home = tempfile::tempdir().unwrap();
    let deps = home.path().join("deps");
    std::fs::create_dir_all(deps.join("test")).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "wat") {
            std::fs::copy(&p, deps.join("test").join(p.file_name().unwrap())).unwrap();
        }
    }
    let fetch = |_: &str, _: Option<&semver::Version>| -> Result<(String, std::path::PathBuf), String> {
        Err("offline".into())
    };
    let sources = morph_compose::Sources {
        deps: Vec::new(),
        deps_dirs: vec![deps],
        home: morph_registry_client::Home::at(home.path()),
        fetch: &fetch,
        pins: Vec::new(),
    };
    let ran = property("wac", &seeds, 400, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        let _ = morph_compose::compose(Path::new("fuzzed.wac"), &text, &sources, false);
    });
    assert_eq!(ran, seeds.len() * 400);
}

#[test]
fn json_arguments_never_panic_the_value_mapping() {
    let wasm = wat::parse_file(fixture("types.wat")).unwrap();
    let digest = morph_contract::component::sha256_digest(&wasm);
    let sandbox = morph_runtime::Sandbox::new(Default::default(), Default::default(), None);
    let morph = morph_runtime::Morph { bytes: &wasm, digest: &digest, origin: Path::new("types.wat"), name: "types" };
    let prepared = sandbox.prepare(morph).unwrap();
    let functions = prepared.exports();
    let seeds: Vec<Vec<u8>> = [
        r#"{"name":"ann","age":7,"tags":["a"]}"#,
        r#"[1,2,3]"#,
        r#"{"circle":1.5}"#,
        r#""red""#,
        r#"["read","write"]"#,
        r#"18446744073709551615"#,
        r#"-9223372036854775808"#,
        r#"{"ok":null}"#,
        r#"[[1,"x"],{"some":[1e39]}]"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let mut rng = Rng(7);
    let ran = property("json-args", &seeds, 500, |bytes| {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else { return };
        let f = &functions[rng.below(functions.len())];
        let args = vec![value; f.arity()];
        let _ = f.args_from_json(&args);
    });
    assert_eq!(ran, seeds.len() * 500);
}

#[test]
fn oci_manifests_and_references_never_panic() {
    let seeds: Vec<Vec<u8>> = [
        r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.wasm.config.v0+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/wasm","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":-1}],"annotations":{"a":"b"}}"#,
        r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0","size":1,"platform":{"architecture":"wasm","os":"wasip2"}}]}"#,
        "localhost:5000/acme/hello:1.0.0",
        "ghcr.io/a/b@sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let ran = property("oci", &seeds, 800, |bytes| {
        let _ = morph_registry_client::oci::parse_manifest(bytes);
        let text = String::from_utf8_lossy(bytes);
        let _ = morph_registry_client::oci::parse_reference(&text);
        let _ = morph_registry_client::oci::looks_like_reference(&text);
        let _ = morph_registry_client::oci::login::check_registry_name(&text);
    });
    assert_eq!(ran, seeds.len() * 800);
}
