//! The wac probe against contract 0.0.60: the same program as rust-hayride's.
wit_bindgen::generate!({ path: "wit", world: "wac-probe", generate_all });

#[path = "../../../rust-hayride/src/wac_probe.rs"]
mod probe;

fn main() {
    probe::main()
}
