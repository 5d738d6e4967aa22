//! The wac probe's program, shared by the probes of every contract version (each generates its
//! own bindings into the crate root and includes this as a module).
// `wac compose FILE.wac` or `wac plug SOCKET PLUG…`: prints the size of the composed component
// (and writes it to the file named by the env var OUT, when granted a directory), or the error.

use crate::hayride::wac::wac;

pub fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str).unwrap_or("") {
        "compose" => wac::compose(&args[2]),
        "plug" => wac::plug(&args[2], &args[3..]),
        other => {
            println!("unknown mode {other:?}");
            return;
        }
    };
    match result {
        Ok(bytes) => {
            println!("composed {} bytes, starting {:?}", bytes.len(), &bytes[..4]);
            if let Ok(out) = std::env::var("OUT") {
                std::fs::write(&out, &bytes).expect("writing the component");
            }
        }
        Err(e) => println!("error: {:?}: {}", e.code(), e.data()),
    }
}
