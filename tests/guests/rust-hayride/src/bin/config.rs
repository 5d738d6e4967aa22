//! `config KEY…`: prints `get` of each key, then `get-all`.
wit_bindgen::generate!({ path: "wit", world: "config-probe", generate_all });

use wasi::config::store;

fn main() {
    for key in std::env::args().skip(1) {
        match store::get(&key) {
            Ok(Some(v)) => println!("{key} = {v}"),
            Ok(None) => println!("{key} is not set"),
            Err(e) => println!("{key}: error {e:?}"),
        }
    }
    match store::get_all() {
        Ok(all) => println!("all: {all:?}"),
        Err(e) => println!("all: error {e:?}"),
    }
}
