//! Prints what hayride:core/version@0.0.60's `latest` gives.
wit_bindgen::generate!({ path: "wit", world: "version-probe", generate_all });

fn main() {
    match hayride::core::version::latest() {
        Ok(v) => println!("latest: {v}"),
        Err(e) => println!("error: {:?}: {}", e.code(), e.data()),
    }
}
