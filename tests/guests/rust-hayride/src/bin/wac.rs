//! `wac compose FILE.wac` or `wac plug SOCKET PLUG…`: prints the size of the composed component
//! (and writes it to the file named by the env var OUT, when granted a directory), or the error.
wit_bindgen::generate!({ path: "wit", world: "wac-probe", generate_all });

#[path = "../wac_probe.rs"]
mod probe;

fn main() {
    probe::main()
}
