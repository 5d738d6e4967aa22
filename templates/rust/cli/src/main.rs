//! {{name}}: a command morph. `morph build`, then `morph run`.

fn main() {
    let who = std::env::args().nth(1).unwrap_or_else(|| "world".to_string());
    println!("Hello, {who}! This is {{name}}.");
}
