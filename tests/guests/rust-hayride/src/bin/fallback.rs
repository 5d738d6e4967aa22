//! Calls one function of each fallback interface and prints the error it gets.
wit_bindgen::generate!({ path: "wit", world: "fallback-probe", generate_all });

use hayride::ai::context::Context;
use hayride::mcp::auth::Provider;
use hayride::mcp::tools::Tools;

fn main() {
    match Tools::new().list_tools("") {
        Ok(_) => println!("tools: listed"),
        Err(e) => println!("tools: {:?}: {}", e.code(), e.data()),
    }
    match Provider::new().auth_url() {
        Ok(url) => println!("auth: {url}"),
        Err(e) => println!("auth: {:?}: {}", e.code(), e.data()),
    }
    match Context::new().messages() {
        Ok(m) => println!("context: {} messages", m.len()),
        Err(e) => println!("context: {:?}: {}", e.code(), e.data()),
    }
}
