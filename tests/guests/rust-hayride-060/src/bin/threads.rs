//! `threads PKG FUNCTION [ARGS…]`: spawn with 0.0.60's `spawn` (no env vars), then print the
//! id's status and what `wait` gives.
wit_bindgen::generate!({ path: "wit", world: "threads-probe", generate_all });

use hayride::silo::threads;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let t = match threads::spawn(&args[1], &args[2], &args[3..]) {
        Ok(t) => t,
        Err(errno) => {
            println!("spawn: errno {errno}");
            return;
        }
    };
    let id = t.id().unwrap();
    println!("spawned: {}", !id.is_empty());
    println!("wait: {:?}", t.wait().map(|o| String::from_utf8_lossy(&o).into_owned()));
    println!("status: {:?}", threads::status(&id).map(|m| m.status));
}
