//! `gen-gguf OUT [tiny|bench]`: a llama GGUF with random weights, for the inference benchmark
//! (`bench`: the shape of a ~0.5B-parameter model in Q8_0; `1g`: a ~1.2 GB one for load times)
//! or a quick try (`tiny`).

use candle_core::quantized::GgmlDType;
use morph_e2e::gguf::{write_llama, Shape};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(out) = args.get(1) else {
        eprintln!("usage: gen-gguf OUT [tiny|bench|1g]");
        std::process::exit(2);
    };
    let shape = match args.get(2).map(String::as_str).unwrap_or("tiny") {
        "tiny" => Shape::TINY,
        "bench" => Shape { hidden: 1024, layers: 24, heads: 16, kv_heads: 4, ffn: 2816, dtype: GgmlDType::Q8_0 },
        // ~1.2 GB: the model-load goal's size.
        "1g" => Shape { hidden: 2048, layers: 24, heads: 16, kv_heads: 4, ffn: 5632, dtype: GgmlDType::Q8_0 },
        other => {
            eprintln!("gen-gguf: unknown preset `{other}` (tiny, bench, 1g)");
            std::process::exit(2);
        }
    };
    if let Err(e) = write_llama(std::path::Path::new(out), shape, 7) {
        eprintln!("gen-gguf: {e}");
        std::process::exit(1);
    }
}
